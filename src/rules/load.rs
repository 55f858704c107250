//! Parsing one config file (gitleaks' `ViperConfig.Translate`) and running its `[extend]`.

use std::path::{Path, PathBuf};

use toml::Table;

use super::extend::{self, MAX_EXTEND_DEPTH};
use super::value::{Fields, normalise_table};
use super::{Allowlist, Condition, Config, ConfigError, RegexTarget, Required, Rule, goregex};

/// What one file contributes before merging.
pub(crate) struct Translated {
    pub config: Config,
    /// `[extend]`.
    pub extend: ExtendSpec,
    /// Global allowlists with `targetRules`: (rule ids, allowlist).
    pub targeted: Vec<(Vec<String>, Allowlist)>,
}

/// `[extend]` of one file.
#[derive(Debug, Default, Clone)]
pub(crate) struct ExtendSpec {
    pub use_default: bool,
    pub path: Option<String>,
    pub disabled_rules: Vec<String>,
}

/// Load a root config (depth 0).
pub(crate) fn load_root(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let mut cfg = load_at_depth(text, origin, 0, false)?;
    cfg.path = Some(origin.to_path_buf());
    Ok(cfg)
}

/// Where the embedded default comes from in errors and warnings.
const EMBEDDED_ORIGIN: &str = "<embedded default>";

/// The embedded default, at depth 0.
pub(crate) fn load_embedded_default() -> Result<Config, ConfigError> {
    load_embedded_at_depth(0)
}

/// The embedded default at an extend depth. It is read from its JSON form
/// (`rules/default.json`, the same tables as `rules/default.toml`): JSON parses several times
/// faster than TOML, and the embedded ruleset is parsed at every start.
fn load_embedded_at_depth(depth: u32) -> Result<Config, ConfigError> {
    let origin = Path::new(EMBEDDED_ORIGIN);
    let raw: Table =
        serde_json::from_str(super::DEFAULT_CONFIG_JSON).map_err(|e| ConfigError::Syntax {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
    load_table_at_depth(raw, origin, depth, true)
}

/// Load a config at an extend depth: translate, extend (if depth allows), and at depth 0
/// validate rules and apply `targetRules`.
pub(crate) fn load_at_depth(
    text: &str,
    origin: &Path,
    depth: u32,
    trusted: bool,
) -> Result<Config, ConfigError> {
    load_table_at_depth(parse_toml(text, origin)?, origin, depth, trusted)
}

/// Parse the TOML text of `origin`.
fn parse_toml(text: &str, origin: &Path) -> Result<Table, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: origin.to_path_buf(),
        message: goregex::one_line(&e.to_string()),
    })
}

/// [`load_at_depth`] of an already parsed file.
fn load_table_at_depth(
    raw: Table,
    origin: &Path,
    depth: u32,
    trusted: bool,
) -> Result<Config, ConfigError> {
    let t = translate_table(raw, origin, trusted)?;
    let Translated {
        mut config,
        extend: spec,
        targeted,
    } = t;
    if depth != MAX_EXTEND_DEPTH {
        if spec.use_default && spec.path.is_some() {
            return Err(ConfigError::Invalid {
                path: origin.to_path_buf(),
                message: "[extend] sets both `path` and `useDefault`; use one".into(),
            });
        }
        apply_extend(&mut config, &spec, origin, depth)?;
    } else if spec.use_default || spec.path.is_some() {
        config.warnings.push(format!(
            "{}: [extend] ignored: extend chains are limited to depth {MAX_EXTEND_DEPTH} (as in gitleaks)",
            origin.display()
        ));
    }
    if depth == 0 {
        for r in &config.rules {
            validate_rule(r, origin)?;
        }
        for (ids, al) in targeted {
            for id in ids {
                let Some(rule) = config.rules.iter_mut().find(|r| r.id == id) else {
                    return Err(ConfigError::Invalid {
                        path: origin.to_path_buf(),
                        message: format!(
                            "[[allowlists]] targetRules names rule `{id}`, which does not exist"
                        ),
                    });
                };
                rule.allowlists.push(al.clone());
            }
        }
    } else if !targeted.is_empty() {
        config.warnings.push(format!(
            "{}: [[allowlists]] with targetRules in an extended config are ignored (as in gitleaks)",
            origin.display()
        ));
    }
    Ok(config)
}

fn rule_err(origin: &Path, id: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Rule {
        path: origin.to_path_buf(),
        rule_id: id.to_string(),
        message: message.into(),
    }
}

fn invalid(origin: &Path, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: origin.to_path_buf(),
        message: message.into(),
    }
}

/// Rule validation (gitleaks `Rule.Validate`), run after merging.
fn validate_rule(r: &Rule, origin: &Path) -> Result<(), ConfigError> {
    if r.id.trim().is_empty() {
        let mut ctx = String::new();
        if !r.description.is_empty() {
            ctx.push_str(&format!(" (description: {})", r.description));
        }
        return Err(rule_err(
            origin,
            "",
            format!("`id` is missing or empty{ctx}"),
        ));
    }
    if r.regex.is_none() && r.path.is_none() {
        return Err(rule_err(
            origin,
            &r.id,
            "both `regex` and `path` are empty, this rule would have no effect",
        ));
    }
    if let (Some(_), Some(groups)) = (&r.regex, r.regex_groups)
        && r.secret_group > groups
    {
        return Err(rule_err(
            origin,
            &r.id,
            format!(
                "invalid secretGroup {}: the regex has only {groups} capture group(s)",
                r.secret_group
            ),
        ));
    }
    Ok(())
}

/// Parse one file into its own rules/allowlists (no merging).
/// `trusted` (the embedded default, validated by a unit test) skips regex parsing to keep
/// start-up fast; regexes are then parsed when first used.
fn translate_table(raw: Table, origin: &Path, trusted: bool) -> Result<Translated, ConfigError> {
    let ctx = origin.display().to_string();
    let mut warnings = Vec::new();
    let table = normalise_table(raw, &ctx, &mut warnings);
    let mut top = Fields::new(&table);
    let fe = |e: (String, String)| invalid(origin, e.1);

    let title = top.string("title").map_err(fe)?.unwrap_or_default();
    let description = top.string("description").map_err(fe)?.unwrap_or_default();
    let min_version = top.string("minversion").map_err(fe)?.unwrap_or_default();

    // [extend]
    let mut spec = ExtendSpec::default();
    if let Some(ext) = top.table("extend").map_err(fe)? {
        let mut f = Fields::new(ext);
        let efe = |e: (String, String)| invalid(origin, format!("[extend]: {}", e.1));
        spec.use_default = f.bool("usedefault").map_err(efe)?.unwrap_or(false);
        spec.path = f.string("path").map_err(efe)?.filter(|p| !p.is_empty());
        spec.disabled_rules = f.strings("disabledrules").map_err(efe)?.unwrap_or_default();
        if let Some(url) = f.string("url").map_err(efe)?.filter(|u| !u.is_empty()) {
            warnings.push(format!(
                "{ctx}: [extend] url = \"{url}\" is not supported (gitleaks ignores it too)"
            ));
        }
        warn_unknown(&mut warnings, &ctx, "[extend]", &f);
    }

    // [[rules]]
    let mut rules: Vec<Rule> = Vec::new();
    for rt in top.tables("rules").map_err(fe)? {
        let rule = translate_rule(rt, origin, &ctx, &mut warnings, trusted)?;
        if let Some(pos) = rules.iter().position(|r| r.id == rule.id) {
            warnings.push(format!(
                "{ctx}: rule `{}` is defined more than once; the last definition is used",
                rule.id
            ));
            rules[pos] = rule;
        } else {
            rules.push(rule);
        }
    }
    // Required rules must exist in this same file (gitleaks checks before extending).
    for r in &rules {
        for req in &r.required {
            if !rules.iter().any(|x| x.id == req.id) {
                return Err(rule_err(
                    origin,
                    &r.id,
                    format!(
                        "[[rules.required]] rule `{}` does not exist in this file",
                        req.id
                    ),
                ));
            }
        }
    }

    // Global allowlists.
    let single = top.table("allowlist").map_err(fe)?;
    let many = top.tables("allowlists").map_err(fe)?;
    if single.is_some() && !many.is_empty() {
        return Err(invalid(
            origin,
            "[allowlist] is deprecated and cannot be used together with [[allowlists]]",
        ));
    }
    let mut allowlists = Vec::new();
    let mut targeted = Vec::new();
    let label = if single.is_some() {
        "[allowlist]"
    } else {
        "[[allowlists]]"
    };
    for (i, at) in single.into_iter().chain(many).enumerate() {
        let mut f = Fields::new(at);
        let al = translate_allowlist(&mut f, trusted)
            .map_err(|m| invalid(origin, format!("{label} #{}: {m}", i + 1)))?;
        let targets = f
            .strings("targetrules")
            .map_err(|e| invalid(origin, format!("{label} #{}: {}", i + 1, e.1)))?
            .unwrap_or_default();
        warn_unknown(&mut warnings, &ctx, label, &f);
        if targets.is_empty() {
            allowlists.push(al);
        } else {
            targeted.push((targets, al));
        }
    }
    warn_unknown(&mut warnings, &ctx, "top level", &top);

    Ok(Translated {
        config: Config {
            title,
            description,
            min_version,
            path: None,
            rules,
            allowlists,
            warnings,
        },
        extend: spec,
        targeted,
    })
}

fn warn_unknown(warnings: &mut Vec<String>, ctx: &str, place: &str, f: &Fields<'_>) {
    for k in f.unknown_keys() {
        warnings.push(format!("{ctx}: {place}: unknown key `{k}` (ignored)"));
    }
}

fn translate_rule(
    rt: &Table,
    origin: &Path,
    ctx: &str,
    warnings: &mut Vec<String>,
    trusted: bool,
) -> Result<Rule, ConfigError> {
    let mut f = Fields::new(rt);
    // The id first, so every later error can name it.
    let id = f
        .string("id")
        .map_err(|e| rule_err(origin, "", e.1))?
        .unwrap_or_default();
    let re = |e: (String, String)| rule_err(origin, &id, e.1);
    let description = f.string("description").map_err(re)?.unwrap_or_default();
    let regex = f.string("regex").map_err(re)?.filter(|s| !s.is_empty());
    let path = f.string("path").map_err(re)?.filter(|s| !s.is_empty());
    let secret_group = f.int("secretgroup").map_err(re)?.unwrap_or(0);
    if secret_group < 0 {
        return Err(rule_err(
            origin,
            &id,
            format!("invalid secretGroup {secret_group}"),
        ));
    }
    let entropy = f.float("entropy").map_err(re)?.unwrap_or(0.0);
    let keywords: Vec<String> = f
        .strings("keywords")
        .map_err(re)?
        .unwrap_or_default()
        .into_iter()
        .map(|k| k.to_lowercase())
        .collect();
    let tags = f.strings("tags").map_err(re)?.unwrap_or_default();
    let skip_report = f.bool("skipreport").map_err(re)?.unwrap_or(false);
    // portcullis extensions: `confidence` and `verify` (gitleaks ignores unknown keys).
    let confidence = match f.string("confidence").map_err(re)? {
        None => None,
        Some(c) => Some(
            c.parse::<crate::finding::Confidence>()
                .map_err(|m| rule_err(origin, &id, m))?,
        ),
    };
    let verify = match f.string("verify").map_err(re)? {
        None => None,
        Some(v) => Some(super::Verification::parse(&v).ok_or_else(|| {
            rule_err(
                origin,
                &id,
                format!(
                    "unknown verify `{v}` (expected one of: {})",
                    super::Verification::NAMES.join(", ")
                ),
            )
        })?),
    };
    // Regexes are checked here (gitleaks panics on them at this point).
    let mut regex_groups = None;
    if !trusted {
        if let Some(r) = &regex {
            let hir = goregex::parse(r)
                .map_err(|e| rule_err(origin, &id, format!("invalid regex: {e}")))?;
            regex_groups = Some(goregex::capture_count(&hir));
            // A pattern that parses can still exceed the engine's size limits; the scanner
            // compiles lazily, so compile here too: a rule that cannot run is a load error,
            // never a rule that silently finds nothing.
            goregex::compile(&hir)
                .map_err(|e| rule_err(origin, &id, format!("regex does not compile: {e}")))?;
        }
        if let Some(p) = &path {
            goregex::compile_go(p)
                .map_err(|e| rule_err(origin, &id, format!("invalid path: {e}")))?;
        }
    }
    let single = f.table("allowlist").map_err(re)?;
    let many = f.tables("allowlists").map_err(re)?;
    if single.is_some() && !many.is_empty() {
        return Err(rule_err(
            origin,
            &id,
            "[rules.allowlist] is deprecated and cannot be used together with [[rules.allowlists]]",
        ));
    }
    let mut allowlists = Vec::new();
    for (i, at) in many.into_iter().chain(single).enumerate() {
        let mut af = Fields::new(at);
        let al = translate_allowlist(&mut af, trusted)
            .map_err(|m| rule_err(origin, &id, format!("allowlist #{}: {m}", i + 1)))?;
        warn_unknown(
            warnings,
            ctx,
            &format!("rule `{id}` allowlist #{}", i + 1),
            &af,
        );
        allowlists.push(al);
    }
    let mut required = Vec::new();
    for rq in f.tables("required").map_err(re)? {
        let mut qf = Fields::new(rq);
        let qe =
            |e: (String, String)| rule_err(origin, &id, format!("[[rules.required]]: {}", e.1));
        let rid = qf.string("id").map_err(qe)?.unwrap_or_default();
        if rid.is_empty() {
            return Err(rule_err(origin, &id, "[[rules.required]] rule id is empty"));
        }
        let within_lines = qf.int("withinlines").map_err(qe)?;
        let within_columns = qf.int("withincolumns").map_err(qe)?;
        warn_unknown(
            warnings,
            ctx,
            &format!("rule `{id}` [[rules.required]]"),
            &qf,
        );
        required.push(Required {
            id: rid,
            within_lines,
            within_columns,
        });
    }
    warn_unknown(warnings, ctx, &format!("rule `{id}`"), &f);
    Ok(Rule {
        id,
        description,
        regex,
        secret_group: secret_group as usize,
        entropy,
        path,
        keywords,
        tags,
        skip_report,
        allowlists,
        required,
        confidence,
        verify,
        regex_groups,
    })
}

/// Why an allowlist table is invalid (the caller prefixes which allowlist).
#[derive(Debug, thiserror::Error)]
enum AllowlistError {
    /// A field of the wrong type, an unknown value, or no check at all.
    #[error("{0}")]
    Invalid(String),
    /// A path pattern that does not compile.
    #[error("invalid path pattern `{pattern}`: {source}")]
    Path {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: goregex::GoRegexError,
    },
    /// A regex that does not compile.
    #[error("invalid regex `{pattern}`: {source}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// Why.
        #[source]
        source: goregex::GoRegexError,
    },
}

/// One allowlist (without `targetRules`, which only global allowlists read).
fn translate_allowlist(f: &mut Fields<'_>, trusted: bool) -> Result<Allowlist, AllowlistError> {
    let e = |e: (String, String)| AllowlistError::Invalid(e.1);
    let description = f.string("description").map_err(e)?.unwrap_or_default();
    let cond = f.string("condition").map_err(e)?.unwrap_or_default();
    let condition = match cond.to_uppercase().as_str() {
        "AND" | "&&" => Condition::And,
        "" | "OR" | "||" => Condition::Or,
        _ => {
            return Err(AllowlistError::Invalid(format!(
                "unknown condition `{cond}` (expected \"AND\" or \"OR\")"
            )));
        }
    };
    let target = f.string("regextarget").map_err(e)?.unwrap_or_default();
    let regex_target = match target.as_str() {
        "" | "secret" => RegexTarget::Secret,
        "match" => RegexTarget::Match,
        "line" => RegexTarget::Line,
        _ => {
            return Err(AllowlistError::Invalid(format!(
                "unknown regexTarget `{target}` (expected \"secret\", \"match\" or \"line\")"
            )));
        }
    };
    let mut commits: Vec<String> = Vec::new();
    for c in f.strings("commits").map_err(e)?.unwrap_or_default() {
        let c = c.trim().to_lowercase();
        if !commits.contains(&c) {
            commits.push(c);
        }
    }
    let paths = f.strings("paths").map_err(e)?.unwrap_or_default();
    let regexes = f.strings("regexes").map_err(e)?.unwrap_or_default();
    let mut stopwords: Vec<String> = Vec::new();
    for s in f.strings("stopwords").map_err(e)?.unwrap_or_default() {
        let s = s.to_lowercase();
        if !stopwords.contains(&s) {
            stopwords.push(s);
        }
    }
    if !trusted {
        for p in &paths {
            goregex::compile_go(p).map_err(|source| AllowlistError::Path {
                pattern: p.clone(),
                source,
            })?;
        }
        for r in &regexes {
            goregex::compile_go(r).map_err(|source| AllowlistError::Regex {
                pattern: r.clone(),
                source,
            })?;
        }
    }
    if commits.is_empty() && paths.is_empty() && regexes.is_empty() && stopwords.is_empty() {
        return Err(AllowlistError::Invalid(
            "must contain at least one check for: commits, paths, regexes, or stopwords".into(),
        ));
    }
    Ok(Allowlist {
        description,
        condition,
        commits,
        paths,
        regexes,
        regex_target,
        stopwords,
    })
}

/// Load the base named by `spec` (if any) and merge it into `child`.
fn apply_extend(
    child: &mut Config,
    spec: &ExtendSpec,
    origin: &Path,
    depth: u32,
) -> Result<(), ConfigError> {
    let (base, name) = if spec.use_default {
        let base = load_embedded_at_depth(depth + 1)?;
        (base, "default".to_string())
    } else if let Some(p) = &spec.path {
        let (resolved, fallback) = resolve_extend_path(p, origin);
        let text = std::fs::read_to_string(&resolved).map_err(|e| ConfigError::Invalid {
            path: origin.to_path_buf(),
            message: format!("[extend] path `{p}` cannot be read: {e}"),
        })?;
        if fallback {
            child.warnings.push(format!(
                "{}: [extend] path `{p}` was not found relative to the working directory \
                 (gitleaks' rule); used `{}` instead",
                origin.display(),
                resolved.display()
            ));
        }
        let base = load_at_depth(&text, &resolved, depth + 1, false)?;
        (base, p.clone())
    } else {
        if !spec.disabled_rules.is_empty() {
            child.warnings.push(format!(
                "{}: [extend] disabledRules has no effect without `useDefault` or `path`",
                origin.display()
            ));
        }
        return Ok(());
    };
    extend::merge(child, base, &spec.disabled_rules, &name, origin);
    Ok(())
}

/// Resolve an `[extend] path`: relative to the working directory (gitleaks), else relative
/// to the extending file's directory.
pub(crate) fn resolve_extend_path(p: &str, origin: &Path) -> (PathBuf, bool) {
    let direct = PathBuf::from(p);
    if direct.is_absolute() || direct.exists() {
        return (direct, false);
    }
    if let Some(dir) = origin.parent() {
        let alt = dir.join(p);
        if alt.exists() {
            return (alt, true);
        }
    }
    (direct, false)
}
