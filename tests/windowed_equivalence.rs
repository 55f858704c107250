//! Property test: verifying keyword hits in bounded windows (with the full haystack visible to
//! look-around) reports exactly what a whole-text regex search reports.

use portcullis::detect::{any_match_vs_full, windowed_vs_full};
use proptest::prelude::*;

const KEYWORDS: &[&str] = &["key", "tok_", "secret", "ab"];

/// Rule templates; `K` and `J` are replaced by keywords (regex-escaped).
const TEMPLATES: &[&str] = &[
    r"K[a-z0-9]{2,6}",
    r"(?i)K[=:]\s*([a-z0-9_]{1,10})",
    r"\bK\w{2,8}\b",
    r"[a-z]{0,5}K[^\n]+",
    r"(?m)^\s*K=.{1,6}$",
    r"(?:K|J)[0-9a-f]{3}",
    r"x?K(?:[ab]{1,3}|c+)",
    r"K[\s\S]{0,5}end",
    r"(?i)[\w.-]{0,8}?(?:K|J)[ \t\w.-]{0,4}[=:]{1,2}([\w.=-]{2,12})",
    r"[a-z]*K",
    r"K\b",
    r"(?i:K)[^\s]{1,4}$",
    r"(?:K)?[0-9]{2}",
    r"K|J",
    // A bounded lead before the keyword (one character or the text start, an assertion).
    r"(?i)(?:^|[^A-Za-z])(?:K|J)[\w.-]{0,4}?[=:]([a-z0-9_]{1,8})(?:[\s;]|$)",
    r"(?:^|[\s=:])K[a-z0-9]{1,6}",
    r"[^a-z]x?K\b",
    r"\b(?:x|\n)?K.{0,3}",
];

const TOKENS: &[&str] = &[
    "key", "KEY", "tok_", "secret", "Secret", "ab", "AB", "a", "b", "c", "0", "9", "f", "=", ":",
    " ", "\n", "\t", "_", "x", "end", "é", "-", ".",
];

fn escape(k: &str) -> String {
    k.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

prop_compose! {
    /// One generated case: the pattern of a template with its keywords, the rule's keywords
    /// (plus, sometimes, an unrelated one), and a text of tokens.
    fn case()(
        t in 0..TEMPLATES.len(),
        k in 0..KEYWORDS.len(),
        j in 0..KEYWORDS.len(),
        extra in proptest::option::of(0..KEYWORDS.len()),
        toks in proptest::collection::vec(0..TOKENS.len(), 0..80),
    ) -> (String, Vec<String>, String) {
        let pattern = TEMPLATES[t]
            .replace('K', &escape(KEYWORDS[k]))
            .replace('J', &escape(KEYWORDS[j]));
        let mut keywords = vec![KEYWORDS[k].to_string()];
        if TEMPLATES[t].contains('J') {
            keywords.push(KEYWORDS[j].to_string());
        }
        if let Some(e) = extra {
            keywords.push(KEYWORDS[e].to_string());
        }
        let text: String = toks.iter().map(|&i| TOKENS[i]).collect();
        (pattern, keywords, text)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn windowed_verification_equals_full_search((pattern, keywords, text) in case()) {
        let (_, strategy, full) = windowed_vs_full(&pattern, &keywords, text.as_bytes()).expect("valid pattern");
        prop_assert_eq!(strategy, full, "pattern {} keywords {:?} text {:?}", pattern, keywords, text);
    }

    /// The candidate test's "does the rule match anywhere" (searches anchored at keyword hits
    /// where every match starts with a keyword) answers as a whole-text search does.
    #[test]
    fn anchored_candidate_check_equals_full_search((pattern, keywords, text) in case()) {
        let (_, strategy, full) = any_match_vs_full(&pattern, &keywords, text.as_bytes()).expect("valid pattern");
        prop_assert_eq!(strategy, full, "pattern {} keywords {:?} text {:?}", pattern, keywords, text);
    }
}

#[test]
fn anchored_search_is_used_where_every_match_starts_with_a_keyword() {
    let kws = vec!["key".to_string(), "secret".to_string()];
    let anchored = TEMPLATES
        .iter()
        .filter(|t| {
            let p = t.replace('K', "key").replace('J', "secret");
            any_match_vs_full(&p, &kws, b"").unwrap().0
        })
        .count();
    assert!(
        anchored >= 5,
        "only {anchored} templates use anchored searches"
    );
    // A match found only by a search that starts at the hit, not before it.
    let (a, s, f) = any_match_vs_full(r"key=[a-z]{3}\b", &kws, b"xkey=abc").unwrap();
    assert!(a && s && f);
    // A bounded lead before the keyword: searches anchored up to that many bytes before
    // the hit find the match that starts before it.
    let (a, s, f) = any_match_vs_full(r"[a-z]{0,3}key=[a-z]{3}", &kws, b"xkey=abc").unwrap();
    assert!(a && s && f);
    // An unbounded lead: windows.
    let (a, s, f) = any_match_vs_full(r"[a-z]*key=[a-z]{3}", &kws, b"xkey=abc").unwrap();
    assert!(!a && s && f);
}

#[test]
fn windowing_is_used_for_keyword_anchored_rules() {
    let kw = vec!["tok_".to_string()];
    let (w, s, f) = windowed_vs_full(r"tok_[a-z]{4}", &kw, b"xx tok_abcd yy").unwrap();
    assert!(w);
    assert_eq!(s, f);
    assert_eq!(f, vec![(3, 11)]);
    // Optional keyword: every match need not contain it, so the whole text is searched.
    let (w, _, _) = windowed_vs_full(r"(?:tok_)?[a-z]{4}", &kw, b"abcd").unwrap();
    assert!(!w);
}

#[test]
fn most_templates_exercise_the_windowed_path() {
    let kws = vec!["key".to_string(), "secret".to_string()];
    let windowed = TEMPLATES
        .iter()
        .filter(|t| {
            let p = t.replace('K', "key").replace('J', "secret");
            windowed_vs_full(&p, &kws, b"").unwrap().0
        })
        .count();
    assert!(windowed >= 9, "only {windowed} templates use windows");
}
