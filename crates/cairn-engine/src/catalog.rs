//! Chat models for the library: the catalog with this machine's advice, downloads into
//! `<data dir>/models/`, GGUF files registered in place, and the one chosen to answer.
//!
//! Nothing here opens a connection except [`Library::pull_model`], which a person calls; listing
//! the catalog and the installed models reads the disk only. A model can be chosen only once it
//! is recorded, and it is recorded only verified: a download whose SHA-256 matched, or a file
//! whose GGUF header reads.

use std::path::{Path, PathBuf};

use cairn_catalog::{
    Catalog, DownloadProgress, Downloader, Endpoint, Entry, FileRequest, read_header,
};
use cairn_store::{LOCAL_SOURCE, ModelRecord};
use serde::Serialize;

use crate::cancel::CancelToken;
use crate::config_file;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::paths::absolute;
use crate::policy::LocalAnswers;

/// The environment variable that overrides `models.hub_endpoint`.
pub const HUB_ENDPOINT_VAR: &str = "CAIRN_HF_ENDPOINT";

/// The machine the catalog's advice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Total memory, in bytes.
    pub total_memory: u64,
    /// Free space where models are downloaded, in bytes; `None` when it cannot be measured.
    pub free_disk: Option<u64>,
}

/// A catalog entry as this library and machine see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogModel {
    /// The entry.
    #[serde(flatten)]
    pub entry: Entry,
    /// The memory it needs to answer (see [`Entry::ram_bytes`]).
    pub ram_bytes: u64,
    /// Whether that fits comfortably in this machine's memory.
    pub fits: bool,
    /// Whether it is the one recommended here: the largest that fits.
    pub recommended: bool,
    /// Whether it is downloaded and verified.
    pub installed: bool,
    /// Bytes of an unfinished download that the next pull resumes from.
    pub partial_bytes: u64,
}

/// The catalog as this library sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogView {
    /// The machine.
    pub machine: Machine,
    /// Where downloads come from.
    pub endpoint: String,
    /// The entries, smallest memory need first.
    pub models: Vec<CatalogModel>,
}

/// A model the library holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledModel {
    /// Its record.
    #[serde(flatten)]
    pub record: ModelRecord,
    /// Whether it is the chat model in `config.toml`.
    pub in_use: bool,
    /// Whether its file is still there.
    pub present: bool,
}

/// What [`Library::remove_model`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedModel {
    /// The model's name.
    pub name: String,
    /// Its file, deleted when Cairn had downloaded it (or an unfinished download's part).
    pub deleted: Option<String>,
    /// Whether it was the chat model: the default model answers again.
    pub was_in_use: bool,
}

impl Library {
    /// Where downloaded models go: `<data dir>/models`.
    pub fn models_dir(&self) -> PathBuf {
        self.data_dir.join("models")
    }

    /// Where models are downloaded from: `$CAIRN_HF_ENDPOINT`, else `models.hub_endpoint`, else
    /// Hugging Face.
    pub fn hub_endpoint(&self) -> Result<Endpoint> {
        let configured = std::env::var(HUB_ENDPOINT_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.config.models.hub_endpoint.clone());
        Ok(match configured {
            Some(text) => Endpoint::parse(&text)?,
            None => Endpoint::default(),
        })
    }

    /// The catalog offered: `models.catalog`, else the built-in one.
    pub fn model_catalog(&self) -> Result<Catalog> {
        Ok(match &self.config.models.catalog {
            Some(path) => Catalog::load(path)?,
            None => Catalog::builtin(),
        })
    }

    /// The catalog, each entry marked as it suits this machine and library. Reads the disk only.
    pub fn catalog(&self) -> Result<CatalogView> {
        let catalog = self.model_catalog()?;
        let machine = Machine {
            total_memory: cairn_catalog::total_memory(),
            free_disk: cairn_catalog::free_space(&self.models_dir()).ok(),
        };
        let recommended = catalog
            .recommended(machine.total_memory)
            .map(|e| e.id.clone());
        let installed = self.store.models()?;
        let models = catalog
            .entries()
            .iter()
            .map(|entry| CatalogModel {
                ram_bytes: entry.ram_bytes(),
                fits: entry.fits(machine.total_memory),
                recommended: recommended.as_ref() == Some(&entry.id),
                installed: installed
                    .iter()
                    .any(|m| m.source == entry.id && Path::new(&m.path).is_file()),
                partial_bytes: std::fs::metadata(self.part_of(entry))
                    .map(|m| m.len())
                    .unwrap_or(0),
                entry: entry.clone(),
            })
            .collect();
        Ok(CatalogView {
            machine,
            endpoint: self.hub_endpoint()?.as_str().to_string(),
            models,
        })
    }

    /// Every model the library holds, by name.
    pub fn installed_models(&self) -> Result<Vec<InstalledModel>> {
        Ok(self
            .store
            .models()?
            .into_iter()
            .map(|record| self.view(record))
            .collect())
    }

    /// Downloads catalog model `id` into `<data dir>/models/` and records it, reporting progress
    /// and stopping when `cancel` fires (what arrived is kept, and the next pull resumes it). A
    /// model already downloaded is returned as it is, without a connection.
    ///
    /// Errors: [`Error::Catalog`] with the download's code (`not_found`, `connection`,
    /// `length_mismatch`, `hash_mismatch`, `no_space`, `cancelled`, `http`, `unknown_model`).
    pub async fn pull_model(
        &self,
        id: &str,
        progress: &(dyn Fn(&DownloadProgress) + Sync),
        cancel: &CancelToken,
    ) -> Result<InstalledModel> {
        let catalog = self.model_catalog()?;
        let entry = catalog.get(id)?;
        let dest = self.models_dir().join(&entry.file);
        if let Some(record) = self.store.model(id)?
            && record.path == dest.display().to_string()
            && std::fs::metadata(&dest).is_ok_and(|m| m.len() == entry.bytes)
        {
            return Ok(self.view(record));
        }
        let downloader = Downloader::new(self.hub_endpoint()?)?;
        let request = FileRequest::for_entry(entry, dest.clone());
        let done = downloader
            .download(&request, progress, cancel.flag())
            .await?;
        let header = match read_header(&done.path) {
            Ok(header) => header,
            Err(e) => {
                let _ = std::fs::remove_file(&done.path);
                return Err(e.into());
            }
        };
        let record = ModelRecord {
            name: entry.id.clone(),
            path: done.path.display().to_string(),
            source: entry.id.clone(),
            bytes: done.bytes,
            sha256: Some(done.sha256),
            architecture: header.architecture,
            added_at: cairn_store::now_unix(),
        };
        self.store.put_model(&record)?;
        Ok(self.view(record))
    }

    /// Registers a GGUF file already on disk (LM Studio's, Ollama's blobs, any path) in place,
    /// without copying it, once its header reads as GGUF. Named `name`, or after the file; a file
    /// already registered is returned as it is.
    pub fn add_model_file(&self, path: &Path, name: Option<&str>) -> Result<InstalledModel> {
        let path = absolute(path);
        let shown = path.display().to_string();
        if let Some(record) = self.store.model_at(&shown)? {
            return Ok(self.view(record));
        }
        let metadata = std::fs::metadata(&path).map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        if !metadata.is_file() {
            return Err(Error::InvalidInput(format!("{shown} is not a file")));
        }
        let header = read_header(&path)?;
        let name = self.free_name(&path, name)?;
        let record = ModelRecord {
            name,
            path: shown,
            source: LOCAL_SOURCE.to_string(),
            bytes: metadata.len(),
            sha256: None,
            architecture: header.architecture,
            added_at: cairn_store::now_unix(),
        };
        self.store.put_model(&record)?;
        Ok(self.view(record))
    }

    /// Forgets model `name`, deleting its file only if Cairn downloaded it. Were it a chat model
    /// (`models.chat` or `models.strong_chat`), that setting is unset (the default model takes
    /// its place again). A catalog id with no model
    /// but an unfinished download has that download deleted.
    pub fn remove_model(&self, name: &str) -> Result<RemovedModel> {
        let Some(record) = self.store.model(name)? else {
            return self.remove_part(name);
        };
        let mut deleted = None;
        if record.downloaded() {
            match std::fs::remove_file(&record.path) {
                Ok(()) => deleted = Some(record.path.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Io {
                        path: record.path.clone(),
                        source,
                    });
                }
            }
        }
        self.store.remove_model(name)?;
        let mut was_in_use = false;
        config_file::update(&self.config_path(), |config| {
            let path = Some(Path::new(&record.path));
            if config.models.chat.as_deref() == path {
                config.models.chat = None;
                was_in_use = true;
            }
            if config.models.strong_chat.as_deref() == path {
                config.models.strong_chat = None;
                was_in_use = true;
            }
            Ok::<(), Error>(())
        })?;
        Ok(RemovedModel {
            name: record.name,
            deleted,
            was_in_use,
        })
    }

    /// Makes model `name` the model that answers questions, in `config.toml` (comments kept):
    /// `models.strong_chat`, or `models.chat` under `models.local_answers = "fast"`. It takes
    /// effect when the library is next opened.
    pub fn use_model(&self, name: &str) -> Result<InstalledModel> {
        let record = self
            .store
            .model(name)?
            .ok_or_else(|| Error::NoSuchModel(name.to_string()))?;
        if !Path::new(&record.path).is_file() {
            return Err(Error::InvalidInput(format!(
                "the file of {name} is gone ({}): remove the model and add it again",
                record.path
            )));
        }
        config_file::update(&self.config_path(), |config| {
            let path = Some(PathBuf::from(&record.path));
            match config.models.local_answers {
                LocalAnswers::Fast => config.models.chat = path,
                LocalAnswers::Strong | LocalAnswers::Tiers => config.models.strong_chat = path,
            }
            Ok::<(), Error>(())
        })?;
        Ok(InstalledModel {
            record,
            in_use: true,
            present: true,
        })
    }

    /// The setting that names the model answering questions, if set.
    fn answering_model_setting(&self) -> Option<&Path> {
        match self.config.models.local_answers {
            LocalAnswers::Fast => self.config.models.chat.as_deref(),
            LocalAnswers::Strong | LocalAnswers::Tiers => self.config.models.strong_chat.as_deref(),
        }
    }

    fn config_path(&self) -> PathBuf {
        self.data_dir.join("config.toml")
    }

    fn view(&self, record: ModelRecord) -> InstalledModel {
        InstalledModel {
            in_use: self.answering_model_setting() == Some(Path::new(&record.path)),
            present: Path::new(&record.path).is_file(),
            record,
        }
    }

    /// `<models>/<file>.part`: an unfinished download of `entry`.
    fn part_of(&self, entry: &Entry) -> PathBuf {
        self.models_dir().join(format!("{}.part", entry.file))
    }

    /// Deletes the unfinished download of catalog model `id`, if there is one.
    fn remove_part(&self, id: &str) -> Result<RemovedModel> {
        let no_model = || Error::NoSuchModel(id.to_string());
        let catalog = self.model_catalog()?;
        let entry = catalog.get(id).map_err(|_| no_model())?;
        let part = self.part_of(entry);
        if !part.is_file() {
            return Err(no_model());
        }
        std::fs::remove_file(&part).map_err(|source| Error::Io {
            path: part.display().to_string(),
            source,
        })?;
        let _ = std::fs::remove_file(part.with_extension("part.json"));
        Ok(RemovedModel {
            name: id.to_string(),
            deleted: Some(part.display().to_string()),
            was_in_use: false,
        })
    }

    /// `wanted`, or the file's name without `.gguf`, made unique: a name taken by another model or
    /// by a catalog id gets `-2`, `-3`, … (a name given explicitly is refused instead).
    fn free_name(&self, path: &Path, wanted: Option<&str>) -> Result<String> {
        let catalog = self.model_catalog()?;
        let taken = |name: &str| -> Result<bool> {
            Ok(self.store.model(name)?.is_some() || catalog.get(name).is_ok())
        };
        if let Some(name) = wanted.map(str::trim) {
            if name.is_empty() {
                return Err(Error::InvalidInput("a model's name cannot be empty".into()));
            }
            if taken(name)? {
                return Err(Error::InvalidInput(format!(
                    "the name {name} is taken: choose another with --name"
                )));
            }
            return Ok(name.to_string());
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "model".into());
        let mut name = stem.clone();
        let mut n = 1;
        while taken(&name)? {
            n += 1;
            name = format!("{stem}-{n}");
        }
        Ok(name)
    }
}
