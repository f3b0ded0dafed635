//! Reversible redaction: each entity becomes a typed placeholder (`<EMAIL_1>`), the same value the
//! same placeholder for the whole conversation, and text coming back has the originals restored, also
//! when a placeholder arrives split across streamed chunks.
//!
//! Text that already looks like a placeholder is itself replaced (by `<LITERAL_n>`), so restoring
//! can never turn a person's own `<EMAIL_1>` into somebody's address: `restore(redact(x)) == x` for
//! every `x` (a property test holds it).

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use crate::pii::{Entity, EntityKind, PiiScanner, ScanError};

/// The placeholder syntax: `<`, an upper-case type, `_`, a number, `>`.
fn placeholder_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"<[A-Z][A-Z_]*_[0-9]+>").expect("valid"))
}

/// Longest placeholder the stream restorer waits for.
const MAX_PLACEHOLDER: usize = 40;

/// One redacted text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redacted {
    /// The text with placeholders.
    pub text: String,
    /// What was replaced, in the original text's byte offsets.
    pub entities: Vec<Entity>,
}

/// A conversation's redaction map.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    scanner: PiiScanner,
    /// `(type, value)` → placeholder.
    forward: HashMap<(String, String), String>,
    /// placeholder → value.
    back: HashMap<String, String>,
    counters: HashMap<String, usize>,
}

impl Redactor {
    /// A redactor with its own map, scanning with `scanner`.
    pub fn new(scanner: PiiScanner) -> Self {
        Redactor {
            scanner,
            ..Redactor::default()
        }
    }

    /// Scans `text` and gives each entity found its placeholder without redacting anything yet:
    /// the first pass over every part of a request, so that a value found in any part is replaced
    /// in all of them by the second ([`Redactor::redact`] replaces every value already known).
    ///
    /// A person's surname is learnt on its own too: "Ask Lindqvist" is the same person as the
    /// "Greta Lindqvist" found in another part.
    pub fn learn(&mut self, text: &str) -> Result<usize, ScanError> {
        let entities = self.scanner.scan(text)?;
        for e in &entities {
            let value = &text[e.start..e.end];
            self.placeholder(e.kind.label(), value);
            if e.kind == EntityKind::Person
                && let Some(surname) = crate::names::surname(value)
            {
                self.placeholder(e.kind.label(), surname);
            }
        }
        Ok(entities.len())
    }

    /// Replaces every entity in `text`, every other occurrence of a value this conversation has
    /// already redacted (or learnt), and every placeholder-like literal.
    pub fn redact(&mut self, text: &str) -> Result<Redacted, ScanError> {
        let entities = self.scanner.scan(text)?;
        // Placeholder-like literals, where no entity covers them.
        let mut spans: Vec<(usize, usize, String)> = entities
            .iter()
            .map(|e| (e.start, e.end, e.kind.label().to_string()))
            .collect();
        // Every other occurrence of a value known in this conversation (found now or in an earlier
        // message), also where the detector would miss it (glued to other text, say); longest first.
        let mut known: Vec<(String, String)> = self.forward.keys().cloned().collect();
        known.extend(
            entities
                .iter()
                .map(|e| (e.kind.label().to_string(), text[e.start..e.end].to_string())),
        );
        known.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.cmp(b)));
        known.dedup();
        for (kind, value) in known.iter().filter(|(k, v)| k != "LITERAL" && v.len() >= 4) {
            for (start, _) in text.match_indices(value.as_str()) {
                let end = start + value.len();
                if spans.iter().all(|(s, e, _)| end <= *s || start >= *e) {
                    spans.push((start, end, kind.clone()));
                }
            }
        }
        for m in placeholder_regex().find_iter(text) {
            if spans
                .iter()
                .all(|(s, e, _)| m.end() <= *s || m.start() >= *e)
            {
                spans.push((m.start(), m.end(), "LITERAL".to_string()));
            }
        }
        spans.sort_by_key(|(s, _, _)| *s);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, kind) in spans {
            out.push_str(&text[at..start]);
            out.push_str(&self.placeholder(&kind, &text[start..end]));
            at = end;
        }
        out.push_str(&text[at..]);
        Ok(Redacted {
            text: out,
            entities,
        })
    }

    fn placeholder(&mut self, kind: &str, value: &str) -> String {
        let key = (kind.to_string(), value.to_string());
        if let Some(p) = self.forward.get(&key) {
            return p.clone();
        }
        let n = self.counters.entry(kind.to_string()).or_default();
        *n += 1;
        let p = format!("<{kind}_{n}>");
        self.forward.insert(key, p.clone());
        self.back.insert(p.clone(), value.to_string());
        p
    }

    /// `text` with every placeholder this redactor issued replaced by its original; anything else,
    /// unknown placeholders included, is left as it is.
    pub fn restore(&self, text: &str) -> String {
        placeholder_regex()
            .replace_all(text, |c: &regex::Captures| {
                let p = &c[0];
                self.back.get(p).cloned().unwrap_or_else(|| p.to_string())
            })
            .into_owned()
    }

    /// Placeholders issued so far.
    pub fn len(&self) -> usize {
        self.back.len()
    }

    /// Whether nothing has been redacted yet.
    pub fn is_empty(&self) -> bool {
        self.back.is_empty()
    }

    /// A restorer for a streamed reply.
    pub fn stream(&self) -> StreamRestorer<'_> {
        StreamRestorer {
            redactor: self,
            pending: String::new(),
        }
    }
}

/// Restores a reply that arrives in pieces: text that may be the start of a placeholder is held
/// until the placeholder is complete (or cannot be one).
#[derive(Debug)]
pub struct StreamRestorer<'a> {
    redactor: &'a Redactor,
    pending: String,
}

impl StreamRestorer<'_> {
    /// Takes the next piece; returns the text that is settled.
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        let hold = self.hold_from();
        let settled: String = self.pending[..hold].to_string();
        self.pending.replace_range(..hold, "");
        self.redactor.restore(&settled)
    }

    /// The rest, at the end of the stream.
    pub fn finish(mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.redactor.restore(&rest)
    }

    /// Where a possibly unfinished placeholder starts (or the end).
    fn hold_from(&self) -> usize {
        let p = &self.pending;
        if let Some(open) = p.rfind('<') {
            let tail = &p[open..];
            let could_be = tail.len() < MAX_PLACEHOLDER
                && !tail.contains('>')
                && tail[1..].chars().enumerate().all(|(i, c)| {
                    if i == 0 {
                        c.is_ascii_uppercase()
                    } else {
                        c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()
                    }
                });
            if could_be {
                return open;
            }
        }
        p.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_value_keeps_its_placeholder_across_messages() {
        let mut r = Redactor::default();
        let a = r
            .redact("Write to ana@example.org about card 4111 1111 1111 1111.")
            .unwrap();
        assert_eq!(a.text, "Write to <EMAIL_1> about card <CREDIT_CARD_1>.");
        let b = r
            .redact("ana@example.org again, and bo@example.org")
            .unwrap();
        assert_eq!(b.text, "<EMAIL_1> again, and <EMAIL_2>");
        assert_eq!(
            r.restore("Reply to <EMAIL_2> and <EMAIL_1>; <EMAIL_9> is unknown"),
            "Reply to bo@example.org and ana@example.org; <EMAIL_9> is unknown"
        );
    }

    #[test]
    fn a_persons_own_placeholder_text_survives_the_round_trip() {
        let mut r = Redactor::default();
        let x = "I typed <EMAIL_1> literally, and my mail is ana@example.org";
        let red = r.redact(x).unwrap();
        assert!(!red.text.contains("ana@"));
        assert_eq!(r.restore(&red.text), x);
    }

    #[test]
    fn placeholders_split_across_stream_chunks_are_restored() {
        let mut r = Redactor::default();
        let red = r
            .redact("Call +44 20 7946 0958 or mail ana@example.org")
            .unwrap();
        let mut s = r.stream();
        let mut out = String::new();
        for piece in ["Sure: <PH", "ONE_", "1> and <", "EMAIL_1", ">. a < b"] {
            out.push_str(&s.push(piece));
        }
        out.push_str(&s.finish());
        assert_eq!(out, "Sure: +44 20 7946 0958 and ana@example.org. a < b");
        assert!(red.text.contains("<PHONE_1>"));
    }
}
