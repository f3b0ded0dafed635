//! Chat models to download, and the files already on disk.
//!
//! [`Catalog::builtin`] is a short curated list of instruction-tuned GGUF models on Hugging Face
//! (`catalog.toml`, compiled in), each with its file, size, SHA-256, licence and the memory it
//! needs; [`Catalog::recommended`] picks the largest that fits this machine ([`total_memory`]).
//! [`Downloader`] fetches one file by Hugging Face's `resolve` protocol: resumable from a `.part`
//! file, cancellable between chunks, its free space checked first ([`free_space`]), and its
//! SHA-256 checked before it is put in place. [`read_header`] tells a GGUF file already on disk
//! from anything else, and names its architecture.
//!
//! Nothing here opens a connection on its own: only [`Downloader::download`] does, and Cairn calls
//! it only when a person asks for a model.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cairn_catalog::CatalogError> {
//! use std::sync::atomic::AtomicBool;
//! use cairn_catalog::{Catalog, Downloader, Endpoint, FileRequest};
//!
//! let catalog = Catalog::builtin();
//! let entry = catalog.recommended(cairn_catalog::total_memory()).expect("a model fits");
//! let downloader = Downloader::new(Endpoint::default())?;
//! let request = FileRequest::for_entry(entry, format!("/tmp/models/{}", entry.file).into());
//! let done = downloader
//!     .download(&request, &|p| eprintln!("{}/{}", p.done, p.total), &AtomicBool::new(false))
//!     .await?;
//! println!("{} ({} bytes, sha256 {})", done.path.display(), done.bytes, done.sha256);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod catalog;
mod download;
mod endpoint;
mod error;
mod gguf;
mod machine;
mod part;
mod progress;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use catalog::{CONTEXT_TOKENS, Catalog, Entry, OVERHEAD_BYTES, RECOMMEND_PERCENT, is_sha256};
pub use download::{Downloaded, Downloader, FileRequest};
pub use endpoint::{DEFAULT_ENDPOINT, Endpoint};
pub use error::{CatalogError, Result};
pub use gguf::{GgufInfo, read_header};
pub use machine::{FreeSpace, free_space, system_free_space, total_memory};
pub use progress::{DownloadProgress, REPORT_INTERVAL};
