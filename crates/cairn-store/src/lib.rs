//! Cairn's SQLite store.
//!
//! [`Store`] holds what is not vectors: the [`CollectionRecord`] of each collection (which embedding
//! model its index was built with) and a [`DocumentRecord`] per file (content hash, state, failure
//! reason), and the conversations ([`ThreadRecord`], [`MessageRecord`] with the citations of each
//! answer). The document state doubles as the ingest journal that makes indexing crash-safe: a
//! document is marked [`DocState::Writing`] *before* its chunks are written to the vector index and
//! [`DocState::Indexed`] after, so after a kill the documents still marked `Writing` are exactly those
//! whose chunks may be partial, and are cleaned and redone.
//!
//! ```
//! use cairn_store::{CollectionRecord, Store};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(&dir.path().join("cairn.sqlite")).unwrap();
//! store.create_collection(&CollectionRecord::new("notes", "all-MiniLM-L6-v2", "sha256:ab12", 384)).unwrap();
//! let id = store.ensure_document("notes", "/home/me/notes/a.md").unwrap();
//! assert_eq!(store.document_by_id(id).unwrap().unwrap().path, "/home/me/notes/a.md");
//! ```
#![deny(missing_docs)]

mod answer_cache;
mod audit;
mod clock;
mod conversations;
mod error;
mod feedback;
mod forget;
mod migrations;
mod models;
mod provenance;
mod records;
mod review;
mod spend;
mod store;
mod traces;
mod watched;

pub use answer_cache::{CacheKeyRow, CacheUsage, CacheValueRow, NewCacheEntry};
pub use audit::{AuditEntry, AuditVerdict, GENESIS};
pub use clock::now as now_unix;
pub use conversations::{CitationRecord, MessageRecord, NewMessage, ThreadRecord};
pub use error::{Error, Result};
pub use feedback::FeedbackRecord;
pub use forget::Forgotten;
pub use models::{LOCAL_SOURCE, ModelRecord};
pub use provenance::{Provenance, Tier};
pub use records::{
    CollectionRecord, DocState, DocumentRecord, FileStamp, IndexedDocument, SharedLocation,
};
pub use review::{Decision, NewReview, ReviewRecord};
pub use spend::{
    Latency, Limit, Limits, ModelSpend, Refused, Reservation, Settlement, Spent, day_and_month,
};
pub use store::Store;
pub use traces::{NewTrace, TraceSummary};
pub use watched::WatchedRecord;
