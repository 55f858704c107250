//! `portcullis rules list|check`: print the rules of a configuration, or validate one and run
//! its examples.
//!
//! Examples live in a directory of TOML files, one per rule (the layout of `testdata/rules/`):
//!
//! ```toml
//! id = "github-pat"          # the rule the examples belong to
//! path = "main.tf"           # optional: file path used when scanning the examples
//! confidence = "high"        # optional: the confidence of the `tp` findings
//! tp = ["GITHUB_TOKEN=…"]    # must be reported by this rule id
//! tp_low = ["ghp_…"]         # must be reported too (with `low` confidence)
//! fp = ["ghp_xxxx…"]         # must not be reported by this rule id
//! tp_paths = ["a/b.p12"]     # path-only rules: paths that must be reported
//! fp_paths = ["a/b.pem"]     # path-only rules: paths that must not be reported
//! ```
//!
//! Exit status of `check`: 0 when the config is valid and every example passes, 1 when an
//! example fails, 2 when the config (or an example file) is invalid.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::detect::{DetectOptions, Detector, Fragment};
use crate::report::finding::Finding;
use crate::rules::{Config, ConfigError, ConfigOrigin, discover_config, goregex};

/// Rule commands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the rules of the effective configuration (id, keywords or path, tags, description).
    List(ListArgs),
    /// Validate a configuration (exit 2 naming the file, rule and problem) and run its examples
    /// (exit 1 when one fails).
    Check(CheckArgs),
}

/// Flags of `rules list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Configuration file (default: $PORTCULLIS_CONFIG, $GITLEAKS_CONFIG, ./.gitleaks.toml,
    /// then the embedded default rules).
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Flags of `rules check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file to validate (default: as for `rules list`).
    #[arg(value_name = "CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory of example files (`<rule-id>.toml` with `tp` / `fp` arrays) to run.
    #[arg(long, value_name = "DIR")]
    pub examples: Option<PathBuf>,
}

/// Run a rules command and return the process exit status.
pub fn run(cmd: RulesCommand) -> i32 {
    match cmd {
        RulesCommand::List(a) => list(&a),
        RulesCommand::Check(a) => check(&a),
    }
}

fn load(config: Option<&Path>) -> Result<(Config, ConfigOrigin), ConfigError> {
    discover_config(config, Path::new("."))
}

fn list(args: &ListArgs) -> i32 {
    let (config, origin) = match load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return super::fail(e),
    };
    for w in config.warnings() {
        eprintln!("portcullis: warning: {w}");
    }
    print!("{}", render_table(&config));
    eprintln!("{} rules from {origin}", config.rules().len());
    0
}

/// The rules of `config` as a plain-text table: ID, KEYWORDS / PATH, TAGS, DESCRIPTION.
pub fn render_table(config: &Config) -> String {
    let rows: Vec<[String; 4]> = config
        .rules()
        .iter()
        .map(|r| {
            let matcher = match (&r.regex, &r.path) {
                (None, Some(p)) => format!("path {p}"),
                _ if r.keywords.is_empty() => "(no keywords)".to_string(),
                _ => r.keywords.join(","),
            };
            [
                r.id.clone(),
                truncate(&matcher, 48),
                r.tags.join(","),
                r.description.clone(),
            ]
        })
        .collect();
    let header = [
        "ID".to_string(),
        "KEYWORDS / PATH".to_string(),
        "TAGS".to_string(),
        "DESCRIPTION".to_string(),
    ];
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (i, cell) in row.iter().enumerate() {
            if i < 3 {
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            } else {
                out.push_str(cell);
            }
        }
        // No trailing spaces when the description is empty.
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn origin_path(config: &Config, origin: &ConfigOrigin) -> String {
    config
        .path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| origin.to_string())
}

/// Compile every regex and path pattern of `config` (the detector compiles lazily), so that a
/// pattern the engine cannot run is reported now, naming the rule.
pub fn validate_patterns(config: &Config, file: &str) -> Result<(), String> {
    let compile = |what: &str, rule: Option<&str>, pat: &str| {
        goregex::compile_go(pat)
            .map(|_| ())
            .map_err(|e| match rule {
                Some(id) => format!("{file}: rule {id}: {what} does not compile: {e}"),
                None => format!("{file}: global allowlist: {what} does not compile: {e}"),
            })
    };
    for r in config.rules() {
        if r.regex.is_none() && r.path.is_none() {
            return Err(format!("{file}: rule {}: neither regex nor path", r.id));
        }
        if let Some(re) = &r.regex {
            compile("regex", Some(&r.id), re)?;
        }
        if let Some(p) = &r.path {
            compile("path", Some(&r.id), p)?;
        }
        for a in &r.allowlists {
            for p in a.regexes.iter().chain(a.paths.iter()) {
                compile("allowlist pattern", Some(&r.id), p)?;
            }
        }
    }
    for a in config.allowlists() {
        for p in a.regexes.iter().chain(a.paths.iter()) {
            compile("pattern", None, p)?;
        }
    }
    Ok(())
}

fn check(args: &CheckArgs) -> i32 {
    let (config, origin) = match load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return super::fail(e),
    };
    let file = origin_path(&config, &origin);
    for w in config.warnings() {
        eprintln!("portcullis: warning: {w}");
    }
    if let Err(e) = validate_patterns(&config, &file) {
        return super::fail(e);
    }
    for r in config.rules() {
        if r.regex.is_some() && r.keywords.is_empty() {
            eprintln!(
                "portcullis: note: {file}: rule {} has no keywords: its regex runs on every input",
                r.id
            );
        }
    }
    let rule_count = config.rules().len();
    let Some(dir) = &args.examples else {
        println!("{file}: {rule_count} rules, valid (no examples run; use --examples DIR)");
        return 0;
    };
    let detector = match Detector::new(config, DetectOptions::default()) {
        Ok(d) => d,
        Err(e) => return super::fail(e),
    };
    let report = match run_examples(&detector, dir) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    for f in &report.failures {
        println!("FAIL {f}");
    }
    let missing: Vec<&str> = detector
        .config()
        .rules()
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !report.rules_with_examples.contains(*id))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "portcullis: note: {} rules have no examples: {}",
            missing.len(),
            missing.join(", ")
        );
    }
    println!(
        "{file}: {rule_count} rules, {} examples for {} rules: {} passed, {} failed",
        report.examples,
        report.rules_with_examples.len(),
        report.examples - report.failures.len(),
        report.failures.len()
    );
    if report.failures.is_empty() { 0 } else { 1 }
}

/// The outcome of running a directory of examples.
#[derive(Debug, Default)]
pub struct ExampleReport {
    /// Number of examples run.
    pub examples: usize,
    /// Ids of the rules that have at least one example.
    pub rules_with_examples: HashSet<String>,
    /// One line per failed example (rule id, example kind and index, what went wrong; the
    /// example text is shortened so that a real secret pasted into an example is not echoed).
    pub failures: Vec<String>,
}

/// The examples of one rule, as read from `<dir>/<file>.toml`.
#[derive(Debug, Default)]
struct Examples {
    id: String,
    path: String,
    tp: Vec<String>,
    /// Reported, with `low` confidence.
    tp_low: Vec<String>,
    fp: Vec<String>,
    tp_paths: Vec<String>,
    fp_paths: Vec<String>,
}

fn string_array(table: &toml::Table, key: &str, file: &Path) -> Result<Vec<String>, String> {
    match table.get(key) {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    format!("{}: `{key}` must be an array of strings", file.display())
                })
            })
            .collect(),
        Some(_) => Err(format!(
            "{}: `{key}` must be an array of strings",
            file.display()
        )),
    }
}

fn read_examples(file: &Path) -> Result<Examples, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: invalid TOML: {}",
            file.display(),
            e.to_string().replace('\n', " ")
        )
    })?;
    for key in table.keys() {
        // `confidence` (the level of the `tp` findings) is informative here; the test suite
        // of the default ruleset checks it.
        if ![
            "id",
            "path",
            "confidence",
            "tp",
            "tp_low",
            "fp",
            "tp_paths",
            "fp_paths",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("{}: unknown key `{key}`", file.display()));
        }
    }
    let id = match table.get("id") {
        Some(toml::Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(_) => {
            return Err(format!(
                "{}: `id` must be a non-empty string",
                file.display()
            ));
        }
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let path = match table.get("path") {
        None => String::new(),
        Some(toml::Value::String(s)) => s.clone(),
        Some(_) => return Err(format!("{}: `path` must be a string", file.display())),
    };
    Ok(Examples {
        id,
        path,
        tp: string_array(&table, "tp", file)?,
        tp_low: string_array(&table, "tp_low", file)?,
        fp: string_array(&table, "fp", file)?,
        tp_paths: string_array(&table, "tp_paths", file)?,
        fp_paths: string_array(&table, "fp_paths", file)?,
    })
}

/// Shorten an example for display: its first 12 characters.
fn preview(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(&flat, 13)
}

/// Rule ids the detector reports for `text` scanned as the file `path`.
pub fn reported_rules(detector: &Detector, text: &[u8], path: &str) -> Vec<String> {
    let frag = Fragment {
        text,
        path,
        symlink_file: "",
        commit: "",
        start_line: 1,
    };
    let mut out: Vec<Finding> = Vec::new();
    detector.scan(&frag, &mut out);
    let mut ids: Vec<String> = out.into_iter().map(|f| f.rule_id).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Run every `*.toml` example file in `dir` against `detector`. A file that cannot be read,
/// is malformed or names a rule the config lacks is an error; a failed example is recorded in
/// the report.
pub fn run_examples(detector: &Detector, dir: &Path) -> Result<ExampleReport, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for e in entries {
        let e = e.map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
        let p = e.path();
        if p.extension().is_some_and(|x| x == "toml") && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    let mut report = ExampleReport::default();
    for file in files {
        let ex = read_examples(&file)?;
        if detector.config().rule(&ex.id).is_none() {
            return Err(format!(
                "{}: rule `{}` does not exist in this config",
                file.display(),
                ex.id
            ));
        }
        report.rules_with_examples.insert(ex.id.clone());
        let cases: [(&str, bool, &Vec<String>); 5] = [
            ("tp", true, &ex.tp),
            ("tp_low", true, &ex.tp_low),
            ("fp", false, &ex.fp),
            ("tp_paths", true, &ex.tp_paths),
            ("fp_paths", false, &ex.fp_paths),
        ];
        for (kind, positive, items) in cases {
            for (idx, item) in items.iter().enumerate() {
                report.examples += 1;
                let (text, path, shown) = if kind.ends_with("_paths") {
                    ("example file content\n", item.as_str(), item.clone())
                } else {
                    (item.as_str(), ex.path.as_str(), preview(item))
                };
                let ids = reported_rules(detector, text.as_bytes(), path);
                let hit = ids.contains(&ex.id);
                if positive && !hit {
                    report.failures.push(format!(
                        "{}: {kind}[{idx}] {shown:?} is not reported by the rule (reported: [{}])",
                        ex.id,
                        ids.join(", ")
                    ));
                } else if !positive && hit {
                    report.failures.push(format!(
                        "{}: {kind}[{idx}] {shown:?} is reported by the rule",
                        ex.id
                    ));
                }
            }
        }
    }
    Ok(report)
}
