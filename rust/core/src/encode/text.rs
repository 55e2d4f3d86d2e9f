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

/// Appends `text` as the content of a JSON string (without the surrounding quotes).
#[inline]
pub(crate) fn write_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
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
