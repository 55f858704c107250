//! Detector benchmarks (criterion).
//!
//! * `throughput`: one thread scans a generated, deterministic mixed source-code corpus
//!   (default 100 MB; `PORTCULLIS_BENCH_MB` overrides) with the embedded default rules, in
//!   ~100 KB fragments as `scan dir` produces them. Besides criterion's report, the bench
//!   prints a plain `MB/s` line from one timed pass.
//! * `startup`: load the embedded default config, build a detector and scan 1 KB.
//!
//! Run: `cargo bench --bench detector`. `PORTCULLIS_BENCH_RULES=FILE` runs another ruleset
//! (e.g. an earlier version of `rules/default.toml`), parsed as the embedded one is (patterns
//! compiled on first use), so that rulesets compare side by side on one engine.

#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::rules::Config;

const LINES: &[&str] = &[
    "fn process(input: &str) -> Result<Vec<u8>, Error> {",
    "    let mut buffer = Vec::with_capacity(input.len() * 2);",
    "    for (index, value) in items.iter().enumerate() {",
    "        if value.is_empty() { continue; }",
    "    }",
    "}",
    "import os, sys, json",
    "def handle_request(request, *args, **kwargs):",
    "    return JsonResponse({'status': 'ok', 'count': len(results)})",
    "const config = require('./config');",
    "export default function App({ children }) { return <div className=\"app\">{children}</div>; }",
    "  \"name\": \"example-package\",",
    "  \"version\": \"1.2.3\",",
    "  \"dependencies\": { \"lodash\": \"^4.17.21\" },",
    "server:",
    "  port: 8080",
    "  host: 0.0.0.0",
    "# This is a comment describing the function below in some detail.",
    "// TODO: refactor this once the upstream API is stable",
    "SELECT id, name, created_at FROM users WHERE active = 1 ORDER BY created_at DESC;",
    "if [ -z \"$HOME\" ]; then echo \"no home\"; exit 1; fi",
    "public class AbstractSingletonProxyFactoryBean extends ProxyConfig implements BeanClassLoaderAware {",
    "    private static final Logger LOGGER = LoggerFactory.getLogger(Main.class);",
    "<dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId></dependency>",
    "      - name: Install dependencies",
    "        run: npm ci && npm run build --if-present",
    "    password_hash = hashlib.sha256(salt + password.encode()).hexdigest()",
    "    let token = request.headers().get(\"Authorization\").unwrap_or_default();",
    "api_key = os.environ.get('API_KEY')",
    "    assert_eq!(result, expected, \"unexpected output for {}\", name);",
    "",
];

const SECRETS: &[&str] = &[
    "aws_access_key_id = AKIAIOSFODNN7REALKEY",
    "GITHUB_TOKEN=ghp_R2d2C3p0L1k3Sk7w4lk3rH4nS0l0Ch3wb4cc4",
    "password = \"Tr0ub4dor&3xyzQ9\"",
];

/// The text of the ruleset named by `PORTCULLIS_BENCH_RULES`, read once.
fn ruleset_text() -> Option<&'static str> {
    static TEXT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        std::env::var_os("PORTCULLIS_BENCH_RULES")
            .map(|p| std::fs::read_to_string(p).expect("read PORTCULLIS_BENCH_RULES"))
    })
    .as_deref()
}

/// The ruleset under test: `PORTCULLIS_BENCH_RULES`, else the embedded default.
fn ruleset() -> Config {
    match ruleset_text() {
        Some(text) => Config::from_trusted_toml_str(text).expect("valid PORTCULLIS_BENCH_RULES"),
        None => Config::embedded_default(),
    }
}

/// Deterministic corpus of about `mb` megabytes.
fn corpus(mb: usize) -> Vec<u8> {
    let target = mb * 1_000_000;
    let mut rng = fastrand::Rng::with_seed(0x5eed_cafe);
    let mut out = Vec::with_capacity(target + 200);
    let mut since_secret = 0usize;
    while out.len() < target {
        let line = LINES[rng.usize(..LINES.len())];
        let indent = rng.usize(..3) * 4;
        out.extend(std::iter::repeat_n(b' ', indent));
        out.extend_from_slice(line.as_bytes());
        // Some identifiers and numbers vary so the text is not too repetitive.
        if rng.u8(..8) == 0 {
            out.extend_from_slice(format!(" // id {:x}", rng.u64(..)).as_bytes());
        }
        out.push(b'\n');
        since_secret += line.len();
        if since_secret > 200_000 {
            out.extend_from_slice(SECRETS[rng.usize(..SECRETS.len())].as_bytes());
            out.push(b'\n');
            since_secret = 0;
        }
    }
    out
}

/// Split into ~100 KB fragments at line boundaries (as `scan dir` reads files).
fn fragments(data: &[u8]) -> Vec<(usize, u32)> {
    let mut cuts = Vec::new();
    let mut start = 0usize;
    let mut line = 1u32;
    while start < data.len() {
        let mut end = (start + 100_000).min(data.len());
        while end < data.len() && data[end - 1] != b'\n' {
            end += 1;
        }
        cuts.push((end, line));
        line += memchr::memchr_iter(b'\n', &data[start..end]).count() as u32;
        start = end;
    }
    cuts
}

fn scan_all(d: &Detector, data: &[u8], cuts: &[(usize, u32)]) -> usize {
    let mut out = Vec::new();
    let mut start = 0;
    for &(end, line) in cuts {
        d.scan(
            &Fragment {
                text: &data[start..end],
                path: "corpus/src/file.rs",
                start_line: line,
                ..Fragment::default()
            },
            &mut out,
        );
        start = end;
    }
    out.len()
}

/// CPU time of the calling thread, in seconds (fair on a shared machine).
fn thread_cpu() -> f64 {
    portcullis_unsafe::process::thread_cpu_nanos() as f64 / 1e9
}

fn bench(c: &mut Criterion) {
    let mb: usize = std::env::var("PORTCULLIS_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let data = corpus(mb);
    let cuts = fragments(&data);
    let cfg = ruleset();
    let rules = cfg.rules().len();
    let d = Detector::new(cfg, DetectOptions::default()).expect("default detector");
    // Warm up (lazy regex compilation), then one plain timed pass.
    let n = scan_all(&d, &data, &cuts);
    let t = Instant::now();
    let cpu = thread_cpu();
    let n2 = scan_all(&d, &data, &cuts);
    let cpu = thread_cpu() - cpu;
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(n, n2);
    println!(
        "detector throughput: {:.1} MB/s per core (thread CPU time {:.2} s), {:.1} MB/s wall ({} MB corpus, {} fragments, {} rules, {} findings, {:.2} s wall)",
        data.len() as f64 / 1e6 / cpu,
        cpu,
        data.len() as f64 / 1e6 / secs,
        data.len() / 1_000_000,
        cuts.len(),
        rules,
        n,
        secs
    );

    if std::env::var_os("PORTCULLIS_BENCH_PROFILE").is_some() {
        profile(&data, &cuts);
    }

    let mut g = c.benchmark_group("detector");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("throughput_default_rules", |b| {
        b.iter(|| black_box(scan_all(&d, &data, &cuts)))
    });
    g.finish();

    let kb = &data[..1024];
    let start_once = || {
        let d = Detector::new(ruleset(), DetectOptions::default()).unwrap();
        let mut out = Vec::new();
        d.scan(
            &Fragment {
                text: kb,
                path: "a.rs",
                start_line: 1,
                ..Fragment::default()
            },
            &mut out,
        );
        out.len()
    };
    let t = Instant::now();
    let cpu = thread_cpu();
    let reps = 20;
    for _ in 0..reps {
        black_box(start_once());
    }
    println!(
        "startup (load default config + build detector + scan 1 KB): {:.2} ms CPU, {:.2} ms wall",
        (thread_cpu() - cpu) * 1000.0 / f64::from(reps),
        t.elapsed().as_secs_f64() * 1000.0 / f64::from(reps)
    );
    let mut g = c.benchmark_group("startup");
    g.sample_size(20);
    g.bench_function("load_default_and_scan_1kb", |b| {
        b.iter(|| black_box(start_once()))
    });
    g.finish();
}

/// Breakdown (with `PORTCULLIS_BENCH_PROFILE=1`): no decoding, then each rule alone.
fn profile(data: &[u8], cuts: &[(usize, u32)]) {
    // Best of three passes (the machine may be shared).
    let time = |opts: DetectOptions| {
        let d = Detector::new(ruleset(), opts).unwrap();
        scan_all(&d, data, cuts);
        (0..3)
            .map(|_| {
                let t = Instant::now();
                scan_all(&d, data, cuts);
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let t = Instant::now();
    let cfg = ruleset();
    let t_cfg = t.elapsed();
    let d = Detector::new(cfg, DetectOptions::default()).unwrap();
    let t_new = t.elapsed();
    let mut out = Vec::new();
    d.scan(
        &Fragment {
            text: &data[..1024],
            path: "a.rs",
            start_line: 1,
            ..Fragment::default()
        },
        &mut out,
    );
    let t_scan = t.elapsed();
    println!(
        "profile: startup: config {:.2} ms, detector {:.2} ms, first 1 KB scan {:.2} ms",
        t_cfg.as_secs_f64() * 1e3,
        (t_new - t_cfg).as_secs_f64() * 1e3,
        (t_scan - t_new).as_secs_f64() * 1e3
    );
    let mb = data.len() as f64 / 1e6;
    let no_decode = time(DetectOptions {
        max_decode_depth: 0,
        ..DetectOptions::default()
    });
    let with_decode = time(DetectOptions::default());
    println!(
        "profile: no decoding: {:.1} MB/s, with decoding: {:.1} MB/s",
        mb / no_decode,
        mb / with_decode
    );
    let mut per_rule: Vec<(f64, String)> = ruleset()
        .rules()
        .iter()
        .map(|r| {
            let s = time(DetectOptions {
                max_decode_depth: 0,
                enable_rules: vec![r.id.clone()],
                ..DetectOptions::default()
            });
            (s, r.id.clone())
        })
        .collect();
    per_rule.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (s, id) in per_rule.iter().take(15) {
        println!("profile: rule {id} alone: {:.1} MB/s", mb / s);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
