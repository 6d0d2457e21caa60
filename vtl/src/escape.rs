//! The string functions of API Gateway's `$util`, byte-for-byte as its Java implementation produces them.

use base64::Engine as _;

/// `$util.escapeJavaScript`: Apache commons-lang 2.x `StringEscapeUtils.escapeJavaScript`, which API
/// Gateway documents ("turns any regular single quotes (') into escaped ones (\')").
///
/// Per UTF-16 code unit: `'` → `\'`, `"` → `\"`, `\` → `\\`, `/` → `\/`; `\b \f \n \r \t` as such;
/// other units below 0x20 → `\u00XX`; units above 0x7F → `\uXXXX` (uppercase hex), so a character
/// outside the BMP becomes its two surrogates (`😀` → `\uD83D\uDE00`). 0x7F itself is kept.
pub fn escape_javascript(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    for unit in input.encode_utf16() {
        match unit {
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x2F => out.push_str("\\/"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x00..=0x1F | 0x80..=0xFFFF => {
                out.push_str(&format!("\\u{unit:04X}"));
            }
            _ => out.push(unit as u8 as char),
        }
    }
    out
}

/// `$util.urlEncode`: Java's `URLEncoder.encode(s, "UTF-8")` (`application/x-www-form-urlencoded`):
/// `A-Z a-z 0-9 . - * _` kept, space → `+`, every other UTF-8 byte → `%XX` (uppercase).
pub fn url_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `$util.urlDecode`: Java's `URLDecoder.decode(s, "UTF-8")`: `+` → space, `%XX` → byte; a malformed
/// escape is an error, as Java throws `IllegalArgumentException`. Invalid UTF-8 becomes U+FFFD.
pub fn url_decode(input: &str) -> Result<String, String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|pair| {
                    std::str::from_utf8(pair)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                match hex {
                    Some(byte) => out.push(byte),
                    None => {
                        return Err(format!(
                            "URLDecoder: Illegal hex characters in escape (%) pattern at index {i}"
                        ));
                    }
                }
                i += 3;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `$util.base64Encode`: standard alphabet with padding, of the string's UTF-8 bytes.
pub fn base64_encode(input: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(input.as_bytes())
}

/// `$util.base64Decode`: standard alphabet; the bytes are read as UTF-8 (U+FFFD for invalid sequences).
pub fn base64_decode(input: &str) -> Result<String, String> {
    base64::engine::general_purpose::STANDARD
        .decode(input.trim().as_bytes())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("Illegal base64 input: {e}"))
}
