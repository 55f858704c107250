//! `package-lock.json` / `npm-shrinkwrap.json` (lockfileVersion 1, 2 and 3).

use std::path::Path;

use serde_json::Value;

use super::{LockedPackage, PackageSource, json_error, parse_error};
use crate::audit::{AuditError, Ecosystem};

fn source_of(entry: &Value) -> PackageSource {
    if entry.get("link").and_then(Value::as_bool) == Some(true) {
        return PackageSource::Local;
    }
    match entry.get("resolved").and_then(Value::as_str) {
        Some(r) if r.starts_with("git") || r.contains("git+") => PackageSource::Git,
        Some(r) if r.starts_with("file:") => PackageSource::Local,
        _ => PackageSource::Registry,
    }
}

fn v1_walk(deps: &serde_json::Map<String, Value>, out: &mut Vec<LockedPackage>) {
    for (name, entry) in deps {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            let source = if version.starts_with("file:") {
                PackageSource::Local
            } else if version.contains("git") && version.contains(':') {
                PackageSource::Git
            } else {
                source_of(entry)
            };
            out.push(LockedPackage {
                name: name.clone(),
                version: version.to_string(),
                ecosystem: Ecosystem::Npm,
                source,
                dev: entry.get("dev").and_then(Value::as_bool) == Some(true),
            });
        }
        if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
            v1_walk(nested, out);
        }
    }
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<LockedPackage>, AuditError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
    // `null`, `[]`, a string or `{}` is not an empty lockfile: npm always writes an object
    // with `lockfileVersion` (and `packages` and/or `dependencies`).
    let Some(obj) = doc.as_object() else {
        return Err(parse_error(
            path,
            None,
            "not a package-lock.json: the top level is not a JSON object",
        ));
    };
    if !(obj.contains_key("lockfileVersion")
        || obj.get("packages").is_some_and(Value::is_object)
        || obj.get("dependencies").is_some_and(Value::is_object))
    {
        return Err(parse_error(
            path,
            None,
            "not a package-lock.json: no `lockfileVersion`, `packages` or `dependencies`",
        ));
    }
    let mut out = Vec::new();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        for (key, entry) in packages {
            let Some(idx) = key.rfind("node_modules/") else {
                continue; // the root project or a workspace folder
            };
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&key[idx + "node_modules/".len()..]);
            let Some(version) = entry.get("version").and_then(Value::as_str) else {
                continue;
            };
            out.push(LockedPackage {
                name: name.to_string(),
                version: version.to_string(),
                ecosystem: Ecosystem::Npm,
                source: source_of(entry),
                dev: entry.get("dev").and_then(Value::as_bool) == Some(true),
            });
        }
    } else if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
        v1_walk(deps, &mut out);
    }
    Ok(out)
}
