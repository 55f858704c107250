//! The default ruleset (`rules/default.toml`): its examples, and its performance contract with the
//! engine.
//!
//! * Every rule's true positives (`testdata/rules/<id>.toml`, `tp`) are reported **by that rule id**
//!   when scanned by the real detector over the embedded default config; every near miss (`fp`)
//!   is not reported by it.
//! * Every rule with a regex has keywords, every string its regex can match contains one of them
//!   (checked exhaustively on the regex's DFA, not on samples), and every match has a bounded
//!   length (only `private-key` may span an unbounded PEM block).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};

/// A rule as written in `rules/default.toml` (read independently of the engine).
struct RawRule {
    id: String,
    regex: Option<String>,
    keywords: Vec<String>,
}

/// Search state (DFA state id, keyword progress) → how it was reached (parent state, byte).
type ParentMap = HashMap<(u32, Vec<u8>), Option<((u32, Vec<u8>), u8)>>;
fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn raw_rules() -> Vec<RawRule> {
    let text = std::fs::read_to_string(manifest_dir().join("rules/default.toml"))
        .expect("rules/default.toml is readable");
    let doc: toml::Table = toml::from_str(&text).expect("rules/default.toml is valid TOML");
    let rules = doc["rules"].as_array().expect("[[rules]] array");
    rules
        .iter()
        .map(|r| RawRule {
            id: r["id"].as_str().expect("rule id").to_string(),
            regex: r.get("regex").and_then(|v| v.as_str()).map(str::to_string),
            keywords: r
                .get("keywords")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .map(|k| k.as_str().expect("keyword string").to_lowercase())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

#[test]
fn default_ruleset_has_at_least_200_rules_with_unique_ids() {
    let rules = raw_rules();
    assert!(rules.len() >= 200, "only {} rules", rules.len());
    let mut seen = HashSet::new();
    for r in &rules {
        assert!(seen.insert(r.id.clone()), "duplicate rule id {}", r.id);
    }
}

/// Go RE2 limits counted repetitions to 1000; Rust's `regex` does not. Keep the patterns portable.
#[test]
fn default_regexes_stay_within_go_re2_limits() {
    let counted = regex::Regex::new(r"\{(\d+)(?:,(\d*))?\}").unwrap();
    for r in raw_rules() {
        let Some(re) = &r.regex else { continue };
        for lookaround in ["(?=", "(?!", "(?<=", "(?<!"] {
            assert!(!re.contains(lookaround), "{}: lookaround is not RE2", r.id);
        }
        for c in counted.captures_iter(re) {
            for g in [c.get(1), c.get(2)].into_iter().flatten() {
                if let Ok(n) = g.as_str().parse::<u32>() {
                    assert!(
                        n <= 1000,
                        "{}: repetition count {n} exceeds RE2's 1000",
                        r.id
                    );
                }
            }
        }
    }
}

#[test]
fn every_regex_rule_has_keywords_and_bounded_matches() {
    for r in raw_rules() {
        let Some(re) = &r.regex else { continue };
        assert!(
            !r.keywords.is_empty(),
            "{}: a regex rule needs keywords",
            r.id
        );
        for k in &r.keywords {
            assert!(
                k.len() >= 2,
                "{}: keyword {k:?} is too short to be selective",
                r.id
            );
        }
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(re)
            .unwrap_or_else(|e| panic!("{}: regex does not parse: {e}", r.id));
        let max = hir.properties().maximum_len();
        if r.id == "private-key" {
            continue; // a PEM block may be arbitrarily long; the engine treats it specially
        }
        let max = max.unwrap_or_else(|| panic!("{}: regex has an unbounded match length", r.id));
        assert!(
            max <= 4096,
            "{}: maximum match length {max} is too large",
            r.id
        );
    }
}

/// The keyword state: the longest suffix of the input read so far that is a prefix of a keyword.
struct KeywordMatcher {
    keywords: Vec<Vec<u8>>,
    relevant: [bool; 256],
}

impl KeywordMatcher {
    fn new(keywords: &[String]) -> KeywordMatcher {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        let mut relevant = [false; 256];
        for k in &keywords {
            for &b in k {
                relevant[b as usize] = true;
                relevant[b.to_ascii_uppercase() as usize] = true;
            }
        }
        KeywordMatcher { keywords, relevant }
    }

    /// `None` once a keyword has been seen.
    fn step(&self, state: &[u8], byte: u8) -> Option<Vec<u8>> {
        let mut t = state.to_vec();
        t.push(byte.to_ascii_lowercase());
        if self.keywords.iter().any(|k| t.ends_with(k)) {
            return None;
        }
        for start in 0..=t.len() {
            let suffix = &t[start..];
            if self.keywords.iter().any(|k| k.starts_with(suffix)) {
                return Some(suffix.to_vec());
            }
        }
        Some(Vec::new())
    }
}

/// Search the product of the regex DFA and the keyword matcher for a string the regex matches
/// that contains no keyword. Returns such a string, or `None` when there is none.
fn match_without_keyword(re: &str, keywords: &[String]) -> Result<Option<Vec<u8>>, String> {
    let dfa = dense::Builder::new()
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .thompson(regex_automata::nfa::thompson::Config::new().utf8(false))
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .match_kind(MatchKind::All)
                .dfa_size_limit(Some(16 << 20))
                .determinize_size_limit(Some(16 << 20)),
        )
        .build(re)
        .map_err(|e| e.to_string())?;
    let kw = KeywordMatcher::new(keywords);
    // Representative bytes: every byte that can advance a keyword, plus one byte per DFA class.
    let classes = dfa.byte_classes();
    let mut reps = Vec::new();
    let mut class_seen = HashSet::new();
    for b in 0..=255u8 {
        if kw.relevant[b as usize] || class_seen.insert(classes.get(b)) {
            reps.push(b);
        }
    }
    let mut parent: ParentMap = HashMap::new();
    let mut queue = VecDeque::new();
    for look_behind in [None, Some(b'\n'), Some(b' '), Some(b'a'), Some(b'=')] {
        let cfg = start::Config::new()
            .anchored(Anchored::Yes)
            .look_behind(look_behind);
        let sid = dfa.start_state(&cfg).map_err(|e| e.to_string())?;
        let key = (sid.as_u32(), Vec::new());
        if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(key.clone()) {
            e.insert(None);
            queue.push_back((sid, Vec::new()));
        }
    }
    let witness = |parent: &ParentMap, mut key: (u32, Vec<u8>)| {
        let mut bytes = Vec::new();
        while let Some(Some((prev, b))) = parent.get(&key) {
            bytes.push(*b);
            key = prev.clone();
        }
        bytes.reverse();
        bytes
    };
    while let Some((sid, state)) = queue.pop_front() {
        let key = (sid.as_u32(), state.clone());
        if dfa.is_match_state(dfa.next_eoi_state(sid)) {
            return Ok(Some(witness(&parent, key)));
        }
        for &b in &reps {
            let next = dfa.next_state(sid, b);
            if dfa.is_match_state(next) {
                // Matches are delayed by one byte: the input before `b` is a match.
                return Ok(Some(witness(&parent, key)));
            }
            if dfa.is_dead_state(next) {
                continue;
            }
            let Some(next_kw) = kw.step(&state, b) else {
                continue; // a keyword was seen: every continuation is fine
            };
            let next_key = (next.as_u32(), next_kw.clone());
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(next_key) {
                e.insert(Some((key.clone(), b)));
                queue.push_back((next, next_kw));
            }
        }
    }
    Ok(None)
}

/// Rules whose DFA is too large to search exhaustively here (long overlapping repetitions or
/// multi-line blocks). Their keyword is a mandatory literal of the pattern (`T3BlbkFJ`, `jdbc:`,
/// `password=`/`pwd=`, `-----BEGIN`, `PuTTY-User-Key-File-`, `kind: Secret`, `sig=`,
/// `logic.azure.com`, `curl`), and their examples
/// are checked like every other rule's.
const TOO_LARGE_FOR_DFA_CHECK: &[&str] = &[
    // Credential-file rules: section headers (`[client]`, `[pypi]`, `[Sessions\`), `insert`,
    // `<fileTransfer`, `"type"`/`"protocol"` and the credential words of `.env` / `.tfvars`
    // assignments are mandatory literals.
    "mysql-cnf-password",
    "pypirc-password",
    "sql-insert-password-hash",
    "winscp-password",
    "jetbrains-webservers-password",
    "sftp-config-password",
    "tfvars-secret",
    "dotenv-secret",
    "openai-api-key",
    "jdbc-connection-password",
    "ado-net-connection-string-password",
    "private-key",
    "putty-private-key",
    "kubernetes-secret-yaml",
    "azure-sas-token",
    "microsoft-teams-workflow-webhook",
    "curl-auth-header",
];

#[test]
fn every_match_of_every_regex_contains_a_keyword() {
    let mut failures = Vec::new();
    let rules = raw_rules();
    for id in TOO_LARGE_FOR_DFA_CHECK {
        assert!(rules.iter().any(|r| r.id == *id), "stale exemption {id}");
    }
    for r in rules {
        let Some(re) = &r.regex else { continue };
        if TOO_LARGE_FOR_DFA_CHECK.contains(&r.id.as_str()) {
            continue;
        }
        match match_without_keyword(re, &r.keywords) {
            Ok(None) => {}
            Ok(Some(w)) => failures.push(format!(
                "{}: matches {:?} without any keyword of {:?}",
                r.id,
                String::from_utf8_lossy(&w),
                r.keywords
            )),
            Err(e) => failures.push(format!("{}: cannot build a DFA: {e}", r.id)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn keyword_contract_check_finds_a_keywordless_match() {
    // The checker itself must be able to fail.
    let w = match_without_keyword(r"(?i)(?:foo|bar)[0-9]{4}", &["foo".to_string()])
        .unwrap()
        .expect("`bar0000` matches without the keyword");
    assert!(w.to_ascii_lowercase().starts_with(b"bar"), "{w:?}");
    assert_eq!(
        match_without_keyword(r"(?i)\b(?:foo|xfoo)[0-9]{4}\b", &["foo".to_string()]).unwrap(),
        None
    );
}

// ------------------------------------------------------------------------------------------------
// Examples, run through the real engine on the embedded default config.

use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::report::Confidence;
use portcullis::rules::Config;

fn detector() -> &'static Detector {
    static DET: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    DET.get_or_init(|| {
        Detector::new(Config::embedded_default(), DetectOptions::default())
            .expect("the embedded default config builds a detector")
    })
}

fn reported(text: &str, path: &str) -> Vec<String> {
    let frag = Fragment {
        text: text.as_bytes(),
        path,
        symlink_file: "",
        commit: "",
        start_line: 1,
    };
    let mut out = Vec::new();
    detector().scan(&frag, &mut out);
    out.into_iter().map(|f| f.rule_id).collect()
}

struct Examples {
    path: String,
    confidence: Option<String>,
    tp_low: Vec<String>,
    tp: Vec<String>,
    fp: Vec<String>,
    tp_paths: Vec<String>,
    fp_paths: Vec<String>,
}

fn examples(rule_id: &str) -> Examples {
    let file = manifest_dir().join(format!("testdata/rules/{rule_id}.toml"));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{rule_id}: no examples file {}: {e}", file.display()));
    let t: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert_eq!(t["id"].as_str(), Some(rule_id), "{}: id", file.display());
    let list = |k: &str| -> Vec<String> {
        t.get(k)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    Examples {
        path: t
            .get("path")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string(),
        confidence: t
            .get("confidence")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        tp_low: list("tp_low"),
        tp: list("tp"),
        fp: list("fp"),
        tp_paths: list("tp_paths"),
        fp_paths: list("fp_paths"),
    }
}

#[test]
fn embedded_default_loads_cleanly_with_200_or_more_rules() {
    let cfg = Config::embedded_default();
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    assert!(cfg.rules().len() >= 200, "{} rules", cfg.rules().len());
    assert_eq!(cfg.rules().len(), raw_rules().len());
    let ids: HashSet<&str> = cfg.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), cfg.rules().len(), "rule ids are unique");
}

#[test]
fn every_rule_has_a_true_positive_and_a_near_miss() {
    for r in Config::embedded_default().rules() {
        let ex = examples(&r.id);
        assert!(
            !ex.tp.is_empty() || !ex.tp_paths.is_empty(),
            "{}: no true positive",
            r.id
        );
        assert!(
            !ex.fp.is_empty() || !ex.fp_paths.is_empty(),
            "{}: no near miss",
            r.id
        );
        if r.regex.is_none() {
            assert!(
                !ex.tp_paths.is_empty(),
                "{}: path rule needs tp_paths",
                r.id
            );
        }
    }
}

#[test]
fn every_example_file_belongs_to_a_rule() {
    let cfg = Config::embedded_default();
    for e in std::fs::read_dir(manifest_dir().join("testdata/rules")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(cfg.rule(&stem).is_some(), "{} names no rule", p.display());
        }
    }
}

#[test]
fn true_positives_are_reported_by_their_rule() {
    let mut failures = Vec::new();
    let mut count = 0;
    for r in Config::embedded_default().rules() {
        let ex = examples(&r.id);
        for (i, tp) in ex.tp.iter().enumerate() {
            count += 1;
            let ids = reported(tp, &ex.path);
            if !ids.contains(&r.id) {
                failures.push(format!("{} tp[{i}] {tp:?}: reported {ids:?}", r.id));
            }
        }
        for p in &ex.tp_paths {
            count += 1;
            let ids = reported("some content\n", p);
            if !ids.contains(&r.id) {
                failures.push(format!("{} tp_path {p:?}: reported {ids:?}", r.id));
            }
        }
    }
    assert!(count >= 400, "only {count} true positives");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The confidence with which `rule` reports `text` (the highest, if it reports it twice).
fn confidence_of(text: &str, path: &str, rule: &str) -> Option<Confidence> {
    let frag = Fragment {
        text: text.as_bytes(),
        path,
        symlink_file: "",
        commit: "",
        start_line: 1,
    };
    let mut out = Vec::new();
    detector().scan(&frag, &mut out);
    out.into_iter()
        .filter(|f| f.rule_id == rule)
        .map(|f| f.confidence)
        .max()
}

#[test]
fn true_positives_carry_the_confidence_their_examples_state() {
    let mut failures = Vec::new();
    let mut graded = 0;
    for r in Config::embedded_default().rules() {
        let ex = examples(&r.id);
        let Some(want) = &ex.confidence else {
            failures.push(format!("{}: examples state no confidence", r.id));
            continue;
        };
        let want: Confidence = want.parse().unwrap();
        assert_eq!(
            r.confidence.unwrap_or_default(),
            want,
            "{}: rule and examples disagree",
            r.id
        );
        for (i, tp) in ex.tp.iter().enumerate() {
            graded += 1;
            let got = confidence_of(tp, &ex.path, &r.id);
            if got != Some(want) {
                failures.push(format!("{} tp[{i}] {tp:?}: {got:?}, want {want}", r.id));
            }
        }
        for (i, tp) in ex.tp_low.iter().enumerate() {
            graded += 1;
            let got = confidence_of(tp, &ex.path, &r.id);
            if got != Some(Confidence::Low) {
                failures.push(format!("{} tp_low[{i}] {tp:?}: {got:?}, want low", r.id));
            }
        }
    }
    assert!(graded >= 400, "only {graded} graded examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn near_misses_are_not_reported_by_their_rule() {
    let mut failures = Vec::new();
    for r in Config::embedded_default().rules() {
        let ex = examples(&r.id);
        for (i, fp) in ex.fp.iter().enumerate() {
            if reported(fp, &ex.path).contains(&r.id) {
                failures.push(format!("{} fp[{i}] {fp:?}", r.id));
            }
        }
        for p in &ex.fp_paths {
            if reported("some content\n", p).contains(&r.id) {
                failures.push(format!("{} fp_path {p:?}", r.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn placeholders_are_not_reported_by_any_rule() {
    for text in [
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "GITHUB_TOKEN=${GITHUB_TOKEN}",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "api_key = \"xxxxxxxxxxxxxxxxxxxxxxxx\"",
        "api_key: <your-api-key>",
        "SECRET_KEY=your-secret-key-here",
        "password = \"changeme\"",
        "DB_PASSWORD=${DB_PASSWORD}",
        "token: {{ .Values.token }}",
        "DATABASE_URL=postgres://user:password@localhost:5432/app",
        "STRIPE_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxx",
        "client_secret: 00000000000000000000000000000000",
    ] {
        let ids = reported(text, "config/app.env");
        assert!(ids.is_empty(), "{text:?} reported by {ids:?}");
    }
}

#[test]
fn global_allowlist_skips_vendored_generated_and_asset_paths() {
    let det = detector();
    for p in [
        ".git",
        "repo/.git",
        "repo/.git/config",
        "node_modules/left-pad/index.js",
        "web/node_modules",
        "vendor/github.com/x/y.go",
        "Cargo.lock",
        "app/package-lock.json",
        "yarn.lock",
        "poetry.lock",
        "go.sum",
        "static/app.min.js",
        "static/app.js.map",
        "img/logo.png",
        "fonts/Inter.woff2",
    ] {
        assert!(det.path_allowed_globally(p), "{p} should be skipped");
    }
    for p in [
        "src/main.rs",
        ".github/workflows/ci.yml",
        "config/.env",
        "vendored.md",
        "certs/a.p12",
    ] {
        assert!(!det.path_allowed_globally(p), "{p} should be scanned");
    }
    // A secret in a lockfile is not reported; the same text elsewhere is.
    let text = "token = ghp_0123456789abcdefghijABCDEFGHIJ012345\n";
    assert!(reported(text, "Cargo.lock").is_empty());
    assert!(reported(text, "src/config.rs").contains(&"github-pat".to_string()));
}

// ------------------------------------------------------------------------------------------------
// `portcullis rules list|check`, run as a real process.

fn portcullis(args: &[&str], cwd: &std::path::Path) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("GITLEAKS_CONFIG")
        .env_remove("GITLEAKS_CONFIG_TOML")
        .output()
        .expect("run portcullis");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn rules_list_prints_every_default_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = portcullis(&["rules", "list"], dir.path());
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ID"), "{}", lines[0]);
    assert_eq!(lines.len(), raw_rules().len() + 1);
    let github = lines
        .iter()
        .find(|l| l.starts_with("github-pat "))
        .expect("github-pat listed");
    assert!(
        github.contains("ghp_") && github.contains("vcs"),
        "{github}"
    );
    let p12 = lines
        .iter()
        .find(|l| l.starts_with("pkcs12-file "))
        .unwrap();
    assert!(p12.contains("path "), "{p12}");
    assert!(err.contains("embedded default"), "{err}");
}

#[test]
fn rules_list_uses_the_given_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("custom.toml");
    std::fs::write(
        &cfg,
        "[[rules]]\nid = \"acme-key\"\ndescription = \"ACME key\"\nregex = '''acme_[0-9a-f]{32}'''\nkeywords = [\"acme_\"]\ntags = [\"acme\"]\n",
    )
    .unwrap();
    let (code, out, _) = portcullis(&["rules", "list", "--config", "custom.toml"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.contains("acme-key") && out.contains("ACME key"),
        "{out}"
    );
}

#[test]
fn rules_check_passes_the_default_ruleset_with_its_examples() {
    let root = manifest_dir();
    let (code, out, err) = portcullis(
        &[
            "rules",
            "check",
            "rules/default.toml",
            "--examples",
            "testdata/rules",
        ],
        &root,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("0 failed"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
}

#[test]
fn rules_check_reports_a_failing_example_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "[[rules]]\nid = \"acme-key\"\nregex = '''acme_[0-9a-f]{8}'''\nkeywords = [\"acme_\"]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("ex")).unwrap();
    std::fs::write(
        dir.path().join("ex/acme-key.toml"),
        "tp = [\"k = acme_0123abcd\", \"k = acme_zzzz\"]\nfp = [\"acme_12\"]\n",
    )
    .unwrap();
    let (code, out, _) = portcullis(
        &["rules", "check", "c.toml", "--examples", "ex"],
        dir.path(),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL acme-key: tp[1]"), "{out}");
    assert!(!out.contains("tp[0]"), "{out}");
    assert!(
        out.contains("3 examples") && out.contains("1 failed"),
        "{out}"
    );
}

#[test]
fn rules_check_rejects_an_invalid_config_naming_file_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[rules]]\nid = \"broken-rule\"\nregex = '''(unclosed'''\nkeywords = [\"x\"]\n",
    )
    .unwrap();
    let (code, _, err) = portcullis(&["rules", "check", "bad.toml"], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("broken-rule"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");

    let (code, _, err) = portcullis(&["rules", "check", "missing.toml"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn rules_check_rejects_examples_for_unknown_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ex")).unwrap();
    std::fs::write(
        dir.path().join("ex/nope.toml"),
        "id = \"no-such-rule\"\ntp = [\"x\"]\n",
    )
    .unwrap();
    let root = manifest_dir();
    let ex = dir.path().join("ex");
    let (code, _, err) = portcullis(
        &[
            "rules",
            "check",
            "rules/default.toml",
            "--examples",
            ex.to_str().unwrap(),
        ],
        &root,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("nope.toml") && err.contains("no-such-rule"),
        "{err}"
    );
}

#[test]
fn base64_wrapped_jwt_is_reported_as_jwt_by_decoding() {
    use base64::Engine as _;
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZGVwbG95ZXIiLCJpYXQiOjE3MDAwMDAwMDB9.q3Z8Vb1kYpR7tW2xN9mC4sL0aF6dJ5hG8eK1uI3oP7Q";
    let wrapped = base64::engine::general_purpose::STANDARD.encode(jwt);
    let text = format!("auth: {wrapped}\n");
    let frag = Fragment {
        text: text.as_bytes(),
        path: "deploy/values.yaml",
        symlink_file: "",
        commit: "",
        start_line: 1,
    };
    let mut out = Vec::new();
    detector().scan(&frag, &mut out);
    let f = out
        .iter()
        .find(|f| f.rule_id == "jwt")
        .unwrap_or_else(|| panic!("no jwt finding in {out:?}"));
    assert_eq!(f.secret, jwt);
    assert!(f.tags.iter().any(|t| t == "decoded:base64"), "{:?}", f.tags);
}

/// Noise survey (not run by default): scan every file under `$PORTCULLIS_NOISE_DIR` with the
/// default rules and print the findings per rule, to spot false positives on real code.
/// `PORTCULLIS_NOISE_DIR=~/.cargo/registry/src cargo test --test default_rules noise -- --ignored --nocapture`
#[test]
#[ignore = "survey tool; needs PORTCULLIS_NOISE_DIR"]
fn noise_survey_of_a_directory() {
    let root =
        PathBuf::from(std::env::var_os("PORTCULLIS_NOISE_DIR").expect("PORTCULLIS_NOISE_DIR"));
    let det = detector();
    let mut stack = vec![root.clone()];
    let (mut files, mut bytes) = (0usize, 0usize);
    let mut per_rule: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            let ps = p.to_string_lossy().into_owned();
            if det.path_allowed_globally(&ps) {
                continue;
            }
            if ft.is_dir() {
                stack.push(p);
                continue;
            }
            if !ft.is_file() {
                continue;
            }
            let Ok(data) = std::fs::read(&p) else {
                continue;
            };
            files += 1;
            bytes += data.len();
            let frag = Fragment {
                text: &data,
                path: &ps,
                symlink_file: "",
                commit: "",
                start_line: 1,
            };
            let mut out = Vec::new();
            det.scan(&frag, &mut out);
            for f in out {
                per_rule
                    .entry(f.rule_id.clone())
                    .or_default()
                    .push(format!("{}:{}", f.file, f.start_line));
            }
        }
    }
    println!(
        "{files} files, {} MB under {}",
        bytes / 1_000_000,
        root.display()
    );
    for (rule, hits) in &per_rule {
        println!("{:6} {rule}", hits.len());
        for h in hits.iter().take(5) {
            println!("         {h}");
        }
    }
    assert!(files > 0, "no files under {}", root.display());
}

// ------------------------------------------------------------------------------------------------
// Confidence in reports and `--min-confidence`.

/// A GitHub classic token with a valid checksum (fake: random body) and one whose checksum is
/// wrong (its last character altered).
const VALID_GHP: &str = "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";
const BAD_GHP: &str = "ghp_8fK2mQ9xLr4TzW1vBn7YcJ5hDs3GpE0Aup22";

fn confidence_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/deploy.sh"),
        format!("export GITHUB_TOKEN={VALID_GHP}\nexport OLD_TOKEN={BAD_GHP}\n"),
    )
    .unwrap();
    dir
}

#[test]
fn reports_carry_confidence_and_min_confidence_filters_them() {
    let ws = confidence_workspace();
    let (code, _, err) = portcullis(&["scan", "dir", "src", "-r", "all.json", "-q"], ws.path());
    assert_eq!(code, 1, "{err}");
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("all.json")).unwrap())
            .unwrap();
    let mut seen: Vec<(u64, String)> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["RuleID"] == "github-pat")
        .map(|f| {
            (
                f["StartLine"].as_u64().unwrap(),
                f["Confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, vec![(1, "high".into()), (2, "low".into())]);

    let (code, _, err) = portcullis(
        &[
            "scan",
            "dir",
            "src",
            "-r",
            "high.json",
            "-q",
            "--min-confidence",
            "high",
        ],
        ws.path(),
    );
    assert_eq!(code, 1, "{err}");
    let high = std::fs::read_to_string(ws.path().join("high.json")).unwrap();
    assert!(high.contains(VALID_GHP));
    assert!(!high.contains(BAD_GHP), "{high}");

    let (code, _, err) = portcullis(&["scan", "dir", "src", "-r", "out.sarif", "-q"], ws.path());
    assert_eq!(code, 1, "{err}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("out.sarif")).unwrap())
            .unwrap();
    let run = &sarif["runs"][0];
    let mut levels: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "github-pat")
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    levels.sort();
    assert_eq!(levels, vec!["error", "note"]);
    let severity = |id: &str| -> String {
        run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| {
                r["properties"]["security-severity"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .unwrap()
    };
    assert_eq!(severity("private-key"), "9.0");
    assert_eq!(severity("github-pat"), "8.0");
    assert_eq!(severity("generic-password"), "4.5");

    let (code, _, err) = portcullis(&["scan", "dir", "src", "-r", "out.csv", "-q"], ws.path());
    assert_eq!(code, 1, "{err}");
    let csv = std::fs::read_to_string(ws.path().join("out.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",Tags,Confidence"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("github-pat,") && l.ends_with(",low"))
    );

    let (code, _, err) = portcullis(
        &["scan", "dir", "src", "--min-confidence", "certain"],
        ws.path(),
    );
    assert_eq!(code, 2, "an unknown level is a usage error: {err}");
}
