//! JUnit XML report, shaped after gitleaks' `report/junit.go`.
//!
//! One `<testsuite>` whose testcases are the findings; each `<failure>` carries the finding as
//! tab-indented JSON (Go's `json.MarshalIndent(f, "", "\t")`). Text is escaped the way Go's
//! `encoding/xml` escapes it (`&#34;` for `"`, `&#xA;` for newlines, ...). The suite is named
//! `portcullis`.

use super::json::finding_to_gojson;
use crate::report::Finding;

/// Append `s` escaped as Go's `xml.EscapeText` does (also used for attribute values).
/// Characters that XML 1.0 cannot carry are replaced by U+FFFD.
pub fn xml_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn message(f: &Finding) -> String {
    if f.commit.is_empty() {
        format!(
            "{} has detected a secret in file {}, line {}.",
            f.rule_id, f.file, f.start_line
        )
    } else {
        format!(
            "{} has detected a secret in file {}, line {}, at commit {}.",
            f.rule_id, f.file, f.start_line, f.commit
        )
    }
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    xml_escape(out, value);
    out.push('"');
}

/// Render the JUnit report (no trailing newline, as Go's XML encoder).
pub fn render_junit(findings: &[Finding]) -> String {
    let n = findings.len().to_string();
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n\t<testsuite");
    attr(&mut out, "failures", &n);
    attr(&mut out, "name", "portcullis");
    attr(&mut out, "tests", &n);
    attr(&mut out, "time", "");
    out.push('>');
    for f in findings {
        let msg = message(f);
        out.push_str("\n\t\t<testcase");
        attr(&mut out, "classname", &f.description);
        attr(&mut out, "file", &f.file);
        attr(&mut out, "name", &msg);
        attr(&mut out, "time", "");
        out.push_str(">\n\t\t\t<failure");
        attr(&mut out, "message", &msg);
        attr(&mut out, "type", &f.description);
        out.push('>');
        xml_escape(&mut out, &finding_to_gojson(f).to_indented("", "\t"));
        out.push_str("</failure>\n\t\t</testcase>");
    }
    if !findings.is_empty() {
        out.push_str("\n\t");
    }
    out.push_str("</testsuite>\n</testsuites>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_suite_matches_go_layout() {
        assert_eq!(
            render_junit(&[]),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n\t<testsuite failures=\"0\" name=\"portcullis\" tests=\"0\" time=\"\"></testsuite>\n</testsuites>"
        );
    }

    #[test]
    fn escaping_is_go_style() {
        let mut s = String::new();
        xml_escape(&mut s, "a\"b'<&>\n\t\u{1}");
        assert_eq!(s, "a&#34;b&#39;&lt;&amp;&gt;&#xA;&#x9;\u{FFFD}");
    }
}
