//! Plain text decoding: UTF-8, UTF-16 with a byte-order mark, and a Latin-1 fallback.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::error::ParseError;

/// Decodes bytes that should be text. A byte-order mark decides UTF-8 or UTF-16; otherwise valid UTF-8
/// is taken as such and anything else as Latin-1 (Windows-1252, its superset in practice). Content that
/// looks binary is refused rather than indexed as noise.
/// Takes the bytes, so valid UTF-8 (most text) becomes the string without a copy.
pub(crate) fn decode(mut bytes: Vec<u8>) -> Result<String, ParseError> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
        return utf8(bytes);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Ok(UTF_16LE.decode_without_bom_handling(rest).0.into_owned());
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Ok(UTF_16BE.decode_without_bom_handling(rest).0.into_owned());
    }
    if looks_binary(&bytes) {
        return Err(ParseError::WrongFormat {
            expected: "text",
            detail: "it contains binary data".into(),
        });
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => Ok(WINDOWS_1252
            .decode_without_bom_handling(e.as_bytes())
            .0
            .into_owned()),
    }
}

fn utf8(bytes: Vec<u8>) -> Result<String, ParseError> {
    String::from_utf8(bytes).map_err(|e| ParseError::WrongFormat {
        expected: "UTF-8 text",
        detail: format!(
            "it starts with a UTF-8 byte-order mark but holds invalid UTF-8 at byte {}",
            e.utf8_error().valid_up_to() + 3
        ),
    })
}

/// Binary content: a NUL byte, or many control characters, in the first 8 KiB.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C))
        .count();
    control * 10 > head.len()
}
