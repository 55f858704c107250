//! The detector: gitleaks 8.30 detection semantics on a throughput-oriented engine.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use regex_automata::Input;
use regex_automata::meta::Regex;

use super::compiled::{AllowRt, Relaxed, RuleRegex, RuleRt};
use super::decode::{self, Decoder, Segment, Span};
use super::entropy::shannon_entropy;
use super::filter::{drop_generic_duplicates, redact_finding};
use super::keywords::KeywordSet;
use super::location::{location, newline_offsets};
use super::plan::Plan;
use super::verify::confidence_of;
use super::{DetectOptions, Fragment};
use crate::finding::{Finding, secret_fingerprint};
use crate::rules::{Condition, Config, ConfigError, RegexTarget};

/// One keyword occurrence attributed to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    rule: u32,
    start: usize,
    end: usize,
}

thread_local! {
    static HITS: RefCell<Vec<Hit>> = const { RefCell::new(Vec::new()) };
}

/// A keyword searcher for a set of rules: each distinct keyword once, with the rules that
/// have it.
#[derive(Debug)]
struct KeywordIndex {
    set: KeywordSet,
    /// The rules (indexes into the config) of each keyword.
    rules: Vec<Vec<u32>>,
}

impl KeywordIndex {
    /// The keywords of `rules` (indexes into `config`'s rules); `None` without any.
    fn new(config: &Config, rules: &[u32]) -> Option<KeywordIndex> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut patterns: Vec<&str> = Vec::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        for &i in rules {
            for k in &config.rules()[i as usize].keywords {
                if k.is_empty() {
                    continue;
                }
                let idx = *index.entry(k.as_str()).or_insert_with(|| {
                    patterns.push(k.as_str());
                    pattern_rules.push(Vec::new());
                    patterns.len() - 1
                });
                if !pattern_rules[idx].contains(&i) {
                    pattern_rules[idx].push(i);
                }
            }
        }
        (!patterns.is_empty()).then(|| KeywordIndex {
            set: KeywordSet::new(&patterns),
            rules: pattern_rules,
        })
    }

    /// Append the hits in `text` (at offset `at` of a larger text) of the rules `keep`
    /// accepts, unsorted.
    fn push_hits(&self, text: &[u8], at: usize, keep: impl Fn(u32) -> bool, hits: &mut Vec<Hit>) {
        self.set.for_each(text, |pid, start, end| {
            for &rule in &self.rules[pid] {
                if keep(rule) {
                    hits.push(Hit {
                        rule,
                        start: at + start,
                        end: at + end,
                    });
                }
            }
        });
    }
}

/// The marker that suppresses a finding on its line.
const ALLOW_MARKER: &[u8] = b"gitleaks:allow";

/// A compiled configuration, ready to scan fragments from many threads.
///
/// Rule regexes are compiled on first use; keyword hits are verified in bounded windows
/// when that is provably exact for the rule (see the `plan` module), otherwise over the whole
/// text, as gitleaks does.
#[derive(Debug)]
pub struct Detector {
    config: Config,
    opts: DetectOptions,
    rules: Vec<RuleRt>,
    active: Vec<bool>,
    by_id: HashMap<String, usize>,
    /// Keywords of the rules that apply to every path.
    prefilter: Option<KeywordIndex>,
    /// Keywords of the regex rules restricted to some paths (searched only in fragments at a
    /// matching path), and those rules.
    gated: Option<KeywordIndex>,
    gated_rules: Vec<u32>,
    has_keywordless_regex_rule: bool,
    /// Length of the longest keyword.
    max_keyword_len: usize,
    global: Vec<AllowRt>,
    config_path: Option<String>,
}

/// Per-fragment context.
struct Ctx<'f, 'a> {
    frag: &'f Fragment<'a>,
    newlines: OnceCell<Vec<usize>>,
}

impl Ctx<'_, '_> {
    fn newlines(&self) -> &[usize] {
        self.newlines
            .get_or_init(|| newline_offsets(self.frag.text))
    }
}

/// The current decode pass.
struct Pass<'p> {
    text: &'p [u8],
    /// Segments of all decode passes so far (empty in pass 0).
    passes: &'p [Vec<Segment>],
}

impl Pass<'_> {
    fn segments(&self) -> &[Segment] {
        self.passes.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

fn normalise_path(p: &str) -> &str {
    p.strip_prefix("./").unwrap_or(p)
}

impl Detector {
    /// Build a detector. Fails when `opts.enable_rules` names a rule the config lacks.
    pub fn new(config: Config, opts: DetectOptions) -> Result<Detector, ConfigError> {
        let cfg_path_buf = config
            .path()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| "<config>".into());
        for id in &opts.enable_rules {
            if config.rule(id).is_none() {
                return Err(ConfigError::Invalid {
                    path: cfg_path_buf,
                    message: format!("--enable-rule: rule `{id}` does not exist in this config"),
                });
            }
        }
        let rules: Vec<RuleRt> = config.rules().iter().map(RuleRt::new).collect();
        let active: Vec<bool> = config
            .rules()
            .iter()
            .map(|r| opts.enable_rules.is_empty() || opts.enable_rules.contains(&r.id))
            .collect();
        let mut by_id = HashMap::new();
        let mut has_keywordless_regex_rule = false;
        let (mut open, mut gated_rules) = (Vec::new(), Vec::new());
        for (i, r) in config.rules().iter().enumerate() {
            if !active[i] {
                continue;
            }
            by_id.insert(r.id.clone(), i);
            if r.keywords.is_empty() && r.regex.is_some() {
                has_keywordless_regex_rule = true;
            }
            // A keyword hit of a path-restricted regex rule matters only at its paths.
            if r.path.is_some() && r.regex.is_some() && !r.keywords.is_empty() {
                gated_rules.push(i as u32);
            } else {
                open.push(i as u32);
            }
        }
        let max_keyword_len = config
            .rules()
            .iter()
            .flat_map(|r| r.keywords.iter().map(String::len))
            .max()
            .unwrap_or(0);
        let prefilter = KeywordIndex::new(&config, &open);
        let gated = KeywordIndex::new(&config, &gated_rules);
        let global = config.allowlists().iter().map(AllowRt::new).collect();
        let config_path = config
            .path()
            .map(|p| normalise_path(&p.to_string_lossy()).to_string());
        Ok(Detector {
            config,
            opts,
            rules,
            active,
            by_id,
            prefilter,
            gated,
            gated_rules,
            has_keywordless_regex_rule,
            max_keyword_len,
            global,
            config_path,
        })
    }

    /// The configuration this detector runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The options this detector was built with.
    pub fn options(&self) -> &DetectOptions {
        &self.opts
    }

    /// Global allowlist paths (used by the dir walker to skip files/dirs, as gitleaks does).
    pub fn path_allowed_globally(&self, path: &str) -> bool {
        self.global.iter().any(|a| a.path_allowed(path))
    }

    /// Cheap superset prefilter: `false` guarantees that [`Detector::scan`] reports no regex
    /// finding for any fragment made of whole lines of `bytes` (decoding included).
    /// Path-only rules are not covered, nor regex rules restricted to some paths: see
    /// [`Detector::path_gated_content`].
    pub fn might_match(&self, bytes: &[u8]) -> bool {
        if self.has_keywordless_regex_rule {
            return true;
        }
        let Some(kw) = self.prefilter.as_ref().map(|p| &p.set) else {
            return false;
        };
        if kw.is_match(bytes) {
            return true;
        }
        if self.opts.max_decode_depth == 0 || !decode::may_contain_encoded(bytes) {
            return false;
        }
        let mut dec = Decoder::default();
        let mut cur: Cow<'_, [u8]> = Cow::Borrowed(bytes);
        for _ in 0..self.opts.max_decode_depth {
            match dec.decode(&cur) {
                Some(next) => {
                    if kw.is_match(&next) {
                        return true;
                    }
                    cur = Cow::Owned(next);
                }
                None => break,
            }
        }
        false
    }

    /// Sharper superset test for the history engine: `false` guarantees that
    /// [`Detector::scan`] reports no regex finding for any fragment made of whole lines of
    /// `bytes` (decoding included), like [`Detector::might_match`], but it also runs, for each
    /// rule whose keyword occurs, the rule regex relaxed at fragment edges (see the `relax`
    /// module) where [`Detector::scan`] would run it. Allowlists, entropy and the other filters
    /// only remove findings, so they are not applied. A blob for which this is `false` needs
    /// no line diff, unless one of its paths has [`Detector::path_gated_content`]: regex rules
    /// restricted to some paths are not covered (their keywords are often common words; they
    /// are searched only in files at their paths).
    pub fn might_find(&self, bytes: &[u8]) -> bool {
        if self.has_keywordless_regex_rule {
            return true;
        }
        if self.prefilter.is_none() {
            return false;
        }
        let mut hits = Vec::new();
        self.collect_hits(bytes, &[], &mut hits);
        if self.relaxed_match(bytes, &hits, None) {
            return true;
        }
        // The decode passes. A finding of pass `d` overlaps a segment decoded in that pass,
        // so only windows touching one are searched, and the keyword hits of the pass' text
        // are those of the previous text outside the replaced segments (shifted) plus those
        // overlapping the decoded values. Segments lie within a line (see
        // `decode::live_segments`), so a pass after the first only decodes the lines that
        // the previous pass changed: the others hold nothing that decodes.
        let mut current: Cow<'_, [u8]> = Cow::Borrowed(bytes);
        let mut changed: Option<Vec<std::ops::Range<usize>>> = None;
        for _ in 0..self.opts.max_decode_depth {
            let Some(step) = decode::decode_step(&current, changed.as_deref()) else {
                return false;
            };
            // A `U+XXXX` segment may swallow a line's `\n` (its pattern ends in `\s`); then a
            // fragment's decoded text need not be a run of whole lines of the blob's: answer
            // "maybe".
            if step.crosses_line {
                return true;
            }
            shift_hits(&mut hits, &step.encoded, &step.decoded);
            let pad = self.max_keyword_len.saturating_sub(1);
            for r in merged_ranges(&step.decoded, pad, 0, step.text.len()) {
                self.push_hits(&step.text[r.clone()], r.start, &[], &mut hits);
            }
            hits.sort_unstable_by_key(|h| (h.rule, h.start, h.end));
            hits.dedup();
            if self.relaxed_match(&step.text, &hits, Some(&step.decoded)) {
                return true;
            }
            changed = Some(line_ranges(&step.text, &step.decoded));
            current = Cow::Owned(step.text);
        }
        false
    }

    /// Whether some active rule with a keyword hit among `hits` (sorted by rule) has a
    /// relaxed-regex match in `text`; with `near`, only in windows touching one of those
    /// spans (sorted).
    fn relaxed_match(&self, text: &[u8], hits: &[Hit], near: Option<&[Span]>) -> bool {
        let mut i = 0;
        while i < hits.len() {
            let ri = hits[i].rule as usize;
            let end = i + hits[i..].partition_point(|h| h.rule as usize == ri);
            let rule_hits = &hits[i..end];
            i = end;
            if !self.active[ri] {
                continue;
            }
            let rt = &self.rules[ri];
            if !rt.has_regex() {
                continue;
            }
            let Some(rx) = rt.regex() else {
                continue;
            };
            let re = match rt.relaxed() {
                Relaxed::Same => &rx.re,
                Relaxed::Own(re) => re,
                Relaxed::Unavailable => return true,
            };
            if any_match(re, &rx.plan, text, rule_hits, near) {
                return true;
            }
        }
        false
    }

    /// All findings of one fragment, appended to `out`: Fingerprint and SecretFingerprint set,
    /// redaction applied, path-only rules included (one path finding per call, as gitleaks does
    /// per fragment). `.gitleaksignore` and baselines are applied separately
    /// ([`super::Suppressions`]).
    pub fn scan(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        if !frag.path.is_empty()
            && self
                .config_path
                .as_deref()
                .is_some_and(|p| p == normalise_path(frag.path))
        {
            return;
        }
        if fragment_allowed(&self.global, frag) {
            return;
        }
        let ctx = Ctx {
            frag,
            newlines: OnceCell::new(),
        };
        let mut findings: Vec<Finding> = Vec::new();
        let mut hits = HITS.with(|h| std::mem::take(&mut *h.borrow_mut()));
        let gated_here = self.gated_rules_at(frag.path);
        let mut decoder = Decoder::default();
        let mut current: Cow<'_, [u8]> = Cow::Borrowed(frag.text);
        let mut depth = 0u32;
        loop {
            {
                let pass = Pass {
                    text: &current,
                    passes: &decoder.passes,
                };
                self.collect_hits(pass.text, &gated_here, &mut hits);
                let mut prev_rule = u32::MAX;
                let mut hit_rules: Vec<u32> = Vec::new();
                for h in &hits {
                    if h.rule != prev_rule {
                        hit_rules.push(h.rule);
                        prev_rule = h.rule;
                    }
                }
                for (ri, rule) in self.config.rules().iter().enumerate() {
                    if !self.active[ri] {
                        continue;
                    }
                    let triggered =
                        rule.keywords.is_empty() || hit_rules.binary_search(&(ri as u32)).is_ok();
                    if triggered {
                        self.detect_rule(&ctx, ri, &pass, &hits, false, &mut findings);
                    }
                }
            }
            depth += 1;
            if depth > self.opts.max_decode_depth {
                break;
            }
            match decoder.decode(&current) {
                Some(next) => current = Cow::Owned(next),
                None => break,
            }
        }
        hits.clear();
        HITS.with(|h| *h.borrow_mut() = hits);
        if findings.is_empty() {
            return;
        }
        drop_generic_duplicates(&mut findings);
        for mut f in findings {
            if !f.secret.is_empty() {
                f.secret_fingerprint = secret_fingerprint(&f.rule_id, &f.secret);
            }
            if let Some(p) = self.opts.redact.filter(|p| *p > 0) {
                redact_finding(&mut f, p);
            }
            f.fingerprint = f.gitleaks_fingerprint();
            out.push(f);
        }
    }

    /// Whether some active regex rule restricted to some paths applies to a file at `path`:
    /// then [`Detector::might_find`] (which leaves those rules out) does not cover its content,
    /// and the content must be scanned whatever `might_find` answers.
    pub fn path_gated_content(&self, path: &str) -> bool {
        !self.gated_rules_at(path).is_empty()
    }

    /// The path-restricted regex rules (sorted) whose path matches `path`.
    fn gated_rules_at(&self, path: &str) -> Vec<u32> {
        if path.is_empty() {
            return Vec::new();
        }
        self.gated_rules
            .iter()
            .copied()
            .filter(|&ri| {
                self.rules[ri as usize]
                    .path
                    .as_ref()
                    .is_some_and(|p| p.is_match(path.as_bytes()))
            })
            .collect()
    }

    /// All keyword occurrences in `text`, one entry per (rule, occurrence), sorted by rule then
    /// position: of the rules that apply to every path, and of the path-restricted rules
    /// `gated_here` (sorted).
    fn collect_hits(&self, text: &[u8], gated_here: &[u32], hits: &mut Vec<Hit>) {
        hits.clear();
        self.push_hits(text, 0, gated_here, hits);
        hits.sort_unstable_by_key(|h| (h.rule, h.start, h.end));
    }

    /// Append the keyword hits in `text` (found at offset `at` of a larger text), unsorted.
    fn push_hits(&self, text: &[u8], at: usize, gated_here: &[u32], hits: &mut Vec<Hit>) {
        if let Some(kw) = &self.prefilter {
            kw.push_hits(text, at, |_| true, hits);
        }
        if !gated_here.is_empty()
            && let Some(kw) = &self.gated
        {
            kw.push_hits(text, at, |r| gated_here.binary_search(&r).is_ok(), hits);
        }
    }

    fn rule_hits(hits: &[Hit], ri: usize) -> &[Hit] {
        let r = ri as u32;
        let lo = hits.partition_point(|h| h.rule < r);
        let hi = hits.partition_point(|h| h.rule <= r);
        &hits[lo..hi]
    }

    /// gitleaks `detectRule` (plus composite processing), appending to `out`.
    fn detect_rule(
        &self,
        ctx: &Ctx<'_, '_>,
        ri: usize,
        pass: &Pass<'_>,
        all_hits: &[Hit],
        inherited: bool,
        out: &mut Vec<Finding>,
    ) {
        let rule = &self.config.rules()[ri];
        let rt = &self.rules[ri];
        let frag = ctx.frag;
        if rule.skip_report && !inherited {
            return;
        }
        if fragment_allowed(&rt.allowlists, frag) {
            return;
        }
        let segments = pass.segments();
        if let Some(path_re) = &rt.path {
            let path_ok = path_re.is_match(frag.path.as_bytes());
            if !rt.has_regex() && segments.is_empty() {
                if path_ok {
                    out.push(Finding {
                        rule_id: rule.id.clone(),
                        description: rule.description.clone(),
                        r#match: format!("file detected: {}", frag.path),
                        file: frag.path.to_string(),
                        symlink_file: frag.symlink_file.to_string(),
                        commit: frag.commit.to_string(),
                        tags: rule.tags.clone(),
                        confidence: rule.confidence.unwrap_or_default(),
                        ..Finding::default()
                    });
                }
                return;
            } else if !path_ok {
                return;
            }
        }
        if !rt.has_regex() {
            return;
        }
        if let Some(n) = self.opts.max_target_megabytes
            && n > 0
            && (pass.text.len() / 1_000_000) as u64 > n
        {
            return;
        }
        let Some(rx) = rt.regex() else {
            return;
        };
        let matches = find_matches(rx, pass.text, Self::rule_hits(all_hits, ri));
        if matches.is_empty() {
            return;
        }
        let first_new = out.len();
        for (s, e) in matches {
            let (s, e) = super::utf8::widen(pass.text, s, e);
            if let Some(f) = self.build_finding(ctx, ri, rx, pass, s, e) {
                out.push(f);
            }
        }
        if inherited || rule.required.is_empty() || out.len() == first_new {
            return;
        }
        // Composite rule: keep a primary finding only if every required rule has a finding
        // within range in the same fragment and pass.
        let mut required: Vec<(usize, Vec<Finding>)> = Vec::new();
        for (qi, req) in rule.required.iter().enumerate() {
            if let Some(&rq) = self.by_id.get(&req.id) {
                let mut v = Vec::new();
                self.detect_rule(ctx, rq, pass, all_hits, true, &mut v);
                required.push((qi, v));
            }
        }
        let primaries = out.split_off(first_new);
        for p in primaries {
            let satisfied = rule.required.iter().enumerate().all(|(qi, req)| {
                required
                    .iter()
                    .find(|(i, _)| *i == qi)
                    .is_some_and(|(_, found)| {
                        found.iter().any(|q| {
                            req.within_lines.is_none_or(|n| {
                                (i64::from(p.start_line) - i64::from(q.start_line)).abs() <= n
                            }) && req.within_columns.is_none_or(|n| {
                                (i64::from(p.start_column) - i64::from(q.start_column)).abs() <= n
                            })
                        })
                    })
            });
            if satisfied {
                out.push(p);
            }
        }
    }

    /// Turn one regex match `[s, e)` of the current pass into a finding (or `None` when it
    /// is filtered out).
    fn build_finding(
        &self,
        ctx: &Ctx<'_, '_>,
        ri: usize,
        rx: &RuleRegex,
        pass: &Pass<'_>,
        s: usize,
        e: usize,
    ) -> Option<Finding> {
        let rule = &self.config.rules()[ri];
        let rt = &self.rules[ri];
        let frag = ctx.frag;
        let raw = frag.text;
        let text = pass.text;
        let matched = trim_newlines(&text[s..e]);
        let segments = pass.segments();
        let mut tags = rule.tags.clone();
        let (ms, me, current_line): (usize, usize, Option<&[u8]>) = if segments.is_empty() {
            (s, s + matched.len(), None)
        } else {
            let span = Span::new(s, e);
            let overlapping: Vec<&Segment> = segments
                .iter()
                .filter(|g| g.decoded.overlaps(span))
                .collect();
            if overlapping.is_empty() {
                return None;
            }
            let adj = decode::to_original(pass.passes, pass.passes.len() - 1, &overlapping, span);
            tags.extend(decode::tags(&overlapping));
            let clamp = |v: i64| (v.max(0) as usize).min(raw.len());
            (
                clamp(adj.start),
                clamp(adj.end),
                Some(decode::current_line(&overlapping, text)),
            )
        };
        let mut loc = location(ctx.newlines(), raw, ms, me);
        if me > loc.end_line_index {
            loc.end_line_index = me;
        }
        let (ls, le) = (
            loc.start_line_index.min(raw.len()),
            loc.end_line_index.min(raw.len()),
        );
        let line: &[u8] = if ls <= le { &raw[ls..le] } else { &[] };
        if !self.opts.ignore_gitleaks_allow && memchr::memmem::find(line, ALLOW_MARKER).is_some() {
            return None;
        }
        let current_line = current_line.unwrap_or(line);

        // Secret: re-run the regex on the trimmed match alone.
        let mut secret: &[u8] = matched;
        let groups = rx
            .re
            .group_info()
            .group_len(regex_automata::PatternID::ZERO);
        if groups >= 2 {
            let mut caps = rx.re.create_captures();
            rx.re.captures(Input::new(matched), &mut caps);
            if caps.is_match() {
                if rule.secret_group > 0 {
                    if rule.secret_group >= groups {
                        return None;
                    }
                    secret = caps
                        .get_group(rule.secret_group)
                        .map_or(&[][..], |sp| &matched[sp.range()]);
                } else if let Some(sp) = (1..groups)
                    .filter_map(|g| caps.get_group(g))
                    .find(|sp| !sp.is_empty())
                {
                    secret = &matched[sp.range()];
                }
            }
        }

        let entropy = shannon_entropy(secret);
        if rule.entropy != 0.0 && entropy <= rule.entropy {
            return None;
        }
        if finding_allowed(&self.global, frag, secret, matched, current_line)
            || finding_allowed(&rt.allowlists, frag, secret, matched, current_line)
        {
            return None;
        }
        let start_line = i64::from(frag.start_line) + loc.start_line as i64;
        let end_line = i64::from(frag.start_line) + loc.end_line as i64;
        let to_u32 = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        Some(Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            start_line: to_u32(start_line),
            end_line: to_u32(end_line),
            start_column: to_u32(loc.start_column),
            end_column: to_u32(loc.end_column),
            r#match: String::from_utf8_lossy(matched).into_owned(),
            secret: String::from_utf8_lossy(secret).into_owned(),
            file: frag.path.to_string(),
            symlink_file: frag.symlink_file.to_string(),
            commit: frag.commit.to_string(),
            entropy: entropy as f32,
            tags,
            line: String::from_utf8_lossy(line).into_owned(),
            confidence: confidence_of(
                rule.confidence.unwrap_or_default(),
                rule.verify,
                &String::from_utf8_lossy(secret),
            ),
            ..Finding::default()
        })
    }
}

/// `strings.Trim(s, "\n")`.
fn trim_newlines(b: &[u8]) -> &[u8] {
    let mut s = 0;
    let mut e = b.len();
    while s < e && b[s] == b'\n' {
        s += 1;
    }
    while e > s && b[e - 1] == b'\n' {
        e -= 1;
    }
    &b[s..e]
}

/// gitleaks `checkCommitOrPathAllowed`: fragment-level commit/path allowlists.
fn fragment_allowed(allowlists: &[AllowRt], frag: &Fragment<'_>) -> bool {
    if frag.path.is_empty() && frag.commit.is_empty() {
        return false;
    }
    allowlists.iter().any(|a| {
        let commit_ok = a.commit_allowed(frag.commit);
        let path_ok = a.path_allowed(frag.path);
        match a.condition {
            Condition::Or => commit_ok || path_ok,
            Condition::And => {
                if a.has_regexes() || a.has_stopwords() {
                    return false; // checked per finding
                }
                (!a.has_commits() || commit_ok) && (!a.has_paths() || path_ok)
            }
        }
    })
}

/// gitleaks `checkFindingAllowed`.
fn finding_allowed(
    allowlists: &[AllowRt],
    frag: &Fragment<'_>,
    secret: &[u8],
    matched: &[u8],
    line: &[u8],
) -> bool {
    allowlists.iter().any(|a| {
        let target = match a.target {
            RegexTarget::Secret => secret,
            RegexTarget::Match => matched,
            RegexTarget::Line => line,
        };
        let regex_ok = a.regex_allowed(target);
        let stop_ok = a.contains_stopword(secret);
        match a.condition {
            Condition::Or => regex_ok || stop_ok,
            Condition::And => {
                (!a.has_commits() || a.commit_allowed(frag.commit))
                    && (!a.has_paths() || a.path_allowed(frag.path))
                    && (!a.has_regexes() || regex_ok)
                    && (!a.has_stopwords() || stop_ok)
            }
        }
    })
}

/// All leftmost-first, non-overlapping matches of the rule in `text`, either over the whole
/// text or over merged windows around the rule's keyword hits (when the plan proves that
/// gives the same result).
fn find_matches(rx: &RuleRegex, text: &[u8], hits: &[Hit]) -> Vec<(usize, usize)> {
    if rx.plan.windowed() && rx.plan.lead.is_some() {
        return find_matches_at_hits(rx, text, hits);
    }
    let mut out = Vec::new();
    for_each_window(&rx.plan, text, hits, |lo, hi| {
        for m in rx.re.find_iter(Input::new(text).range(lo..hi)) {
            out.push((m.start(), m.end()));
        }
        false
    });
    out
}

/// Where the window of a keyword hit at `ks` ends: the plan's longest match from there, and,
/// for a rule whose matches cannot span lines, the first newline at or after `ks` (`next_nl`
/// remembers the last one found, since hits come in order).
fn window_end(plan: &Plan, text: &[u8], ks: usize, next_nl: &mut Option<usize>) -> usize {
    let n = text.len();
    let hi = plan.max_len.map_or(n, |l| ks.saturating_add(l).min(n));
    if !plan.single_line {
        return hi;
    }
    let nl = match *next_nl {
        Some(p) if ks <= p => p,
        _ => memchr::memchr(b'\n', &text[ks..]).map_or(n, |i| ks + i),
    };
    *next_nl = Some(nl);
    hi.min(nl)
}

/// [`find_matches`] for a rule whose matches all start at most `plan.lead` bytes before a
/// keyword hit: the possible match starts, in order, are searched anchored, each bounded by
/// its hit's window. A leftmost-first iteration over the whole text reports the match at the
/// first start (at or after the previous match's end) where one exists, with the end an
/// anchored search there reports; every match starts at one of these positions and lies in
/// the window of the hit it contains, so the result is the same.
fn find_matches_at_hits(rx: &RuleRegex, text: &[u8], hits: &[Hit]) -> Vec<(usize, usize)> {
    let plan = &rx.plan;
    let lead = plan.lead.unwrap_or(0);
    let mut out = Vec::new();
    // Start positions below this one were searched already or lie in a reported match.
    let mut next = 0usize;
    let mut next_nl: Option<usize> = None;
    for h in hits {
        let ks = h.start;
        if ks < next {
            continue;
        }
        let hi = window_end(plan, text, ks, &mut next_nl);
        let mut start = ks.saturating_sub(lead).max(next);
        while start <= ks {
            let input = Input::new(text)
                .range(start..hi)
                .anchored(regex_automata::Anchored::Yes);
            match rx.re.find(input) {
                // Matches are never empty (each contains a keyword).
                Some(m) if m.end() > m.start() => {
                    out.push((m.start(), m.end()));
                    next = m.end();
                    start = m.end();
                }
                _ => start += 1,
            }
        }
        next = next.max(ks + 1);
    }
    out
}

/// Whether `re` (a rule regex or its relaxed form, verified with the rule's `plan`) matches
/// anywhere [`find_matches`] would look.
fn any_match(re: &Regex, plan: &Plan, text: &[u8], hits: &[Hit], near: Option<&[Span]>) -> bool {
    if plan.windowed() && plan.lead.is_some() {
        return any_match_at_hits(re, plan, text, hits, near);
    }
    let mut found = false;
    for_each_window(plan, text, hits, |lo, hi| {
        if near.is_some_and(|spans| !touches(spans, lo, hi)) {
            return false;
        }
        found = re.is_match(Input::new(text).range(lo..hi));
        found
    });
    found
}

/// [`any_match`] for a rule whose matches all start with a keyword, or at most `plan.lead`
/// bytes before one: a match contains the hit it starts at (or just before), so it lies in
/// that hit's own window; searches anchored at the hit start and at each of the `lead` bytes
/// before it, bounded by the hit's window, find it. Exactly [`any_match`]'s answer, without
/// scanning the windows for where a match could start.
fn any_match_at_hits(
    re: &Regex,
    plan: &Plan,
    text: &[u8],
    hits: &[Hit],
    near: Option<&[Span]>,
) -> bool {
    let lead = plan.lead.unwrap_or(0);
    // Start positions below this one were searched already (hits are sorted by start).
    let mut tried = 0usize;
    // The first newline at or after the last hit.
    let mut next_nl: Option<usize> = None;
    for h in hits {
        let ks = h.start;
        if ks < tried {
            continue;
        }
        let hi = window_end(plan, text, ks, &mut next_nl);
        let from = ks.saturating_sub(lead).max(tried);
        tried = ks + 1;
        for start in from..=ks {
            if near.is_some_and(|spans| !touches(spans, start, hi)) {
                continue;
            }
            let input = Input::new(text)
                .range(start..hi)
                .anchored(regex_automata::Anchored::Yes);
            if re.is_match(input) {
                return true;
            }
        }
    }
    false
}

/// Whether `[lo, hi)` overlaps or touches one of `spans` (sorted, disjoint), as gitleaks'
/// segment overlap test counts touching.
fn touches(spans: &[Span], lo: usize, hi: usize) -> bool {
    let (lo, hi) = (lo as i64, hi as i64);
    // The first span that does not end before `lo`.
    let k = spans.partition_point(|s| s.end < lo);
    spans.get(k).is_some_and(|s| s.start <= hi)
}

/// Move `hits` (positions in a pass' input text) to the pass' output text, in which each
/// `encoded[k]` was replaced by `decoded[k]`: hits overlapping a replaced span are dropped,
/// the others shifted. The order by rule is kept.
fn shift_hits(hits: &mut Vec<Hit>, encoded: &[Span], decoded: &[Span]) {
    hits.retain_mut(|h| {
        let (s, e) = (h.start as i64, h.end as i64);
        // Spans wholly before the hit.
        let k = encoded.partition_point(|sp| sp.end <= s);
        if encoded.get(k).is_some_and(|sp| sp.start < e) {
            return false;
        }
        if k > 0 {
            let shift = decoded[k - 1].end - encoded[k - 1].end;
            h.start = usize::try_from(s + shift).unwrap_or(0);
            h.end = usize::try_from(e + shift).unwrap_or(0);
        }
        true
    });
}

/// The ranges `[start - pad, end + pad)` of `spans` (sorted), clipped to `[lo, hi)` and merged.
fn merged_ranges(spans: &[Span], pad: usize, lo: usize, hi: usize) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for sp in spans {
        let r = sp.range();
        let a = r.start.saturating_sub(pad).max(lo);
        let b = r.end.saturating_add(pad).min(hi);
        match out.last_mut() {
            Some(last) if a <= last.end => last.end = last.end.max(b),
            _ => out.push(a..b),
        }
    }
    out
}

/// The runs of whole lines of `text` that `spans` (sorted) touch, merged.
fn line_ranges(text: &[u8], spans: &[Span]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for sp in spans {
        let r = sp.range();
        if out.last().is_some_and(|last| r.end <= last.end) {
            continue;
        }
        let from = out.last().map_or(0, |l| l.end);
        let a = if r.start < from {
            from
        } else {
            memchr::memrchr(b'\n', &text[from..r.start]).map_or(from, |i| from + i + 1)
        };
        // The line end after the span (its `\n` included), or the text end.
        let b = memchr::memchr(b'\n', &text[r.end..]).map_or(text.len(), |i| r.end + i + 1);
        match out.last_mut() {
            Some(last) if a <= last.end => last.end = last.end.max(b),
            _ => out.push(a..b),
        }
    }
    out
}

/// Call `search(lo, hi)` on each range of `text` a rule's matches can lie in: the whole text,
/// or (when `plan` allows windowed verification) the merged windows around `hits`, in order.
/// `search` returns `true` to stop early.
fn for_each_window(
    plan: &Plan,
    text: &[u8],
    hits: &[Hit],
    mut search: impl FnMut(usize, usize) -> bool,
) {
    let n = text.len();
    if !plan.windowed() {
        search(0, n);
        return;
    }
    // Windows are monotone in the hit start, so they merge on the fly.
    let mut cur: Option<(usize, usize)> = None;
    // Line-boundary caches (hits are sorted by start), so the newline searches stay linear.
    let mut last_ks = 0usize;
    let mut last_line_start = 0usize;
    let mut next_nl: Option<usize> = None;
    for h in hits {
        let ks = h.start;
        let (mut lo, mut hi) = match plan.max_len {
            Some(l) => (ks.saturating_sub(l), ks.saturating_add(l).min(n)),
            None => (0, n),
        };
        if plan.single_line {
            // Lower bound: the start of the hit's line (or `lo`, whichever is later).
            let from = lo.max(last_ks).min(ks);
            let ls = match memchr::memrchr(b'\n', &text[from..ks]) {
                Some(i) => from + i + 1,
                None if from == last_ks => last_line_start.max(lo),
                None => lo,
            };
            last_ks = ks;
            last_line_start = ls;
            lo = ls;
            // Upper bound: the first newline at or after the hit.
            let nl = match next_nl {
                Some(p) if ks <= p => p,
                _ => memchr::memchr(b'\n', &text[ks..]).map_or(n, |i| ks + i),
            };
            next_nl = Some(nl);
            hi = hi.min(nl);
        }
        match &mut cur {
            Some((_, ch)) if lo <= *ch => *ch = (*ch).max(hi),
            _ => {
                if let Some((a, b)) = cur.take()
                    && search(a, b)
                {
                    return;
                }
                cur = Some((lo, hi));
            }
        }
    }
    if let Some((a, b)) = cur {
        search(a, b);
    }
}

/// `(windowed_was_used, strategy_matches, full_matches)`.
#[cfg(any(test, feature = "testing"))]
pub type WindowedComparison = (bool, Vec<(usize, usize)>, Vec<(usize, usize)>);

/// The keyword hits of `keywords` (one rule) in `text`, sorted: for the test-support
/// comparisons below.
#[cfg(any(test, feature = "testing"))]
fn test_hits(keywords: &[String], text: &[u8]) -> Vec<Hit> {
    let kws: Vec<&String> = keywords.iter().filter(|k| !k.is_empty()).collect();
    let mut hits = Vec::new();
    if !kws.is_empty() {
        KeywordSet::new(&kws).for_each(text, |_, start, end| {
            hits.push(Hit {
                rule: 0,
                start,
                end,
            });
        });
        hits.sort_unstable_by_key(|h| (h.start, h.end));
    }
    hits
}

/// Test support (feature `testing`) for the candidate test's regex check: whether a Go pattern for a rule with
/// `keywords` matches in `text`, answered (a) as the candidate test does (searches anchored at
/// keyword hits when every match starts with a keyword, else windows around hits) and (b) by
/// a plain whole-text search. Returns `(anchored_was_used, strategy_answer, full_answer)`, or
/// `None` for an invalid pattern.
#[cfg(any(test, feature = "testing"))]
pub fn any_match_vs_full(
    pattern: &str,
    keywords: &[String],
    text: &[u8],
) -> Option<(bool, bool, bool)> {
    use crate::rules::goregex;
    let hir = goregex::parse(pattern).ok()?;
    let plan = super::plan::analyse(&hir, keywords);
    let re = goregex::compile(&hir).ok()?;
    let hits = test_hits(keywords, text);
    let strategy = if hits.is_empty() && plan.windowed() {
        false
    } else {
        any_match(&re, &plan, text, &hits, None)
    };
    Some((
        plan.windowed() && plan.lead.is_some(),
        strategy,
        re.is_match(text),
    ))
}

/// Test support (feature `testing`) for the windowed-verification property test: the matches of a Go pattern
/// for a rule with `keywords` in `text`, found (a) by the detector's strategy (windows around
/// keyword hits when the plan allows it) and (b) by a plain whole-text search. Returns
/// `(windowed_was_used, strategy_matches, full_matches)`, or `None` for an invalid pattern.
#[cfg(any(test, feature = "testing"))]
pub fn windowed_vs_full(
    pattern: &str,
    keywords: &[String],
    text: &[u8],
) -> Option<WindowedComparison> {
    use crate::rules::goregex;
    let hir = goregex::parse(pattern).ok()?;
    let plan = super::plan::analyse(&hir, keywords);
    let re = goregex::compile(&hir).ok()?;
    let rx = RuleRegex { re, plan };
    let hits = test_hits(keywords, text);
    let strategy = if keywords.iter().all(|k| k.is_empty()) && rx.plan.windowed() {
        Vec::new()
    } else {
        find_matches(&rx, text, &hits)
    };
    let full: Vec<(usize, usize)> = rx
        .re
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    Some((rx.plan.windowed(), strategy, full))
}
