//! `go.mod`: the module versions a Go build uses.
//!
//! Since Go 1.17 `go.mod` lists every module that provides a package to the build, direct and
//! `// indirect`, each at the one version minimal version selection picked; that is what is
//! audited. `replace` directives are applied (a replacement by a local directory is never
//! matched; a replacement by another module version audits that module version). The standard
//! library is audited as the module `stdlib` at the version of the `toolchain` directive, or of
//! the `go` directive when there is none (the minimum toolchain the module accepts).
//!
//! `go.sum` is not read here: it also lists versions that are only consulted during module
//! resolution and never built, so auditing it reports versions the binary does not contain.

use std::collections::HashMap;
use std::path::Path;

use super::{LockedPackage, PackageSource};
use crate::audit::{AuditError, Ecosystem};

/// The OSV package name of the Go standard library.
pub const STDLIB: &str = "stdlib";

/// What is wrong with a `go.mod` file (the line is in [`AuditError::GoMod`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoModError {
    /// A `"..."` or `` `...` `` string is not closed on its line.
    #[error("unterminated string")]
    UnterminatedString,
    /// A directive has the wrong number of arguments; the form it takes.
    #[error("expected `{0}`")]
    Expected(&'static str),
    /// A `require` names a version that is not a module version (`vX...`).
    #[error("invalid version {0:?}")]
    InvalidVersion(String),
    /// The `toolchain` (or, without one, `go`) version is not a Go version.
    #[error("invalid Go toolchain version {0:?}")]
    InvalidToolchain(String),
    /// A directive `go.mod` does not have.
    #[error("unknown directive {0:?}")]
    UnknownDirective(String),
    /// A `(` block is not closed before the end of the file.
    #[error("unterminated `(` block")]
    UnterminatedBlock,
    /// The file has no `module` directive.
    #[error("no `module` directive (not a go.mod file)")]
    NoModule,
}

/// The form of a `replace` directive.
const REPLACE_FORM: &str = "replace OLD [VERSION] => NEW [VERSION]";

/// One `require` line.
struct Require {
    path: String,
    version: String,
}

/// One `replace` line: `old [old_version] => new [new_version]`.
struct Replace {
    old_version: Option<String>,
    new: String,
    new_version: Option<String>,
}

/// Split a line into tokens: bare words and `"..."` / `` `...` `` strings; `//` starts a comment.
/// Returns the tokens and the comment text.
fn tokenize(line: &str) -> Result<(Vec<String>, Option<String>), GoModError> {
    let mut tokens = Vec::new();
    let mut rest = line.trim();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok((tokens, None));
        }
        if let Some(c) = rest.strip_prefix("//") {
            return Ok((tokens, Some(c.trim().to_string())));
        }
        let first = rest.chars().next().unwrap_or(' ');
        if first == '"' || first == '`' {
            let body = &rest[1..];
            let mut end = None;
            let mut escaped = false;
            for (i, c) in body.char_indices() {
                if first == '"' && c == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if c == first && !escaped {
                    end = Some(i);
                    break;
                }
                escaped = false;
            }
            let end = end.ok_or(GoModError::UnterminatedString)?;
            tokens.push(body[..end].replace("\\\"", "\"").replace("\\\\", "\\"));
            rest = &body[end + 1..];
        } else if let Some(r) = rest.strip_prefix("=>") {
            tokens.push("=>".into());
            rest = r;
        } else if let Some(r) = rest.strip_prefix('(') {
            tokens.push("(".into());
            rest = r;
        } else if let Some(r) = rest.strip_prefix(')') {
            tokens.push(")".into());
            rest = r;
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"')
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let (word, tail) = match word.find("//") {
                Some(i) if i > 0 => (&word[..i], &rest[i..]),
                _ => (word, &rest[end..]),
            };
            let (word, tail) = match word.find("=>") {
                Some(i) if i > 0 => (&word[..i], &rest[i..]),
                _ => (word, tail),
            };
            tokens.push(word.to_string());
            rest = tail;
        }
    }
}

fn is_module_version(v: &str) -> bool {
    v.starts_with('v') && v.len() > 1 && v.as_bytes()[1].is_ascii_digit()
}

/// A Go toolchain version (`1.21`, `1.21.3`, `1.21rc2`, `go1.22.1`) as the SemVer string the
/// Go vulnerability database uses for `stdlib` (`1.21.0`, `1.21.3`, `1.21.0-rc.2`, `1.22.1`).
pub fn go_version_to_semver(v: &str) -> Option<String> {
    let v = v.trim().strip_prefix("go").unwrap_or(v.trim());
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (core, pre) = v.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut out = parts.join(".");
    for _ in parts.len()..3 {
        out.push_str(".0");
    }
    if !pre.is_empty() {
        let (kind, num) = pre.split_at(pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len()));
        if kind.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push('-');
        out.push_str(kind);
        if !num.is_empty() {
            out.push('.');
            out.push_str(num);
        }
    }
    Some(out)
}

pub(super) fn parse(
    path: &Path,
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<LockedPackage>, AuditError> {
    let mut requires: Vec<Require> = Vec::new();
    let mut replaces: HashMap<String, Vec<Replace>> = HashMap::new();
    let mut go_version: Option<String> = None;
    let mut toolchain: Option<String> = None;
    let mut module_seen = false;
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let bad = |source: GoModError| AuditError::GoMod {
            file: path.to_path_buf(),
            line: Some(lineno),
            source,
        };
        let (tokens, _comment) = tokenize(raw).map_err(bad)?;
        if tokens.is_empty() {
            continue;
        }
        let (verb, args): (String, &[String]) = match &block {
            Some(b) => {
                if tokens.len() == 1 && tokens[0] == ")" {
                    block = None;
                    continue;
                }
                (b.clone(), &tokens[..])
            }
            None => {
                if tokens.len() == 2 && tokens[1] == "(" {
                    block = Some(tokens[0].clone());
                    continue;
                }
                (tokens[0].clone(), &tokens[1..])
            }
        };
        match verb.as_str() {
            "module" => {
                if args.len() != 1 {
                    return Err(bad(GoModError::Expected("module PATH")));
                }
                module_seen = true;
            }
            "go" => {
                let [v] = args else {
                    return Err(bad(GoModError::Expected("go VERSION")));
                };
                go_version = Some(v.clone());
            }
            "toolchain" => {
                let [v] = args else {
                    return Err(bad(GoModError::Expected("toolchain VERSION")));
                };
                toolchain = Some(v.clone());
            }
            "require" => {
                let [p, v] = args else {
                    return Err(bad(GoModError::Expected("require MODULE VERSION")));
                };
                if !is_module_version(v) {
                    return Err(bad(GoModError::InvalidVersion(v.clone())));
                }
                requires.push(Require {
                    path: p.clone(),
                    version: v.clone(),
                });
            }
            "replace" => {
                let arrow = args
                    .iter()
                    .position(|t| t == "=>")
                    .ok_or_else(|| bad(GoModError::Expected(REPLACE_FORM)))?;
                let (old, new) = (&args[..arrow], &args[arrow + 1..]);
                let (old_path, old_version) = match old {
                    [p] => (p.clone(), None),
                    [p, v] => (p.clone(), Some(v.clone())),
                    _ => return Err(bad(GoModError::Expected(REPLACE_FORM))),
                };
                let (new_path, new_version) = match new {
                    [p] => (p.clone(), None),
                    [p, v] => (p.clone(), Some(v.clone())),
                    _ => return Err(bad(GoModError::Expected(REPLACE_FORM))),
                };
                replaces.entry(old_path).or_default().push(Replace {
                    old_version,
                    new: new_path,
                    new_version,
                });
            }
            // Directives that do not change which module versions are built.
            "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
            other => {
                return Err(bad(GoModError::UnknownDirective(other.to_string())));
            }
        }
    }
    let whole = |source: GoModError| AuditError::GoMod {
        file: path.to_path_buf(),
        line: None,
        source,
    };
    if block.is_some() {
        return Err(whole(GoModError::UnterminatedBlock));
    }
    if !module_seen {
        return Err(whole(GoModError::NoModule));
    }
    if let Some(v) = go_version.as_deref().and_then(go_version_to_semver)
        && crate::audit::version::parse_semver_lenient(&v)
            .is_some_and(|v| v < semver::Version::new(1, 17, 0))
    {
        warnings.push(format!(
            "`go {}` predates module graph pruning (go 1.17): go.mod lists only part of the build, \
             indirect dependencies are not audited",
            go_version.as_deref().unwrap_or("?")
        ));
    }
    let mut out = Vec::new();
    for r in requires {
        let rep = replaces.get(&r.path).and_then(|list| {
            list.iter()
                .find(|x| x.old_version.as_deref() == Some(r.version.as_str()))
                .or_else(|| list.iter().find(|x| x.old_version.is_none()))
        });
        out.push(match rep {
            Some(Replace {
                new,
                new_version: Some(nv),
                ..
            }) => LockedPackage {
                name: new.clone(),
                version: nv.clone(),
                ecosystem: Ecosystem::Go,
                source: PackageSource::Registry,
                dev: false,
            },
            // Replaced by a local directory: not a registry module.
            Some(_) => LockedPackage {
                name: r.path,
                version: r.version,
                ecosystem: Ecosystem::Go,
                source: PackageSource::Local,
                dev: false,
            },
            None => LockedPackage {
                name: r.path,
                version: r.version,
                ecosystem: Ecosystem::Go,
                source: PackageSource::Registry,
                dev: false,
            },
        });
    }
    let std_version = toolchain
        .as_deref()
        .filter(|t| *t != "default")
        .or(go_version.as_deref());
    if let Some(v) = std_version {
        let semver = go_version_to_semver(v)
            .ok_or_else(|| whole(GoModError::InvalidToolchain(v.to_string())))?;
        out.push(LockedPackage {
            name: STDLIB.into(),
            version: semver,
            ecosystem: Ecosystem::Go,
            source: PackageSource::Registry,
            dev: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkgs(text: &str) -> Vec<(String, String, PackageSource)> {
        parse(Path::new("go.mod"), text, &mut Vec::new())
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.version, p.source))
            .collect()
    }

    #[test]
    fn go_toolchain_versions_become_semver() {
        assert_eq!(go_version_to_semver("1.21").as_deref(), Some("1.21.0"));
        assert_eq!(go_version_to_semver("1.21.3").as_deref(), Some("1.21.3"));
        assert_eq!(
            go_version_to_semver("go1.21rc2").as_deref(),
            Some("1.21.0-rc.2")
        );
        assert_eq!(go_version_to_semver("go1.22.1").as_deref(), Some("1.22.1"));
        assert_eq!(go_version_to_semver("1.x"), None);
    }

    #[test]
    fn gomod_requires_indirect_replace_and_stdlib() {
        let text = "module example.com/app // the app\n\ngo 1.21\ntoolchain go1.22.1\n\n\
            require golang.org/x/text v0.3.7\nrequire (\n\tgithub.com/a/b v1.2.3 // indirect\n\t\
            \"github.com/c/d\" v0.0.0-20200101000000-abcdefabcdef\n\tgithub.com/e/f v1.0.0\n\t\
            github.com/g/h v2.0.0+incompatible\n)\n\
            replace github.com/c/d => ../d\nreplace (\n\tgithub.com/e/f v1.0.0 => github.com/e/f v1.0.5\n)\n\
            exclude github.com/x/y v1.0.0\nretract [v1.0.0, v1.0.1]\n";
        let p = pkgs(text);
        assert_eq!(
            p,
            vec![
                (
                    "golang.org/x/text".into(),
                    "v0.3.7".into(),
                    PackageSource::Registry
                ),
                (
                    "github.com/a/b".into(),
                    "v1.2.3".into(),
                    PackageSource::Registry
                ),
                (
                    "github.com/c/d".into(),
                    "v0.0.0-20200101000000-abcdefabcdef".into(),
                    PackageSource::Local
                ),
                (
                    "github.com/e/f".into(),
                    "v1.0.5".into(),
                    PackageSource::Registry
                ),
                (
                    "github.com/g/h".into(),
                    "v2.0.0+incompatible".into(),
                    PackageSource::Registry
                ),
                ("stdlib".into(), "1.22.1".into(), PackageSource::Registry),
            ]
        );
    }

    #[test]
    fn gomod_rejects_what_is_not_a_go_mod() {
        for bad in [
            "require x v1.0.0\n",
            "module m\nrequire x 1.0.0\n",
            "module m\nrequire (\nx v1.0.0\n",
            "module m\nfoo bar\n",
            "{\"json\": true}\n",
        ] {
            assert!(
                parse(Path::new("go.mod"), bad, &mut Vec::new()).is_err(),
                "{bad:?}"
            );
        }
    }

    /// Each malformed line is a [`GoModError`] variant with its line number, rendered as the
    /// one-line message `file:line: what`.
    #[test]
    fn malformed_gomod_line_is_a_typed_error_with_its_line() {
        let cases: [(&str, Option<usize>, GoModError, &str); 8] = [
            (
                "module m\nrequire x 1.0.0\n",
                Some(2),
                GoModError::InvalidVersion("1.0.0".into()),
                "go.mod:2: invalid version \"1.0.0\"",
            ),
            (
                "module m\nrequire \"x v1.0.0\n",
                Some(2),
                GoModError::UnterminatedString,
                "go.mod:2: unterminated string",
            ),
            (
                "module m\ngo\n",
                Some(2),
                GoModError::Expected("go VERSION"),
                "go.mod:2: expected `go VERSION`",
            ),
            (
                "module m\n\nreplace a b\n",
                Some(3),
                GoModError::Expected(REPLACE_FORM),
                "go.mod:3: expected `replace OLD [VERSION] => NEW [VERSION]`",
            ),
            (
                "module m\nfoo bar\n",
                Some(2),
                GoModError::UnknownDirective("foo".into()),
                "go.mod:2: unknown directive \"foo\"",
            ),
            (
                "module m\nrequire (\nx v1.0.0\n",
                None,
                GoModError::UnterminatedBlock,
                "go.mod: unterminated `(` block",
            ),
            (
                "module m\ngo 1.x\n",
                None,
                GoModError::InvalidToolchain("1.x".into()),
                "go.mod: invalid Go toolchain version \"1.x\"",
            ),
            (
                "require x v1.0.0\n",
                None,
                GoModError::NoModule,
                "go.mod: no `module` directive (not a go.mod file)",
            ),
        ];
        for (text, want_line, want, message) in cases {
            match parse(Path::new("go.mod"), text, &mut Vec::new()) {
                Err(e @ AuditError::GoMod { .. }) => {
                    assert_eq!(e.to_string(), message, "{text:?}");
                    let AuditError::GoMod { line, source, .. } = e else {
                        unreachable!()
                    };
                    assert_eq!((line, source), (want_line, want), "{text:?}");
                }
                other => panic!("{text:?}: expected AuditError::GoMod, got {other:?}"),
            }
        }
    }
}
