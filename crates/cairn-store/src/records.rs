//! Rows of the store, as Rust types.

use serde::{Deserialize, Serialize};

/// A collection and the embedding model its index was built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRecord {
    /// The collection's name.
    pub name: String,
    /// The embedding model, as its id (e.g. `all-MiniLM-L6-v2`).
    pub embedder_id: String,
    /// The exact weights: a hash of the model files. A different fingerprint means different vectors.
    pub embedder_fingerprint: String,
    /// Vector dimension.
    pub dimension: u32,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
    /// Where the collection's index lives when it is shared; `None` for a local one.
    pub shared: Option<SharedLocation>,
}

/// Where a shared collection's index lives: an object store many libraries write to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedLocation {
    /// `s3://bucket/prefix`.
    pub uri: String,
    /// The store's endpoint, where it is not Amazon S3.
    pub endpoint: Option<String>,
    /// The store's region, where one was given.
    pub region: Option<String>,
}

impl CollectionRecord {
    /// A record created now.
    pub fn new(name: &str, embedder_id: &str, embedder_fingerprint: &str, dimension: u32) -> Self {
        CollectionRecord {
            name: name.to_string(),
            embedder_id: embedder_id.to_string(),
            embedder_fingerprint: embedder_fingerprint.to_string(),
            dimension,
            created_at: crate::clock::now(),
            shared: None,
        }
    }
}

/// Where a document stands in the ingest journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocState {
    /// Known, never indexed.
    New,
    /// Its chunks are being written; after a crash, they may be partial.
    Writing,
    /// Its chunks are in the index and match `content_hash`.
    Indexed,
    /// It could not be parsed and has never been indexed.
    Failed,
    /// It is leaving the library: its chunks are being deleted, then its record. After a crash,
    /// the next start finishes the removal.
    Removing,
}

impl DocState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DocState::New => "new",
            DocState::Writing => "writing",
            DocState::Indexed => "indexed",
            DocState::Failed => "failed",
            DocState::Removing => "removing",
        }
    }

    pub(crate) fn parse(s: &str) -> DocState {
        match s {
            "writing" => DocState::Writing,
            "indexed" => DocState::Indexed,
            "failed" => DocState::Failed,
            "removing" => DocState::Removing,
            _ => DocState::New,
        }
    }
}

/// One file in a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// Stable id; chunks in the vector index carry it.
    pub id: i64,
    /// The collection the document belongs to.
    pub collection: String,
    /// Absolute path of the file.
    pub path: String,
    /// Document kind (`pdf`, `markdown`, …), once parsed.
    pub kind: Option<String>,
    /// Journal state.
    pub state: DocState,
    /// Hash of the content whose chunks are in the index.
    pub content_hash: Option<String>,
    /// File size when last indexed.
    pub size_bytes: Option<i64>,
    /// Chunks in the index.
    pub chunk_count: i64,
    /// Pages, for paged formats.
    pub page_count: Option<i64>,
    /// Stable code of the last failure, if the last attempt failed.
    pub error_code: Option<String>,
    /// The last failure, in words.
    pub error_message: Option<String>,
    /// Parts of the file that could not be read while the rest could.
    pub warnings: Vec<String>,
    /// When the chunks were written, seconds since the Unix epoch.
    pub indexed_at: Option<i64>,
    /// How the file system described the file whose content is indexed, when it can be trusted.
    pub stamp: Option<FileStamp>,
}

/// A file as the file system describes it without reading it: size, modification time and inode
/// number. Two equal stamps of one path are taken to mean the same content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Bytes.
    pub size: i64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: i64,
    /// Inode number (0 where the platform has none to give).
    pub inode: i64,
}

/// What [`crate::Store::finish_writes`] records for a document whose chunks were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedDocument {
    /// The document.
    pub id: i64,
    /// Document kind.
    pub kind: String,
    /// Hash of the content that was indexed.
    pub content_hash: String,
    /// File size.
    pub size_bytes: i64,
    /// Chunks written.
    pub chunk_count: i64,
    /// Pages, for paged formats.
    pub page_count: Option<i64>,
    /// Parts that could not be read.
    pub warnings: Vec<String>,
    /// How the file system described the file before it was read, when that can be trusted.
    pub stamp: Option<FileStamp>,
}
