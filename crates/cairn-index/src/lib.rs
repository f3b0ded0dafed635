//! Cairn's passage index: LanceDB tables on disk, one per collection, with a vector column and a
//! BM25 full-text index over the text, and the score fusion that turns the two into one ranking.
//!
//! * [`Index`] is the database directory; [`Index::collection`] opens (or creates) a
//!   [`CollectionIndex`], refusing with [`Error::ModelMismatch`] if the table was built with another
//!   embedding model: vectors of two models never mix.
//! * [`CollectionIndex`] adds and deletes [`ChunkRow`]s in batches, keeps the indices current
//!   ([`CollectionIndex::optimize`]) and answers [`CollectionIndex::dense`], [`CollectionIndex::bm25`]
//!   and [`CollectionIndex::hybrid`] queries with [`Hit`]s.
//! * [`Index::open_shared`] keeps the tables in an S3-compatible object store instead
//!   ([`ObjectStore`]): a collection many people add to and search at once. An [`OfflineCopy`]
//!   keeps its table on this computer too, to answer from when the store cannot be reached.
//! * [`fuse`] combines dense and BM25 rankings by reciprocal rank or by a weighted blend of
//!   normalised scores ([`Fusion`]).
//!
//! ```no_run
//! # async fn demo() -> cairn_index::Result<()> {
//! use cairn_index::{EmbedderStamp, Index, SearchParams};
//!
//! let index = Index::open("/tmp/cairn/lance".as_ref()).await?;
//! let stamp = EmbedderStamp { id: "all-MiniLM-L6-v2".into(), fingerprint: "sha256:…".into(), dimension: 384 };
//! let notes = index.collection("notes", &stamp).await?;
//! let hits = notes.hybrid("tide tables", &vec![0.0; 384], &SearchParams::default()).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod collection;
mod error;
mod fusion;
mod offline_copy;
mod schema;
mod shared;

pub use collection::{
    CollectionIndex, EmbedderStamp, Index, IndexSettings, TableDocument, check_collection_name,
};
pub use error::{Error, Result};
pub use fusion::{FusedScore, Fusion, fuse};
pub use offline_copy::{CatchUp, CopyProgress, CopyState, OfflineCopy};
pub use schema::{ChunkRow, Hit, Passage, SearchParams};
pub use shared::{DEFAULT_FRESH_WITHIN, ObjectStore, StoreCredentials};
