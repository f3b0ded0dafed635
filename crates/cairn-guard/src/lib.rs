//! Cairn's local guardrails.
//!
//! * [`PiiScanner`] finds personal and secret data with validated patterns and context words.
//! * [`Redactor`] replaces it with typed placeholders (`<EMAIL_1>`), consistently for a whole
//!   conversation, and restores the originals in what comes back, streamed or not.
//! * [`injection`] flags instruction overrides, role play and invisible Unicode, in questions and in
//!   retrieved passages, and applies a policy (warn, strip, block).
//! * [`check_output`] checks an answer: grounding per sentence, figures no passage holds
//!   ([`figures`]), citation validity, banned terms.
//! * [`Guard::prepare`] is the egress gate: the only way to make the [`Egress`] type a network layer
//!   accepts, from a request whose every part it has redacted and checked.
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

mod citations;
mod egress;
pub mod figures;
pub mod injection;
mod names;
pub mod output;
pub mod pii;
mod redact;

pub use citations::citations;
pub use egress::{Egress, EgressError, EgressMessage, EgressReport, Guard, Outbound};
pub use injection::{InjectionConfig, InjectionReport, Policy};
pub use output::{OutputConfig, OutputReport, SentenceCheck, Similarity, check_output, sentences};
pub use pii::{Entity, EntityKind, PiiConfig, PiiScanner, ScanError, char_offsets};
pub use redact::{Redacted, Redactor, StreamRestorer};
