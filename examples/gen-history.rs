//! Deterministic synthetic git history for benchmarks.
//!
//! ```text
//! cargo run --release --example gen-history -- DIR --commits N [--seed S] [--secret-every K]
//! ```
//!
//! Creates a bare repository at `DIR` by streaming commits into `git fast-import`: a main line
//! with feature branches merged back (`--no-ff` style, both sides changing files), realistic code
//! churn (line edits, insertions, deletions, new files, deleted files, renames with edits, the
//! occasional binary file), and a planted secret (an AWS access key id or a GitHub token, by
//! turns) every `K` commits (default 1,000). The planted secrets are listed in
//! `DIR/planted-secrets.txt` (outside the history). The same arguments always give the same
//! repository, byte for byte.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::rc::Rc;

/// splitmix64: tiny, fast, and fixed forever (unlike library PRNGs that may change).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const WORDS: &[&str] = &[
    "let", "value", "config", "return", "result", "buffer", "index", "count", "request", "client",
    "server", "handler", "error", "match", "self", "items", "parse", "format", "options", "state",
    "update", "render", "cache", "stream", "token", "length", "offset", "limit", "queue", "retry",
    "timeout", "logger", "context", "session", "payload", "header", "status", "version", "path",
    "entry", "node", "tree", "commit", "branch", "merge", "build", "test", "assert", "expect",
];

fn code_line(rng: &mut Rng) -> String {
    let indent = "    ".repeat(rng.below(4));
    let n = 3 + rng.below(8);
    let mut s = indent;
    for i in 0..n {
        if i > 0 {
            s.push(if rng.chance(20) { '.' } else { ' ' });
        }
        s.push_str(WORDS[rng.below(WORDS.len())]);
        if rng.chance(10) {
            s.push_str(&format!("_{}", rng.below(1000)));
        }
    }
    s.push_str(if rng.chance(50) { ";" } else { "" });
    s
}

const EXTS: &[&str] = &[
    "rs", "go", "py", "js", "ts", "java", "c", "md", "toml", "yaml",
];

type Files = BTreeMap<String, Rc<Vec<u8>>>;

fn new_text_file(rng: &mut Rng) -> Vec<u8> {
    let n = 20 + rng.below(280);
    let mut out = String::new();
    for _ in 0..n {
        out.push_str(&code_line(rng));
        out.push('\n');
    }
    out.into_bytes()
}

fn edit_text(rng: &mut Rng, old: &[u8], extra: Option<&str>) -> Vec<u8> {
    let text = String::from_utf8_lossy(old);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        let at = rng.below(lines.len() + 1);
        match rng.below(3) {
            0 if at < lines.len() => lines[at] = code_line(rng),
            1 if at < lines.len() && lines.len() > 10 => {
                let k = (1 + rng.below(5)).min(lines.len() - at);
                lines.drain(at..at + k);
            }
            _ => {
                let k = 1 + rng.below(8);
                for j in 0..k {
                    lines.insert((at + j).min(lines.len()), code_line(rng));
                }
            }
        }
    }
    if let Some(extra) = extra {
        let at = rng.below(lines.len() + 1);
        lines.insert(at, extra.to_string());
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

fn binary_blob(rng: &mut Rng) -> Vec<u8> {
    let n = 2048 + rng.below(16 * 1024);
    let mut v = Vec::with_capacity(n + 8);
    v.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR");
    while v.len() < n {
        v.extend_from_slice(&rng.next().to_le_bytes());
    }
    v
}

fn secret(rng: &mut Rng, k: usize) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if k.is_multiple_of(2) {
        let body: String = (0..16).map(|_| B32[rng.below(32)] as char).collect();
        format!("aws_access_key_id = AKIA{body}")
    } else {
        let body: String = (0..36).map(|_| ALNUM[rng.below(62)] as char).collect();
        format!("github_token = \"ghp_{body}\"")
    }
}

struct Writer<W: Write> {
    out: W,
    mark: u64,
    time: u64,
}

impl<W: Write> Writer<W> {
    fn data(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        writeln!(self.out, "data {}", bytes.len())?;
        self.out.write_all(bytes)?;
        writeln!(self.out)
    }

    /// Write one commit on `branch` with `parents` (marks) changing `old` into `new`.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        branch: &str,
        parents: &[u64],
        msg: &str,
        author: usize,
        old: &Files,
        new: &Files,
        renames: &[(String, String)],
    ) -> std::io::Result<u64> {
        self.mark += 1;
        self.time += 60 + (self.mark % 7) * 13;
        let names = [
            "Ada Lovelace",
            "Linus Torvalds",
            "Grace Hopper",
            "Ken Thompson",
            "Barbara Liskov",
        ];
        let name = names[author % names.len()];
        let email = format!(
            "{}@example.org",
            name.split(' ').next().unwrap_or("dev").to_lowercase()
        );
        writeln!(self.out, "commit refs/heads/{branch}")?;
        writeln!(self.out, "mark :{}", self.mark)?;
        writeln!(self.out, "author {name} <{email}> {} +0000", self.time)?;
        writeln!(self.out, "committer {name} <{email}> {} +0000", self.time)?;
        self.data(msg.as_bytes())?;
        if let Some(first) = parents.first() {
            writeln!(self.out, "from :{first}")?;
        }
        for p in parents.iter().skip(1) {
            writeln!(self.out, "merge :{p}")?;
        }
        for (from, to) in renames {
            writeln!(self.out, "R {from} {to}")?;
        }
        for path in old.keys() {
            if !new.contains_key(path) && !renames.iter().any(|(f, _)| f == path) {
                writeln!(self.out, "D {path}")?;
            }
        }
        for (path, content) in new {
            let same = old.get(path).is_some_and(|o| Rc::ptr_eq(o, content));
            let renamed_same = renames
                .iter()
                .any(|(f, t)| t == path && old.get(f).is_some_and(|o| Rc::ptr_eq(o, content)));
            if !same && !renamed_same {
                writeln!(self.out, "M 100644 inline {path}")?;
                self.data(content)?;
            }
        }
        writeln!(self.out)?;
        Ok(self.mark)
    }
}

struct Args {
    dir: String,
    commits: usize,
    seed: u64,
    secret_every: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut dir = None;
    let mut commits = 1000;
    let mut seed = 42;
    let mut secret_every = 1000;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--commits" => commits = num("--commits")? as usize,
            "--seed" => seed = num("--seed")?,
            "--secret-every" => secret_every = num("--secret-every")?.max(1) as usize,
            "-h" | "--help" => return Err(String::new()),
            _ if dir.is_none() && !a.starts_with('-') => dir = Some(a),
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    Ok(Args {
        dir: dir.ok_or("missing DIR")?,
        commits,
        seed,
        secret_every,
    })
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nusage: gen-history DIR --commits N [--seed S] [--secret-every K]");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("gen-history: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(&args.dir);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()).into());
    }
    let st = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(dir)
        .status()?;
    if !st.success() {
        return Err("git init failed".into());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let mut w = Writer {
        out: std::io::BufWriter::with_capacity(1 << 20, stdin),
        mark: 0,
        time: 1_600_000_000,
    };
    let mut rng = Rng(args.seed);
    let mut planted = Vec::new();

    // Initial tree.
    let mut main: Files = Files::new();
    for i in 0..40 {
        let ext = EXTS[rng.below(EXTS.len())];
        main.insert(
            format!("src/mod{}/file{i}.{ext}", i % 6),
            Rc::new(new_text_file(&mut rng)),
        );
    }
    let mut main_tip = w.commit("main", &[], "Initial import", 0, &Files::new(), &main, &[])?;
    let mut made = 1usize;
    let mut file_counter = 40usize;
    // Active feature branch: (name, fork state, tip state, tip mark, remaining commits).
    let mut feature: Option<(String, Files, Files, u64, usize)> = None;
    let mut branch_no = 0usize;

    while made < args.commits {
        let plant = (made + args.secret_every / 2).is_multiple_of(args.secret_every);
        let on_feature = feature.is_some() && rng.chance(60);
        let (state, tip, branch) = match (&mut feature, on_feature) {
            (Some((name, _, fstate, ftip, _)), true) => (fstate, ftip, name.clone()),
            _ => (&mut main, &mut main_tip, "main".to_string()),
        };
        let old = state.clone();
        let mut renames = Vec::new();
        let mut msg = format!(
            "{} {}",
            WORDS[rng.below(WORDS.len())],
            WORDS[rng.below(WORDS.len())]
        );
        let paths: Vec<String> = state.keys().cloned().collect();
        let n_edits = 1 + rng.below(3);
        for e in 0..n_edits {
            let path = &paths[rng.below(paths.len())];
            let extra = if plant && e == 0 {
                let s = secret(&mut rng, planted.len());
                planted.push(format!("commit #{made} on {branch}: {path}: {s}"));
                msg = format!("add credentials for {}", WORDS[rng.below(WORDS.len())]);
                Some(s)
            } else {
                None
            };
            if let Some(content) = state.get(path).cloned() {
                if content.contains(&0) {
                    state.insert(path.clone(), Rc::new(binary_blob(&mut rng)));
                } else {
                    state.insert(
                        path.clone(),
                        Rc::new(edit_text(&mut rng, &content, extra.as_deref())),
                    );
                }
            }
        }
        match rng.below(100) {
            0..=5 => {
                file_counter += 1;
                let ext = EXTS[rng.below(EXTS.len())];
                state.insert(
                    format!("src/mod{}/file{file_counter}.{ext}", rng.below(9)),
                    Rc::new(new_text_file(&mut rng)),
                );
            }
            6..=7 if state.len() > 30 => {
                let victim = paths[rng.below(paths.len())].clone();
                state.remove(&victim);
            }
            8..=10 => {
                let from = paths[rng.below(paths.len())].clone();
                if let Some(content) = state.remove(&from) {
                    file_counter += 1;
                    let to = format!(
                        "src/moved{}/renamed{file_counter}.{}",
                        rng.below(5),
                        from.rsplit('.').next().unwrap_or("txt")
                    );
                    let edited = if content.contains(&0) || rng.chance(50) {
                        content
                    } else {
                        Rc::new(edit_text(&mut rng, &content, None))
                    };
                    state.insert(to.clone(), edited);
                    renames.push((from, to));
                }
            }
            11 => {
                file_counter += 1;
                state.insert(
                    format!("assets/img{file_counter}.png"),
                    Rc::new(binary_blob(&mut rng)),
                );
            }
            _ => {}
        }
        *tip = w.commit(&branch, &[*tip], &msg, rng.below(5), &old, state, &renames)?;
        made += 1;

        // Branch lifecycle.
        match &mut feature {
            None if rng.chance(4) => {
                branch_no += 1;
                feature = Some((
                    format!("feature/f{branch_no}"),
                    main.clone(),
                    main.clone(),
                    main_tip,
                    3 + rng.below(10),
                ));
            }
            Some((_, _, _, _, left)) if *left > 0 => *left -= 1,
            Some(_) if made < args.commits => {
                let Some((name, fork, fstate, ftip, _)) = feature.take() else {
                    unreachable!()
                };
                // Three-way merge by file: a side's change wins; both changed -> feature wins.
                let old = main.clone();
                let mut merged = main.clone();
                let keys: std::collections::BTreeSet<String> =
                    fork.keys().chain(fstate.keys()).cloned().collect();
                for k in keys {
                    let (f0, f1) = (fork.get(&k), fstate.get(&k));
                    let changed = match (f0, f1) {
                        (Some(a), Some(b)) => !Rc::ptr_eq(a, b),
                        (None, None) => false,
                        _ => true,
                    };
                    if changed {
                        match f1 {
                            Some(v) => {
                                merged.insert(k, v.clone());
                            }
                            None => {
                                merged.remove(&k);
                            }
                        }
                    }
                }
                main = merged;
                main_tip = w.commit(
                    "main",
                    &[main_tip, ftip],
                    &format!("Merge branch '{name}'"),
                    rng.below(5),
                    &old,
                    &main,
                    &[],
                )?;
                made += 1;
            }
            _ => {}
        }
    }
    if let Some((name, ..)) = &feature {
        eprintln!("gen-history: branch {name} left unmerged");
    }
    writeln!(w.out, "done")?;
    w.out.flush()?;
    drop(w);
    let st = child.wait()?;
    if !st.success() {
        return Err("git fast-import failed".into());
    }
    std::fs::write(dir.join("planted-secrets.txt"), planted.join("\n") + "\n")?;
    eprintln!(
        "gen-history: {made} commits, {} planted secrets, in {}",
        planted.len(),
        dir.display()
    );
    Ok(())
}
