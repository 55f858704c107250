//! The git scan's tuning from the environment (the library reads none): cache sizes, the
//! pack passes, the resident budget of the pack mappings, and phase timings on stderr.
//!
//! | variable | field | default |
//! |---|---|---|
//! | `PORTCULLIS_PACK_CACHE_MB` | [`GitTuning::pack_cache_mb`] | 32 |
//! | `PORTCULLIS_RENAME_PACK_CACHE_MB` | [`GitTuning::rename_pack_cache_mb`] | 0 |
//! | `PORTCULLIS_TREE_CACHE_MB` | [`GitTuning::tree_cache_mb`] | 16 |
//! | `PORTCULLIS_TREE_PACK_CACHE_MB` | [`GitTuning::tree_pack_cache_mb`] | 32 |
//! | `PORTCULLIS_PACK_RESIDENT_MB` | [`GitTuning::pack_resident_mb`] | 128 |
//! | `PORTCULLIS_PACK_PASSES` | [`GitTuning::pack_passes`] (`auto`, `always`, `never`) | `auto` |
//! | `PORTCULLIS_GIT_TIMING` | print [`GitScanReport::timings`] on stderr | unset |
//!
//! A value that does not parse leaves the default in place.

use crate::source::git::{GitScanOptions, GitTuning, PackPasses, PhaseTiming};

/// Fill the tuning of `opts` from the process environment.
pub(crate) fn apply_env(opts: &mut GitScanOptions) {
    opts.tuning = tuning_from(|name| std::env::var(name).ok());
}

/// The tuning described by the variables `var` returns (defaults for the others).
fn tuning_from(var: impl Fn(&str) -> Option<String>) -> GitTuning {
    let mut t = GitTuning::default();
    let num = |name: &str, default: usize| {
        var(name)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(default)
    };
    t.pack_cache_mb = num("PORTCULLIS_PACK_CACHE_MB", t.pack_cache_mb);
    t.rename_pack_cache_mb = num("PORTCULLIS_RENAME_PACK_CACHE_MB", t.rename_pack_cache_mb);
    t.tree_cache_mb = num("PORTCULLIS_TREE_CACHE_MB", t.tree_cache_mb);
    t.tree_pack_cache_mb = num("PORTCULLIS_TREE_PACK_CACHE_MB", t.tree_pack_cache_mb);
    t.pack_resident_mb = var("PORTCULLIS_PACK_RESIDENT_MB")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(t.pack_resident_mb);
    t.pack_passes = match var("PORTCULLIS_PACK_PASSES").as_deref().map(str::trim) {
        Some("always") => PackPasses::Always,
        Some("never") => PackPasses::Never,
        _ => PackPasses::Auto,
    };
    t
}

/// With `PORTCULLIS_GIT_TIMING` set, print the phase timings of a history scan on stderr, one
/// `timing:` line per phase.
pub(crate) fn print_timings(timings: &[PhaseTiming]) {
    if std::env::var_os("PORTCULLIS_GIT_TIMING").is_some() {
        for t in timings {
            eprintln!("timing: {t}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_set_the_tuning_and_bad_values_keep_the_default() {
        let t = tuning_from(|name| match name {
            "PORTCULLIS_PACK_CACHE_MB" => Some("64".into()),
            "PORTCULLIS_TREE_CACHE_MB" => Some("lots".into()),
            "PORTCULLIS_PACK_RESIDENT_MB" => Some("0".into()),
            "PORTCULLIS_PACK_PASSES" => Some("never".into()),
            _ => None,
        });
        assert_eq!(t.pack_cache_mb, 64);
        assert_eq!(t.tree_cache_mb, GitTuning::default().tree_cache_mb);
        assert_eq!(t.pack_resident_mb, 0);
        assert_eq!(t.pack_passes, PackPasses::Never);
        assert_eq!(tuning_from(|_| None), GitTuning::default());
    }
}
