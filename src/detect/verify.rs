//! Structural verification of a secret, which decides a finding's confidence.
//!
//! A rule may name one [`Verification`] (`verify = "…"` in its TOML). A secret that passes it
//! keeps the rule's confidence; a secret that fails it is reported with [`Confidence::Low`]
//! (a token whose checksum is wrong cannot have been issued; a "private key" whose body does
//! not decode to a key is a placeholder; a short dictionary-like password is weak).
//!
//! Every check here is cheap (it runs once per finding, never per byte scanned) and total:
//! malformed input fails the check, it never panics.

use base64::Engine as _;

use super::entropy::shannon_entropy;
use crate::report::Confidence;

/// A structural check a rule can ask for (`verify` rule field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` token: the last 6 characters are the base62
    /// CRC32 of the 30 characters after the prefix.
    GithubCrc32,
    /// npm `npm_` token: same checksum scheme as GitHub's classic tokens.
    NpmCrc32,
    /// A JWT whose header segment decodes to a JSON object with an `alg` member.
    Jwt,
    /// A PEM / OpenSSH / PGP private-key block whose body decodes to a key structure (DER
    /// SEQUENCE, `openssh-key-v1`, an OpenPGP packet) or is declared encrypted.
    PrivateKey,
    /// Base64 that decodes to printable `user:password` (HTTP Basic, Docker `auth`).
    Base64UserPass,
    /// A generic value that looks random: letters and digits mixed, not a word sequence.
    SecretShape,
    /// A password that is not weak: long enough with several character classes.
    PasswordStrength,
}

impl Verification {
    /// All names accepted in the `verify` rule field.
    pub const NAMES: [&'static str; 7] = [
        "github-crc32",
        "npm-crc32",
        "jwt",
        "private-key",
        "base64-user-pass",
        "secret-shape",
        "password-strength",
    ];

    /// Parse a `verify` value.
    pub fn parse(name: &str) -> Option<Verification> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "github-crc32" => Verification::GithubCrc32,
            "npm-crc32" => Verification::NpmCrc32,
            "jwt" => Verification::Jwt,
            "private-key" => Verification::PrivateKey,
            "base64-user-pass" => Verification::Base64UserPass,
            "secret-shape" => Verification::SecretShape,
            "password-strength" => Verification::PasswordStrength,
            _ => return None,
        })
    }

    /// Whether `secret` passes this check.
    pub fn check(self, secret: &str) -> bool {
        match self {
            Verification::GithubCrc32 => github_style_checksum_ok(secret, &["gh"]),
            Verification::NpmCrc32 => github_style_checksum_ok(secret, &["npm_"]),
            Verification::Jwt => jwt_header_ok(secret),
            Verification::PrivateKey => private_key_body_ok(secret),
            Verification::Base64UserPass => base64_user_pass_ok(secret),
            Verification::SecretShape => secret_shape_ok(secret),
            Verification::PasswordStrength => password_strength_ok(secret),
        }
    }
}

/// The confidence of a finding of a rule with base confidence `base` and check `verify`.
pub fn confidence_of(base: Confidence, verify: Option<Verification>, secret: &str) -> Confidence {
    match verify {
        Some(v) if !v.check(secret) => Confidence::Low,
        _ => base,
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Decode base62 digits (`0-9A-Za-z`, most significant first).
fn base62_value(s: &str) -> Option<u64> {
    let mut v: u64 = 0;
    for c in s.bytes() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        v = v.checked_mul(62)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// `PREFIX` + 30 base62 characters + 6 base62 characters of their CRC32.
fn github_style_checksum_ok(secret: &str, prefixes: &[&str]) -> bool {
    // The token may be embedded in a longer secret (e.g. a URL); find it by its prefix.
    let start = prefixes
        .iter()
        .filter_map(|p| secret.find(p))
        .min()
        .unwrap_or(0);
    let tok = &secret[start..];
    let Some(body) = tok.get(4..40) else {
        return false;
    };
    if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62_value(check) == Some(u64::from(crc32(random.as_bytes())))
}

fn b64_any(s: &str) -> Option<Vec<u8>> {
    let t = s.trim_end_matches('=');
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let std = base64::engine::general_purpose::STANDARD_NO_PAD;
    url.decode(t).or_else(|_| std.decode(t)).ok()
}

/// The header segment is base64url JSON with an `alg` member.
fn jwt_header_ok(secret: &str) -> bool {
    let Some(header) = secret.split('.').next() else {
        return false;
    };
    let Some(bytes) = b64_any(header) else {
        return false;
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(m)) => m.get("alg").is_some_and(|a| a.is_string()),
        _ => false,
    }
}

/// The body of a `-----BEGIN … PRIVATE KEY-----` block decodes to a key structure.
fn private_key_body_ok(secret: &str) -> bool {
    // JSON and other escaped forms carry the newlines as `\n`.
    let text = secret.replace("\\r", "\n").replace("\\n", "\n");
    let mut lines = text.lines().map(str::trim);
    let Some(first) = lines.next() else {
        return false;
    };
    let pgp = first.contains("PGP");
    let mut body = String::new();
    for line in lines {
        if line.starts_with("-----END") {
            break;
        }
        if line.contains(':') {
            // RFC 1421 headers: `Proc-Type: 4,ENCRYPTED` declares an encrypted key.
            if line.to_ascii_uppercase().contains("ENCRYPTED") {
                return true;
            }
            continue;
        }
        if pgp && line.starts_with('=') {
            // The OpenPGP armour checksum line.
            continue;
        }
        body.push_str(line);
    }
    let Some(der) = b64_any(&body) else {
        return false;
    };
    if der.len() < 32 {
        return false;
    }
    if pgp {
        // An OpenPGP packet header has its high bit set.
        return der[0] & 0x80 != 0;
    }
    if der.starts_with(b"openssh-key-v1\0") {
        return true;
    }
    // A DER SEQUENCE whose length covers the decoded body.
    der_sequence_len(&der).is_some_and(|n| n <= der.len() && der.len() - n <= 8)
}

/// Total length (header included) of a DER SEQUENCE at the start of `der`.
fn der_sequence_len(der: &[u8]) -> Option<usize> {
    if der.first() != Some(&0x30) {
        return None;
    }
    let l0 = *der.get(1)?;
    if l0 < 0x80 {
        return Some(2 + usize::from(l0));
    }
    let n = usize::from(l0 & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*der.get(2 + i)?);
    }
    Some(2 + n + len)
}

/// Base64 of printable `user:password` whose password is not weak (`tobi:ferret` in a test of
/// HTTP Basic parsing is not a credential to block on).
fn base64_user_pass_ok(secret: &str) -> bool {
    let Some(bytes) = b64_any(secret) else {
        return false;
    };
    let Ok(s) = std::str::from_utf8(&bytes) else {
        return false;
    };
    let Some((user, pass)) = s.split_once(':') else {
        return false;
    };
    !user.is_empty()
        && password_strength_ok(pass)
        && s.chars().all(|c| !c.is_control())
        && !user.contains(char::is_whitespace)
}

/// Splits a value into runs of ASCII letters and digits; true when there are two or more runs
/// and every run is a "word": a number of up to 6 digits, ALL CAPS letters with up to 3
/// digits, or camel-case words (`[A-Z]?[a-z]+` each, with up to 3 digits after each).
/// `section.sub=section.val1`, `contrib/credential/osxkeychain`, `fsync/writeout-only`,
/// `win32api.RegOpenKeyEx`, `rsa-2048-private-key.pk8`.
pub fn is_word_sequence(s: &str) -> bool {
    let mut runs = 0;
    for run in s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|r| !r.is_empty())
    {
        runs += 1;
        if !is_word_run(run.as_bytes()) {
            return false;
        }
    }
    runs >= 2
}

fn is_word_run(run: &[u8]) -> bool {
    if run.iter().all(u8::is_ascii_digit) {
        return run.len() <= 6;
    }
    let caps = run.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if caps > 0 && run[caps..].iter().all(u8::is_ascii_digit) && run.len() - caps <= 3 {
        return true;
    }
    // Camel-case words: ([A-Z][a-z]+ | [a-z]{2,}) [0-9]{0,3}, repeated.
    let mut i = 0;
    while i < run.len() {
        let upper = usize::from(run[i].is_ascii_uppercase());
        i += upper;
        let lower = run[i..]
            .iter()
            .take_while(|c| c.is_ascii_lowercase())
            .count();
        if lower == 0 || upper + lower < 2 {
            return false;
        }
        i += lower;
        let digits = run[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 3 {
            return false;
        }
        i += digits;
    }
    true
}

/// A generic value that looks machine-generated.
fn secret_shape_ok(secret: &str) -> bool {
    let s = secret.trim();
    if s.len() < 16 || is_word_sequence(s) || is_encoded_text(s) {
        return false;
    }
    let letters = s.bytes().filter(u8::is_ascii_alphabetic).count();
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if letters == 0 || digits == 0 {
        return false;
    }
    let e = shannon_entropy(s.as_bytes());
    // Hex strings have at most 4 bits per character; mixed alphabets need more.
    let hex = s.bytes().all(|b| b.is_ascii_hexdigit());
    if hex { e >= 3.0 } else { e >= 3.5 }
}

/// Whether `s` is base64 (standard or URL alphabet, canonical padding) of printable text that
/// itself does not look machine-generated: `YW5vdGhlci10b2tlbg==` is `another-token`. Random
/// key material decodes to binary; an encoded credential that is random itself
/// (`user:q8Zr2LmX0vB7nT4kY1pW`) still passes [`secret_shape_ok`] once decoded.
fn is_encoded_text(s: &str) -> bool {
    let unpadded = s.trim_end_matches('=');
    if !s.len().is_multiple_of(4) || s.len() - unpadded.len() > 2 || unpadded.contains('=') {
        return false;
    }
    let Some(bytes) = b64_any(s) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    if text.is_empty() || !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return false;
    }
    // A `user:password` pair is judged by its password.
    let judged = text.split_once(':').map_or(text, |(_, pass)| pass);
    !secret_shape_ok(judged)
}

/// Character classes present: lower, upper, digit, other.
fn classes(s: &str) -> usize {
    let mut c = [false; 4];
    for ch in s.chars() {
        let i = if ch.is_ascii_lowercase() {
            0
        } else if ch.is_ascii_uppercase() {
            1
        } else if ch.is_ascii_digit() {
            2
        } else {
            3
        };
        c[i] = true;
    }
    c.iter().filter(|x| **x).count()
}

/// Not a weak password: 8+ characters with 3+ classes, 10+ with 2+, or 16+ of anything, and
/// not mostly repeated characters.
fn password_strength_ok(secret: &str) -> bool {
    let s = secret.trim();
    let n = s.chars().count();
    let k = classes(s);
    let strong = (n >= 8 && k >= 3) || (n >= 10 && k >= 2) || n >= 16;
    if !strong {
        return false;
    }
    let distinct = {
        let mut v: Vec<char> = s.chars().collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    distinct * 2 >= n.min(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a GitHub-style token with a valid checksum (as the vendor does).
    fn with_checksum(prefix: &str, random: &str) -> String {
        let mut v = u64::from(crc32(random.as_bytes()));
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut check = [b'0'; 6];
        for slot in check.iter_mut().rev() {
            *slot = alphabet[(v % 62) as usize];
            v /= 62;
        }
        format!("{prefix}{random}{}", std::str::from_utf8(&check).unwrap())
    }

    #[test]
    fn crc32_matches_the_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn github_checksum_accepts_valid_and_rejects_altered_tokens() {
        let t = with_checksum("ghp_", "Zq3xV8mK2pL9wR4tY7uN1bC6dF0gH5");
        assert!(Verification::GithubCrc32.check(&t));
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert!(!Verification::GithubCrc32.check(&String::from_utf8(bad).unwrap()));
        assert!(!Verification::GithubCrc32.check("ghp_short"));
        let n = with_checksum("npm_", "Zq3xV8mK2pL9wR4tY7uN1bC6dF0gH5");
        assert!(Verification::NpmCrc32.check(&n));
        assert!(Verification::GithubCrc32.check(&format!("https://x:{t}@github.com")));
    }

    #[test]
    fn jwt_needs_a_json_header_with_alg() {
        // {"alg":"HS256","typ":"JWT"}
        let ok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2ln";
        assert!(Verification::Jwt.check(ok));
        // {"typ":"JWT"}
        assert!(!Verification::Jwt.check("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln"));
        assert!(!Verification::Jwt.check("eyJ%%%.x.y"));
    }

    #[test]
    fn private_key_body_must_decode_to_a_key_structure() {
        let der: Vec<u8> = [0x30u8, 0x82, 0x00, 0x40]
            .into_iter()
            .chain((0..0x40).map(|i| i as u8))
            .collect();
        // Key-shaped test inputs are assembled at run time, so this file holds none.
        let (begin, end) = (
            concat!("-----BEGIN RSA ", "PRIVATE KEY-----"),
            concat!("-----END RSA ", "PRIVATE KEY-----"),
        );
        let b = base64::engine::general_purpose::STANDARD.encode(&der);
        let pem = format!("{begin}\n{b}\n{end}");
        assert!(Verification::PrivateKey.check(&pem));
        assert!(Verification::PrivateKey.check(&pem.replace('\n', "\\n")));
        let junk = format!("{begin}\n{}\n{end}", "QUFB".repeat(16));
        assert!(!Verification::PrivateKey.check(&junk));
        let ossh = base64::engine::general_purpose::STANDARD
            .encode(b"openssh-key-v1\0\0\0\0\x04none\0\0\0\x04none\0\0\0\0\0\0\0\x01");
        let ossh = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{ossh}\n-----END OPENSSH PRIVATE KEY-----"
        );
        assert!(Verification::PrivateKey.check(&ossh));
        let enc = format!("{begin}\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nzz\n{end}");
        assert!(Verification::PrivateKey.check(&enc));
    }

    #[test]
    fn base64_user_pass_decodes_to_user_colon_password() {
        let ok = base64::engine::general_purpose::STANDARD.encode("deploy:S3cr3t-pass");
        assert!(Verification::Base64UserPass.check(&ok));
        let no = base64::engine::general_purpose::STANDARD.encode("just some text");
        assert!(!Verification::Base64UserPass.check(&no));
        let weak = base64::engine::general_purpose::STANDARD.encode("bob:hamster");
        assert!(!Verification::Base64UserPass.check(&weak));
    }

    #[test]
    fn word_sequences_are_not_secret_shaped() {
        for s in [
            "section.sub=section.val1",
            "contrib/credential/osxkeychain",
            "fsync/writeout-only",
            "action_dispatch.secret_key_base",
            "~/.git-credentials",
            "MY_APP_SECRET_TOKEN",
            "win32api.RegOpenKeyEx",
            "rsa-2048-private-key.pk8",
        ] {
            assert!(is_word_sequence(s), "{s}");
            assert!(!Verification::SecretShape.check(s), "{s}");
        }
        assert!(Verification::SecretShape.check("q8Zr2LmX0vB7nT4kY1pW"));
        assert!(Verification::SecretShape.check("3f9a1c0e7b2d4f6a8c1e3b5d7f9a0c2e"));
        assert!(!Verification::SecretShape.check("abcdefghijklmnopqrst"));
        assert!(Verification::SecretShape.check("aB3+xY9/Qw7Zk2Lp+Rt5Mn8V"));
    }

    #[test]
    fn base64_of_plain_words_is_not_secret_shaped() {
        let enc = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        for text in [
            "another-token",
            "alice:secret-passwd",
            "a-git-token",
            "hello world, this is text",
        ] {
            let s = enc(text);
            assert!(is_encoded_text(&s), "{text}");
            assert!(!Verification::SecretShape.check(&s), "{text}");
        }
        // Random key material decodes to binary; a random password inside stays secret-shaped.
        for text in [
            "deploy:q8Zr2LmX0vB7nT4kY1pW",
            "3f9a1c0e7b2d4f6a8c1e3b5d7f9a0c2e",
        ] {
            assert!(Verification::SecretShape.check(&enc(text)), "{text}");
        }
        let binary = base64::engine::general_purpose::STANDARD.encode([
            0x9cu8, 0x01, 0xfe, 0x33, 0x80, 0x7f, 0x12, 0xaa, 0x45, 0xd0, 0x0b, 0xee, 0x61, 0x02,
            0xc4, 0x99,
        ]);
        assert!(!is_encoded_text(&binary));
        assert!(Verification::SecretShape.check(&binary));
    }

    #[test]
    fn weak_passwords_fail_the_strength_check() {
        for s in ["hunter22", "aaaaaaaaaaaa", "Password", "letmein1"] {
            assert!(!Verification::PasswordStrength.check(s), "{s}");
        }
        for s in ["Tr0ub4dor&3x", "k9#Lm2!pQz", "correcthorsebatterystaple"] {
            assert!(Verification::PasswordStrength.check(s), "{s}");
        }
    }

    #[test]
    fn failing_verification_lowers_confidence() {
        assert_eq!(
            confidence_of(Confidence::High, Some(Verification::Jwt), "x.y.z"),
            Confidence::Low
        );
        assert_eq!(
            confidence_of(Confidence::Medium, None, "x"),
            Confidence::Medium
        );
    }
}
