//! Which refs the merge gate refuses to push, and which repositories it applies to.

use std::path::Path;

use crate::lease;

/// Simple glob: `*` matches any run of characters (including `/`).
pub(super) fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The refs this gate must never push, whatever its arguments say.
#[derive(Debug, Clone)]
pub(super) struct Protected {
    patterns: Vec<String>,
}

impl Protected {
    pub(super) fn new(main: &str, remote_head: Option<String>, configured: &[String]) -> Protected {
        let mut patterns = vec![
            format!("refs/heads/{main}"),
            "refs/heads/main".to_string(),
            "refs/heads/master".to_string(),
        ];
        if let Some(h) = remote_head {
            patterns.push(format!("refs/heads/{h}"));
        }
        for p in configured {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            if p.starts_with("refs/") {
                patterns.push(p.to_string());
            } else {
                patterns.push(format!("refs/heads/{p}"));
            }
        }
        Protected { patterns }
    }

    pub(super) fn is_protected(&self, branch: &str) -> bool {
        let full = format!("refs/heads/{branch}");
        self.patterns.iter().any(|p| glob_match(p, &full))
    }
}

/// Whether the settings' `merge_gate_repos` list selects this repository (by lease key,
/// remote URL, path or directory name; empty or `*` = all).
pub(super) fn applies_to(list: &[String], key: &str, top: &Path) -> bool {
    if list.is_empty() || list.iter().any(|r| r.trim() == "*") {
        return true;
    }
    let canon = top.canonicalize().unwrap_or_else(|_| top.to_path_buf());
    let name = canon.file_name().map(|n| n.to_string_lossy().into_owned());
    list.iter().any(|r| {
        let r = r.trim();
        r == key
            || lease::normalise_remote_url(r, &canon) == key
            || Path::new(r) == canon
            || name.as_deref() == Some(r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_covers_main_master_configured_and_globs() {
        let p = Protected::new(
            "trunk",
            Some("develop".into()),
            &["release/*".into(), "refs/heads/prod".into()],
        );
        for b in ["trunk", "main", "master", "develop", "release/1.0", "prod"] {
            assert!(p.is_protected(b), "{b}");
        }
        for b in ["task-1", "feature/main", "mainline"] {
            assert!(!p.is_protected(b), "{b}");
        }
    }

    #[test]
    fn merge_gate_repos_match_keys_urls_paths_and_names() {
        let top = std::env::temp_dir();
        let name = top
            .canonicalize()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let key = "github.com/acme/app";
        assert!(applies_to(&[], key, &top));
        assert!(applies_to(&["*".into()], key, &top));
        assert!(applies_to(&[key.into()], key, &top));
        assert!(applies_to(
            &["git@github.com:acme/app.git".into()],
            key,
            &top
        ));
        assert!(applies_to(&[name], key, &top));
        assert!(!applies_to(&["github.com/acme/other".into()], key, &top));
    }
}
