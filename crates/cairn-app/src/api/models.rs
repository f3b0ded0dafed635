//! The Models section of Settings: the catalog for this machine, the models installed, and the
//! download under way (event `model_download`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::ApiError;

/// Everything the Models section shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelsView {
    /// This machine's memory, in bytes.
    #[ts(type = "number")]
    pub total_memory: u64,
    /// Free space where models are downloaded, in bytes, when it can be measured.
    #[ts(type = "number | null")]
    pub free_disk: Option<u64>,
    /// Where downloads come from (Hugging Face unless configured).
    pub endpoint: String,
    /// The catalog, smallest memory need first.
    pub catalog: Vec<CatalogModelView>,
    /// The models installed, by name.
    pub installed: Vec<InstalledModelView>,
    /// The download under way, if any.
    pub download: Option<DownloadUpdate>,
}

/// A model of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CatalogModelView {
    /// Its id, e.g. `qwen3-4b`.
    pub id: String,
    /// Its name, e.g. `Qwen3 4B`.
    pub name: String,
    /// Its parameter count as published, e.g. `4B`.
    pub parameters: String,
    /// The Hugging Face repository it comes from.
    pub repo: String,
    /// The file's size, in bytes.
    #[ts(type = "number")]
    pub bytes: u64,
    /// The memory it needs to answer with a 4k context, in bytes.
    #[ts(type = "number")]
    pub ram_bytes: u64,
    /// Its licence.
    pub licence: String,
    /// What it is good at, in one line.
    pub good_at: String,
    /// Whether it fits comfortably in this machine's memory.
    pub fits: bool,
    /// Whether it is the one recommended here: the largest that fits.
    pub recommended: bool,
    /// Whether it is downloaded and verified.
    pub installed: bool,
    /// Bytes of an unfinished download that the next Download resumes from.
    #[ts(type = "number")]
    pub partial_bytes: u64,
}

/// A model the library holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct InstalledModelView {
    /// Its name.
    pub name: String,
    /// Its file.
    pub path: String,
    /// The catalog id it was downloaded as, or `local` for a file added in place.
    pub source: String,
    /// Whether Cairn downloaded it (Remove then deletes the file).
    pub downloaded: bool,
    /// The file's size, in bytes.
    #[ts(type = "number")]
    pub bytes: u64,
    /// `general.architecture`, e.g. `llama`.
    pub architecture: String,
    /// Whether it is the chat model.
    pub in_use: bool,
    /// Whether its file is still there.
    pub present: bool,
}

/// Where a download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DownloadState {
    /// Bytes are arriving.
    Downloading,
    /// The file is verified and installed.
    Done,
    /// Stopped on request; what arrived is kept and the next Download resumes it.
    Cancelled,
    /// Stopped by an error (see `error`).
    Failed,
}

/// A download's progress, sent at most every 100 ms while it runs and once when it ends (event
/// `model_download`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DownloadUpdate {
    /// The catalog id.
    pub id: String,
    /// Where it stands.
    pub state: DownloadState,
    /// Bytes on disk, a resumed part included.
    #[ts(type = "number")]
    pub done: u64,
    /// The file's size (0 until the server has said).
    #[ts(type = "number")]
    pub total: u64,
    /// Bytes a second in this run.
    pub bytes_per_second: f64,
    /// Seconds left at that rate, once something has arrived.
    pub eta_secs: Option<f64>,
    /// Why it failed, when it did.
    pub error: Option<ApiError>,
}

/// A catalog model to download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelRequest {
    /// Its id.
    pub id: String,
}

/// An installed model, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelNameRequest {
    /// Its name.
    pub name: String,
}

/// A GGUF file on disk to add in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelFileRequest {
    /// The file, absolute.
    pub path: String,
    /// Its name in Cairn; none: the file's name without `.gguf`.
    pub name: Option<String>,
}
