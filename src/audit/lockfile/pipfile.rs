//! `Pipfile.lock` (pipfile-spec 6, JSON): `default` and `develop` (development) sections.

use std::path::Path;

use serde::Deserialize;

use super::{LockedPackage, PackageSource, json_error, parse_error};
use crate::audit::{AuditError, Ecosystem};

#[derive(Deserialize)]
struct PipfileLock {
    #[serde(default)]
    default: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    develop: serde_json::Map<String, serde_json::Value>,
}

pub(super) fn parse(
    path: &Path,
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<LockedPackage>, AuditError> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
    // `null`, `[]` or `{}` is not an empty lockfile: pipenv always writes an object with
    // `_meta` and the `default` / `develop` sections.
    let is_lock = doc.as_object().is_some_and(|o| {
        ["_meta", "default", "develop"]
            .iter()
            .any(|k| o.get(*k).is_some_and(serde_json::Value::is_object))
    });
    if !is_lock {
        return Err(parse_error(
            path,
            None,
            "not a Pipfile.lock: expected a JSON object with `_meta`, `default` or `develop`",
        ));
    }
    let lock: PipfileLock =
        serde_json::from_value(doc).map_err(|e| parse_error(path, None, e.to_string()))?;
    let mut out = Vec::new();
    for (section, dev) in [(&lock.default, false), (&lock.develop, true)] {
        for (name, entry) in section {
            let obj = entry.as_object().ok_or_else(|| {
                parse_error(path, None, format!("entry {name:?} is not an object"))
            })?;
            match obj.get("version").and_then(|v| v.as_str()) {
                Some(v) => {
                    let v = v.trim();
                    let ver = v.strip_prefix("===").or_else(|| v.strip_prefix("=="));
                    match ver {
                        Some(ver) if !ver.is_empty() => out.push(LockedPackage {
                            name: name.clone(),
                            version: ver.trim().to_string(),
                            ecosystem: Ecosystem::PyPI,
                            source: PackageSource::Registry,
                            dev,
                        }),
                        _ => warnings
                            .push(format!("{name}: version {v:?} is not a pin (not audited)")),
                    }
                }
                None => warnings.push(format!(
                    "{name}: no version (editable, path or VCS entry; not audited)"
                )),
            }
        }
    }
    Ok(out)
}
