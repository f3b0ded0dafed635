//! Cairn's local guardrails.
//!
//! * [`PiiScanner`] finds personal and secret data with validated patterns and context words.
//! * [`Redactor`] replaces it with typed placeholders (`<EMAIL_1>`), consistently for a whole
//!   conversation, and restores the originals in what comes back, streamed or not.
//!
//! ```
//! use cairn_guard::Redactor;
//!
//! let mut redactor = Redactor::default();
//! let red = redactor.redact("Mail ana@example.org").unwrap();
//! assert_eq!(red.text, "Mail <EMAIL_1>");
//! assert_eq!(redactor.restore("Sent to <EMAIL_1>."), "Sent to ana@example.org.");
//! ```
#![deny(missing_docs)]

mod names;
pub mod pii;
mod redact;

pub use pii::{Entity, EntityKind, PiiConfig, PiiScanner, ScanError, char_offsets};
pub use redact::{Redacted, Redactor, StreamRestorer};
