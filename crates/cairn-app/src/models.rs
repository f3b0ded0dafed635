//! The Models section: the catalog marked for this machine, one download at a time in the
//! background (progress as [`Events::model_download`]), GGUF files added in place, and the chat
//! model chosen. A download starts only when the person presses Download.

use std::path::Path;
use std::sync::{Arc, Mutex};

use cairn_engine::{CancelToken, CatalogError, DownloadProgress, InstalledModel};

use crate::api::{
    ApiError, CatalogModelView, DownloadState, DownloadUpdate, InstalledModelView,
    ModelFileRequest, ModelNameRequest, ModelRequest, ModelsView,
};
use crate::{App, Events, lock};

/// The download under way: its cancel token and its latest update.
struct Active {
    cancel: CancelToken,
    latest: DownloadUpdate,
}

/// At most one download at a time.
pub(crate) struct Downloads {
    active: Mutex<Option<Active>>,
    events: Arc<dyn Events>,
}

impl Downloads {
    pub(crate) fn new(events: Arc<dyn Events>) -> Arc<Downloads> {
        Arc::new(Downloads {
            active: Mutex::new(None),
            events,
        })
    }

    fn latest(&self) -> Option<DownloadUpdate> {
        lock(&self.active).as_ref().map(|a| a.latest.clone())
    }

    /// Records and sends an update; a final one ends the download.
    fn report(&self, update: DownloadUpdate) {
        {
            let mut active = lock(&self.active);
            match update.state {
                DownloadState::Downloading => {
                    if let Some(a) = active.as_mut() {
                        a.latest = update.clone();
                    }
                }
                _ => *active = None,
            }
        }
        self.events.model_download(&update);
    }
}

impl App {
    /// The catalog for this machine, the models installed and the download under way.
    pub async fn models_view(&self) -> Result<ModelsView, ApiError> {
        let library = self.library()?;
        let catalog = library.catalog()?;
        Ok(ModelsView {
            total_memory: catalog.machine.total_memory,
            free_disk: catalog.machine.free_disk,
            endpoint: catalog.endpoint,
            catalog: catalog
                .models
                .into_iter()
                .map(|m| CatalogModelView {
                    id: m.entry.id,
                    name: m.entry.name,
                    parameters: m.entry.parameters,
                    repo: m.entry.repo,
                    bytes: m.entry.bytes,
                    ram_bytes: m.ram_bytes,
                    licence: m.entry.licence,
                    good_at: m.entry.good_at,
                    fits: m.fits,
                    recommended: m.recommended,
                    installed: m.installed,
                    partial_bytes: m.partial_bytes,
                })
                .collect(),
            installed: library
                .installed_models()?
                .into_iter()
                .map(installed_view)
                .collect(),
            download: self.downloads.latest(),
        })
    }

    /// Starts downloading catalog model `id` in the background (resuming what an earlier download
    /// left); progress arrives as [`Events::model_download`]. One download at a time.
    pub async fn download_model(&self, request: ModelRequest) -> Result<DownloadUpdate, ApiError> {
        let library = self.library()?;
        let entry = library
            .model_catalog()?
            .get(&request.id)
            .map_err(cairn_engine::Error::from)?
            .clone();
        let cancel = CancelToken::new();
        let first = DownloadUpdate {
            id: entry.id.clone(),
            state: DownloadState::Downloading,
            done: 0,
            total: entry.bytes,
            bytes_per_second: 0.0,
            eta_secs: None,
            error: None,
        };
        {
            let mut active = lock(&self.downloads.active);
            if let Some(running) = active.as_ref() {
                return Err(ApiError::busy(format!(
                    "{} is downloading: wait for it or cancel it first.",
                    running.latest.id
                )));
            }
            *active = Some(Active {
                cancel: cancel.clone(),
                latest: first.clone(),
            });
        }
        let downloads = self.downloads.clone();
        let id = entry.id;
        let started = first.clone();
        tokio::spawn(async move {
            let progress = |p: &DownloadProgress| {
                downloads.report(DownloadUpdate {
                    id: id.clone(),
                    state: DownloadState::Downloading,
                    done: p.done,
                    total: p.total,
                    bytes_per_second: p.bytes_per_second,
                    eta_secs: p.eta_seconds,
                    error: None,
                })
            };
            let result = library.pull_model(&id, &progress, &cancel).await;
            let mut last = downloads.latest().unwrap_or(started);
            last.eta_secs = None;
            match result {
                Ok(model) => {
                    last.state = DownloadState::Done;
                    last.done = model.record.bytes;
                    last.total = model.record.bytes;
                }
                Err(cairn_engine::Error::Catalog(CatalogError::Cancelled { kept })) => {
                    last.state = DownloadState::Cancelled;
                    last.done = kept;
                }
                Err(e) => {
                    last.state = DownloadState::Failed;
                    last.error = Some(ApiError::from(e));
                }
            }
            downloads.report(last);
        });
        Ok(first)
    }

    /// Stops the download under way; what arrived is kept, and the next Download resumes it.
    pub async fn cancel_download(&self) -> Result<(), ApiError> {
        if let Some(active) = lock(&self.downloads.active).as_ref() {
            active.cancel.cancel();
        }
        Ok(())
    }

    /// Adds a GGUF file already on disk, where it is (nothing is copied).
    pub async fn add_model_file(&self, request: ModelFileRequest) -> Result<ModelsView, ApiError> {
        let path = Path::new(request.path.trim());
        if !path.is_absolute() {
            return Err(ApiError::invalid(format!(
                "'{}' is not an absolute path",
                request.path
            )));
        }
        self.library()?.add_model_file(
            path,
            request.name.as_deref().filter(|n| !n.trim().is_empty()),
        )?;
        self.models_view().await
    }

    /// Makes an installed model the chat model; the library is reopened with it.
    pub async fn use_model(&self, request: ModelNameRequest) -> Result<ModelsView, ApiError> {
        self.refuse_if_busy("change the chat model")?;
        let library = self.library()?;
        library.use_model(&request.name)?;
        let dir = library.data_dir().to_path_buf();
        drop(library);
        self.reopen(dir).await?;
        self.models_view().await
    }

    /// Forgets a model, deleting its file only if Cairn downloaded it (or an unfinished download of
    /// a catalog model). Removing the chat model brings back the default one.
    pub async fn remove_model(&self, request: ModelNameRequest) -> Result<ModelsView, ApiError> {
        let library = self.library()?;
        let in_use = library
            .installed_models()?
            .iter()
            .any(|m| m.record.name == request.name && m.in_use);
        if in_use {
            self.refuse_if_busy("remove the chat model")?;
        }
        if lock(&self.downloads.active)
            .as_ref()
            .is_some_and(|a| a.latest.id == request.name)
        {
            return Err(ApiError::busy(format!(
                "{} is downloading: cancel it first.",
                request.name
            )));
        }
        let removed = library.remove_model(&request.name)?;
        if removed.was_in_use {
            let dir = library.data_dir().to_path_buf();
            drop(library);
            self.reopen(dir).await?;
        }
        self.models_view().await
    }
}

fn installed_view(m: InstalledModel) -> InstalledModelView {
    InstalledModelView {
        downloaded: m.record.downloaded(),
        name: m.record.name,
        path: m.record.path,
        source: m.record.source,
        bytes: m.record.bytes,
        architecture: m.record.architecture,
        in_use: m.in_use,
        present: m.present,
    }
}
