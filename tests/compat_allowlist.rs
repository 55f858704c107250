//! Allowlists (spec §4): fragment level and finding level, OR/AND, every target.

use crate::detect_common::{detector, scan_at as scan};

const C1: &str = "0123456789abcdef0123456789abcdef01234567";
const C2: &str = "fedcba9876543210fedcba9876543210fedcba98";

fn rule_with(allowlist: &str) -> String {
    format!(
        r#"
[[rules]]
id = "kv"
regex = '''key=([a-zA-Z0-9_]+)'''
keywords = ["key="]
{allowlist}
"#
    )
}

#[test]
fn rule_path_allowlist_skips_the_file_for_that_rule() {
    let d = detector(&rule_with("[[rules.allowlists]]\npaths = ['''^test/''']\n"));
    assert_eq!(scan(&d, "key=abc", "test/a.txt", "").len(), 0);
    assert_eq!(scan(&d, "key=abc", "src/a.txt", "").len(), 1);
}

#[test]
fn global_path_allowlist_skips_the_file_for_all_rules() {
    let d = detector(&format!(
        "{}\n[[allowlists]]\npaths = ['''(?i)\\.md$''']\n",
        rule_with("")
    ));
    assert_eq!(scan(&d, "key=abc", "README.MD", "").len(), 0);
    assert!(d.path_allowed_globally("docs/x.md"));
    assert_eq!(scan(&d, "key=abc", "a.txt", "").len(), 1);
}

#[test]
fn commit_allowlist_matches_full_sha_case_insensitively() {
    let d = detector(&rule_with(&format!(
        "[[rules.allowlists]]\ncommits = ['{}']\n",
        C1.to_uppercase()
    )));
    assert_eq!(scan(&d, "key=abc", "a", C1).len(), 0);
    assert_eq!(scan(&d, "key=abc", "a", C2).len(), 1);
    // Short SHAs never match.
    let d = detector(&rule_with("[[rules.allowlists]]\ncommits = ['0123456']\n"));
    assert_eq!(scan(&d, "key=abc", "a", C1).len(), 1);
}

#[test]
fn regex_allowlist_targets_secret_by_default() {
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nregexes = ['''^abc$''']\n",
    ));
    assert_eq!(scan(&d, "key=abc", "a", "").len(), 0);
    assert_eq!(scan(&d, "key=abcd", "a", "").len(), 1);
}

#[test]
fn regex_target_match_tests_the_whole_match() {
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nregexTarget = 'match'\nregexes = ['''^key=abc$''']\n",
    ));
    assert_eq!(scan(&d, "key=abc", "a", "").len(), 0);
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nregexTarget = 'secret'\nregexes = ['''^key=abc$''']\n",
    ));
    assert_eq!(scan(&d, "key=abc", "a", "").len(), 1);
}

#[test]
fn regex_target_line_sees_leading_newline_on_later_lines() {
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nregexTarget = 'line'\nregexes = ['''^x key=''']\n",
    ));
    // First line: the line text is "x key=abc" → allowed.
    assert_eq!(scan(&d, "x key=abc\n", "a", "").len(), 0);
    // Second line: the line text is "\nx key=abc", so `^x` fails (gitleaks quirk)...
    assert_eq!(scan(&d, "first\nx key=abc\n", "a", "").len(), 1);
    // ...while `(?m)^x` works.
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nregexTarget = 'line'\nregexes = ['''(?m)^x key=''']\n",
    ));
    assert_eq!(scan(&d, "first\nx key=abc\n", "a", "").len(), 0);
}

#[test]
fn stopword_in_secret_suppresses_finding() {
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nstopwords = ['EXAMPLE']\n",
    ));
    assert_eq!(scan(&d, "key=myExampleKey", "a", "").len(), 0);
    assert_eq!(scan(&d, "key=realvalue", "a", "").len(), 1);
}

#[test]
fn stopwords_test_the_secret_even_with_match_target() {
    // "key" is in the match but not in the secret group.
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nregexTarget = 'match'\nstopwords = ['key']\n",
    ));
    assert_eq!(scan(&d, "key=value", "a", "").len(), 1);
}

#[test]
fn and_condition_needs_every_present_check() {
    let al =
        "[[rules.allowlists]]\ncondition = 'AND'\npaths = ['''^test/''']\nregexes = ['''^abc''']\n";
    let d = detector(&rule_with(al));
    assert_eq!(scan(&d, "key=abcdef", "test/x", "").len(), 0);
    assert_eq!(scan(&d, "key=abcdef", "src/x", "").len(), 1);
    assert_eq!(scan(&d, "key=zzz", "test/x", "").len(), 1);
}

#[test]
fn and_condition_with_commit_and_path_only_is_fragment_level() {
    let al = format!(
        "[[rules.allowlists]]\ncondition = '&&'\ncommits = ['{C1}']\npaths = ['''^test/''']\n"
    );
    let d = detector(&rule_with(&al));
    assert_eq!(scan(&d, "key=abc", "test/x", C1).len(), 0);
    assert_eq!(scan(&d, "key=abc", "test/x", C2).len(), 1);
    assert_eq!(scan(&d, "key=abc", "src/x", C1).len(), 1);
}

#[test]
fn or_condition_any_check_allows() {
    let al = "[[rules.allowlists]]\npaths = ['''^test/''']\nregexes = ['''^abc''']\n";
    let d = detector(&rule_with(al));
    assert_eq!(scan(&d, "key=zzz", "test/x", "").len(), 0);
    assert_eq!(scan(&d, "key=abcdef", "src/x", "").len(), 0);
    assert_eq!(scan(&d, "key=zzz", "src/x", "").len(), 1);
}

#[test]
fn global_allowlist_regex_applies_to_every_rule() {
    let d = detector(&format!(
        "{}\n[[allowlists]]\nregexes = ['''(?i)^true|false|null$''']\n",
        rule_with("")
    ));
    // gitleaks' default-config quirk: alternation without a group.
    assert_eq!(scan(&d, "key=trueish", "a", "").len(), 0);
    assert_eq!(scan(&d, "key=isfalsey", "a", "").len(), 0);
    assert_eq!(scan(&d, "key=nonnull", "a", "").len(), 0);
    assert_eq!(scan(&d, "key=nullx", "a", "").len(), 1);
}

#[test]
fn target_rules_allowlist_applies_only_to_named_rule() {
    let d = detector(
        r#"
[[rules]]
id = "a"
regex = '''a=(\w+)'''
[[rules]]
id = "b"
regex = '''b=(\w+)'''
[[allowlists]]
targetRules = ["a"]
stopwords = ["skip"]
"#,
    );
    let f = scan(&d, "a=skipme b=skipme", "x", "");
    let ids: Vec<_> = f.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["b"]);
}

#[test]
fn stdin_fragment_skips_fragment_level_checks() {
    // No path and no commit: path allowlists cannot apply.
    let d = detector(&rule_with("[[rules.allowlists]]\npaths = ['''.*''']\n"));
    assert_eq!(scan(&d, "key=abc", "", "").len(), 1);
}

#[test]
fn empty_secret_is_never_regex_allowed() {
    let d = detector(
        r#"
[[rules]]
id = "e"
regex = '''key=(\w*)'''
secretGroup = 1
[[rules.allowlists]]
regexes = ['''.*''']
"#,
    );
    assert_eq!(scan(&d, "key=;", "a", "").len(), 1);
    assert_eq!(scan(&d, "key=x;", "a", "").len(), 0);
}

#[test]
fn joined_allowlist_flags_leak_across_patterns_as_in_gitleaks() {
    // gitleaks joins patterns as (?:p1|p2): a (?i) in p1 also applies to p2.
    let d = detector(&rule_with(
        "[[rules.allowlists]]\nregexes = ['''(?i)zzz''', '''^abc$''']\n",
    ));
    assert_eq!(scan(&d, "key=ABC", "a", "").len(), 0);
}
