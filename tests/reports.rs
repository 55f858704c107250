//! Report formats end to end: JSON (gitleaks field names, order and Go escaping), SARIF 2.1.0
//! (as GitHub code scanning requires), CSV (gitleaks header and quirks) and JUnit.

use crate::scan_common;

use scan_common::*;

const GITLEAKS_FIELDS: [&str; 18] = [
    "RuleID",
    "Description",
    "StartLine",
    "EndLine",
    "StartColumn",
    "EndColumn",
    "Match",
    "Secret",
    "File",
    "SymlinkFile",
    "Commit",
    "Entropy",
    "Author",
    "Email",
    "Date",
    "Message",
    "Tags",
    "Fingerprint",
];

/// A repo with a token, an HTML-ish secret and a path-only finding.
fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let (ws, repo) = workspace();
    write(&repo, "app/a.env", format!("first\nkey = {TOKEN}\n"));
    write(&repo, "web/page.html", "<p>pw<abcdef123456>&</p>\n");
    write(&repo, "keys/client.p12", b"\x30\x82\x00\x01");
    (ws, repo)
}

fn report_text(ws: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["scan", "dir", "repo", "--config", "config.toml"];
    args.extend_from_slice(extra);
    let run = run_in(ws, &args, None);
    (run.code, run.stdout)
}

#[test]
fn json_has_gitleaks_fields_in_gitleaks_order_and_go_escaping() {
    let (ws, _repo) = fixture();
    let (code, text) = report_text(ws.path(), &["-r", "-"]);
    assert_eq!(code, 1);
    assert!(text.starts_with("[\n {\n  \"RuleID\": "), "{text}");
    assert!(text.ends_with("\n }\n]\n"), "{text}");
    // Field order of every object: gitleaks' fields first, in gitleaks' order.
    let mut seen = 0;
    for obj in text.split("\n {\n").skip(1) {
        let names: Vec<&str> = obj
            .lines()
            .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
            .filter_map(|l| l.trim_start().strip_prefix('"')?.split('"').next())
            .collect();
        assert_eq!(
            &names[..GITLEAKS_FIELDS.len()],
            &GITLEAKS_FIELDS[..],
            "{obj}"
        );
        seen += 1;
    }
    assert_eq!(seen, 3);
    // Go's HTML-safe escaping of < > &.
    assert!(
        text.contains(r#""Match": "pw\u003cabcdef123456\u003e\u0026""#),
        "{text}"
    );
    assert!(!text.contains("pw<"));
    // One-space indentation, Tags as a nested array.
    assert!(
        text.contains("  \"Tags\": [\n   \"test\",\n   \"token\"\n  ],\n"),
        "{text}"
    );
    // Values parse back to the same findings.
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let token = parsed.iter().find(|f| f["RuleID"] == "test-token").unwrap();
    assert_eq!(token["Secret"], TOKEN);
    assert_eq!(token["StartLine"], 2);
    assert!(token["Entropy"].as_f64().unwrap() > 3.0);
    let path_only = parsed
        .iter()
        .find(|f| f["RuleID"] == "pkcs12-file")
        .unwrap();
    assert_eq!(path_only["Entropy"], 0);
    assert!(
        text.contains("\"Entropy\": 0,"),
        "integers have no .0, as Go writes them"
    );
}

#[test]
fn empty_json_report_is_an_empty_array() {
    let (ws, repo) = workspace();
    write(&repo, "a.txt", "clean\n");
    let (code, text) = report_text(ws.path(), &["-r", "-", "-f", "json"]);
    assert_eq!(code, 0);
    assert_eq!(text, "[]\n");
}

#[test]
fn sarif_is_valid_for_github_code_scanning() {
    let (ws, _repo) = fixture();
    let (code, _) = report_text(ws.path(), &["-r", "out.sarif"]);
    assert_eq!(code, 1);
    let text = std::fs::read_to_string(ws.path().join("out.sarif")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(
        doc["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "portcullis");
    assert!(
        driver["semanticVersion"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "rule ids must be unique");
    for id in ["test-token", "angle-secret", "pkcs12-file"] {
        assert!(unique.contains(id), "{id} declared");
    }
    for r in rules {
        assert!(
            r["shortDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for res in results {
        let rid = res["ruleId"].as_str().unwrap();
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[idx], rid, "ruleIndex points at the rule");
        assert!(res["message"]["text"].as_str().unwrap().contains(rid));
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        // Relative to %SRCROOT% (the scanned directory: the workspace is no git work tree).
        assert!(
            ["app/a.env", "web/page.html", "keys/client.p12"].contains(&uri),
            "{uri}"
        );
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        if let Some(region) = loc.get("region") {
            // GitHub rejects line/column 0 and end before start.
            let sl = region["startLine"].as_u64().unwrap();
            let el = region["endLine"].as_u64().unwrap();
            let sc = region["startColumn"].as_u64().unwrap();
            let ec = region["endColumn"].as_u64().unwrap();
            assert!(sl >= 1 && sc >= 1 && el >= sl);
            assert!(el > sl || ec > sc);
        } else {
            assert_eq!(rid, "pkcs12-file", "only path-only findings lack a region");
        }
        assert!(res["partialFingerprints"].is_object());
    }
    let token = results
        .iter()
        .find(|r| r["ruleId"] == "test-token")
        .unwrap();
    // Snippets are redacted in SARIF: the report is meant to be uploaded.
    assert_eq!(
        token["locations"][0]["physicalLocation"]["region"]["snippet"]["text"],
        "REDACTED"
    );
    assert!(!text.contains(TOKEN));
}

#[test]
fn csv_has_gitleaks_header_and_is_empty_without_findings() {
    let (ws, _repo) = fixture();
    let (code, _) = report_text(ws.path(), &["-r", "out.csv"]);
    assert_eq!(code, 1);
    let text = std::fs::read_to_string(ws.path().join("out.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "RuleID,Commit,File,SymlinkFile,Secret,Match,StartLine,EndLine,StartColumn,EndColumn,Author,Message,Date,Email,Fingerprint,Tags"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3);
    let token_row = rows.iter().find(|r| r.starts_with("test-token,")).unwrap();
    assert_eq!(
        *token_row,
        format!(
            "test-token,,repo/app/a.env,,{TOKEN},{TOKEN},2,2,8,31,,,,,repo/app/a.env:test-token:2,test token"
        )
    );

    let (ws2, repo2) = workspace();
    write(&repo2, "a.txt", "clean\n");
    let (code, _) = report_text(ws2.path(), &["-r", "empty.csv"]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(ws2.path().join("empty.csv")).unwrap(), b"");
}

#[test]
fn junit_counts_failures_and_escapes_xml() {
    let (ws, _repo) = fixture();
    let (code, text) = report_text(ws.path(), &["-r", "-", "-f", "junit"]);
    assert_eq!(code, 1);
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"));
    assert!(text.contains("<testsuite failures=\"3\" name=\"portcullis\" tests=\"3\" time=\"\">"));
    assert_eq!(text.matches("<testcase ").count(), 3);
    assert_eq!(text.matches("</failure>").count(), 3);
    assert!(text.ends_with("</testsuite>\n</testsuites>"));
    // The finding JSON inside <failure> is XML-escaped; raw < or & never appear in text.
    let body: String = text
        .split("<failure")
        .skip(1)
        .map(|s| {
            s.split_once('>')
                .unwrap()
                .1
                .split("</failure>")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!body.contains('<') && !body.contains('"'));
    assert!(body.contains("&#34;RuleID&#34;"));
    assert!(text.contains("test-token has detected a secret in file repo/app/a.env, line 2."));
    assert_well_formed_xml(&text);
}

/// Minimal XML well-formedness check: balanced, properly nested elements, quoted attributes,
/// no raw `<` or `&` outside markup and entity references.
fn assert_well_formed_xml(text: &str) {
    let body = text
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .expect("XML declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let (chars, tail) = rest.split_at(open);
        for (i, _) in chars.match_indices('&') {
            let ent = &chars[i..];
            assert!(
                [
                    "&amp;", "&lt;", "&gt;", "&#34;", "&#39;", "&#xA;", "&#x9;", "&#xD;"
                ]
                .iter()
                .any(|e| ent.starts_with(e)),
                "bad entity at {}",
                &ent[..ent.len().min(12)]
            );
        }
        let close = tail.find('>').expect("unterminated tag");
        let tag = &tail[1..close];
        assert!(!tag.contains('<'), "raw < inside a tag: {tag}");
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            stack.push(
                tag.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        rest = &tail[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert!(rest.trim().is_empty());
}

#[test]
fn format_is_taken_from_flag_then_extension_then_json() {
    let (ws, _repo) = fixture();
    report_text(ws.path(), &["-r", "r.sarif"]);
    report_text(ws.path(), &["-r", "r.txt"]);
    report_text(ws.path(), &["-r", "r.out", "-f", "CSV"]);
    let sarif = std::fs::read_to_string(ws.path().join("r.sarif")).unwrap();
    assert!(sarif.contains("\"version\": \"2.1.0\""));
    let txt = std::fs::read_to_string(ws.path().join("r.txt")).unwrap();
    assert!(serde_json::from_str::<Vec<serde_json::Value>>(&txt).is_ok());
    let csv = std::fs::read_to_string(ws.path().join("r.out")).unwrap();
    assert!(csv.starts_with("RuleID,Commit,"));
}

#[test]
fn junit_without_findings_is_an_empty_suite() {
    let (ws, repo) = workspace();
    write(&repo, "a.txt", "clean\n");
    let (code, text) = report_text(ws.path(), &["-r", "-", "-f", "junit"]);
    assert_eq!(code, 0);
    assert!(text.contains(
        "<testsuite failures=\"0\" name=\"portcullis\" tests=\"0\" time=\"\"></testsuite>"
    ));
    assert_well_formed_xml(&text);
}

#[cfg(unix)]
fn mkfifo(p: &std::path::Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

#[cfg(unix)]
#[test]
fn scan_report_to_a_fifo_or_a_symlink_to_one_is_written_into_it_never_replacing_it() {
    use std::os::unix::fs::FileTypeExt;
    let (ws, _repo) = fixture();
    let fifo = ws.path().join("out.fifo");
    mkfifo(&fifo);
    let link = ws.path().join("out-link.json");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    for target in [&fifo, &link] {
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || std::fs::read(reader_path).unwrap_or_default());
        let (code, _) = report_text(ws.path(), &["-r", target.to_str().unwrap()]);
        assert_eq!(code, 1);
        // Checked before joining: a replaced FIFO would leave the reader blocked.
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        let got = String::from_utf8(reader.join().unwrap()).unwrap();
        assert!(got.starts_with("[\n {\n  \"RuleID\": "), "{got}");
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[cfg(unix)]
#[test]
fn scan_report_through_a_symlink_to_a_regular_file_keeps_the_link() {
    let (ws, _repo) = fixture();
    let real = ws.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = ws.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (code, _) = report_text(ws.path(), &["-r", link.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(std::fs::read_to_string(&real).unwrap().contains("RuleID"));
}

#[test]
fn scan_report_to_a_directory_is_refused_with_exit_2() {
    let (ws, _repo) = fixture();
    std::fs::create_dir(ws.path().join("outdir")).unwrap();
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-r",
            "outdir",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    assert!(ws.path().join("outdir").is_dir());
}
