//! gitleaks 8.30 configuration semantics (spec §1-§4), written from the documented behaviour.

use std::path::{Path, PathBuf};

use portcullis::rules::{Condition, Config, ConfigError, RegexTarget};

fn load(toml: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(toml, Path::new("cfg/test.toml"))
}

fn err(toml: &str) -> String {
    let e = load(toml).expect_err("config must be rejected").to_string();
    assert!(!e.contains('\n'), "error is one line: {e}");
    assert!(e.contains("cfg/test.toml"), "error names the file: {e}");
    e
}

#[test]
fn keys_are_case_insensitive() {
    let c = load(
        r#"
Title = "t"
[[RULES]]
ID = "r"
Regex = '''(a)(b)'''
SECRETGROUP = 2
Keywords = ["ABC"]
SkipReport = true
"#,
    )
    .unwrap();
    assert_eq!(c.title(), "t");
    let r = &c.rules()[0];
    assert_eq!(r.id, "r");
    assert_eq!(r.secret_group, 2);
    assert_eq!(r.keywords, vec!["abc"]);
    assert!(r.skip_report);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn unknown_key_is_a_warning_naming_it() {
    let c = load("[[rules]]\nid = \"r\"\nregex = 'x'\nkeyword = [\"x\"]\n").unwrap();
    assert!(
        c.warnings()
            .iter()
            .any(|w| w.contains("`keyword`") && w.contains("rule `r`")),
        "{:?}",
        c.warnings()
    );
}

#[test]
fn weakly_typed_values_are_accepted_like_viper() {
    let c = load("[[rules]]\nid = \"r\"\nregex = '(a)'\nentropy = \"3.5\"\nsecretGroup = \"1\"\nkeywords = \"single\"\n").unwrap();
    let r = &c.rules()[0];
    assert_eq!(r.entropy, 3.5);
    assert_eq!(r.secret_group, 1);
    assert_eq!(r.keywords, vec!["single"]);
}

#[test]
fn invalid_regex_error_names_file_and_rule() {
    let e = err("[[rules]]\nid = \"bad-rule\"\nregex = '(unclosed'\n");
    assert!(e.contains("bad-rule") && e.contains("regex"), "{e}");
}

#[test]
fn missing_id_is_rejected() {
    let e = err("[[rules]]\ndescription = \"d\"\nregex = 'x'\n");
    assert!(e.contains("id"), "{e}");
}

#[test]
fn rule_without_regex_or_path_is_rejected() {
    let e = err("[[rules]]\nid = \"empty\"\n");
    assert!(
        e.contains("empty") && e.contains("regex") && e.contains("path"),
        "{e}"
    );
}

#[test]
fn secret_group_beyond_groups_is_rejected() {
    let e = err("[[rules]]\nid = \"sg\"\nregex = '(a)'\nsecretGroup = 2\n");
    assert!(e.contains("sg") && e.contains("secretGroup"), "{e}");
}

#[test]
fn unknown_condition_and_regex_target_are_rejected() {
    let e = err(
        "[[rules]]\nid = \"c\"\nregex = 'a'\n[[rules.allowlists]]\ncondition = \"XOR\"\nregexes = ['b']\n",
    );
    assert!(e.contains("condition") && e.contains("XOR"), "{e}");
    let e = err(
        "[[rules]]\nid = \"c\"\nregex = 'a'\n[[rules.allowlists]]\nregexTarget = \"all\"\nregexes = ['b']\n",
    );
    assert!(e.contains("regexTarget"), "{e}");
}

#[test]
fn condition_and_target_values_parse() {
    let c = load(
        r#"
[[rules]]
id = "c"
regex = 'a'
[[rules.allowlists]]
condition = "and"
regexTarget = "line"
regexes = ['b']
stopwords = ["FOO"]
commits = [" ABCDEF "]
[[rules.allowlists]]
condition = "||"
regexTarget = "match"
paths = ['x']
"#,
    )
    .unwrap();
    let a = &c.rules()[0].allowlists;
    assert_eq!(a[0].condition, Condition::And);
    assert_eq!(a[0].regex_target, RegexTarget::Line);
    assert_eq!(a[0].stopwords, vec!["foo"]);
    assert_eq!(a[0].commits, vec!["abcdef"]);
    assert_eq!(a[1].condition, Condition::Or);
    assert_eq!(a[1].regex_target, RegexTarget::Match);
}

#[test]
fn empty_allowlist_is_rejected() {
    let e = err(
        "[[rules]]\nid = \"e\"\nregex = 'a'\n[[rules.allowlists]]\ndescription = \"nothing\"\n",
    );
    assert!(e.contains("at least one"), "{e}");
    let e = err("[[allowlists]]\ndescription = \"nothing\"\n");
    assert!(e.contains("at least one"), "{e}");
}

#[test]
fn old_and_new_allowlist_forms_cannot_mix() {
    let e = err(
        "[[rules]]\nid = \"m\"\nregex = 'a'\n[rules.allowlist]\nregexes = ['x']\n[[rules.allowlists]]\nregexes = ['y']\n",
    );
    assert!(e.contains("m") && e.contains("deprecated"), "{e}");
    let e = err("[allowlist]\nregexes = ['x']\n[[allowlists]]\nregexes = ['y']\n");
    assert!(e.contains("deprecated"), "{e}");
}

#[test]
fn single_rule_allowlist_is_accepted() {
    let c =
        load("[[rules]]\nid = \"s\"\nregex = 'a'\n[rules.allowlist]\nstopwords = ['x']\n").unwrap();
    assert_eq!(c.rules()[0].allowlists.len(), 1);
}

#[test]
fn target_rules_moves_global_allowlist_onto_rules() {
    let c = load(
        r#"
[[rules]]
id = "a"
regex = 'a'
[[rules]]
id = "b"
regex = 'b'
[[allowlists]]
targetRules = ["a"]
regexes = ['x']
[[allowlists]]
paths = ['vendor/']
"#,
    )
    .unwrap();
    assert_eq!(c.rules()[0].allowlists.len(), 1);
    assert_eq!(c.rules()[1].allowlists.len(), 0);
    assert_eq!(c.allowlists().len(), 1);
    let e = err(
        "[[rules]]\nid = \"a\"\nregex = 'a'\n[[allowlists]]\ntargetRules = [\"zzz\"]\nregexes = ['x']\n",
    );
    assert!(e.contains("zzz"), "{e}");
}

#[test]
fn required_rule_must_exist_in_same_file() {
    let e = err("[[rules]]\nid = \"p\"\nregex = 'a'\n[[rules.required]]\nid = \"missing\"\n");
    assert!(e.contains("p") && e.contains("missing"), "{e}");
    let c = load(
        r#"
[[rules]]
id = "p"
regex = 'a'
[[rules.required]]
id = "q"
withinLines = 2
withinColumns = 10
[[rules]]
id = "q"
regex = 'b'
skipReport = true
"#,
    )
    .unwrap();
    let r = &c.rules()[0].required[0];
    assert_eq!(
        (r.id.as_str(), r.within_lines, r.within_columns),
        ("q", Some(2), Some(10))
    );
}

#[test]
fn duplicate_rule_ids_last_wins_with_warning() {
    let c =
        load("[[rules]]\nid = \"d\"\nregex = 'first'\n[[rules]]\nid = \"d\"\nregex = 'second'\n")
            .unwrap();
    assert_eq!(c.rules().len(), 1);
    assert_eq!(c.rules()[0].regex.as_deref(), Some("second"));
    assert!(c.warnings().iter().any(|w| w.contains("`d`")));
}

#[test]
fn toml_syntax_error_is_one_line_naming_file() {
    let e = err("[[rules]\nid = ");
    assert!(e.contains("syntax"), "{e}");
}

#[test]
fn extend_use_default_adds_default_rules_and_overrides_field_by_field() {
    let c = load(
        r#"
[extend]
useDefault = true
disabledRules = ["aws-access-token"]

[[rules]]
id = "github-pat"
description = "overridden"
keywords = ["extra-kw"]
tags = ["mine"]
[[rules.allowlists]]
stopwords = ["child"]

[[rules]]
id = "own"
regex = 'own_[0-9]+'
"#,
    )
    .unwrap();
    let base = Config::embedded_default();
    let base_pat = base.rule("github-pat").unwrap();
    let pat = c.rule("github-pat").unwrap();
    assert_eq!(pat.description, "overridden");
    assert_eq!(pat.regex, base_pat.regex, "regex kept from base");
    assert_eq!(pat.entropy, base_pat.entropy);
    assert_eq!(pat.keywords.last().map(String::as_str), Some("extra-kw"));
    assert_eq!(
        &pat.keywords[..base_pat.keywords.len()],
        &base_pat.keywords[..]
    );
    assert_eq!(pat.tags.last().map(String::as_str), Some("mine"));
    assert_eq!(pat.allowlists.len(), base_pat.allowlists.len() + 1);
    assert!(c.rule("aws-access-token").is_none(), "disabled");
    assert!(c.rule("own").is_some());
    // Sorted by id after an extend.
    let ids: Vec<_> = c.rules().iter().map(|r| r.id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    // Base global allowlists come after the child's.
    assert_eq!(c.allowlists().len(), base.allowlists().len());
}

#[test]
fn extend_without_use_default_replaces_default() {
    let c = load("[[rules]]\nid = \"only\"\nregex = 'x'\n").unwrap();
    assert_eq!(c.rules().len(), 1);
}

#[test]
fn extend_path_and_use_default_together_is_an_error() {
    let e = err("[extend]\nuseDefault = true\npath = \"x.toml\"\n");
    assert!(e.contains("useDefault") && e.contains("path"), "{e}");
}

#[test]
fn id_only_child_rule_without_base_rule_is_rejected() {
    let e = err("[extend]\nuseDefault = true\n[[rules]]\nid = \"not-in-default\"\n");
    assert!(e.contains("not-in-default"), "{e}");
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("portcullis-cfg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn extend_path_chain_stops_at_depth_two() {
    let d = tmpdir("chain");
    let c3 = d.join("c3.toml");
    let c2 = d.join("c2.toml");
    let c1 = d.join("c1.toml");
    std::fs::write(&c3, "[[rules]]\nid = \"r3\"\nregex = 'c'\n").unwrap();
    std::fs::write(
        &c2,
        format!(
            "[extend]\npath = \"{}\"\n[[rules]]\nid = \"r2\"\nregex = 'b'\n",
            c3.display()
        ),
    )
    .unwrap();
    std::fs::write(
        &c1,
        format!(
            "[extend]\npath = \"{}\"\n[[rules]]\nid = \"r1\"\nregex = 'a'\n",
            c2.display()
        ),
    )
    .unwrap();
    let root = d.join("root.toml");
    std::fs::write(
        &root,
        format!(
            "[extend]\npath = \"{}\"\n[[rules]]\nid = \"r0\"\nregex = 'z'\n",
            c1.display()
        ),
    )
    .unwrap();
    // root → c1 → c2; c2's [extend] (depth 2) is ignored.
    let c = Config::load(&root).unwrap();
    let ids: Vec<_> = c.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["r0", "r1", "r2"]);
    assert!(
        c.warnings().iter().any(|w| w.contains("depth")),
        "{:?}",
        c.warnings()
    );
    // A bad extend path is an error naming the file.
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "[extend]\npath = \"/nonexistent/x.toml\"\n").unwrap();
    let e = Config::load(&bad).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("/nonexistent/x.toml"),
        "{e}"
    );
}

#[test]
fn target_rules_in_extended_file_are_dropped() {
    let d = tmpdir("target");
    let base = d.join("base.toml");
    std::fs::write(
        &base,
        "[[rules]]\nid = \"b\"\nregex = 'b'\n[[allowlists]]\ntargetRules = [\"b\"]\nregexes = ['x']\n",
    )
    .unwrap();
    let root = d.join("root.toml");
    std::fs::write(&root, format!("[extend]\npath = \"{}\"\n", base.display())).unwrap();
    let c = Config::load(&root).unwrap();
    assert!(c.rule("b").unwrap().allowlists.is_empty());
}

#[test]
fn go_regex_syntax_is_accepted() {
    load(
        r#"
[[rules]]
id = "go"
regex = '''(?P<a>x)(?<b>y)\Q.*\E[[:alpha:]]\z'''
"#,
    )
    .unwrap();
}

#[test]
fn repeat_count_over_1000_is_rejected_as_go_does() {
    let e = err("[[rules]]\nid = \"big\"\nregex = 'a{1001}'\n");
    assert!(e.contains("big"), "{e}");
}

#[test]
fn discover_prefers_explicit_then_target_file_then_default() {
    use portcullis::rules::{ConfigOrigin, discover_config};
    let d = tmpdir("discover");
    // No config in target → embedded default (env vars are not set in tests).
    if std::env::var_os("PORTCULLIS_CONFIG").is_none()
        && std::env::var_os("GITLEAKS_CONFIG").is_none()
        && std::env::var_os("GITLEAKS_CONFIG_TOML").is_none()
    {
        let (_, o) = discover_config(None, &d).unwrap();
        assert_eq!(o, ConfigOrigin::Embedded);
        std::fs::write(
            d.join(".gitleaks.toml"),
            "[[rules]]\nid = \"t\"\nregex = 'x'\n",
        )
        .unwrap();
        let (c, o) = discover_config(None, &d).unwrap();
        assert_eq!(o, ConfigOrigin::Target(d.join(".gitleaks.toml")));
        assert_eq!(c.rules()[0].id, "t");
        // A file target does not look for a sibling .gitleaks.toml.
        std::fs::write(d.join("f.txt"), "x").unwrap();
        let (_, o) = discover_config(None, &d.join("f.txt")).unwrap();
        assert_eq!(o, ConfigOrigin::Embedded);
    }
    let explicit = d.join("e.toml");
    std::fs::write(&explicit, "[[rules]]\nid = \"e\"\nregex = 'x'\n").unwrap();
    let (c, o) = discover_config(Some(&explicit), &d).unwrap();
    assert_eq!(o, ConfigOrigin::Explicit(explicit.clone()));
    assert_eq!(c.rules()[0].id, "e");
    let e = discover_config(Some(&d.join("missing.toml")), &d).unwrap_err();
    assert!(e.to_string().contains("missing.toml"));
}

/// A pattern that parses but exceeds the regex engine's size limit.
const TOO_BIG: &str = "tok_(?:[a-z0-9]{1000}){1000}";

#[test]
fn regex_that_parses_but_cannot_compile_is_a_load_error_naming_the_rule() {
    let e = err(&format!(
        "[[rules]]\nid = \"huge-rule\"\nregex = '''{TOO_BIG}'''\nkeywords = [\"tok_\"]\n"
    ));
    assert!(e.contains("huge-rule") && e.contains("compile"), "{e}");
}

#[test]
fn allowlist_regex_that_cannot_compile_is_a_load_error() {
    let e = err(&format!(
        "[[rules]]\nid = \"r\"\nregex = 'x'\n[[rules.allowlists]]\nregexes = ['''{TOO_BIG}''']\n"
    ));
    assert!(e.contains("`r`"), "{e}");
}

#[test]
fn scan_with_a_rule_that_cannot_compile_exits_2_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("big.toml");
    std::fs::write(
        &cfg,
        format!("[[rules]]\nid = \"huge-rule\"\nregex = '''{TOO_BIG}'''\nkeywords = [\"tok_\"]\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("a.txt"), "tok_abc\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", "dir", "--config"])
        .arg(&cfg)
        .arg(dir.path().join("a.txt"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("huge-rule"), "{stderr}");
}
