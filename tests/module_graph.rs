//! No import cycles between sibling modules: for every pair of modules with the same parent
//! (top-level modules under the crate root, or the children of one module), the `crate::…` and
//! `super::…` paths in `src/` must not lead from one to the other and back, directly or
//! through other siblings. Such cycles make modules impossible to understand, test or move
//! alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Cycles that are known and removed elsewhere (the git engine's own restructuring). A cycle
/// listed here that no longer exists fails the test too, so the list only shrinks.
const PENDING: &[(&str, &[&str])] = &[];

/// A module's path below the crate root (`[]` = the root).
type ModPath = Vec<String>;

/// Sibling edges: parent → (from → (to → files that make the edge)).
type Graph = BTreeMap<String, BTreeMap<String, BTreeMap<String, BTreeSet<String>>>>;

/// The module a source file defines (`lib.rs`, `main.rs` = root; `x/mod.rs` = `x`).
fn module_of(rel: &str) -> ModPath {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its trailing `#[cfg(test)] mod …` block.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break;
        }
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Expand a path tail such as `a::b`, `a::{b, c::{d, e}}` or `{a, b}` into paths.
fn expand(tail: &str) -> Vec<Vec<String>> {
    let tail = tail.trim();
    let Some(open) = tail.find('{') else {
        let path = tail.split(" as ").next().unwrap_or(tail);
        return vec![
            path.split("::")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ];
    };
    let prefix: Vec<String> = tail[..open]
        .split("::")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let inner = &tail[open + 1..tail.rfind('}').unwrap_or(tail.len())];
    let (mut items, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            items.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    items.push(cur);
    let mut out = Vec::new();
    for item in items.iter().filter(|i| !i.trim().is_empty()) {
        for p in expand(item) {
            let mut full = prefix.clone();
            full.extend(p);
            out.push(full);
        }
    }
    out
}

/// The text after a `crate::` or `super::` prefix that belongs to the path: identifiers and
/// `::`, plus one balanced `{…}` group.
fn path_tail(rest: &str) -> &str {
    let mut depth = 0usize;
    let mut end = 0;
    let bytes: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            if depth == 0 {
                break;
            }
            depth -= 1;
            if depth == 0 {
                end = rest
                    .char_indices()
                    .nth(i + 1)
                    .map_or(rest.len(), |(b, _)| b);
                break;
            }
        } else if depth == 0 && !(is_ident(c) || c == ':') {
            break;
        }
        i += 1;
        end = rest.char_indices().nth(i).map_or(rest.len(), |(b, _)| b);
    }
    &rest[..end]
}

/// Every absolute module path named in `code` of the module `me`.
fn paths_in(code: &str, me: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let starts = rest
            .find("crate::")
            .into_iter()
            .chain(rest.find("super::"))
            .min();
        let Some(start) = starts else { break };
        let pos = at + start;
        let before = code[..pos].chars().next_back();
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            at = pos + 1;
            continue;
        }
        let mut tail = &code[pos..];
        let base: Vec<String> = if let Some(t) = tail.strip_prefix("crate::") {
            tail = t;
            Vec::new()
        } else {
            let mut n = 0;
            while let Some(t) = tail.strip_prefix("super::") {
                tail = t;
                n += 1;
            }
            me[..me.len().saturating_sub(n)].to_vec()
        };
        let t = path_tail(tail);
        for p in expand(t) {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
        at = pos + 1;
    }
    out
}

/// The sibling graph of a crate given as `(path relative to src, text)` pairs.
fn graph(files: &[(String, String)]) -> Graph {
    let modules: BTreeSet<ModPath> = files.iter().map(|(rel, _)| module_of(rel)).collect();
    let mut g = Graph::new();
    for (rel, text) in files {
        let me = module_of(rel);
        for t in paths_in(&code_of(text), &me) {
            let k = me.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if k >= me.len() || k >= t.len() {
                continue;
            }
            let target: ModPath = t[..=k].to_vec();
            if !modules.contains(&target) {
                continue;
            }
            let parent = if k == 0 {
                "crate".to_string()
            } else {
                me[..k].join("::")
            };
            g.entry(parent)
                .or_default()
                .entry(me[k].clone())
                .or_default()
                .entry(t[k].clone())
                .or_default()
                .insert(rel.clone());
        }
    }
    g
}

/// Strongly connected components with more than one member, per parent, each with the edges
/// inside it.
fn cycles(g: &Graph) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut found = Vec::new();
    for (parent, edges) in g {
        let nodes: BTreeSet<&String> = edges
            .keys()
            .chain(edges.values().flat_map(|m| m.keys()))
            .collect();
        // Reachability closure (the graphs are small).
        let reach = |from: &String| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.clone()];
            while let Some(n) = stack.pop() {
                for next in edges.get(&n).into_iter().flat_map(|m| m.keys()) {
                    if seen.insert(next.clone()) {
                        stack.push(next.clone());
                    }
                }
            }
            seen
        };
        let reaches: BTreeMap<&String, BTreeSet<String>> =
            nodes.iter().map(|n| (*n, reach(n))).collect();
        let mut done = BTreeSet::new();
        for n in &nodes {
            if done.contains(*n) {
                continue;
            }
            let comp: Vec<String> = nodes
                .iter()
                .filter(|m| *m == n || (reaches[*n].contains(**m) && reaches[**m].contains(*n)))
                .map(|m| (*m).clone())
                .collect();
            done.extend(comp.iter().cloned());
            if comp.len() > 1 {
                let mut why = Vec::new();
                for a in &comp {
                    for (b, files) in edges.get(a).into_iter().flatten() {
                        if comp.contains(b) {
                            why.push(format!(
                                "{a} -> {b} ({})",
                                files.iter().cloned().collect::<Vec<_>>().join(", ")
                            ));
                        }
                    }
                }
                found.push((parent.clone(), comp, why));
            }
        }
    }
    found
}

fn crate_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .expect("under src")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).expect("read source")));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

#[test]
fn no_import_cycles_between_sibling_modules() {
    let files = crate_sources();
    assert!(files.len() > 50, "found only {} source files", files.len());
    let found = cycles(&graph(&files));
    let mut unexpected = Vec::new();
    for (parent, comp, why) in &found {
        let known = PENDING.iter().any(|(p, c)| {
            p == parent && c.iter().map(|s| s.to_string()).collect::<Vec<_>>() == *comp
        });
        if !known {
            unexpected.push(format!("under {parent}: {}", why.join("; ")));
        }
    }
    assert!(
        unexpected.is_empty(),
        "import cycles between sibling modules:\n{}",
        unexpected.join("\n")
    );
    for (parent, comp) in PENDING {
        assert!(
            found.iter().any(|(p, c, _)| p == parent && c == comp),
            "the cycle {comp:?} under {parent} is gone: remove it from PENDING"
        );
    }
}

fn sources(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

#[test]
fn module_graph_finds_a_cycle_through_crate_paths_and_groups() {
    // The shape of the old `detect` ↔ `report` cycle: the detector imported its output type
    // from the report writers, which imported the detector to redact.
    let files = sources(&[
        ("lib.rs", "pub mod detect;\npub mod report;\n"),
        ("detect/mod.rs", "use crate::report::finding::Finding;\n"),
        ("report/mod.rs", "pub mod finding;\npub mod redact;\n"),
        ("report/finding.rs", "pub struct Finding;\n"),
        (
            "report/redact.rs",
            "use crate::{detect::{Detector, Fragment}, rules::Config};\n",
        ),
    ]);
    let found = cycles(&graph(&files));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "crate");
    assert_eq!(found[0].1, vec!["detect".to_string(), "report".to_string()]);
}

#[test]
fn module_graph_finds_a_cycle_through_super_paths_and_ignores_tests_and_comments() {
    let files = sources(&[
        ("lib.rs", "pub mod rules;\n"),
        ("rules/mod.rs", "mod extend;\nmod load;\n"),
        ("rules/load.rs", "use super::extend::{self, MAX};\n"),
        ("rules/extend.rs", "use super::load::load_at_depth;\n"),
    ]);
    let found = cycles(&graph(&files));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "rules");

    let files = sources(&[
        ("lib.rs", "pub mod rules;\n"),
        ("rules/mod.rs", "mod extend;\nmod load;\n"),
        ("rules/load.rs", "use super::extend::{self, MAX};\n"),
        (
            "rules/extend.rs",
            "// see super::load::load_at_depth\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use super::super::load::x;\n}\n",
        ),
    ]);
    assert!(cycles(&graph(&files)).is_empty());
}
