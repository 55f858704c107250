//! Fragment-boundary relaxation of a rule regex, for the whole-blob candidate test of the
//! history engine ([`super::Detector::might_find`]).
//!
//! The history engine scans *fragments*: runs of whole lines of a blob (the lines a commit
//! adds). It wants to know, from one pass over the whole blob `W`, whether any fragment
//! `F = W[a..b)` of whole lines could yield a finding, so that only those blobs get a line diff.
//! A regex match `m` found in `F` is a match at the same position in `W` except where an
//! assertion looks past the edges of `F`:
//!
//! - at `a` (0, or just after a `\n` of `W`), `F` sees no previous byte where `W` sees `\n`.
//!   Both are "not a word byte", and `(?m)^` holds in both, so only `\A` / non-multi-line `^`
//!   (`Start`) differs: it holds in `F` only.
//! - at `b` (`W`'s end, or just after a `\n` of `W`), `F` sees no next byte where `W` may see
//!   one. `\z` / non-multi-line `$` (`End`), multi-line `$` (`EndLF`, `EndCRLF`), `\B`
//!   (`WordAsciiNegate`, `WordUnicodeNegate`) and `\b{end-half}` (`WordEndHalf*`) can hold in
//!   `F` and not in `W`. Every other assertion that holds in `F` at `b` holds in `W` too.
//!
//! The relaxed regex replaces `Start` by `(?m:^)` and each of the others `X` by `X|(?m:^)`.
//! `(?m:^)` holds at `a` and at `b` in `W` (both follow a `\n` or are `W`'s start), so every
//! assertion `m` relies on in `F` holds for the relaxed regex in `W`; elsewhere the relaxed
//! assertions are weaker than the originals. Hence: if the rule regex matches in some fragment
//! of whole lines of `W`, the relaxed regex matches in `W` (it consumes the same bytes, so the
//! rule's windowed-verification plan still bounds where). The converse need not hold: the test
//! may say "maybe" for a blob that yields nothing, never "no" for one that yields a finding.

use regex_syntax::hir::{Capture, Hir, HirKind, Look, Repetition};

/// The assertions whose truth at a fragment's end can differ from the whole blob's.
const END_SENSITIVE: [Look; 7] = [
    Look::End,
    Look::EndLF,
    Look::EndCRLF,
    Look::WordAsciiNegate,
    Look::WordUnicodeNegate,
    Look::WordEndHalfAscii,
    Look::WordEndHalfUnicode,
];

/// Whether `hir` uses an assertion that [`relax`] changes.
pub(crate) fn needs_relaxing(hir: &Hir) -> bool {
    let looks = hir.properties().look_set();
    looks.contains(Look::Start) || END_SENSITIVE.iter().any(|l| looks.contains(*l))
}

/// The relaxed form of `hir` (see the module docs).
pub(crate) fn relax(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => hir.clone(),
        HirKind::Look(look) => relax_look(*look),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max,
            greedy: r.greedy,
            sub: Box::new(relax(&r.sub)),
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            index: c.index,
            name: c.name.clone(),
            sub: Box::new(relax(&c.sub)),
        }),
        HirKind::Concat(v) => Hir::concat(v.iter().map(relax).collect()),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(relax).collect()),
    }
}

fn relax_look(look: Look) -> Hir {
    if look == Look::Start {
        Hir::look(Look::StartLF)
    } else if END_SENSITIVE.contains(&look) {
        Hir::alternation(vec![Hir::look(look), Hir::look(Look::StartLF)])
    } else {
        Hir::look(look)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::goregex;

    fn relaxed(go: &str) -> regex_automata::meta::Regex {
        let hir = goregex::parse(go).expect("pattern parses");
        goregex::compile(&relax(&hir)).expect("relaxed pattern compiles")
    }

    fn plain(go: &str) -> regex_automata::meta::Regex {
        goregex::compile_go(go).expect("pattern compiles")
    }

    #[test]
    fn detects_which_patterns_need_relaxing() {
        for go in [r"^key", r"key$", r"key\B", r"(?m)key$", r"\Akey", r"key\z"] {
            let hir = goregex::parse(go).expect("parses");
            assert!(needs_relaxing(&hir), "{go}");
        }
        for go in [r"\bkey\b", r"(?m)^key", r"key[0-9]+", r"key(?:\s|;)"] {
            let hir = goregex::parse(go).expect("parses");
            assert!(!needs_relaxing(&hir), "{go}");
        }
    }

    /// Each pattern matches in the fragment (the second line alone) but not, unrelaxed, in the
    /// whole text; relaxed, it matches in the whole text.
    #[test]
    fn relaxed_regex_matches_where_a_fragment_would() {
        let whole = b"prefix\nkey=abc\nword\n";
        let fragment = &whole[7..15];
        assert_eq!(fragment, b"key=abc\n");
        for go in [
            r"^key=[a-z]+",
            r"key=[a-z]+\n$",
            r"key=[a-z]+\n\z",
            r"(?m)key=[a-z]+\n$",
            r"key=[a-z]+\n\B",
        ] {
            assert!(plain(go).is_match(fragment), "{go} matches the fragment");
            assert!(
                !plain(go).is_match(&whole[..]),
                "{go} misses the whole text"
            );
            assert!(relaxed(go).is_match(&whole[..]), "{go} relaxed finds it");
        }
    }

    #[test]
    fn relaxing_keeps_other_assertions_and_consumed_bytes() {
        let re = relaxed(r"\bkey=([a-z]{3})\b");
        assert!(re.is_match(&b"x key=abc y"[..]));
        assert!(!re.is_match(&b"xkey=abc y"[..]));
        assert!(!re.is_match(&b"x key=abcd"[..]));
    }
}
