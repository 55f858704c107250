//! Runtime forms of rules and allowlists: regexes compiled lazily on first use.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex_automata::meta::Regex;

use super::plan::{self, Plan};
use super::relax;
use crate::rules::{Allowlist, Condition, RegexTarget, Rule, goregex};

/// A Go pattern compiled on first use.
#[derive(Debug)]
pub(crate) struct LazyRegex {
    source: String,
    cell: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    pub fn new(source: String) -> Self {
        LazyRegex {
            source,
            cell: OnceLock::new(),
        }
    }

    /// The compiled regex; `None` if it cannot compile (configs are validated at load time,
    /// so this only happens for resource limits; the failure is reported once on stderr).
    pub fn get(&self) -> Option<&Regex> {
        self.cell
            .get_or_init(|| match goregex::compile_go(&self.source) {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!(
                        "portcullis: pattern `{}` cannot be compiled: {e}",
                        self.source
                    );
                    None
                }
            })
            .as_ref()
    }

    /// Unanchored search (Go `MatchString`).
    pub fn is_match(&self, hay: &[u8]) -> bool {
        self.get().is_some_and(|r| r.is_match(hay))
    }
}

/// A rule regex plus its verification plan.
#[derive(Debug)]
pub(crate) struct RuleRegex {
    pub re: Regex,
    pub plan: Plan,
}

/// The regex the whole-blob candidate test runs for a rule (see the `relax` module).
#[derive(Debug)]
pub(crate) enum Relaxed {
    /// The rule regex itself: it has no assertion a fragment edge could change.
    Same,
    /// A relaxed copy of the rule regex.
    Own(Regex),
    /// No usable regex: the candidate test must answer "maybe".
    Unavailable,
}

/// Runtime rule.
#[derive(Debug)]
pub(crate) struct RuleRt {
    regex_src: Option<String>,
    regex: OnceLock<Option<RuleRegex>>,
    relaxed: OnceLock<Relaxed>,
    pub path: Option<LazyRegex>,
    pub allowlists: Vec<AllowRt>,
    pub keywords: Vec<String>,
}

impl RuleRt {
    pub fn new(rule: &Rule) -> Self {
        RuleRt {
            regex_src: rule.regex.clone(),
            regex: OnceLock::new(),
            relaxed: OnceLock::new(),
            path: rule.path.clone().map(LazyRegex::new),
            allowlists: rule.allowlists.iter().map(AllowRt::new).collect(),
            keywords: rule.keywords.clone(),
        }
    }

    pub fn has_regex(&self) -> bool {
        self.regex_src.is_some()
    }

    /// The compiled rule regex (lazily built).
    pub fn regex(&self) -> Option<&RuleRegex> {
        let src = self.regex_src.as_ref()?;
        self.regex
            .get_or_init(|| {
                let built = goregex::parse(src).and_then(|hir| {
                    let plan = plan::analyse(&hir, &self.keywords);
                    goregex::compile(&hir).map(|re| RuleRegex { re, plan })
                });
                match built {
                    Ok(r) => Some(r),
                    Err(e) => {
                        eprintln!("portcullis: rule regex `{src}` cannot be compiled: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The regex of the whole-blob candidate test (lazily built; only for rules with a regex).
    pub fn relaxed(&self) -> &Relaxed {
        self.relaxed.get_or_init(|| {
            let Some(src) = self.regex_src.as_ref() else {
                return Relaxed::Unavailable;
            };
            match goregex::parse(src) {
                Ok(hir) if !relax::needs_relaxing(&hir) => Relaxed::Same,
                Ok(hir) => match goregex::compile(&relax::relax(&hir)) {
                    Ok(re) => Relaxed::Own(re),
                    Err(_) => Relaxed::Unavailable,
                },
                Err(_) => Relaxed::Unavailable,
            }
        })
    }
}

/// Runtime allowlist.
#[derive(Debug)]
pub(crate) struct AllowRt {
    pub condition: Condition,
    pub target: RegexTarget,
    commits: Vec<String>,
    paths: Option<LazyRegex>,
    regexes: Option<LazyRegex>,
    stopwords: Vec<String>,
    stopword_ac: OnceLock<Option<AhoCorasick>>,
}

/// `(?:p1|p2|...)`, as gitleaks joins allowlist patterns (flags set inside one pattern leak
/// into the following ones, as in gitleaks).
fn join_or(patterns: &[String]) -> Option<LazyRegex> {
    (!patterns.is_empty()).then(|| LazyRegex::new(format!("(?:{})", patterns.join("|"))))
}

impl AllowRt {
    pub fn new(a: &Allowlist) -> Self {
        AllowRt {
            condition: a.condition,
            target: a.regex_target,
            commits: a.commits.clone(),
            paths: join_or(&a.paths),
            regexes: join_or(&a.regexes),
            stopwords: a.stopwords.clone(),
            stopword_ac: OnceLock::new(),
        }
    }

    pub fn has_commits(&self) -> bool {
        !self.commits.is_empty()
    }
    pub fn has_paths(&self) -> bool {
        self.paths.is_some()
    }
    pub fn has_regexes(&self) -> bool {
        self.regexes.is_some()
    }
    pub fn has_stopwords(&self) -> bool {
        !self.stopwords.is_empty()
    }

    /// gitleaks `CommitAllowed`: the lowercased commit is listed.
    pub fn commit_allowed(&self, commit: &str) -> bool {
        !commit.is_empty() && {
            let c = commit.to_lowercase();
            self.commits.contains(&c)
        }
    }

    /// gitleaks `PathAllowed`.
    pub fn path_allowed(&self, path: &str) -> bool {
        !path.is_empty()
            && self
                .paths
                .as_ref()
                .is_some_and(|r| r.is_match(path.as_bytes()))
    }

    /// gitleaks `RegexAllowed` (an empty target is never allowed).
    pub fn regex_allowed(&self, target: &[u8]) -> bool {
        !target.is_empty() && self.regexes.as_ref().is_some_and(|r| r.is_match(target))
    }

    /// gitleaks `ContainsStopWord`: the lowercased secret contains a stopword.
    pub fn contains_stopword(&self, secret: &[u8]) -> bool {
        if secret.is_empty() {
            return false;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        // Built on first use (start-up stays cheap with hundreds of allowlists).
        let Some(ac) = self
            .stopword_ac
            .get_or_init(|| AhoCorasick::new(&self.stopwords).ok())
            .as_ref()
        else {
            // Cannot happen for plain strings; fall back to substring tests.
            let low = String::from_utf8_lossy(secret).to_lowercase();
            return self.stopwords.iter().any(|w| low.contains(w.as_str()));
        };
        if secret.is_ascii() {
            ac.is_match(&secret.to_ascii_lowercase())
        } else {
            ac.is_match(String::from_utf8_lossy(secret).to_lowercase().as_bytes())
        }
    }
}
