//! JSON string escaping, written straight into the output buffer.
//!
//! RFC 8259 §7: `"` and `\` are escaped, and so are the control characters U+0000..=U+001F (as `\b`, `\t`,
//! `\n`, `\f`, `\r`, or `\u00XX`). Everything else, non-ASCII included, is copied as UTF-8: the input is a
//! Rust `str`, so it is valid UTF-8 already. Runs of plain bytes are copied with one `extend_from_slice`.

/// For each byte: 0 = copy as is, otherwise the character after the backslash (`u` = `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `bytes` must be escaped. Eight bytes at a time with the classic word tricks
/// ("determine if a word has a byte less than n", Bit Twiddling Hacks), exact for the existence of such a
/// byte; bytes of multi-byte UTF-8 characters (>= 0x80) never match.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    let has_byte_below = |word: u64, n: u64| word.wrapping_sub(ONES * n) & !word & HIGH_BITS != 0;
    let has_byte = |word: u64, b: u8| has_byte_below(word ^ (ONES * u64::from(b)), 1);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        if has_byte_below(word, 0x20) || has_byte(word, b'"') || has_byte(word, b'\\') {
            return true;
        }
    }
    chunks.remainder().iter().any(|&byte| ESCAPE[byte as usize] != 0)
}

/// Appends `text` as the content of a JSON string (without the surrounding quotes).
#[inline]
pub(crate) fn write_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    // Most text needs no escape: find that out eight bytes at a time, then copy it whole.
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut plain_from = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[byte as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[plain_from..i]);
        if escape == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        plain_from = i + 1;
    }
    out.extend_from_slice(&bytes[plain_from..]);
}

/// Appends the first `len` bytes of `window` by copying all of it and truncating. A copy of a constant
/// size compiles to a few vector moves, where a copy of a runtime length is a call into `memcpy`: for the
/// short texts of JSON framing and numbers that call dominated the encoder's profile.
#[inline(always)]
pub(crate) fn extend_window<const N: usize>(out: &mut Vec<u8>, window: &[u8; N], len: usize) {
    let start = out.len();
    out.extend_from_slice(window);
    out.truncate(start + len);
}

/// Two ASCII digits for each value 0..100.
pub(crate) static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// Appends the decimal digits of `magnitude`, after a `-` when `negative`; returns the length written.
/// Digits are produced right to left, four at a time, ending at the middle of a stack window; the text is
/// then appended with a copy of constant size (see [`extend_window`]).
#[inline]
pub(crate) fn write_integer(out: &mut Vec<u8>, negative: bool, magnitude: u64) -> usize {
    const END: usize = 24; // a u64 has at most 20 digits, 21 bytes with the sign
    let mut window = [0u8; END + 24];
    let mut start = END;
    let mut rest = magnitude;
    while rest >= 10_000 {
        let four = (rest % 10_000) as usize;
        rest /= 10_000;
        window[start - 4..start - 2].copy_from_slice(&DIGIT_PAIRS[four / 100]);
        window[start - 2..start].copy_from_slice(&DIGIT_PAIRS[four % 100]);
        start -= 4;
    }
    let mut rest = rest as usize;
    if rest >= 100 {
        window[start - 2..start].copy_from_slice(&DIGIT_PAIRS[rest % 100]);
        rest /= 100;
        start -= 2;
    }
    if rest >= 10 {
        window[start - 2..start].copy_from_slice(&DIGIT_PAIRS[rest]);
        start -= 2;
    } else {
        window[start - 1] = b'0' + rest as u8;
        start -= 1;
    }
    if negative {
        start -= 1;
        window[start] = b'-';
    }
    let text: &[u8; 24] = window[start..start + 24].try_into().unwrap_or(&[b'?'; 24]); // never taken: the range has 24 bytes
    extend_window(out, text, END - start);
    END - start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_escaped(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(escaped(""), "");
        assert_eq!(escaped("plain"), "plain");
        assert_eq!(escaped(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escaped("\n\r\t\u{8}\u{c}"), r"\n\r\t\b\f");
        assert_eq!(escaped("\u{0}\u{1}\u{1f}"), r"\u0000\u0001\u001f");
        // DEL and everything non-ASCII is copied as UTF-8, including U+2028 and U+2029.
        assert_eq!(
            escaped("\u{7f}é€😀\u{2028}\u{2029}"),
            "\u{7f}é€😀\u{2028}\u{2029}"
        );
    }

    #[test]
    fn writes_integers_like_rust_does() {
        let mut values = vec![0u64, 1, 9, 10, 99, 100, 101, 999, 1_000, u64::MAX, u64::MAX / 10];
        values.extend((0..20).map(|p| 10u64.pow(p)));
        values.extend((1..20).map(|p| 10u64.pow(p) - 1));
        for magnitude in values {
            for negative in [false, true] {
                let mut out = b"x".to_vec();
                let len = write_integer(&mut out, negative, magnitude);
                let expected = format!("x{}{magnitude}", if negative { "-" } else { "" });
                assert_eq!(String::from_utf8(out).unwrap(), expected);
                assert_eq!(len, expected.len() - 1);
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_every_byte_value_and_mixed_text() {
        let mut every_char = String::new();
        for c in (0u32..0x300).filter_map(char::from_u32) {
            every_char.push(c);
        }
        for text in [every_char.as_str(), "x\"\\\u{0}y\u{1b}[0m z", "日本語\ttab"] {
            let quoted = format!("\"{}\"", escaped(text));
            let parsed: String = serde_json::from_str(&quoted).unwrap();
            assert_eq!(parsed, text);
            assert_eq!(quoted, serde_json::to_string(text).unwrap());
        }
    }
}
