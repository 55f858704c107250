//! Go RE2 regular expressions, translated to the Rust `regex` dialect.
//!
//! gitleaks compiles every pattern with Go's `regexp` package. Rust's `regex-syntax` accepts
//! almost the same language; the differences handled here are:
//!
//! * Go's `\s` is `[\t\n\f\r ]` (no `\v`); Rust's ASCII `\s` includes `\v`. `\s`/`\S` are
//!   expanded to explicit classes.
//! * `\Q...\E` quoting (Go) is expanded to escaped literals.
//! * `\<`, `\>` are literal `<`, `>` in Go but word boundaries in Rust.
//! * Inside a class, Go treats `[` (unless it starts `[:name:]`), `&&`, `--` and `~~` as
//!   literals; Rust reads them as nested classes / set operations, so they are escaped.
//! * A `{` that does not start a valid counted repetition (`{n}`, `{n,}`, `{n,m}`) is a
//!   literal in Go (`x{,3}` matches the text `x{,3}`); it is escaped.
//! * Octal escapes (`\012`, `\0`) are converted to `\x{..}`.
//! * `\pL` / `\p{Greek}` outside a class are wrapped in `(?u:...)` because the pattern is
//!   otherwise parsed with Unicode disabled.
//! * Counted repetitions above 1000 are rejected, as Go does.
//!
//! Patterns are parsed with Unicode **disabled** and UTF-8 mode off: Go's `\w \d \s \b` are
//! ASCII-only, `.` and negated classes then match single bytes. Deliberate, documented
//! deviation: Go folds `(?i)` with Unicode simple case folding (`k` also matches U+212A
//! KELVIN SIGN) and counts `.`/`[^x]` per UTF-8 character; here folding is ASCII-only and
//! `.` matches one byte. This matters only for non-ASCII text and makes compilation about
//! 300 times faster.

use regex_syntax::hir::{Hir, HirKind};

/// Why a Go pattern cannot be used; the message is one line.
#[derive(Debug, thiserror::Error)]
pub enum GoRegexError {
    /// Go syntax with no translation, or that Go rejects too (a backreference, a repeat count
    /// over 1000, an unclosed class).
    #[error("{0}")]
    Syntax(String),
    /// The translated pattern does not parse.
    #[error("{message}")]
    Parse {
        /// The parser's message collapsed to one line.
        message: String,
        /// The parse error.
        #[source]
        source: Box<regex_syntax::Error>,
    },
    /// The pattern parses but cannot be built (it exceeds the engine's size limits).
    #[error("{message}")]
    Build {
        /// The builder's message collapsed to one line.
        message: String,
        /// The build error.
        #[source]
        source: Box<regex_automata::meta::BuildError>,
    },
}

impl From<String> for GoRegexError {
    fn from(message: String) -> Self {
        GoRegexError::Syntax(message)
    }
}

impl From<&str> for GoRegexError {
    fn from(message: &str) -> Self {
        GoRegexError::Syntax(message.to_string())
    }
}

/// Go's `regexp/syntax` limit on `{n,m}` counts.
const GO_MAX_REPEAT: u32 = 1000;

/// Translate a Go RE2 pattern into the Rust `regex-syntax` dialect.
pub fn translate(go: &str) -> Result<String, GoRegexError> {
    let chars: Vec<char> = go.chars().collect();
    let mut out = String::with_capacity(go.len() + 16);
    let mut i = 0;
    // Inside a bracket class: position where the class started (to know whether `]` is the
    // first item, which Go treats as a literal).
    let mut class_start: Option<usize> = None;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err(GoRegexError::from(
                        "trailing backslash at end of expression",
                    ));
                };
                i += 2;
                match n {
                    'Q' => {
                        // Literal text up to \E (or end of pattern).
                        let mut lit = String::new();
                        while i < chars.len() {
                            if chars[i] == '\\' && chars.get(i + 1) == Some(&'E') {
                                i += 2;
                                break;
                            }
                            lit.push(chars[i]);
                            i += 1;
                        }
                        if class_start.is_some() {
                            for ch in lit.chars() {
                                push_class_literal(&mut out, ch);
                            }
                        } else {
                            out.push_str(&regex_syntax::escape(&lit));
                        }
                    }
                    'E' => {} // stray \E is ignored by Go
                    's' => out.push_str(if class_start.is_some() {
                        r"\t\n\x0C\r "
                    } else {
                        r"[\t\n\x0C\r ]"
                    }),
                    'S' => out.push_str(r"[^\t\n\x0C\r ]"),
                    '<' | '>' => out.push(n),
                    'Z' => return Err(GoRegexError::from(r"invalid escape sequence: `\Z`")),
                    'C' => out.push_str(if class_start.is_some() {
                        r"\x00-\xFF"
                    } else {
                        r"(?s-u:.)"
                    }),
                    'p' | 'P' => {
                        // \pL or \p{Name}
                        let mut esc = String::from('\\');
                        esc.push(n);
                        match chars.get(i) {
                            Some('{') => {
                                while i < chars.len() {
                                    esc.push(chars[i]);
                                    i += 1;
                                    if chars[i - 1] == '}' {
                                        break;
                                    }
                                }
                            }
                            Some(&ch) => {
                                esc.push(ch);
                                i += 1;
                            }
                            None => {
                                return Err(GoRegexError::from(
                                    "invalid character class range: `\\p`",
                                ));
                            }
                        }
                        if class_start.is_some() {
                            out.push_str(&esc);
                        } else {
                            out.push_str("(?u:");
                            out.push_str(&esc);
                            out.push(')');
                        }
                    }
                    'b' if class_start.is_none() && chars.get(i) == Some(&'{') => {
                        // Go: `\b` followed by a literal `{`; Rust would read `\b{start}`.
                        out.push_str(r"\b\{");
                        i += 1;
                    }
                    '0'..='7' => {
                        // Go: `\0` or `\1`-`\7` followed by another octal digit is octal
                        // (up to three digits); a lone `\1`-`\7` is a backreference (error).
                        let mut digits = String::from(n);
                        while digits.len() < 3 && matches!(chars.get(i), Some('0'..='7')) {
                            digits.push(chars[i]);
                            i += 1;
                        }
                        if n != '0' && digits.len() == 1 {
                            return Err(GoRegexError::from(format!(
                                "invalid escape sequence: `\\{n}` (backreferences are not supported)"
                            )));
                        }
                        let v = u32::from_str_radix(&digits, 8)
                            .map_err(|e| GoRegexError::Syntax(e.to_string()))?;
                        out.push_str(&format!("\\x{{{v:X}}}"));
                    }
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                continue;
            }
            '[' if class_start.is_none() => {
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = Some(i);
                // A `]` right after `[` or `[^` is a literal in Go (and in Rust).
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
                continue;
            }
            '[' => {
                // `[:alpha:]` inside a class is an ASCII class in both dialects.
                if chars.get(i + 1) == Some(&':')
                    && let Some(end) = find_posix_class_end(&chars, i + 2)
                {
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                    continue;
                }
                out.push_str(r"\[");
            }
            ']' if class_start.is_some() => {
                out.push(']');
                class_start = None;
            }
            '&' | '~' if class_start.is_some() => {
                out.push('\\');
                out.push(c);
            }
            '-' if class_start.is_some() && chars.get(i + 1) == Some(&'-') => {
                // `--` would be Rust's class difference: keep the first, escape the second.
                out.push_str(r"-\-");
                i += 2;
                continue;
            }
            '{' if class_start.is_none() => {
                if let Some(end) = valid_repeat_end(&chars, i) {
                    check_repeat_counts(&chars[i + 1..end])?;
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                    continue;
                }
                out.push_str(r"\{");
            }
            '}' if class_start.is_none() => out.push_str(r"\}"),
            _ => out.push(c),
        }
        i += 1;
    }
    if class_start.is_some() {
        return Err(GoRegexError::from("missing closing ]"));
    }
    Ok(out)
}

fn push_class_literal(out: &mut String, ch: char) {
    if ch.is_ascii_punctuation() {
        out.push('\\');
    }
    out.push(ch);
}

fn find_posix_class_end(chars: &[char], from: usize) -> Option<usize> {
    let mut j = from;
    if chars.get(j) == Some(&'^') {
        j += 1;
    }
    while j < chars.len() && chars[j].is_ascii_alphabetic() {
        j += 1;
    }
    (chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&']')).then_some(j + 1)
}

/// If `chars[open]` starts `{n}`, `{n,}` or `{n,m}`, the index of the closing `}`.
fn valid_repeat_end(chars: &[char], open: usize) -> Option<usize> {
    let mut j = open + 1;
    let d0 = j;
    while j < chars.len() && chars[j].is_ascii_digit() {
        j += 1;
    }
    if j == d0 {
        return None;
    }
    if chars.get(j) == Some(&',') {
        j += 1;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
    }
    (chars.get(j) == Some(&'}')).then_some(j)
}

fn check_repeat_counts(inner: &[char]) -> Result<(), GoRegexError> {
    let s: String = inner.iter().collect();
    for part in s.split(',') {
        if part.is_empty() {
            continue;
        }
        match part.parse::<u64>() {
            Ok(v) if v <= u64::from(GO_MAX_REPEAT) => {}
            _ => {
                return Err(GoRegexError::from(format!(
                    "invalid repeat count: `{{{s}}}` (Go allows at most 1000)"
                )));
            }
        }
    }
    let nums: Vec<u64> = s.split(',').filter_map(|p| p.parse().ok()).collect();
    if let [a, b] = nums[..]
        && b < a
    {
        return Err(GoRegexError::from(format!(
            "invalid repeat count: `{{{s}}}`"
        )));
    }
    Ok(())
}

/// Translate and parse a Go pattern into a HIR (Unicode off, UTF-8 mode off).
pub fn parse(go: &str) -> Result<Hir, GoRegexError> {
    let rust = translate(go)?;
    parse_translated(&rust)
}

/// Parse an already translated pattern.
pub fn parse_translated(rust: &str) -> Result<Hir, GoRegexError> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .nest_limit(1000)
        .build()
        .parse(rust)
        .map_err(|e| GoRegexError::Parse {
            message: one_line(&e.to_string()),
            source: Box::new(e),
        })?;
    check_hir_repeats(&hir)?;
    Ok(hir)
}

fn check_hir_repeats(hir: &Hir) -> Result<(), GoRegexError> {
    match hir.kind() {
        HirKind::Repetition(r) => {
            if r.min > GO_MAX_REPEAT || r.max.is_some_and(|m| m > GO_MAX_REPEAT) {
                return Err(GoRegexError::from(
                    "invalid repeat count (Go allows at most 1000)",
                ));
            }
            check_hir_repeats(&r.sub)
        }
        HirKind::Capture(c) => check_hir_repeats(&c.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().try_for_each(check_hir_repeats),
        _ => Ok(()),
    }
}

/// Compile a parsed pattern into a searchable regex.
pub fn compile(hir: &Hir) -> Result<regex_automata::meta::Regex, GoRegexError> {
    let cfg = regex_automata::meta::Config::new()
        .utf8_empty(false)
        .nfa_size_limit(Some(64 << 20))
        // Captures are only needed on the (short) match text of a finding: skip building the
        // one-pass DFA and the backtracker, which makes lazy compilation cheaper.
        .onepass(false)
        .backtrack(false)
        .hybrid_cache_capacity(2 << 20)
        .dfa_size_limit(Some(4 << 20))
        // No fully compiled DFA for small patterns: determinizing them was a third of the
        // start-up time, and the lazy DFA scans as fast once warm (same detector throughput
        // and history-scan time with and without it).
        .dfa(false);
    regex_automata::meta::Builder::new()
        .configure(cfg)
        .build_from_hir(hir)
        .map_err(|e| GoRegexError::Build {
            message: one_line(&e.to_string()),
            source: Box::new(e),
        })
}

/// Translate, parse and compile a Go pattern.
pub fn compile_go(go: &str) -> Result<regex_automata::meta::Regex, GoRegexError> {
    compile(&parse(go)?)
}

/// Collapse a (possibly multi-line, caret-annotated) message into one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Number of capture groups (Go's `NumSubexp`).
pub fn capture_count(hir: &Hir) -> usize {
    hir.properties().explicit_captures_len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(go: &str, hay: &str) -> bool {
        compile_go(go).unwrap().is_match(hay.as_bytes())
    }

    #[test]
    fn go_whitespace_class_has_no_vertical_tab() {
        assert!(m(r"a\sb", "a b"));
        assert!(!m(r"a\sb", "a\x0Bb"));
        assert!(m(r"a\Sb", "a\x0Bb"));
        assert!(m(r"a[\s]b", "a\tb"));
        assert!(!m(r"a[\s]b", "a\x0Bb"));
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert!(!m(r"^\w$", "é"));
        assert!(!m(r"^\d$", "٣"));
        assert!(m(r"\bkey\b", "a key."));
    }

    #[test]
    fn quote_meta_and_literal_angle_brackets() {
        assert!(m(r"\Qa.b*\E+", "a.b**"));
        assert!(!m(r"^\Qa.b\E$", "axb"));
        assert!(m(r"\<x\>", "<x>"));
    }

    #[test]
    fn class_brackets_and_set_operators_are_literal() {
        assert!(m(r"^[[a]+$", "[a["));
        assert!(m(r"^[a&&b]+$", "a&&b"));
        assert!(m(r"^[a~~b]+$", "~"));
        assert!(m(r"^[[:alpha:]]+$", "abc"));
        assert!(m(r"^[]a]+$", "]a"));
    }

    #[test]
    fn invalid_braces_are_literal() {
        assert!(m(r"^x{,3}$", "x{,3}"));
        assert!(m(r"^a{b}$", "a{b}"));
        assert!(m(r"^a{2}$", "aa"));
        assert!(translate("a{1001}").is_err());
        assert!(parse("a{2,1}").is_err());
    }

    #[test]
    fn octal_and_named_groups() {
        assert!(m(r"^\101$", "A"));
        assert!(translate(r"(a)\1").is_err());
        let hir = parse(r"(?P<a>x)(?<b>y)(z)").unwrap();
        assert_eq!(capture_count(&hir), 3);
    }

    #[test]
    fn unicode_classes_still_work() {
        assert!(m(r"^\pL+$", "héllo"));
        assert!(m(r"^\p{Greek}$", "λ"));
    }

    #[test]
    fn errors_are_one_line() {
        let e = parse("a(b").unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
        // The parser's own (multi-line) error stays reachable as the source.
        assert!(std::error::Error::source(&e).is_some(), "{e:?}");
        assert!(matches!(
            parse(r"\Z"),
            Err(GoRegexError::Syntax(m)) if m == r"invalid escape sequence: `\Z`"
        ));
    }
}
