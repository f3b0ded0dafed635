//! Personal data in a text, found and replaced by placeholders with the guard the cloud path uses
//! (`cairn guard`).

use cairn_guard::{PiiConfig, PiiScanner, Redactor, char_offsets};
use serde::Serialize;

use crate::error::{Error, Result};

/// A text with its personal data replaced by typed placeholders (`<EMAIL_1>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedactedText {
    /// The text with placeholders.
    pub redacted: String,
    /// What was replaced, in order.
    pub entities: Vec<FoundEntity>,
}

/// One value the scanner found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundEntity {
    /// Its kind: `EMAIL`, `PHONE`, `IBAN`, …
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// First character, counted in characters (not bytes) of the original text.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// Confidence in 0..=1.
    pub score: f32,
}

/// Finds and replaces the personal data in `text` under `config`.
pub fn redact_text(text: &str, config: &PiiConfig) -> Result<RedactedText> {
    let mut redactor = Redactor::new(PiiScanner::new(config.clone()));
    let red = redactor
        .redact(text)
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
    let offsets = char_offsets(text, &red.entities);
    let entities = red
        .entities
        .iter()
        .zip(offsets)
        .map(|(e, (start, end))| FoundEntity {
            kind: e.kind.label(),
            start,
            end,
            score: e.score,
        })
        .collect();
    Ok(RedactedText {
        redacted: red.text,
        entities,
    })
}
