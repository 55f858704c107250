//! Shannon entropy exactly as gitleaks computes it: count characters (invalid UTF-8 bytes
//! each count as U+FFFD), divide each count by the **byte** length.

/// Entropy of `data` in bits per byte-length unit (gitleaks `shannonEntropy`).
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut ascii = [0u32; 128];
    let mut other: Vec<(char, u32)> = Vec::new();
    let mut bump = |c: char| {
        if (c as u32) < 128 {
            ascii[c as usize] += 1;
        } else if let Some(e) = other.iter_mut().find(|e| e.0 == c) {
            e.1 += 1;
        } else {
            other.push((c, 1));
        }
    };
    for chunk in data.utf8_chunks() {
        chunk.valid().chars().for_each(&mut bump);
        for _ in chunk.invalid() {
            bump(char::REPLACEMENT_CHARACTER);
        }
    }
    let inv = 1.0 / data.len() as f64;
    let mut e = 0.0;
    for &n in ascii.iter().chain(other.iter().map(|x| &x.1)) {
        if n > 0 {
            let f = f64::from(n) * inv;
            e -= f * f.log2();
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_classic_formula_for_ascii() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"ab") - 1.0).abs() < 1e-12);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-12);
    }

    #[test]
    fn non_ascii_divides_by_byte_length() {
        // "éé": one rune counted twice, byte length 4 → p = 0.5, entropy 0.5.
        let e = shannon_entropy("éé".as_bytes());
        assert!((e - 0.5).abs() < 1e-12, "{e}");
    }
}
