//! The library: a data directory and the models that work on it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use cairn_index::{CollectionIndex, EmbedderStamp, Index};
use cairn_ingest::PdfReader;
use cairn_models::llm::{Backend, ChatModel};
use cairn_models::{BertEmbedder, CrossEncoderReranker, Embedder, MaxSimReranker, Reranker};
use cairn_store::{CollectionRecord, DocumentRecord, Store};
use serde::Serialize;

use cairn_providers::{Keychain, Provider};

use crate::answer::question::title;
use crate::cache::AnswerCache;
use crate::complexity::ComplexityClassifier;
use crate::config::{BudgetConfig, Config, RerankerChoice};
use crate::error::{Error, Result};
use crate::paths::absolute;
use crate::policy::{LocalAnswers, LocalTier};
use crate::prompts::{PromptInfo, infos};
use crate::resident::Resident;
use crate::router::IntentRouter;
use crate::search::cache::RetrievalCache;
use crate::write_lock::{LockHolder, OnLockWait, WriteLock};

/// The name of the default embedding model's directory under `models/`.
const DEFAULT_EMBEDDER: &str = "all-MiniLM-L6-v2";

/// The default chat model, under `models/`.
/// PDFium's library file on this OS.
const PDFIUM_LIBRARY: &str = if cfg!(target_os = "windows") {
    "pdfium.dll"
} else if cfg!(target_os = "macos") {
    "libpdfium.dylib"
} else {
    "libpdfium.so"
};
const DEFAULT_CHAT: &str = "SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The default strong chat model, under `models/`.
const DEFAULT_STRONG_CHAT: &str =
    "Qwen2.5-Coder-1.5B-Instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";

/// A data directory (`cairn.sqlite`, `lance/`, `config.toml`) and the models that work on it. Models
/// load on first use, so listing documents never waits for them.
pub struct Library {
    pub(crate) data_dir: PathBuf,
    pub(crate) config: Config,
    pub(crate) store: Arc<Store>,
    pub(crate) index: Index,
    embedder: Resident<BertEmbedder>,
    reranker: Resident<dyn Reranker>,
    chat: Resident<Mutex<ChatModel>>,
    strong_chat: Resident<Mutex<ChatModel>>,
    bundled_models: Option<PathBuf>,
    lock_notice: Option<Arc<OnLockWait>>,
    pub(crate) router: IntentRouter,
    pub(crate) complexity: ComplexityClassifier,
    providers: OnceLock<Vec<Arc<Provider>>>,
    pub(crate) searches: AtomicU64,
    pub(crate) retrieval_cache: RetrievalCache,
    pub(crate) answer_cache: AnswerCache,
    pub(crate) shared_indexes: crate::shared_handles::SharedIndexes,
    pub(crate) catching_up: crate::shared_handles::CatchingUp,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

/// What cloud models have cost, and the limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spend {
    /// Today (UTC).
    pub today: cairn_store::Spent,
    /// This month (UTC).
    pub month: cairn_store::Spent,
    /// This month, by provider and model.
    pub by_model: Vec<cairn_store::ModelSpend>,
    /// The configured budgets.
    pub budget: BudgetConfig,
}

/// What [`Library::remove`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemoveReport {
    /// Paths of the documents that left the index.
    pub removed: Vec<String>,
    /// Their chunks deleted from the index.
    pub chunks: u64,
}

impl Library {
    /// Opens (creating if needed) the library in `data_dir` with `config`.
    ///
    /// The folder is made private (0700) and so is every file in it (0600). When no other process
    /// is writing, the repairs a stopped writer left are made first (see [`Library::recover`]).
    pub async fn open(data_dir: &Path, config: Config) -> Result<Library> {
        crate::private::make_private_dir(data_dir)?;
        // SQLite gives its journal files the database file's mode: create that private.
        crate::private::create_private_file(&data_dir.join("cairn.sqlite"))?;
        let store = Store::open(&data_dir.join("cairn.sqlite"))?;
        let index = Index::open(&data_dir.join("lance")).await?;
        let retrieval_cache = RetrievalCache::new(config.search.cache_entries);
        let library = Library {
            data_dir: data_dir.to_path_buf(),
            config,
            store: Arc::new(store),
            index,
            embedder: Resident::default(),
            reranker: Resident::default(),
            chat: Resident::default(),
            strong_chat: Resident::default(),
            bundled_models: None,
            lock_notice: None,
            router: IntentRouter::builtin(),
            complexity: ComplexityClassifier::builtin(),
            providers: OnceLock::new(),
            searches: AtomicU64::new(0),
            retrieval_cache,
            answer_cache: AnswerCache::default(),
            shared_indexes: Default::default(),
            catching_up: Default::default(),
        };
        if let Some(lock) = WriteLock::try_acquire(data_dir, "repairing the library")? {
            library.recover(&lock).await?;
        }
        Ok(library)
    }

    /// Says whom a writer of this library waits for, when another holds the write lock (the CLI
    /// prints it, the app shows it); without one the wait is only logged.
    pub fn with_lock_notice(mut self, notice: Arc<OnLockWait>) -> Library {
        self.lock_notice = Some(notice);
        self
    }

    /// Takes the library's write lock for `doing`, waiting (and saying for whom) while another
    /// writer holds it.
    pub(crate) async fn write_lock(&self, doing: &str) -> Result<WriteLock> {
        self.write_lock_telling(doing, &|_| {}).await
    }

    /// [`Library::write_lock`], also telling `waiting` whom it waits for.
    pub(crate) async fn write_lock_telling(
        &self,
        doing: &str,
        waiting: &(dyn Fn(Option<&LockHolder>) + Sync),
    ) -> Result<WriteLock> {
        WriteLock::acquire(&self.data_dir, doing, &|holder: Option<&LockHolder>| {
            if let Some(notice) = &self.lock_notice {
                notice(holder);
            }
            waiting(holder);
        })
        .await
    }

    /// Who is writing to this library now, if anyone.
    pub fn writer(&self) -> Option<LockHolder> {
        crate::write_lock::holder(&self.data_dir)
    }

    /// Opens the library with the config file in `data_dir` (defaults where it is absent).
    pub async fn open_with_config_file(data_dir: &Path) -> Result<Library> {
        let config = Config::load(&data_dir.join("config.toml"))?;
        Library::open(data_dir, config).await
    }

    /// Looks for the default models in `dir` too (after `$CAIRN_MODELS_DIR` and `<data dir>/models`):
    /// an installed app passes the folder its package put them in.
    pub fn with_bundled_models(mut self, dir: PathBuf) -> Library {
        self.bundled_models = Some(dir);
        self
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The embedding model, loaded on first use.
    pub fn embedder(&self) -> Result<Arc<BertEmbedder>> {
        self.embedder.get_or_load(|| {
            let dir = self.embedder_dir()?;
            Ok(Arc::new(BertEmbedder::load_with(
                &dir,
                &cairn_models::select_device(),
                self.config.models.embedder_precision,
            )?))
        })
    }

    /// The embedding model's id (its directory's name), loading it on first use.
    pub fn embedding_model_id(&self) -> Result<String> {
        Ok(self.embedder()?.info().id.clone())
    }

    /// Embeds `texts` with the library's embedding model, on a blocking thread: one unit-length
    /// vector per text, in order.
    pub async fn embed_texts(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        embed(&self.embedder()?, texts).await
    }

    /// The configured reranker, if any, loaded on first use.
    pub(crate) fn reranker(&self) -> Result<Option<Arc<dyn Reranker>>> {
        if self.config.search.reranker == RerankerChoice::None {
            return Ok(None);
        }
        self.reranker
            .get_or_load(|| {
                let reranker: Arc<dyn Reranker> = match &self.config.search.reranker {
                    RerankerChoice::CrossEncoder(dir) => Arc::new(CrossEncoderReranker::load(
                        dir,
                        &cairn_models::select_device(),
                    )?),
                    _ => Arc::new(MaxSimReranker::new(self.embedder()?)),
                };
                Ok(reranker)
            })
            .map(Some)
    }

    /// The embedding model's directory: the configured one, or where the default was found.
    pub fn embedder_dir(&self) -> Result<PathBuf> {
        match &self.config.models.embedder {
            Some(dir) => Ok(dir.clone()),
            None => self.find_model(DEFAULT_EMBEDDER, "config.json", "models.embedder"),
        }
    }

    /// A thread's messages, oldest first, with the citations of each answer.
    pub fn thread_messages(&self, thread: i64) -> Result<Vec<cairn_store::MessageRecord>> {
        Ok(self.store.messages(thread)?)
    }

    /// Every thread, most recently active first.
    pub fn threads(&self) -> Result<Vec<cairn_store::ThreadRecord>> {
        Ok(self.store.threads()?)
    }

    /// Deletes a thread and its messages; false if there was no such thread.
    pub fn delete_thread(&self, thread: i64) -> Result<bool> {
        Ok(self.store.delete_thread(thread)?)
    }

    /// Starts a thread holding earlier turns of a conversation kept elsewhere (a client of the
    /// local API sends its whole history), so the next question asked in it is a follow-up.
    /// `turns` are `(role, text)` with role `user` or `assistant`, oldest first.
    pub fn start_thread(&self, collection: &str, turns: &[(String, String)]) -> Result<i64> {
        if let Some((role, _)) = turns
            .iter()
            .find(|(role, _)| role != "user" && role != "assistant")
        {
            return Err(Error::InvalidInput(format!(
                "a turn's role is user or assistant, not '{role}'"
            )));
        }
        let first = turns
            .iter()
            .find(|(role, _)| role == "user")
            .map_or("conversation", |(_, text)| text.as_str());
        let thread = self.store.create_thread(&title(first), collection)?;
        for (role, content) in turns {
            self.store.add_message(
                thread.id,
                &cairn_store::NewMessage {
                    role: role.clone(),
                    content: content.clone(),
                    ..Default::default()
                },
            )?;
        }
        Ok(thread.id)
    }

    /// Searches this library has run since it was opened (answers included).
    pub fn searches_run(&self) -> u64 {
        self.searches.load(Ordering::Relaxed)
    }

    /// Of those, the ones answered from the retrieval cache.
    pub fn searches_cached(&self) -> u64 {
        self.retrieval_cache.hits()
    }

    /// The prompt templates, each with its versions and the one in use.
    pub fn prompts(&self) -> Vec<PromptInfo> {
        infos(&self.config.prompts)
    }

    /// What the answer cache holds.
    pub fn answer_cache_usage(&self) -> Result<cairn_store::CacheUsage> {
        Ok(self.store.cache_usage()?)
    }

    /// Empties the answer cache, of one collection or of all; returns the entries removed.
    pub fn clear_answer_cache(&self, collection: Option<&str>) -> Result<usize> {
        Ok(self.store.cache_clear(collection)?)
    }

    /// The configured providers, constructed on first use. Only a question routed to a cloud model
    /// gets here: under the offline-only policy none is ever constructed.
    pub(crate) fn providers(&self) -> Result<&[Arc<Provider>]> {
        if let Some(providers) = self.providers.get() {
            return Ok(providers);
        }
        let built = self
            .config
            .providers
            .iter()
            .map(|c| Provider::new(c.clone(), Keychain::default()).map(Arc::new))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(self.providers.get_or_init(|| built))
    }

    /// Whether any provider has been constructed (none under offline-only).
    pub fn providers_constructed(&self) -> bool {
        self.providers.get().is_some()
    }

    /// The last `n` traces, newest first.
    pub fn traces(&self, n: usize) -> Result<Vec<cairn_store::TraceSummary>> {
        Ok(self.store.traces(n)?)
    }

    /// One trace: its summary and the whole record.
    pub fn trace(&self, id: i64) -> Result<Option<(cairn_store::TraceSummary, serde_json::Value)>> {
        match self.store.trace(id)? {
            None => Ok(None),
            Some((summary, data)) => Ok(Some((summary, serde_json::from_str(&data)?))),
        }
    }

    /// The last `n` entries of the egress audit log (what left the device; never its text).
    pub fn audit(&self, n: usize) -> Result<Vec<cairn_store::AuditEntry>> {
        Ok(self.store.audit_entries(n)?)
    }

    /// Recomputes the audit log's hash chain.
    pub fn verify_audit(&self) -> Result<cairn_store::AuditVerdict> {
        Ok(self.store.verify_audit()?)
    }

    /// What cloud models have cost: today, this month, and by model this month.
    pub fn spend(&self) -> Result<Spend> {
        let (today, month, _) = self.store.spent(None)?;
        Ok(Spend {
            today,
            month,
            by_model: self.store.spend_by_model()?,
            budget: self.config.budget,
        })
    }

    /// The chat model's file: the configured one, or where the default was found.
    pub fn chat_model_path(&self) -> Result<PathBuf> {
        match &self.config.models.chat {
            Some(path) => Ok(path.clone()),
            None => self.find_model(DEFAULT_CHAT, "", "models.chat"),
        }
    }

    /// Whether the chat model is loaded (it loads on the first answer).
    pub fn chat_model_loaded(&self) -> bool {
        self.chat.is_loaded()
    }

    /// The chat model, loaded on first use and kept until it has been idle for
    /// `models.unload_after_secs` (see [`Library::unload_idle_models`]).
    pub fn chat_model(&self) -> Result<Arc<Mutex<ChatModel>>> {
        self.chat.get_or_load(|| {
            let path = self.chat_model_path()?;
            let model = ChatModel::load(&path, &cairn_models::select_device(), Backend::Auto)?;
            Ok(Arc::new(Mutex::new(model)))
        })
    }

    /// The strong chat model's file: the configured one, or the default where it is installed;
    /// `None` when there is none or `models.local_answers` is `fast`.
    pub fn strong_chat_model_path(&self) -> Result<Option<PathBuf>> {
        if self.config.models.local_answers == LocalAnswers::Fast {
            return Ok(None);
        }
        match &self.config.models.strong_chat {
            Some(path) => Ok(Some(path.clone())),
            None => Ok(self
                .find_model(DEFAULT_STRONG_CHAT, "", "models.strong_chat")
                .ok()),
        }
    }

    /// The chat model of `tier`, loaded on first use: the strong one where there is one, else the
    /// fast one.
    pub fn chat_model_for(&self, tier: LocalTier) -> Result<Arc<Mutex<ChatModel>>> {
        if tier == LocalTier::Fast {
            return self.chat_model();
        }
        let Some(path) = self.strong_chat_model_path()? else {
            return self.chat_model();
        };
        self.strong_chat.get_or_load(|| {
            let model = ChatModel::load(&path, &cairn_models::select_device(), Backend::Auto)?;
            Ok(Arc::new(Mutex::new(model)))
        })
    }

    /// Takes the models that have not been used for `models.unload_after_secs` out of memory
    /// (none while they are in use); they load again on their next use. The names of those taken
    /// out. A library left open calls it from time to time ([`keep_models_lean`]).
    pub fn unload_idle_models(&self) -> Vec<&'static str> {
        let secs = self.config.models.unload_after_secs;
        if secs == 0 {
            return Vec::new();
        }
        let idle = std::time::Duration::from_secs(secs);
        let now = std::time::Instant::now();
        // The reranker first: MaxSim holds the embedder.
        [
            ("reranker", self.reranker.unload_if_idle(idle, now)),
            ("embedder", self.embedder.unload_if_idle(idle, now)),
            ("chat", self.chat.unload_if_idle(idle, now)),
            ("strong chat", self.strong_chat.unload_if_idle(idle, now)),
        ]
        .into_iter()
        .filter_map(|(name, unloaded)| unloaded.then_some(name))
        .collect()
    }

    /// Where a default model (`relative` under a models directory) may be, in the order they are
    /// tried: `$CAIRN_MODELS_DIR`, `<data dir>/models`, the folder an installed app bundles, beside
    /// the executable, and the source tree's `models/` (where scripts/fetch-models puts them).
    fn model_candidates(&self, relative: &str) -> Vec<PathBuf> {
        let mut candidates = Vec::new();
        if let Some(dir) = std::env::var_os("CAIRN_MODELS_DIR") {
            candidates.push(PathBuf::from(dir).join(relative));
        }
        candidates.push(self.data_dir.join("models").join(relative));
        if let Some(dir) = &self.bundled_models {
            candidates.push(dir.join(relative));
        }
        if let Some(exe_dir) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            candidates.push(exe_dir.join("models").join(relative));
            candidates.push(exe_dir.join("../share/cairn/models").join(relative));
        }
        candidates.push(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../models")
                .join(relative),
        );
        candidates
    }

    /// The PDFium library PDFs are read with: `ingest.pdfium_library`, else the first found where
    /// the default models are (under `pdfium/`). `None` when `ingest.pdf_reader` is `builtin` or
    /// no library is found; PDFs are then read by the built-in reader. The library found is bound
    /// for this process and the parse workers it starts.
    pub fn pdfium(&self) -> Option<PathBuf> {
        if self.config.ingest.pdf_reader == PdfReader::Builtin {
            return None;
        }
        let found = match &self.config.ingest.pdfium_library {
            Some(path) => Some(path.clone()).filter(|p| p.is_file()),
            None => self
                .model_candidates(&format!("pdfium/{PDFIUM_LIBRARY}"))
                .into_iter()
                .find(|p| p.is_file()),
        }?;
        cairn_ingest::use_pdfium(&found);
        Some(found)
    }

    /// A default model (`relative` under a models directory, containing `marker` if a directory),
    /// looked up in `$CAIRN_MODELS_DIR`, `<data dir>/models`, beside the executable, and in the source
    /// tree's `models/` (where scripts/fetch-models puts them).
    fn find_model(&self, relative: &str, marker: &str, setting: &str) -> Result<PathBuf> {
        let candidates = self.model_candidates(relative);
        let present = |p: &PathBuf| {
            if marker.is_empty() {
                p.is_file()
            } else {
                p.join(marker).is_file()
            }
        };
        match candidates.iter().find(|p| present(p)) {
            Some(p) => Ok(p.clone()),
            None => Err(Error::NoModel {
                what: if marker.is_empty() {
                    "chat"
                } else {
                    "embedding"
                },
                tried: candidates
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                setting: setting.to_string(),
                config: self.data_dir.join("config.toml").display().to_string(),
            }),
        }
    }

    pub(crate) fn stamp(&self) -> Result<EmbedderStamp> {
        let info = self.embedder()?.info().clone();
        Ok(EmbedderStamp {
            id: info.id,
            fingerprint: info.fingerprint,
            dimension: info.dimension,
        })
    }

    /// Opens a collection's index for the current embedder, creating the collection if `create`.
    pub(crate) async fn collection_index(
        &self,
        collection: &str,
        create: bool,
    ) -> Result<CollectionIndex> {
        let stamp = self.stamp()?;
        let Some(record) = self.store.collection(collection)? else {
            if !create {
                return Err(Error::NoSuchCollection(collection.to_string()));
            }
            // A table without a record was left by a delete stopped between its two steps (or a
            // create stopped between its): its rows belong to no document. Start empty.
            if self.index.stamp(collection).await?.is_some() {
                tracing::info!(collection, "dropping a table a stopped delete left behind");
                self.index.drop_collection(collection).await?;
            }
            let index = self.index.collection(collection, &stamp).await?;
            let record = CollectionRecord::new(
                collection,
                &stamp.id,
                &stamp.fingerprint,
                stamp.dimension as u32,
            );
            self.store.create_collection(&record)?;
            return Ok(index);
        };
        if record.shared.is_some() {
            // Never dropped from here: other libraries' passages are in it.
            return Ok(self
                .index_of(collection)
                .await?
                .collection(collection, &stamp)
                .await?);
        }
        // A re-index stopped between recording the new model and dropping the old table: the
        // records already say every document must be read again, so the old table goes.
        if record.embedder_fingerprint == stamp.fingerprint
            && record.dimension as usize == stamp.dimension
            && let Some(found) = self.index.stamp(collection).await?
            && found != stamp
        {
            tracing::info!(collection, "dropping the old table a stopped re-index left");
            self.index.drop_collection(collection).await?;
        }
        Ok(self.index.collection(collection, &stamp).await?)
    }

    /// Documents of one collection, or of all.
    pub fn documents(&self, collection: Option<&str>) -> Result<Vec<DocumentRecord>> {
        Ok(self.store.documents(collection)?)
    }

    /// Collection names with their embedding model.
    pub fn collections(&self) -> Result<Vec<CollectionRecord>> {
        Ok(self.store.collections()?)
    }

    /// Creates an empty collection for the current embedding model; an existing one is left as it is.
    pub async fn create_collection(&self, collection: &str) -> Result<()> {
        let _lock = self
            .write_lock(&format!("creating collection '{collection}'"))
            .await?;
        self.collection_index(collection, true).await.map(drop)
    }

    /// Deletes a collection: its document records, what was asked of it (traces, reviews,
    /// feedback, cached answers) and its index. The files are not touched.
    ///
    /// Records first, in one transaction, then the table: a kill in between leaves a table no
    /// record names, which is dropped before a collection of that name is made again
    /// ([`Library::collection_index`]), never documents marked indexed over a missing table.
    ///
    /// A shared collection is only left: its records and key here are forgotten, its index stays
    /// in the store for the other libraries (the passages this library added stay with it).
    pub async fn delete_collection(&self, collection: &str) -> Result<()> {
        let Some(record) = self.store.collection(collection)? else {
            return Err(Error::NoSuchCollection(collection.to_string()));
        };
        let _lock = self
            .write_lock(&format!("deleting collection '{collection}'"))
            .await?;
        self.store.delete_collection(collection)?;
        if record.shared.is_some() {
            return self.forget_shared_key(collection);
        }
        crate::fault::point("delete_collection.records_deleted");
        self.index.drop_collection(collection).await?;
        Ok(())
    }

    /// Removes documents from a collection: a file path removes that document, a folder every
    /// document under it. The files themselves are not touched.
    pub async fn remove(&self, paths: &[PathBuf], collection: &str) -> Result<RemoveReport> {
        if self.store.collection(collection)?.is_none() {
            return Err(Error::NoSuchCollection(collection.to_string()));
        }
        let _lock = self
            .write_lock(&format!("removing files from '{collection}'"))
            .await?;
        let targets: Vec<String> = paths
            .iter()
            .map(|p| absolute(p).display().to_string())
            .collect();
        let docs: Vec<DocumentRecord> = self
            .store
            .documents(Some(collection))?
            .into_iter()
            .filter(|d| {
                targets
                    .iter()
                    .any(|t| d.path == *t || Path::new(&d.path).starts_with(t))
            })
            .collect();
        self.remove_documents(collection, &docs).await
    }

    pub(crate) async fn remove_documents(
        &self,
        collection: &str,
        docs: &[DocumentRecord],
    ) -> Result<RemoveReport> {
        if docs.is_empty() {
            return Ok(RemoveReport::default());
        }
        let index = self.index_of(collection).await?;
        match index.stamp(collection).await? {
            Some(stamp) => {
                let index = index.collection(collection, &stamp).await?;
                self.remove_documents_from(&index, docs).await
            }
            None => self.forget_documents(docs, 0),
        }
    }

    /// Removes documents through a table handle the caller keeps using: a handle opened before
    /// a delete made through another would not see it, and its compaction would then conflict
    /// with the delete.
    pub(crate) async fn remove_documents_from(
        &self,
        index: &CollectionIndex,
        docs: &[DocumentRecord],
    ) -> Result<RemoveReport> {
        if docs.is_empty() {
            return Ok(RemoveReport::default());
        }
        let ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
        // Journalled: marked `removing`, then the vectors, then the records. A kill in between
        // leaves documents the next start finishes removing ([`Library::recover`]), never a
        // record marked indexed without its vectors, nor vectors without a record.
        self.store.begin_removal(&ids)?;
        crate::fault::point("remove.marked");
        let chunks = index.delete_documents(&ids).await?;
        crate::fault::point("remove.rows_deleted");
        self.forget_documents(docs, chunks)
    }

    fn forget_documents(&self, docs: &[DocumentRecord], chunks: u64) -> Result<RemoveReport> {
        for doc in docs {
            self.store.remove_document(doc.id)?;
        }
        Ok(RemoveReport {
            removed: docs.iter().map(|d| d.path.clone()).collect(),
            chunks,
        })
    }
}

/// Loads a chat model file to check that it can answer, and says what it is.
pub fn probe_chat_model(path: &Path) -> Result<String> {
    let model = ChatModel::load(path, &cairn_models::select_device(), Backend::Auto)?;
    let info = model.info();
    Ok(format!(
        "{}, {} layers, {}-token context, {:.0} MB",
        info.config.architecture,
        info.config.n_layer,
        info.config.context_length,
        info.file_bytes as f64 / 1e6
    ))
}

/// Loads a sentence-embedding model folder to check that it can embed, and says what it is.
pub fn probe_embedder(dir: &Path) -> Result<String> {
    let embedder = BertEmbedder::load(dir, &cairn_models::select_device())?;
    let info = embedder.info();
    Ok(format!(
        "{}, {} dimensions, {}-token window, {}",
        info.id,
        info.dimension,
        info.max_tokens,
        info.precision.name()
    ))
}

/// Embeds `texts` off the async runtime: one unit-length vector per text, in order.
pub(crate) async fn embed(
    embedder: &Arc<BertEmbedder>,
    texts: Vec<String>,
) -> Result<Vec<Vec<f32>>> {
    embed_on(None, embedder, texts).await
}

/// [`embed`] on `pool`'s threads where one is given (an add's, `ingest.max_cores`), else on the
/// shared pool.
pub(crate) async fn embed_on(
    pool: Option<Arc<rayon::ThreadPool>>,
    embedder: &Arc<BertEmbedder>,
    texts: Vec<String>,
) -> Result<Vec<Vec<f32>>> {
    let embedder = embedder.clone();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        match pool {
            Some(pool) => pool.install(|| embedder.embed(&refs)),
            None => embedder.embed(&refs),
        }
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
    .map_err(Error::from)
}

/// How often a library left open looks for idle models.
const IDLE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Takes a library's idle models out of memory ([`Library::unload_idle_models`]) every 30 s for
/// as long as the library is open elsewhere: the task ends once only its weak reference is left.
/// For the app and the long-running servers (`cairn serve`, `cairn mcp`).
pub fn keep_models_lean(library: Weak<Library>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(IDLE_CHECK_EVERY).await;
            let Some(library) = library.upgrade() else {
                return;
            };
            let unloaded = library.unload_idle_models();
            if !unloaded.is_empty() {
                tracing::info!(models = ?unloaded, "unused models taken out of memory");
            }
        }
    })
}
