//! The structural checks a rule can name in its `verify` field. The checks themselves run in
//! the detector ([`crate::detect::confidence_of`]).

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
}
