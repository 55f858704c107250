//! Post-processing of one fragment's findings (gitleaks `filter` and `Finding.Redact`).

use crate::finding::Finding;

/// Drop a finding of a rule whose id contains "generic" (case-insensitive) when a non-generic
/// rule found, on the same line and commit, a secret that contains its secret.
pub(crate) fn drop_generic_duplicates(findings: &mut Vec<Finding>) {
    let generic: Vec<bool> = findings
        .iter()
        .map(|f| f.rule_id.to_lowercase().contains("generic"))
        .collect();
    let keep: Vec<bool> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            !generic[i]
                || !findings.iter().enumerate().any(|(j, p)| {
                    !generic[j]
                        && f.start_line == p.start_line
                        && f.commit == p.commit
                        && f.rule_id != p.rule_id
                        && p.secret.contains(f.secret.as_str())
                })
        })
        .collect();
    let mut k = keep.into_iter();
    findings.retain(|_| k.next().unwrap_or(true));
}

/// Go's `strings.ReplaceAll`: with an empty `old`, `new` is inserted before every character
/// and at the end.
pub(crate) fn go_replace_all(s: &str, old: &str, new: &str) -> String {
    if !old.is_empty() {
        return s.replace(old, new);
    }
    let mut out = String::with_capacity(s.len() + new.len() * (s.len() + 1));
    for c in s.chars() {
        out.push_str(new);
        out.push(c);
    }
    out.push_str(new);
    out
}

/// Apply `--redact=PCT` to a finding exactly as gitleaks does: PCT ≥ 100 → the secret becomes
/// `REDACTED`; otherwise it keeps its first `round-half-even(len·(100−PCT)/100)` bytes plus
/// `...`. The same replacement is applied to `Match` and `Line`.
pub fn redact_finding(f: &mut Finding, percent: u8) {
    if percent == 0 {
        return;
    }
    let masked = if percent >= 100 {
        "REDACTED".to_string()
    } else if f.secret.is_empty() {
        String::new()
    } else {
        let len = f.secret.len() as f64;
        let keep = (len * f64::from(100 - percent) / 100.0).round_ties_even() as usize;
        let mut cut = keep.min(f.secret.len());
        while !f.secret.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &f.secret[..cut])
    };
    f.line = go_replace_all(&f.line, &f.secret, &masked);
    f.r#match = go_replace_all(&f.r#match, &f.secret, &masked);
    f.secret = masked;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, secret: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            secret: secret.into(),
            r#match: format!("key = {secret}"),
            line: format!("key = {secret}"),
            start_line: 3,
            ..Finding::default()
        }
    }

    #[test]
    fn redact_full_and_partial() {
        let mut f = finding("r", "abcdefghij");
        redact_finding(&mut f, 100);
        assert_eq!(f.secret, "REDACTED");
        assert_eq!(f.r#match, "key = REDACTED");
        let mut f = finding("r", "abcdefghij");
        redact_finding(&mut f, 75);
        // 10 * 25 / 100 = 2.5 → round half to even → 2
        assert_eq!(f.secret, "ab...");
        assert_eq!(f.line, "key = ab...");
        let mut f = finding("r", "abcdefghijklmn");
        redact_finding(&mut f, 75); // 3.5 → 4
        assert_eq!(f.secret, "abcd...");
    }

    #[test]
    fn empty_secret_redaction_follows_go_replace_all() {
        let mut f = finding("r", "");
        f.r#match = "ab".into();
        redact_finding(&mut f, 100);
        assert_eq!(f.r#match, "REDACTEDaREDACTEDbREDACTED");
    }

    #[test]
    fn generic_yields_to_specific_rule_containing_its_secret() {
        let mut v = vec![
            finding("generic-api-key", "ghp_abc"),
            finding("github-pat", "xghp_abcx"),
            finding("generic-other", "zzz"),
        ];
        drop_generic_duplicates(&mut v);
        let ids: Vec<_> = v.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(ids, vec!["github-pat", "generic-other"]);
    }
}
