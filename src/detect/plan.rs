//! Compile-time analysis of a rule regex: can a keyword hit be verified by searching only a
//! bounded window around it, with exactly the result of a whole-fragment search?
//!
//! A windowed search is exact when
//! 1. every match of the regex contains one of the rule's keywords (ASCII case-insensitive),
//!    so every match overlaps a keyword hit, and
//! 2. a match containing a hit at `[ks, ke)` is confined to a computable window: either the
//!    regex has a maximum match length `L` (window `[ke-L, ks+L)`), or it can never match a
//!    `\n` (window = the hit's line), or both (intersection).
//!
//! Then every match of a full search lies wholly inside one merged window, and a leftmost-first
//! search restricted to that window (with the full haystack visible to look-around, via
//! `Input::range`) reports the same matches. `tests/windowed_equivalence.rs` checks this by
//! property testing.

use regex_syntax::hir::{Class, Hir, HirKind};

/// How to verify one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    /// Every match contains a keyword.
    pub covered: bool,
    /// Maximum match length in bytes.
    pub max_len: Option<usize>,
    /// No match can contain `\n`.
    pub single_line: bool,
    /// Every match starts with one of the keywords (ASCII case-insensitively), so it starts
    /// where a keyword hit starts: a search anchored at each hit finds every match.
    pub starts_at_keyword: bool,
    /// Every match starts at most this many bytes before a keyword occurrence it contains
    /// (a bounded lead such as `(?:^|[^A-Za-z])` precedes the keyword; `Some(0)` when
    /// [`Plan::starts_at_keyword`]): searches anchored at the `lead + 1` positions up to each
    /// hit find every match.
    pub lead: Option<usize>,
}

impl Plan {
    /// Whether windowed verification is exact for this rule.
    pub fn windowed(&self) -> bool {
        self.covered && (self.max_len.is_some() || self.single_line)
    }
}

/// Analyse `hir` for a rule with these (lowercased) keywords.
pub(crate) fn analyse(hir: &Hir, keywords: &[String]) -> Plan {
    let kws: Vec<Vec<u8>> = keywords
        .iter()
        .filter(|k| !k.is_empty())
        .map(|k| k.as_bytes().to_ascii_lowercase())
        .collect();
    Plan {
        covered: !kws.is_empty() && covered(hir, &kws),
        max_len: hir.properties().maximum_len(),
        single_line: !can_match_newline(hir),
        starts_at_keyword: !kws.is_empty() && starts_with_keyword(hir, &kws),
        lead: if kws.is_empty() {
            None
        } else {
            lead_before_keyword(hir, &kws)
        },
    }
}

/// Longest lead (in bytes) [`lead_before_keyword`] accepts before the keyword.
const MAX_LEAD: usize = 8;

/// The most bytes a match of `h` can have before one of `kws` it starts with after a lead of
/// bounded length: `Some(0)` when every match starts with a keyword, `Some(n)` when `h` is a
/// concatenation of items of at most `n` bytes together (assertions, one-character classes,
/// alternations of those) followed by items every match of which starts with a keyword.
fn lead_before_keyword(h: &Hir, kws: &[Vec<u8>]) -> Option<usize> {
    if starts_with_keyword(h, kws) {
        return Some(0);
    }
    let mut items = Vec::new();
    match h.kind() {
        HirKind::Capture(c) => return lead_before_keyword(&c.sub, kws),
        HirKind::Concat(v) => flatten(v, &mut items),
        _ => return None,
    }
    let mut lead = 0usize;
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            let rest = Hir::concat(items[i..].iter().map(|x| (*x).clone()).collect());
            if starts_with_keyword(&rest, kws) {
                return Some(lead);
            }
        }
        lead += it.properties().maximum_len()?;
        if lead > MAX_LEAD {
            return None;
        }
    }
    None
}

/// Does every match of `h` start with one of `kws` (ASCII case-insensitively)?
fn starts_with_keyword(h: &Hir, kws: &[Vec<u8>]) -> bool {
    let longest = kws.iter().map(Vec::len).max().unwrap_or(0);
    leading(h, longest).is_some_and(|(prefixes, _)| {
        prefixes.iter().all(|p| {
            kws.iter()
                .any(|k| p.len() >= k.len() && p[..k.len()] == k[..])
        })
    })
}

/// Lowercased strings one of which every match of `h` starts with, and whether `h` matches
/// exactly those strings (then what follows `h` extends them). Strings stop growing once all
/// are `enough` bytes long; `None` when there would be more than [`MAX_VARIANTS`].
fn leading(h: &Hir, enough: usize) -> Option<(Vec<Vec<u8>>, bool)> {
    let opening = || Some((vec![Vec::new()], false));
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some((vec![Vec::new()], true)),
        HirKind::Literal(l) => Some((vec![l.0.to_ascii_lowercase()], true)),
        HirKind::Class(c) => match class_byte(c) {
            Some(b) => Some((vec![vec![b]], true)),
            None => opening(),
        },
        HirKind::Capture(c) => leading(&c.sub, enough),
        HirKind::Repetition(r) if r.min == 0 => opening(),
        HirKind::Repetition(r) => {
            let (set, exact) = leading(&r.sub, enough)?;
            Some((set, exact && r.min == 1 && r.max == Some(1)))
        }
        HirKind::Alternation(v) => {
            let (mut out, mut all_exact) = (Vec::new(), true);
            for x in v {
                let (set, exact) = leading(x, enough)?;
                out.extend(set);
                all_exact &= exact;
                if out.len() > MAX_VARIANTS {
                    return None;
                }
            }
            Some((out, all_exact))
        }
        HirKind::Concat(v) => {
            let (mut acc, mut exact) = (vec![Vec::new()], true);
            for x in v {
                if !exact || acc.iter().all(|p| p.len() >= enough) {
                    return Some((acc, false));
                }
                let (set, e) = leading(x, enough)?;
                acc = cross(&acc, &set)?;
                exact = e;
            }
            Some((acc, exact))
        }
    }
}

fn contains_kw(run: &[u8], kws: &[Vec<u8>]) -> bool {
    kws.iter()
        .any(|k| k.len() <= run.len() && memchr::memmem::find(run, k).is_some())
}

/// The lowercased byte a class stands for, when it is one byte or one ASCII letter in both
/// cases.
fn class_byte(c: &Class) -> Option<u8> {
    let mut set: Vec<u32> = Vec::new();
    match c {
        Class::Bytes(b) => {
            for r in b.ranges() {
                for x in r.start()..=r.end() {
                    set.push(u32::from(x));
                    if set.len() > 2 {
                        return None;
                    }
                }
            }
        }
        Class::Unicode(u) => {
            for r in u.ranges() {
                for x in (r.start() as u32)..=(r.end() as u32) {
                    set.push(x);
                    if set.len() > 2 {
                        return None;
                    }
                }
            }
        }
    }
    let bytes: Vec<u8> = set
        .iter()
        .map(|&x| u8::try_from(x).ok().filter(u8::is_ascii))
        .collect::<Option<_>>()?;
    match bytes[..] {
        [b] => Some(b.to_ascii_lowercase()),
        [a, b] if a.eq_ignore_ascii_case(&b) && a != b => Some(a.to_ascii_lowercase()),
        _ => None,
    }
}

/// Maximum number of literal variants tracked for one run of literal-like items.
const MAX_VARIANTS: usize = 64;

/// The (lowercased) strings `h` can match, when it is a small finite set of literals
/// (literals, single case-folded letters, alternations, optional parts, concatenations).
fn literal_variants(h: &Hir) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Empty => Some(vec![Vec::new()]),
        HirKind::Literal(l) => Some(vec![l.0.to_ascii_lowercase()]),
        HirKind::Class(c) => class_byte(c).map(|b| vec![vec![b]]),
        HirKind::Capture(c) => literal_variants(&c.sub),
        HirKind::Concat(v) => {
            let mut acc = vec![Vec::new()];
            for x in v {
                acc = cross(&acc, &literal_variants(x)?)?;
            }
            Some(acc)
        }
        HirKind::Alternation(v) => {
            let mut out = Vec::new();
            for x in v {
                out.extend(literal_variants(x)?);
                if out.len() > MAX_VARIANTS {
                    return None;
                }
            }
            Some(out)
        }
        HirKind::Repetition(r) if r.min == 0 && r.max == Some(1) => {
            let mut v = literal_variants(&r.sub)?;
            v.push(Vec::new());
            Some(v)
        }
        _ => None,
    }
}

fn cross(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_VARIANTS {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut z = x.clone();
            z.extend_from_slice(y);
            out.push(z);
        }
    }
    Some(out)
}

/// Flatten nested concatenations (through capture groups, which do not affect matching).
fn flatten<'a>(items: &'a [Hir], out: &mut Vec<&'a Hir>) {
    for it in items {
        match it.kind() {
            HirKind::Concat(v) => flatten(v, out),
            HirKind::Capture(c) => match c.sub.kind() {
                HirKind::Concat(v) => flatten(v, out),
                _ => out.push(it),
            },
            _ => out.push(it),
        }
    }
}

/// Does every match of `h` contain one of `kws` (ASCII case-insensitively)?
fn covered(h: &Hir, kws: &[Vec<u8>]) -> bool {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => contains_kw(&l.0.to_ascii_lowercase(), kws),
        HirKind::Class(c) => class_byte(c).is_some_and(|b| contains_kw(&[b], kws)),
        HirKind::Capture(c) => covered(&c.sub, kws),
        HirKind::Repetition(r) => r.min >= 1 && covered(&r.sub, kws),
        HirKind::Alternation(v) => v.iter().all(|x| covered(x, kws)),
        HirKind::Concat(v) => {
            let mut items = Vec::new();
            flatten(v, &mut items);
            // Possible texts of the current run of literal-like items.
            let mut runs: Vec<Vec<u8>> = vec![Vec::new()];
            for it in items {
                if matches!(it.kind(), HirKind::Look(_)) {
                    continue; // zero-width: does not break a run
                }
                if let Some(vars) = literal_variants(it) {
                    match cross(&runs, &vars) {
                        Some(r) => runs = r,
                        None => runs = vars,
                    }
                    if runs.iter().all(|r| contains_kw(r, kws)) {
                        return true;
                    }
                    continue;
                }
                if covered(it, kws) {
                    return true;
                }
                runs = vec![Vec::new()];
            }
            false
        }
    }
}

fn can_match_newline(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => l.0.contains(&b'\n'),
        HirKind::Class(Class::Bytes(b)) => b
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Class(Class::Unicode(u)) => u
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        HirKind::Capture(c) => can_match_newline(&c.sub),
        HirKind::Repetition(r) => r.max != Some(0) && can_match_newline(&r.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(can_match_newline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::goregex;

    fn plan(re: &str, kws: &[&str]) -> Plan {
        let kws: Vec<String> = kws.iter().map(|s| s.to_string()).collect();
        analyse(&goregex::parse(re).unwrap(), &kws)
    }

    #[test]
    fn literal_prefix_rule_is_windowed() {
        let p = plan(r"\b(ghp_[0-9a-zA-Z]{36})\b", &["ghp_"]);
        assert!(p.covered && p.windowed());
        assert_eq!(p.max_len, Some(40));
    }

    #[test]
    fn case_insensitive_literals_count() {
        assert!(plan(r"(?i)secret[=:]\w{8}", &["secret"]).covered);
        assert!(plan(r"(?i)(?:access|auth)_key=\w{8}", &["key"]).covered);
        assert!(plan(r"(?:AKIA|ASIA)[A-Z0-9]{16}", &["akia", "asia"]).covered);
    }

    #[test]
    fn optional_parts_of_literals_are_expanded() {
        assert!(plan(r"(?i)passw(?:or)?d=\w{4}", &["passwd", "password"]).covered);
        assert!(!plan(r"(?i)passw(?:or)?d=\w{4}", &["password"]).covered);
        assert!(plan(r"(?:(?-i:[Aa]pi|API)|token)_\w{4}", &["api", "token"]).covered);
    }

    #[test]
    fn alternation_branch_without_keyword_is_not_covered() {
        assert!(!plan(r"(?:AKIA|XXXX)[A-Z0-9]{16}", &["akia"]).covered);
        assert!(!plan(r"(?:key)?[a-z]{8}", &["key"]).covered);
        assert!(!plan(r"[a-z]{8}", &[]).covered);
    }

    #[test]
    fn keyword_at_the_start_of_every_match() {
        let generic =
            r#"(?i)(?:key|token|secret|credential|credentials)[\w.-]{0,20}?[=:]([\w]{16,})"#;
        let kws = ["key", "token", "secret", "credential"];
        assert!(plan(generic, &kws).starts_at_keyword);
        assert!(plan(r"\b(ghp_[0-9a-zA-Z]{36})\b", &["ghp_"]).starts_at_keyword);
        assert!(plan(r"(?:AKIA|ASIA)[A-Z0-9]{16}", &["akia", "asia"]).starts_at_keyword);
        assert!(plan(r"(?i)passw(?:or)?d=\w{4}", &["passw"]).starts_at_keyword);
        // A keyword later in the match, an optional or repeated lead, a branch without one,
        // a lead shorter than the keyword.
        assert!(!plan(r"(?i)[\w.-]{0,50}?(?:key)=\w{8}", &["key"]).starts_at_keyword);
        assert!(!plan(r"x?key=\w{8}", &["key"]).starts_at_keyword);
        assert!(!plan(r"(?:key|pass)=\w{8}", &["key"]).starts_at_keyword);
        assert!(!plan(r"(?i)passw(?:or)?d=\w{4}", &["password"]).starts_at_keyword);
        assert!(plan(r"k[eE]y=\w{8}", &["key"]).starts_at_keyword);
        assert!(!plan(r"k[ea]y=\w{8}", &["key"]).starts_at_keyword);
        assert!(plan(r"(?:key)+=\w{8}", &["key"]).starts_at_keyword);
        assert!(!plan(r"(?:ke)+y=\w{8}", &["key"]).starts_at_keyword);
    }

    #[test]
    fn keyword_after_a_bounded_lead() {
        let ctx = r#"(?i)(?:^|[^A-Za-z])(?:aws)[\w.-]{0,25}?[=:]([A-Za-z0-9/+]{40})"#;
        let p = plan(ctx, &["aws"]);
        assert!(!p.starts_at_keyword);
        // One byte (Go patterns run on bytes) or the text start.
        assert_eq!(p.lead, Some(1));
        assert_eq!(
            plan(
                r#"(?:^|[\s"'(,:=])((?:key|token)=\w{8})"#,
                &["key", "token"]
            )
            .lead,
            Some(1)
        );
        assert_eq!(plan(r"\b(ghp_[0-9a-zA-Z]{36})\b", &["ghp_"]).lead, Some(0));
        // An unbounded or too long lead, a lead not followed by a keyword.
        assert_eq!(plan(r"(?i)[\w.-]{0,50}?(?:key)=\w{8}", &["key"]).lead, None);
        assert_eq!(plan(r"[a-z]{9}key=\w{8}", &["key"]).lead, None);
        assert_eq!(plan(r"[^a-z]x?(?:key|pass)=\w{8}", &["key"]).lead, None);
        assert_eq!(plan(r"[^a-z]x?key=\w{8}", &["key"]).lead, Some(2));
    }

    #[test]
    fn unbounded_single_line_rule_is_windowed() {
        let p = plan(r"token=[^\n]+", &["token"]);
        assert_eq!(p.max_len, None);
        assert!(p.single_line && p.windowed());
        let q = plan(r"token=[\s\S]+", &["token"]);
        assert!(!q.single_line && !q.windowed());
    }
}
