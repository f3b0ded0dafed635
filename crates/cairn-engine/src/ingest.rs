//! Adding files to a collection: discover, parse and chunk (on a worker thread), embed in batches,
//! write in batches, journalled so a kill at any moment loses nothing and duplicates nothing.
//!
//! The journal protocol, per batch of documents:
//! 1. the store marks them `writing` (with the hash being written);
//! 2. their old rows, if any, are deleted from the index;
//! 3. the new rows are appended in one write;
//! 4. the store marks them `indexed`.
//!
//! A document found in `writing` at the start of a run was interrupted between 1 and 4: its rows are
//! deleted and it is done again. Hence every file ends indexed exactly once.
//!
//! A document of more chunks than a batch (`ingest.batch_chunks`) is written on its own, streamed:
//! marked `writing` once, then embedded and appended a batch of chunks at a time (step 3 repeated),
//! reporting [`Progress::Passages`], then marked `indexed`. Between its slices the small documents
//! parsed meanwhile are written, so they do not wait behind it; a cancel between slices leaves it
//! `writing`, to be redone by the next run.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_index::{ChunkRow, CollectionIndex, Passage};
use cairn_ingest::{Chunk, Chunker, ChunkerConfig, DocumentKind, ParseError, ParseLimits};
use cairn_models::{BertEmbedder, Embedder};
use cairn_store::{DocState, DocumentRecord, IndexedDocument};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::paths::absolute;

/// What is happening to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Being read, parsed and chunked.
    Parsing,
    /// Its chunks are being embedded.
    Embedding,
    /// Its chunks are being written to the index.
    Writing,
}

/// Progress of [`Library::add`], reported as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// The files to look at are known.
    Discovered {
        /// How many.
        files: usize,
        /// Their paths, in the order they will be done (not serialized: a folder may hold
        /// thousands).
        #[serde(skip)]
        paths: Vec<String>,
    },
    /// A file entered a stage.
    Stage {
        /// The file.
        path: String,
        /// The stage.
        stage: Stage,
    },
    /// A large document's passages embedded and written so far, as it is streamed.
    Passages {
        /// The file.
        path: String,
        /// Passages written.
        done: usize,
        /// Passages in the document.
        total: usize,
    },
    /// A file is done, one way or another.
    Finished(FileOutcome),
}

/// How one file ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileOutcome {
    /// The file.
    pub path: String,
    /// What happened.
    #[serde(flatten)]
    pub status: FileStatus,
    /// Parts of the file that could not be read while the rest could.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What happened to a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileStatus {
    /// Its chunks are in the index.
    Indexed {
        /// Chunks written.
        chunks: usize,
        /// Pages, for paged formats.
        pages: Option<u32>,
        /// It replaced an earlier version of the file.
        replaced: bool,
    },
    /// Same content as already indexed: nothing to do.
    Unchanged,
    /// The file is gone, so its chunks left the index.
    Removed,
    /// It could not be indexed; anything indexed from it before is kept.
    Failed {
        /// Stable code (`encrypted`, `corrupt`, `not_found`, …).
        code: String,
        /// The cause, in words.
        reason: String,
    },
}

/// The result of [`Library::add`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AddReport {
    /// One outcome per file looked at.
    pub outcomes: Vec<FileOutcome>,
    /// The run was cancelled; files without an outcome were left for the next run.
    pub cancelled: bool,
    /// Chunks written in this run.
    pub chunks_written: usize,
    /// Wall time of the run.
    #[serde(with = "seconds")]
    pub elapsed: Duration,
}

mod seconds {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

impl AddReport {
    fn count(&self, f: impl Fn(&FileStatus) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(&o.status)).count()
    }

    /// Files whose chunks were written.
    pub fn indexed(&self) -> usize {
        self.count(|s| matches!(s, FileStatus::Indexed { .. }))
    }

    /// Files already indexed with the same content.
    pub fn unchanged(&self) -> usize {
        self.count(|s| matches!(s, FileStatus::Unchanged))
    }

    /// Files that could not be indexed.
    pub fn failed(&self) -> usize {
        self.count(|s| matches!(s, FileStatus::Failed { .. }))
    }

    /// Files removed because they are gone.
    pub fn removed(&self) -> usize {
        self.count(|s| matches!(s, FileStatus::Removed))
    }
}

/// What the worker thread hands to the writer.
enum Work {
    Started(PathBuf),
    Unchanged(PathBuf),
    /// It failed; with the hash of its content when it was read.
    Failed(PathBuf, ParseError, Option<String>),
    /// The same content failed before: not parsed again.
    Quarantined(PathBuf, String, String),
    Parsed(Parsed),
}

struct Parsed {
    path: PathBuf,
    kind: DocumentKind,
    hash: String,
    size: u64,
    chunks: Vec<Chunk>,
    pages: Option<u32>,
    warnings: Vec<String>,
}

/// A parsed document waiting in the current batch.
struct Pending {
    doc: Parsed,
    id: i64,
    had_rows: bool,
}

/// A document too large for one batch, being written a slice at a time.
struct Streaming {
    pending: Pending,
    /// Chunks written so far; 0 until the journal marks it `writing`.
    written: usize,
}

impl Library {
    /// Indexes files and folders (recursively) into `collection`, creating it if needed.
    ///
    /// Unchanged files are skipped by content hash, changed files have their chunks replaced, and
    /// files that disappeared from a folder being added leave the index. Each file that cannot be read
    /// is reported with its reason and the rest go on. Cancelling stops after the batch being written;
    /// what was written stays, and the next run picks up the rest.
    pub async fn add(
        &self,
        paths: &[PathBuf],
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        let started = Instant::now();
        let index = self.collection_index(collection, true).await?;
        let embedder = self.embedder()?;
        let mut report = AddReport::default();
        let finish = |report: &mut AddReport, outcome: FileOutcome| {
            progress(Progress::Finished(outcome.clone()));
            report.outcomes.push(outcome);
        };

        // Documents a killed run left half-written: delete their rows and do them again.
        let interrupted = self
            .store
            .documents_in_state(collection, DocState::Writing)?;
        if !interrupted.is_empty() {
            tracing::info!(
                count = interrupted.len(),
                "redoing documents an interrupted run left half-written"
            );
            index
                .delete_documents(&interrupted.iter().map(|d| d.id).collect::<Vec<_>>())
                .await?;
        }

        let known: HashMap<String, DocumentRecord> = self
            .store
            .documents(Some(collection))?
            .into_iter()
            .map(|d| (d.path.clone(), d))
            .collect();
        let discovery = discover(paths, &interrupted, &known);
        progress(Progress::Discovered {
            files: discovery.files.len(),
            paths: discovery
                .files
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        });
        for (path, reason) in discovery.missing {
            finish(&mut report, failed(&path, "not_found", &reason, Vec::new()));
        }
        let gone: Vec<DocumentRecord> = discovery
            .gone
            .iter()
            .filter_map(|p| known.get(p).cloned())
            .collect();
        self.remove_documents_from(&index, &gone).await?;
        for doc in gone {
            finish(
                &mut report,
                FileOutcome {
                    path: doc.path,
                    status: FileStatus::Removed,
                    warnings: Vec::new(),
                },
            );
        }

        let snapshot: HashMap<String, String> = known
            .values()
            .filter(|d| d.state == DocState::Indexed)
            .filter_map(|d| d.content_hash.clone().map(|h| (d.path.clone(), h)))
            .collect();
        let chunker = Chunker::new(ChunkerConfig {
            // The model adds [CLS] and [SEP]: a window must leave room for them.
            max_tokens: self
                .config
                .chunking
                .max_tokens
                .min(embedder.info().max_tokens.saturating_sub(2)),
            overlap_tokens: self.config.chunking.overlap_tokens,
        });
        let (tx, mut rx) = mpsc::channel(16);
        let seen = Seen {
            indexed: snapshot,
            quarantined: self.store.quarantined(collection)?,
        };
        // Binds PDFium and sets Tesseract (where they are found) before the first PDF is parsed.
        self.pdfium();
        self.ocr();
        let parsers = spawn_parsers(
            discovery.files,
            parse_threads(self.config.ingest.parse_workers),
            seen,
            chunker,
            self.config.ingest.limits(),
            embedder.clone(),
            cancel.clone(),
            tx,
        );

        let mut batch: Vec<Pending> = Vec::new();
        let mut large: std::collections::VecDeque<Streaming> = Default::default();
        let batch_chunks = self.config.ingest.batch_chunks.max(1);
        loop {
            if cancel.is_cancelled() {
                break;
            }
            // With a large document under way, a slice of it is written whenever no other work is
            // ready; the small documents gathered meanwhile go first.
            let work = if large.is_empty() {
                rx.recv().await
            } else {
                rx.try_recv().ok()
            };
            let Some(work) = work else {
                if large.is_empty() {
                    break;
                }
                // Nothing else is ready (or every file is parsed): the next slice.
                let written = self
                    .write_next_slice(
                        &index,
                        &embedder,
                        &mut batch,
                        &mut large,
                        batch_chunks,
                        progress,
                    )
                    .await?;
                for outcome in written {
                    report.chunks_written += chunk_count(&outcome);
                    finish(&mut report, outcome);
                }
                continue;
            };
            match work {
                Work::Started(path) => progress(Progress::Stage {
                    path: path.display().to_string(),
                    stage: Stage::Parsing,
                }),
                Work::Unchanged(path) => finish(
                    &mut report,
                    FileOutcome {
                        path: path.display().to_string(),
                        status: FileStatus::Unchanged,
                        warnings: Vec::new(),
                    },
                ),
                Work::Quarantined(path, code, reason) => finish(
                    &mut report,
                    failed(
                        &path.display().to_string(),
                        "quarantined",
                        &format!(
                            "{reason} ({code}; this content failed before, so it is not read again until the file changes or it is retried: Retry in the app, or `cairn retry`)"
                        ),
                        Vec::new(),
                    ),
                ),
                Work::Failed(path, error, hash) => {
                    let path_str = path.display().to_string();
                    let id = self.store.ensure_document(collection, &path_str)?;
                    self.store.record_failure(
                        id,
                        error.code(),
                        &error.to_string(),
                        hash.as_deref(),
                    )?;
                    finish(
                        &mut report,
                        failed(&path_str, error.code(), &error.to_string(), Vec::new()),
                    );
                }
                Work::Parsed(doc) => {
                    let path = doc.path.display().to_string();
                    let id = self.store.ensure_document(collection, &path)?;
                    let had_rows = known
                        .get(&path)
                        .is_some_and(|d| matches!(d.state, DocState::Indexed | DocState::Writing));
                    let pending = Pending { doc, id, had_rows };
                    if pending.doc.chunks.len() > batch_chunks {
                        large.push_back(Streaming {
                            pending,
                            written: 0,
                        });
                        continue;
                    }
                    batch.push(pending);
                    if batch.iter().map(|p| p.doc.chunks.len()).sum::<usize>() >= batch_chunks {
                        let written = self
                            .write_batch(&index, &embedder, std::mem::take(&mut batch), progress)
                            .await?;
                        report.chunks_written += written.iter().map(chunk_count).sum::<usize>();
                        written.into_iter().for_each(|o| finish(&mut report, o));
                    }
                }
            }
        }
        drop(rx);
        if cancel.is_cancelled() {
            report.cancelled = true;
        } else if !batch.is_empty() {
            let written = self.write_batch(&index, &embedder, batch, progress).await?;
            report.chunks_written += written.iter().map(chunk_count).sum::<usize>();
            written.into_iter().for_each(|o| finish(&mut report, o));
        }
        for parser in parsers {
            parser
                .join()
                .map_err(|_| Error::Internal("a parser thread panicked".into()))?;
        }
        if report.chunks_written > 0 || report.removed() > 0 || !interrupted.is_empty() {
            index.optimize(&self.config.index).await?;
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Writes the small documents waiting in `batch`, then the next slice of the first large
    /// document; returns the documents finished.
    async fn write_next_slice(
        &self,
        index: &CollectionIndex,
        embedder: &Arc<BertEmbedder>,
        batch: &mut Vec<Pending>,
        large: &mut std::collections::VecDeque<Streaming>,
        batch_chunks: usize,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Vec<FileOutcome>> {
        let mut finished = if batch.is_empty() {
            Vec::new()
        } else {
            self.write_batch(index, embedder, std::mem::take(batch), progress)
                .await?
        };
        let Some(streaming) = large.front_mut() else {
            return Ok(finished);
        };
        if let Some(done) = self
            .write_slice(index, embedder, streaming, batch_chunks, progress)
            .await?
        {
            large.pop_front();
            finished.push(done);
        }
        Ok(finished)
    }

    /// Embeds and appends the next slice (`batch_chunks` chunks) of a large document under the
    /// journal protocol: marked `writing` (and its old rows deleted) before the first slice,
    /// `indexed` after the last, when its outcome is returned.
    async fn write_slice(
        &self,
        index: &CollectionIndex,
        embedder: &Arc<BertEmbedder>,
        streaming: &mut Streaming,
        batch_chunks: usize,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Option<FileOutcome>> {
        let p = &streaming.pending;
        let path = p.doc.path.display().to_string();
        let total = p.doc.chunks.len();
        if streaming.written == 0 {
            progress(Progress::Stage {
                path: path.clone(),
                stage: Stage::Embedding,
            });
            self.store.begin_writes(&[(p.id, p.doc.hash.as_str())])?;
            if p.had_rows {
                index.delete_documents(&[p.id]).await?;
            }
        }
        let end = (streaming.written + batch_chunks).min(total);
        let slice = &p.doc.chunks[streaming.written..end];
        let vectors = embed(embedder, slice.iter().map(embedding_text).collect()).await?;
        let rows = rows_for(p, slice, vectors)?;
        index.add(&rows).await?;
        streaming.written = end;
        progress(Progress::Passages {
            path: path.clone(),
            done: end,
            total,
        });
        if end < total {
            return Ok(None);
        }
        self.store.finish_writes(&[indexed(p)])?;
        Ok(Some(FileOutcome {
            path,
            status: FileStatus::Indexed {
                chunks: total,
                pages: p.doc.pages,
                replaced: p.had_rows,
            },
            warnings: p.doc.warnings.clone(),
        }))
    }

    /// Embeds and writes one batch of documents under the journal protocol (see the module docs).
    async fn write_batch(
        &self,
        index: &CollectionIndex,
        embedder: &Arc<BertEmbedder>,
        batch: Vec<Pending>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Vec<FileOutcome>> {
        for p in &batch {
            progress(Progress::Stage {
                path: p.doc.path.display().to_string(),
                stage: Stage::Embedding,
            });
        }
        let texts: Vec<String> = batch
            .iter()
            .flat_map(|p| p.doc.chunks.iter().map(embedding_text))
            .collect();
        let mut vectors = embed(embedder, texts).await?.into_iter();
        let mut rows = Vec::new();
        for p in &batch {
            progress(Progress::Stage {
                path: p.doc.path.display().to_string(),
                stage: Stage::Writing,
            });
            let vectors: Vec<Vec<f32>> = vectors.by_ref().take(p.doc.chunks.len()).collect();
            rows.extend(rows_for(p, &p.doc.chunks, vectors)?);
        }

        let journal: Vec<(i64, &str)> = batch.iter().map(|p| (p.id, p.doc.hash.as_str())).collect();
        self.store.begin_writes(&journal)?;
        let replaced: Vec<i64> = batch.iter().filter(|p| p.had_rows).map(|p| p.id).collect();
        if !replaced.is_empty() {
            index.delete_documents(&replaced).await?;
        }
        index.add(&rows).await?;
        let done: Vec<IndexedDocument> = batch.iter().map(indexed).collect();
        self.store.finish_writes(&done)?;
        Ok(batch
            .into_iter()
            .map(|p| FileOutcome {
                path: p.doc.path.display().to_string(),
                status: FileStatus::Indexed {
                    chunks: p.doc.chunks.len(),
                    pages: p.doc.pages,
                    replaced: p.had_rows,
                },
                warnings: p.doc.warnings,
            })
            .collect())
    }
}

/// Embeds `texts` off the async runtime: one unit-length vector per text, in order.
pub(crate) async fn embed(
    embedder: &Arc<BertEmbedder>,
    texts: Vec<String>,
) -> Result<Vec<Vec<f32>>> {
    let embedder = embedder.clone();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        embedder.embed(&refs)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
    .map_err(Error::from)
}

/// The index rows of `chunks` of a document, with their vectors (one per chunk, in order).
fn rows_for(p: &Pending, chunks: &[Chunk], vectors: Vec<Vec<f32>>) -> Result<Vec<ChunkRow>> {
    if vectors.len() != chunks.len() {
        return Err(Error::Internal(format!(
            "the embedder returned {} vectors for {} chunks",
            vectors.len(),
            chunks.len()
        )));
    }
    Ok(chunks
        .iter()
        .zip(vectors)
        .map(|(chunk, vector)| ChunkRow {
            passage: Passage {
                chunk_id: format!("{}:{}", p.id, chunk.ordinal),
                doc_id: p.id,
                doc_path: p.doc.path.display().to_string(),
                ordinal: chunk.ordinal,
                page: chunk.page,
                heading: chunk.heading_path.join(" > "),
                char_start: chunk.char_start,
                char_end: chunk.char_end,
                text: chunk.text.clone(),
            },
            vector,
        })
        .collect())
}

/// The store's record of a document whose rows are all written.
fn indexed(p: &Pending) -> IndexedDocument {
    IndexedDocument {
        id: p.id,
        kind: p.doc.kind.as_str().to_string(),
        content_hash: p.doc.hash.clone(),
        size_bytes: p.doc.size as i64,
        chunk_count: p.doc.chunks.len() as i64,
        page_count: p.doc.pages.map(i64::from),
        warnings: p.doc.warnings.clone(),
    }
}

fn chunk_count(outcome: &FileOutcome) -> usize {
    match outcome.status {
        FileStatus::Indexed { chunks, .. } => chunks,
        _ => 0,
    }
}

fn failed(path: &str, code: &str, reason: &str, warnings: Vec<String>) -> FileOutcome {
    FileOutcome {
        path: path.to_string(),
        status: FileStatus::Failed {
            code: code.to_string(),
            reason: reason.to_string(),
        },
        warnings,
    }
}

/// What the embedder sees: the heading path gives a passage the context its own words may lack.
fn embedding_text(chunk: &Chunk) -> String {
    if chunk.heading_path.is_empty() {
        chunk.text.clone()
    } else {
        format!("{}\n\n{}", chunk.heading_path.join(" > "), chunk.text)
    }
}

/// The files an add run will look at.
struct Discovery {
    /// Files to check, absolute, each once.
    files: Vec<PathBuf>,
    /// Paths named on the command line that do not exist and were never indexed.
    missing: Vec<(String, String)>,
    /// Indexed paths that no longer exist: under a folder being added, or named themselves.
    gone: Vec<String>,
}

fn discover(
    paths: &[PathBuf],
    interrupted: &[DocumentRecord],
    known: &HashMap<String, DocumentRecord>,
) -> Discovery {
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut missing = Vec::new();
    let mut gone = Vec::new();
    let mut push = |path: PathBuf, files: &mut Vec<PathBuf>| {
        if seen.insert(path.clone()) {
            files.push(path);
        }
    };
    for path in paths {
        let path = absolute(path);
        let path_str = path.display().to_string();
        if path.is_dir() {
            let mut found = HashSet::new();
            let walker = walkdir::WalkDir::new(&path)
                .follow_links(false)
                .sort_by_file_name()
                .into_iter()
                // Hidden files and folders (.git, .cache, editor swap files) are not documents.
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walker.flatten() {
                if entry.file_type().is_file() && cairn_ingest::is_supported(entry.path()) {
                    found.insert(entry.path().display().to_string());
                    push(entry.into_path(), &mut files);
                }
            }
            gone.extend(
                known
                    .keys()
                    .filter(|k| Path::new(k).starts_with(&path) && !found.contains(*k))
                    .cloned(),
            );
        } else if path.is_file() {
            push(path, &mut files);
        } else if known.contains_key(&path_str) {
            gone.push(path_str);
        } else {
            // A folder that is gone takes its documents with it.
            let under: Vec<String> = known
                .keys()
                .filter(|k| Path::new(k).starts_with(&path))
                .cloned()
                .collect();
            if under.is_empty() {
                missing.push((path_str, "no such file or folder".to_string()));
            }
            gone.extend(under);
        }
    }
    for doc in interrupted {
        let path = PathBuf::from(&doc.path);
        if path.is_file() {
            push(path, &mut files);
        } else if !gone.contains(&doc.path) {
            gone.push(doc.path.clone());
        }
    }
    gone.sort();
    gone.dedup();
    Discovery {
        files,
        missing,
        gone,
    }
}

/// Reads, hashes, parses and chunks files on `threads` threads of their own, so parsing overlaps
/// embedding and one slow file does not hold the others: each thread takes the next file from one
/// queue (and, where the program offered one, waits on that file's parse worker process). Results
/// arrive in the order they are done.
#[allow(clippy::too_many_arguments)]
fn spawn_parsers(
    files: Vec<PathBuf>,
    threads: usize,
    seen: Seen,
    chunker: Chunker,
    limits: ParseLimits,
    embedder: Arc<BertEmbedder>,
    cancel: CancelToken,
    tx: mpsc::Sender<Work>,
) -> Vec<std::thread::JoinHandle<()>> {
    let threads = threads.clamp(1, files.len().max(1));
    let queue = Arc::new(Mutex::new(files.into_iter()));
    let shared = Arc::new((seen, chunker));
    (0..threads)
        .map(|i| {
            let (queue, shared, embedder, cancel, tx) = (
                queue.clone(),
                shared.clone(),
                embedder.clone(),
                cancel.clone(),
                tx.clone(),
            );
            std::thread::Builder::new()
                .name(format!("cairn-ingest-{i}"))
                .spawn(move || {
                    let (seen, chunker) = &*shared;
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some(path) = next else { return };
                        if cancel.is_cancelled()
                            || tx.blocking_send(Work::Started(path.clone())).is_err()
                        {
                            return;
                        }
                        let work = read_and_parse(&path, seen, chunker, &limits, embedder.as_ref());
                        if tx.blocking_send(work).is_err() {
                            return;
                        }
                    }
                })
                .expect("spawning an ingest thread")
        })
        .collect()
}

/// How many files are parsed at once: `ingest.parse_workers`, or one per core when it is 0.
fn parse_threads(configured: usize) -> usize {
    match configured {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// What a collection already knows of its files' contents.
struct Seen {
    /// Path → the content hash that is indexed.
    indexed: HashMap<String, String>,
    /// Path → (the content hash that failed, its code, its reason).
    quarantined: HashMap<String, (String, String, String)>,
}

/// Reads and parses one file: unchanged when its content hash matches what is indexed,
/// quarantined when it matches content that failed before.
fn read_and_parse(
    path: &Path,
    seen: &Seen,
    chunker: &Chunker,
    limits: &ParseLimits,
    tokenizer: &BertEmbedder,
) -> Work {
    let (kind, bytes) = match cairn_ingest::read_file(path, limits) {
        Ok(read) => read,
        Err(e) => return Work::Failed(path.to_path_buf(), e, None),
    };
    let size = bytes.len() as u64;
    let hash = format!("sha256:{:x}", Sha256::digest(&bytes));
    let key = path.display().to_string();
    if seen.indexed.get(&key) == Some(&hash) {
        return Work::Unchanged(path.to_path_buf());
    }
    if let Some((_, code, reason)) = seen.quarantined.get(&key).filter(|(h, ..)| *h == hash) {
        return Work::Quarantined(path.to_path_buf(), code.clone(), reason.clone());
    }
    let doc = match cairn_ingest::parse_isolated(kind, bytes, limits) {
        Ok(doc) => doc,
        Err(e) => return Work::Failed(path.to_path_buf(), e, Some(hash)),
    };
    let chunks = chunker.chunk(&doc, tokenizer);
    if chunks.is_empty() {
        return Work::Failed(path.to_path_buf(), ParseError::Empty, Some(hash));
    }
    Work::Parsed(Parsed {
        path: path.to_path_buf(),
        kind,
        hash,
        size,
        pages: doc.page_count(),
        warnings: doc.warnings,
        chunks,
    })
}
