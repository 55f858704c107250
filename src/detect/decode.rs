//! Decoding of encoded segments (gitleaks detect/codec): percent, unicode escapes, hex and
//! base64, found by one combined regex and spliced into the text for the next detection
//! pass, with enough bookkeeping to map a decoded match back to the encoded original.

use std::sync::OnceLock;

use base64::Engine as _;
use portcullis_unsafe::simd::{Classes, Classifier};
use regex_automata::meta::Regex;

use crate::rules::goregex;

/// Encoding kinds, as bit flags (gitleaks order and names).
pub(crate) const PERCENT: u8 = 1;
pub(crate) const UNICODE: u8 = 2;
pub(crate) const HEX: u8 = 4;
pub(crate) const BASE64: u8 = 8;
const NAMES: [&str; 4] = ["percent", "unicode", "hex", "base64"];

/// A half-open-ish byte span; gitleaks treats touching spans as overlapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as i64,
            end: end as i64,
        }
    }
    fn sub(self, o: Span) -> Span {
        Span {
            start: self.start - o.start,
            end: self.end - o.end,
        }
    }
    fn add(self, o: Span) -> Span {
        Span {
            start: self.start + o.start,
            end: self.end + o.end,
        }
    }
    /// The span as a byte range (negative ends clamp to 0).
    pub fn range(self) -> std::ops::Range<usize> {
        let at = |x: i64| usize::try_from(x).unwrap_or(0);
        at(self.start)..at(self.end).max(at(self.start))
    }
    /// Inclusive overlap (touching counts), as in gitleaks.
    pub fn overlaps(self, o: Span) -> bool {
        o.start <= self.end && o.end >= self.start
    }
    fn contains(self, o: Span) -> bool {
        self.start <= o.start && o.end <= self.end
    }
    fn overflow(self, o: Span) -> Span {
        self.merge(o).sub(self)
    }
    fn merge(self, o: Span) -> Span {
        Span {
            start: self.start.min(o.start),
            end: self.end.max(o.end),
        }
    }
}

/// One decoded segment of one pass.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// Span in the original fragment text.
    pub original: Span,
    /// Span of the encoded text in the previous pass' text.
    pub encoded: Span,
    /// Span of the decoded text in this pass' text.
    pub decoded: Span,
    /// Encodings (bit flags), inherited from enclosing layers.
    pub encodings: u8,
    /// Decode depth (1 = decoded once).
    pub depth: u32,
}

/// Decoding state for one fragment: the segments of every pass so far.
#[derive(Default)]
pub(crate) struct Decoder {
    /// `passes[k]` = segments produced by the (k+1)-th decode.
    pub passes: Vec<Vec<Segment>>,
}

#[cfg(test)]
fn encodings_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        let pat = concat!(
            r"(?:%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?)",
            r"|(?:(?:U\+[a-fA-F0-9]{4}(?:\s|$))+|(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+)",
            r"|(?:[0-9A-Fa-f]{32,})",
            r"|(?:[\w\/+-]{16,}={0,2})"
        );
        goregex::compile_go(pat).ok()
    })
    .as_ref()
}

fn unicode_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        goregex::compile_go(r"(?:(?:U\+[a-fA-F0-9]{4}(?:\s|$))+|(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+)")
            .ok()
    })
    .as_ref()
}

fn percent_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| goregex::compile_go(r"%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?").ok())
        .as_ref()
}

/// End of the anchored match of `re` at `at`, if any.
fn anchored_end(re: Option<&Regex>, data: &[u8], at: usize) -> Option<usize> {
    re?.find(
        regex_automata::Input::new(data)
            .range(at..)
            .anchored(regex_automata::Anchored::Yes),
    )
    .map(|m| m.end())
}

const B64: u8 = 1;
const HEXC: u8 = 2;
/// `%` and `\` (may start a percent or unicode escape).
const SPEC: u8 = 8;

/// Byte classes: `[\w/+-]` (base64 alternative) and `[0-9A-Fa-f]`.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || b == b'+' || b == b'-' {
            t[i] |= B64;
        }
        if b.is_ascii_hexdigit() {
            t[i] |= HEXC;
        }
        if b == b'%' || b == b'\\' {
            t[i] |= SPEC;
        }
        i += 1;
    }
    t
};

fn run_len(data: &[u8], from: usize, class: u8) -> usize {
    let rest = &data[from..];
    let mut k = 0usize;
    while k < rest.len() && CLASS[rest[k] as usize] & class != 0 {
        k += 1;
    }
    k
}

/// Per-position bit masks of a text, 64 positions a word (bit `k` of word `w` is position
/// `64·w + k`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Masks {
    /// The byte is in `[\w/+-]` (the base64 alternative's class).
    b64: Vec<u64>,
    /// A candidate may start here: a run of at least 16 such bytes starts here, or the byte
    /// is `%` or `\`, or a `U` followed by `+` (a percent or unicode escape may start here).
    starts: Vec<u64>,
}

/// Class bits of up to 64 bytes: `(b64, pct_or_backslash, u, plus)` (the reference of
/// `portcullis_unsafe::simd::Classifier`, from this module's class table).
#[cfg(test)]
fn classify_scalar(chunk: &[u8]) -> (u64, u64, u64, u64) {
    let (mut b, mut s, mut u, mut p) = (0u64, 0u64, 0u64, 0u64);
    for (k, &c) in chunk.iter().enumerate() {
        let bit = 1u64 << k;
        if CLASS[c as usize] & B64 != 0 {
            b |= bit;
        }
        if CLASS[c as usize] & SPEC != 0 {
            s |= bit;
        }
        if c == b'U' {
            u |= bit;
        }
        if c == b'+' {
            p |= bit;
        }
    }
    (b, s, u, p)
}

impl Masks {
    fn of(data: &[u8]) -> Masks {
        let words = data.len().div_ceil(64);
        let mut b64 = vec![0u64; words];
        let mut starts = vec![0u64; words];
        let classifier = Classifier::detect();
        for (w, chunk) in data.chunks(64).enumerate() {
            let Classes {
                base64: b,
                escape: s,
                u,
                plus,
            } = classifier.classify(chunk);
            b64[w] = b;
            // A `U` counts when a `+` follows it (for the last bit: the next chunk's first).
            let plus_next = (plus >> 1) | u64::from(data.get(w * 64 + 64) == Some(&b'+')) << 63;
            starts[w] = s | (u & plus_next);
        }
        let mut next = 0u64;
        for w in (0..words).rev() {
            // Bit k of `m` after the folds: positions k..k+15 are all in the class.
            let lo = u128::from(b64[w]) | (u128::from(next) << 64);
            let mut m = lo & (lo >> 1);
            m &= m >> 2;
            m &= m >> 4;
            m &= m >> 8;
            starts[w] |= m as u64;
            next = b64[w];
        }
        Masks { b64, starts }
    }

    /// The first position at or after `from` where a candidate may start.
    fn next_start(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut bits = *self.starts.get(w)?;
        bits &= u64::MAX << (from % 64);
        loop {
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            bits = *self.starts.get(w)?;
        }
    }

    /// Whether position `i` is in the base64 class.
    fn is_b64(&self, i: usize) -> bool {
        self.b64[i / 64] >> (i % 64) & 1 != 0
    }

    /// End of the run of base64-class bytes starting at `i` (`i` itself if none).
    fn run_end(&self, i: usize) -> usize {
        let mut w = i / 64;
        let mut inv = !self.b64[w] & (u64::MAX << (i % 64));
        loop {
            if inv != 0 {
                return w * 64 + inv.trailing_zeros() as usize;
            }
            w += 1;
            match self.b64.get(w) {
                Some(b) => inv = !b,
                None => return w * 64,
            }
        }
    }
}

/// All matches of gitleaks' combined encodings regex
/// `(?P<percent>…)|(?P<unicode>…)|(?P<hex>[0-9A-Fa-f]{32,})|(?P<base64>[\w\/+-]{16,}={0,2})`
/// (leftmost-first, non-overlapping) with their kind: at each position the first alternative
/// (in priority order) that matches there wins, and the leftmost position with any match is
/// taken. Only positions where a run of 16 base64-class bytes starts, or a `%`, `\` or `U+`,
/// can start a match (a hex match is also a base64-class run of 16); bit masks of those
/// (computed 16 bytes at a time) find them without looking at other bytes. Only `%`, `U+`
/// and `\` positions need a regex. Checked against the regex by a property test.
fn candidates(data: &[u8]) -> Vec<(u8, Span)> {
    let n = data.len();
    let masks = Masks::of(data);
    let mut out = Vec::new();
    let mut from = 0usize;
    while let Some(i) = masks.next_start(from) {
        let b = data[i];
        let special = match b {
            b'%' => anchored_end(percent_regex(), data, i).map(|e| (PERCENT, e)),
            b'\\' => anchored_end(unicode_regex(), data, i).map(|e| (UNICODE, e)),
            b'U' if data.get(i + 1) == Some(&b'+') => {
                anchored_end(unicode_regex(), data, i).map(|e| (UNICODE, e))
            }
            _ => None,
        };
        if let Some((kind, e)) = special {
            out.push((kind, Span::new(i, e)));
            from = e;
            continue;
        }
        if !masks.is_b64(i) {
            from = i + 1;
            continue;
        }
        let run_end = masks.run_end(i);
        if run_end - i < 16 {
            // A `U+` whose escape did not match, in a short run.
            from = i + 1;
            continue;
        }
        let hex_len = run_len(data, i, HEXC);
        if hex_len >= 32 {
            out.push((HEX, Span::new(i, i + hex_len)));
            from = i + hex_len;
            continue;
        }
        let mut e = run_end;
        while e < n && e - run_end < 2 && data[e] == b'=' {
            e += 1;
        }
        out.push((BASE64, Span::new(i, e)));
        from = e;
    }
    out
}

/// [`decode_base64`] without the quick quantum check (tests only).
#[cfg(test)]
fn decode_base64_reference(enc: &[u8]) -> Vec<u8> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    if !enc
        .iter()
        .any(|b| b.is_ascii_digit() || matches!(b, b'+' | b'/' | b'-' | b'_'))
    {
        return Vec::new();
    }
    let configs = [
        (
            &base64::alphabet::STANDARD,
            DecodePaddingMode::RequireCanonical,
        ),
        (&base64::alphabet::URL_SAFE, DecodePaddingMode::RequireNone),
    ];
    for (alphabet, padding) in configs {
        let engine = GeneralPurpose::new(
            alphabet,
            GeneralPurposeConfig::new()
                .with_decode_allow_trailing_bits(true)
                .with_decode_padding_mode(padding),
        );
        if let Ok(v) = base64::Engine::decode(&engine, enc)
            && v.iter().all(|&b| printable(b))
        {
            return v;
        }
    }
    Vec::new()
}

/// Reference implementation of [`candidates`] with the combined regex (tests only).
#[cfg(test)]
fn candidates_regex(data: &[u8]) -> Vec<(u8, Span)> {
    assert!(encodings_regex().is_some());
    let mut all = Vec::new();
    let mut input = regex_automata::Input::new(data);
    let full = goregex::compile_go(concat!(
        r"(%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?)",
        r"|((?:(?:U\+[a-fA-F0-9]{4}(?:\s|$))+|(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+))",
        r"|([0-9A-Fa-f]{32,})",
        r"|([\w\/+-]{16,}={0,2})"
    ))
    .unwrap();
    let mut caps = full.create_captures();
    loop {
        full.search_captures(&input, &mut caps);
        let Some(m) = caps.get_match() else { break };
        for (g, kind) in [(1, PERCENT), (2, UNICODE), (3, HEX), (4, BASE64)] {
            if let Some(sp) = caps.get_group(g) {
                all.push((kind, Span::new(sp.start, sp.end)));
            }
        }
        input.set_start(m.end().max(m.start() + 1));
        if input.start() > data.len() {
            break;
        }
    }
    all
}

fn precedence(kind: u8) -> u8 {
    match kind {
        PERCENT => 4,
        UNICODE => 3,
        HEX => 2,
        _ => 1,
    }
}

/// Cheap test: could `data` contain anything the decoder would try to decode?
pub(crate) fn may_contain_encoded(data: &[u8]) -> bool {
    let masks = Masks::of(data);
    for (w, &bits) in masks.starts.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let i = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let next = data.get(i + 1).copied().unwrap_or(0);
            let hit = match data[i] {
                b'%' => {
                    next.is_ascii_hexdigit() && data.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                }
                b'\\' => matches!(next, b'u' | b'U' | b'\\'),
                _ => true, // a run of 16 base64-class bytes, or `U+`
            };
            if hit {
                return true;
            }
        }
    }
    false
}

/// The segments one decode pass finds in `data` that decode to something: `(kind, span,
/// decoded value)`, spans offset by `at` (the position of `data` in a larger text), and
/// whether some candidate span holds a `\n`. Candidates lie within one line, except a
/// `U+XXXX` run whose `\s` takes a line end; without such a run, a pass over a run of whole
/// lines finds exactly the segments that a pass over the whole text finds on those lines
/// (a candidate is dropped only for one it touches).
fn live_segments(data: &[u8], at: usize) -> (Vec<(u8, Span, Vec<u8>)>, bool) {
    if data.is_empty() {
        return (Vec::new(), false);
    }
    let all = candidates(data);
    let crosses = all
        .iter()
        .any(|(kind, sp)| *kind == UNICODE && data[sp.range()].contains(&b'\n'));
    let total = all.len();
    let mut out = Vec::new();
    for i in 0..total {
        let (kind, sp) = all[i];
        if total > 1 {
            if i > 0 {
                let (pk, ps) = all[i - 1];
                if sp.overlaps(ps) && precedence(pk) > precedence(kind) {
                    continue;
                }
            }
            if i + 1 < total {
                let (nk, ns) = all[i + 1];
                if sp.overlaps(ns) && precedence(nk) > precedence(kind) {
                    continue;
                }
            }
        }
        let value = decode_one(kind, &data[sp.range()]);
        if !value.is_empty() {
            let off = at as i64;
            out.push((
                kind,
                Span {
                    start: sp.start + off,
                    end: sp.end + off,
                },
                value,
            ));
        }
    }
    (out, crosses)
}

/// One decode pass for the history engine's candidate test, restricted to `lines` (runs of
/// whole lines of `data`, sorted; `None` = all of it): a pass over the whole text finds no
/// other segments when every line outside `lines` holds only segments that decode to nothing
/// (see [`live_segments`]).
#[derive(Debug, Default)]
pub(crate) struct Step {
    /// The next pass' text.
    pub text: Vec<u8>,
    /// The encoded spans in the input text, in order.
    pub encoded: Vec<Span>,
    /// The decoded spans in [`Step::text`], in order.
    pub decoded: Vec<Span>,
    /// Some candidate span of the pass holds a line end.
    pub crosses_line: bool,
}

/// Run one decode pass over `lines` of `data` (see [`Step`]); `None` when nothing decodes.
pub(crate) fn decode_step(data: &[u8], lines: Option<&[std::ops::Range<usize>]>) -> Option<Step> {
    let all = 0..data.len();
    let lines = lines.unwrap_or(std::slice::from_ref(&all));
    let mut step = Step::default();
    let mut at = 0usize;
    let mut values = Vec::new();
    for r in lines {
        let (segments, crosses) = live_segments(&data[r.clone()], r.start);
        step.crosses_line |= crosses;
        values.extend(segments.into_iter().map(|(_, sp, value)| (sp, value)));
    }
    if values.is_empty() && !step.crosses_line {
        return None;
    }
    step.text.reserve(data.len());
    for (sp, value) in values {
        let enc = sp.range();
        step.text.extend_from_slice(&data[at..enc.start]);
        let start = step.text.len();
        step.text.extend_from_slice(&value);
        step.encoded.push(sp);
        step.decoded.push(Span::new(start, step.text.len()));
        at = enc.end;
    }
    step.text.extend_from_slice(&data[at..]);
    Some(step)
}

impl Decoder {
    /// Decode `data` (the current pass' text). Returns the next pass' text, or `None` when
    /// nothing was decoded (the loop stops).
    pub fn decode(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        let segs = self.find_segments(data);
        if segs.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(data.len());
        let mut at = 0usize;
        for (seg, value) in &segs {
            out.extend_from_slice(&data[at..seg.encoded.start as usize]);
            out.extend_from_slice(value);
            at = seg.encoded.end as usize;
        }
        out.extend_from_slice(&data[at..]);
        self.passes.push(segs.into_iter().map(|(s, _)| s).collect());
        Some(out)
    }

    fn find_segments(&mut self, data: &[u8]) -> Vec<(Segment, Vec<u8>)> {
        let (filtered, _) = live_segments(data, 0);
        let preds_level = self.passes.len();
        let mut shift: i64 = 0;
        let mut out = Vec::with_capacity(filtered.len());
        for (kind, sp, value) in filtered {
            let enc = &data[sp.start as usize..sp.end as usize];
            let original = if preds_level == 0 {
                sp
            } else {
                let preds: Vec<&Segment> = self.passes[preds_level - 1].iter().collect();
                to_original(&self.passes, preds_level - 1, &preds, sp)
            };
            let decoded = Span {
                start: sp.start + shift,
                end: sp.start + shift + value.len() as i64,
            };
            shift += value.len() as i64 - enc.len() as i64;
            let mut seg = Segment {
                original,
                encoded: sp,
                decoded,
                encodings: kind,
                depth: 1,
            };
            if preds_level > 0 {
                let preds = &self.passes[preds_level - 1];
                if let Some(p0) = preds.first() {
                    seg.depth = 1 + p0.depth;
                }
                for p in preds {
                    if seg.encoded.overlaps(p.decoded) {
                        seg.encodings |= p.encodings;
                    }
                }
            }
            out.push((seg, value));
        }
        out
    }
}

/// Map a span in the text of the pass after `preds` back to the original fragment
/// (gitleaks `toOriginal`). `preds` are segments of `passes[level]`.
pub(crate) fn to_original(
    passes: &[Vec<Segment>],
    level: usize,
    preds: &[&Segment],
    decoded: Span,
) -> Span {
    if preds.is_empty() {
        return decoded;
    }
    let mut encoded = Span::default();
    for p in preds {
        if !p.decoded.overlaps(decoded) {
            continue;
        }
        if p.decoded.contains(decoded) {
            return p.original;
        }
        let x = p.encoded.add(p.decoded.overflow(decoded));
        encoded = if encoded.end == 0 {
            x
        } else {
            encoded.merge(x)
        };
    }
    if encoded.end == 0 {
        return decoded;
    }
    if level == 0 {
        return encoded;
    }
    let next: Vec<&Segment> = passes[level - 1].iter().collect();
    to_original(passes, level - 1, &next, encoded)
}

/// Tags for a decoded finding: `decoded:<kind>` for each encoding, then `decode-depth:N`.
pub(crate) fn tags(segments: &[&Segment]) -> Vec<String> {
    let Some(first) = segments.first() else {
        return Vec::new();
    };
    let enc = segments.iter().fold(0u8, |a, s| a | s.encodings);
    let mut t: Vec<String> = (0..4)
        .filter(|i| enc & (1 << i) != 0)
        .map(|i| format!("decoded:{}", NAMES[i]))
        .collect();
    t.push(format!("decode-depth:{}", first.depth));
    t
}

/// The line of the current (decoded) text around the segments (gitleaks `CurrentLine`).
pub(crate) fn current_line<'a>(segments: &[&Segment], current: &'a [u8]) -> &'a [u8] {
    let Some(first) = segments.first() else {
        return current;
    };
    let d = segments[1..]
        .iter()
        .fold(first.decoded, |a, s| a.merge(s.decoded));
    let mut start = 0usize;
    let mut end = current.len();
    let ds = (d.start.max(0) as usize).min(current.len().saturating_sub(1));
    if !current.is_empty()
        && let Some(i) = memchr::memrchr(b'\n', &current[..=ds])
    {
        start = i;
    }
    let de = (d.end.max(0) as usize).min(current.len());
    if let Some(i) = memchr::memchr(b'\n', &current[de..]) {
        end = de + i;
    }
    &current[start..end.max(start)]
}

fn printable(b: u8) -> bool {
    (0x09..0x7f).contains(&b)
}

fn hexval(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|v| v as u8)
}

fn decode_one(kind: u8, enc: &[u8]) -> Vec<u8> {
    match kind {
        PERCENT => decode_percent(enc),
        UNICODE => decode_unicode(enc),
        HEX => decode_hex(enc),
        _ => decode_base64(enc),
    }
}

fn decode_percent(enc: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(enc.len());
    let mut i = 0;
    while i < enc.len() {
        if enc[i] == b'%'
            && i + 2 < enc.len()
            && let (Some(a), Some(b)) = (hexval(enc[i + 1]), hexval(enc[i + 2]))
        {
            let v = (a << 4) | b;
            if !printable(v) {
                return Vec::new();
            }
            out.push(v);
            i += 3;
            continue;
        }
        out.push(enc[i]);
        i += 1;
    }
    out
}

fn decode_hex(enc: &[u8]) -> Vec<u8> {
    if !enc.len().is_multiple_of(2) || !enc.iter().any(u8::is_ascii_digit) {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(enc.len() / 2);
    for pair in enc.chunks_exact(2) {
        let (Some(a), Some(b)) = (hexval(pair[0]), hexval(pair[1])) else {
            return Vec::new();
        };
        let v = (a << 4) | b;
        if !printable(v) {
            return Vec::new();
        }
        out.push(v);
    }
    out
}

fn decode_base64(enc: &[u8]) -> Vec<u8> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    if !enc
        .iter()
        .any(|b| b.is_ascii_digit() || matches!(b, b'+' | b'/' | b'-' | b'_'))
    {
        return Vec::new();
    }
    // Most candidates are identifiers, whose decoding is not printable from the first bytes
    // on: reject those before the full decode and its allocation.
    let std_ok = quanta_printable(enc, STD_VALUES);
    let url_ok = quanta_printable(enc, URL_VALUES);
    if !std_ok && !url_ok {
        return Vec::new();
    }
    const STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    if std_ok
        && let Ok(v) = STD.decode(enc)
        && v.iter().all(|&b| printable(b))
    {
        return v;
    }
    const URL: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    if url_ok
        && let Ok(v) = URL.decode(enc)
        && v.iter().all(|&b| printable(b))
    {
        return v;
    }
    Vec::new()
}

/// Base64 digit values of one alphabet (`0xff` = not in the alphabet).
const fn b64_values(alphabet: &[u8; 64]) -> [u8; 256] {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
}

const STD_VALUES: [u8; 256] =
    b64_values(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const URL_VALUES: [u8; 256] =
    b64_values(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

/// Necessary condition for `enc` to decode to printable bytes with the alphabet `values`:
/// every 4-character quantum before the one holding the last character (those are never
/// padded or partial) is in the alphabet and decodes to printable bytes.
fn quanta_printable(enc: &[u8], values: [u8; 256]) -> bool {
    let whole = enc.len().saturating_sub(1) / 4 * 4;
    enc[..whole].chunks_exact(4).all(|q| {
        let [a, b, c, d] = [q[0], q[1], q[2], q[3]].map(|x| values[x as usize]);
        if (a | b | c | d) == 0xff {
            return false;
        }
        let v = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
        [(v >> 16) as u8, (v >> 8) as u8, v as u8]
            .iter()
            .all(|&x| printable(x))
    })
}

fn push_char(out: &mut Vec<u8>, cp: u32) {
    let c = char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &x in &b[..4] {
        v = v * 16 + u32::from(hexval(x)?);
    }
    Some(v)
}

/// gitleaks `decodeUnicode` for what the segment regex can match: runs of `U+XXXX`
/// (separated by whitespace) or of `\uXXXX` / `\\uXXXX`.
fn decode_unicode(enc: &[u8]) -> Vec<u8> {
    if enc.starts_with(b"U+") {
        // Each whitespace-separated `U+XXXX` field becomes one character.
        let mut out = Vec::new();
        for field in enc
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty())
        {
            if field.len() >= 6
                && field.starts_with(b"U+")
                && let Some(cp) = std::str::from_utf8(&field[2..])
                    .ok()
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
            {
                push_char(&mut out, cp);
            }
        }
        if out.is_empty() || out == enc {
            return enc.to_vec();
        }
        return out;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < enc.len() {
        let mut j = i;
        while j < enc.len() && enc[j] == b'\\' && j - i < 2 {
            j += 1;
        }
        if j > i
            && j < enc.len()
            && (enc[j] == b'u' || enc[j] == b'U')
            && let Some(cp) = hex4(&enc[j + 1..])
        {
            push_char(&mut out, cp);
            i = j + 5;
            continue;
        }
        i += 1;
    }
    if out.is_empty() {
        return enc.to_vec();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widest classifier of this CPU, as a tuple like [`classify_scalar`]'s.
    fn classify64(chunk: &[u8]) -> (u64, u64, u64, u64) {
        let c = Classifier::detect().classify(chunk);
        (c.base64, c.escape, c.u, c.plus)
    }

    /// The AVX2 classifier agrees with the byte table on every byte value, at every position
    /// of a chunk.
    #[test]
    fn simd_classes_cover_every_byte() {
        for shift in 0..64 {
            for base in (0..256).step_by(64) {
                let chunk: Vec<u8> = (0..64)
                    .map(|k| ((base + (k + shift) % 64) % 256) as u8)
                    .collect();
                assert_eq!(
                    classify64(&chunk),
                    classify_scalar(&chunk),
                    "{base} {shift}"
                );
            }
        }
        let (b, s, u, p) = classify_scalar(b"aZ09_/+-%\\U=. \n\x80\xff");
        assert_eq!(b, 0xff | 1 << 10, "base64 class");
        assert_eq!((s, u, p), (0b11 << 8, 1 << 10, 1 << 6), "specials");
    }

    #[test]
    fn base64_segment_is_decoded_and_mapped_back() {
        let text = b"key: c2VjcmV0LXZhbHVlLTEyMzQ1Ng== end";
        let mut d = Decoder::default();
        let out = d.decode(text).unwrap();
        assert_eq!(out, b"key: secret-value-123456 end".to_vec());
        let seg = &d.passes[0][0];
        assert_eq!(seg.original, Span::new(5, 33));
        assert_eq!(tags(&[seg]), vec!["decoded:base64", "decode-depth:1"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn candidate_scanner_equals_combined_regex(
            toks in proptest::collection::vec(0usize..PIECES.len(), 0..60)
        ) {
            let text: Vec<u8> = toks.iter().flat_map(|&i| PIECES[i].bytes()).collect();
            proptest::prop_assert_eq!(candidates(&text), candidates_regex(&text), "{:?}", String::from_utf8_lossy(&text));
        }

        /// The quick quantum check never rejects a candidate whose full decode is printable:
        /// decoding with it equals decoding without it.
        #[test]
        fn quick_base64_reject_is_exact(
            printable_src in proptest::collection::vec(0x09u8..0x7f, 12..40),
            noise in "[A-Za-z0-9_/+-]{16,40}",
            pad in 0usize..3,
        ) {
            use base64::Engine as _;
            let encoded = [
                base64::engine::general_purpose::STANDARD.encode(&printable_src),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&printable_src),
                format!("{noise}{}", "=".repeat(pad)),
            ];
            for enc in encoded {
                let got = decode_base64(enc.as_bytes());
                let want = decode_base64_reference(enc.as_bytes());
                proptest::prop_assert_eq!(got, want, "{}", enc);
            }
        }

        /// The AVX2 classifier agrees with the byte-table one on random chunks.
        #[test]
        fn simd_classes_equal_scalar(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 64)) {
            proptest::prop_assert_eq!(classify64(&bytes), classify_scalar(&bytes));
        }

        /// The mask-based `may_contain_encoded` agrees with a direct byte scan.
        #[test]
        fn may_contain_encoded_equals_byte_scan(
            toks in proptest::collection::vec(0usize..PIECES.len(), 0..40)
        ) {
            let text: Vec<u8> = toks.iter().flat_map(|&i| PIECES[i].bytes()).collect();
            let mut run = 0usize;
            let mut expect = false;
            for (i, &b) in text.iter().enumerate() {
                let next = text.get(i + 1).copied().unwrap_or(0);
                expect |= match b {
                    b'%' => next.is_ascii_hexdigit() && text.get(i + 2).is_some_and(u8::is_ascii_hexdigit),
                    b'\\' => matches!(next, b'u' | b'U' | b'\\'),
                    b'U' => next == b'+',
                    _ => false,
                };
                run = if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b'+' | b'-') { run + 1 } else { 0 };
                expect |= run >= 16;
            }
            proptest::prop_assert_eq!(may_contain_encoded(&text), expect);
        }
    }

    const PIECES: &[&str] = &[
        "%41",
        "%4",
        "%",
        "%zz",
        "U+0041",
        "U+00e9 ",
        "U+",
        "\\u0041",
        "\\\\u0042",
        "\\U004A",
        "\\",
        "0123456789abcdef",
        "ABCDEF",
        "abcdefghij",
        "xyz",
        "_",
        "-",
        "/",
        "+",
        "=",
        "==",
        " ",
        "\n",
        ".",
        "deadbeef",
        "Zm9vYmFy",
        "é",
    ];

    #[test]
    fn hex_and_percent_decode() {
        assert_eq!(decode_hex(b"41424344"), b"ABCD");
        assert!(decode_hex(b"abcdef").is_empty()); // no digit
        assert_eq!(decode_percent(b"%41%42c"), b"ABc");
        assert!(decode_percent(b"%00").is_empty());
    }

    #[test]
    fn unicode_escapes_decode() {
        assert_eq!(decode_unicode(br"\u0041\u0042"), b"AB");
        assert_eq!(decode_unicode(b"U+0041 U+0042"), b"AB");
    }

    #[test]
    fn nested_encoding_reports_depth_two() {
        // base64("hex(secret)")
        let inner = "73656372657431323334"; // "secret1234" in hex (20 chars: too short for hex)
        let _ = inner;
        let hexed = "7365637265742d746f6b656e2d31323334353637"; // "secret-token-1234567"
        let b64 = base64::engine::general_purpose::STANDARD.encode(hexed);
        let text = format!("x={b64}");
        let mut d = Decoder::default();
        let p1 = d.decode(text.as_bytes()).unwrap();
        assert_eq!(p1, format!("x={hexed}").into_bytes());
        let p2 = d.decode(&p1).unwrap();
        assert_eq!(p2, b"x=secret-token-1234567".to_vec());
        let seg = &d.passes[1][0];
        assert_eq!(seg.depth, 2);
        assert_eq!(seg.original, Span::new(2, text.len()));
        assert_eq!(
            tags(&[seg]),
            vec!["decoded:hex", "decoded:base64", "decode-depth:2"]
        );
    }
}
