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
//! reporting [`Progress::Passages`], then marked `indexed`. A long one is cut into chunks as it is
//! written, on a thread of its own that stays at most two slices ahead, so its chunks never sit in
//! memory all at once. Between its slices the small documents parsed meanwhile are written, so they
//! do not wait behind it; a cancel between slices leaves it `writing`, to be redone by the next run.
//!
//! Before a file is read (parsed, and chunked unless it is streamed) its content hash is marked as
//! being read, and the mark is cleared once it has been. A mark found at the start of a run was left
//! by a run that stopped while reading that file: the first time, it is read again (a kill or a power
//! cut stops good files too); the second time in a row, the file is taken to have crashed the
//! program and is quarantined, not read again, until it changes or is retried.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_index::{ChunkRow, CollectionIndex, Passage};
use cairn_ingest::{Chunk, Chunker, ChunkerConfig, DocumentKind, ParseError, ParseProgress};
use cairn_models::Embedder;
use cairn_store::{DocState, DocumentRecord, FileStamp, IndexedDocument};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::write_lock::LockHolder;

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
    /// Another writer holds the library's write lock: this run waits for it (told again if the
    /// holder changes). `None`: it has not said who it is.
    Waiting {
        /// Who is writing.
        holder: Option<LockHolder>,
    },
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
    /// Pages of a paged document (PDF) read so far; every page read by OCR is told.
    Pages {
        /// The file.
        path: String,
        /// Pages read.
        done: u32,
        /// Pages in the document.
        total: u32,
        /// The last page read was a scan, read by OCR.
        ocr: bool,
    },
    /// A large document's passages embedded and written so far, as it is streamed.
    Passages {
        /// The file.
        path: String,
        /// Passages written.
        done: usize,
        /// Passages in the document: while it is still being cut into passages, estimated from how
        /// much of its text they cover.
        total: usize,
        /// Seconds until its last passage is written, at the pace of those written so far.
        eta_seconds: Option<u64>,
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

mod discover;
mod parsers;
mod stamp;
mod threads;

use discover::discover;
use parsers::{MAX_STREAMS, ParseContext, Seen, StreamSlots, parse_threads, spawn_parsers};
use threads::Embedding;

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

/// How long documents gathered in a batch wait for more before they are written anyway.
const BATCH_WAIT: Duration = Duration::from_secs(2);

/// What the worker thread hands to the writer.
enum Work {
    Started(PathBuf),
    /// The same content as indexed; with the file's new stamp when it was read to find that.
    Unchanged(PathBuf, Option<FileStamp>),
    /// It failed; with the hash of its content when it was read.
    Failed(PathBuf, ParseError, Option<String>),
    /// The same content failed before: not parsed again.
    Quarantined(PathBuf, String, String),
    /// Pages read so far.
    Pages(PathBuf, ParseProgress),
    /// A document of at most a batch of chunks.
    Parsed(Parsed),
    /// A document of more chunks than a batch: they follow through the receiver, a slice at a
    /// time, as they are cut.
    Streamed(Parsed, mpsc::Receiver<Slice>),
}

/// Part of a streamed document.
enum Slice {
    /// Its next chunks, in order.
    Chunks(Vec<Chunk>),
    /// Every chunk was sent. A stream that closes without this did not finish.
    End,
}

struct Parsed {
    path: PathBuf,
    kind: DocumentKind,
    hash: String,
    size: u64,
    /// The file's stamp, taken before it was read, when it can be trusted.
    stamp: Option<FileStamp>,
    /// Its chunks; for a streamed document, none (they come through its stream).
    chunks: Vec<Chunk>,
    pages: Option<u32>,
    warnings: Vec<String>,
    /// Characters of its text, for estimating a streamed document's passages.
    chars: usize,
    /// Its chunks in all, when they were counted before the first was written.
    chunk_total: Option<usize>,
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
    slices: mpsc::Receiver<Slice>,
    /// Chunks written so far.
    written: usize,
    /// Where the last chunk written ends in the document's text, in characters.
    reached: usize,
    /// When its first slice was begun (and the journal marked it `writing`).
    started: Option<Instant>,
}

impl Library {
    /// Indexes files and folders (recursively) into `collection`, creating it if needed.
    ///
    /// Unchanged files are skipped by content hash, changed files have their chunks replaced, and
    /// files that disappeared from a folder being added leave the index. Each file that cannot be read
    /// is reported with its reason and the rest go on. Cancelling stops after the batch being written;
    /// what was written stays, and the next run picks up the rest. Runs holding the library's write
    /// lock, waiting for another writer (process or task) to finish first.
    pub async fn add(
        &self,
        paths: &[PathBuf],
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        let _lock = self
            .write_lock_reporting(&format!("adding files to '{collection}'"), progress)
            .await?;
        self.add_locked(paths, collection, progress, cancel).await
    }

    /// Reads files and folders again and indexes them, unchanged ones too (after the chunking
    /// settings changed, say), through the journal like any add: a document whose new passages
    /// are written replaces its old ones, and one that now fails keeps its old passages, with the
    /// failure recorded.
    pub async fn reread(
        &self,
        paths: &[PathBuf],
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        let _lock = self
            .write_lock_reporting(&format!("re-reading files of '{collection}'"), progress)
            .await?;
        self.add_inner(paths, collection, progress, cancel, true)
            .await
    }

    /// Takes the write lock for an add-like operation, reporting [`Progress::Waiting`] while
    /// another writer holds it.
    pub(crate) async fn write_lock_reporting(
        &self,
        doing: &str,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<crate::write_lock::WriteLock> {
        self.write_lock_telling(doing, &|holder| {
            progress(Progress::Waiting {
                holder: holder.cloned(),
            })
        })
        .await
    }

    /// [`Library::add`], by a caller that holds the write lock.
    pub(crate) async fn add_locked(
        &self,
        paths: &[PathBuf],
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
    ) -> Result<AddReport> {
        self.add_inner(paths, collection, progress, cancel, false)
            .await
    }

    /// An add; with `reread`, files whose content is unchanged are read again too.
    async fn add_inner(
        &self,
        paths: &[PathBuf],
        collection: &str,
        progress: &(dyn Fn(Progress) + Sync),
        cancel: &CancelToken,
        reread: bool,
    ) -> Result<AddReport> {
        let started = Instant::now();
        let index = self.collection_index(collection, true).await?;
        let cores = threads::allowed_cores(self.config.ingest.max_cores);
        let embedding = Embedding::new(self.embedder()?, cores)?;
        let embedder = &embedding.model;
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

        // A file two runs in a row stopped while reading may have crashed them: not read again.
        let stopped = self.store.quarantine_interrupted_parses(
            collection,
            "interrupted",
            "Cairn stopped while reading this file, which may have made it crash",
        )?;
        if !stopped.is_empty() {
            tracing::warn!(files = ?stopped, "quarantined files a stopped run was reading");
        }

        let known: HashMap<String, DocumentRecord> = self
            .store
            .documents(Some(collection))?
            .into_iter()
            .map(|d| (d.path.clone(), d))
            .collect();
        let watched: Vec<PathBuf> = self
            .store
            .watched_folders(Some(collection))?
            .into_iter()
            .map(|w| PathBuf::from(w.path))
            .collect();
        let discovery = discover(paths, &interrupted, &known, &watched);
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
        for (path, reason) in discovery.unavailable {
            finish(
                &mut report,
                failed(&path, "unavailable", &reason, Vec::new()),
            );
        }
        for (path, reason) in discovery.unreadable {
            finish(
                &mut report,
                failed(&path, "unreadable", &reason, Vec::new()),
            );
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

        let snapshot: HashMap<String, (String, Option<FileStamp>)> = known
            .values()
            .filter(|d| d.state == DocState::Indexed && !reread)
            .filter_map(|d| {
                let hash = d.content_hash.clone()?;
                Some((d.path.clone(), (hash, d.stamp)))
            })
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
        let batch_chunks = self.config.ingest.batch_chunks.max(1);
        let parsers = spawn_parsers(
            discovery.files,
            parse_threads(self.config.ingest.parse_workers).min(cores),
            ParseContext {
                seen,
                chunker,
                limits: self.config.ingest.limits(),
                store: self.store.clone(),
                collection: collection.to_string(),
                batch_chunks,
                stream_text_chars: self.config.ingest.stream_text_chars,
                streams: Arc::new(StreamSlots::new(MAX_STREAMS)),
            },
            embedder.clone(),
            cancel.clone(),
            tx,
        );

        let mut batch: Vec<Pending> = Vec::new();
        let mut large: std::collections::VecDeque<Streaming> = Default::default();
        loop {
            if cancel.is_cancelled() {
                break;
            }
            // With a large document under way, a slice of it is written whenever no other work is
            // ready; the small documents gathered meanwhile go first. Without one, documents
            // gathered in a batch are written once nothing more has come for a while (a long
            // parse under way), so they are searchable without waiting for it.
            let work = if !large.is_empty() {
                rx.try_recv().ok()
            } else if batch.is_empty() {
                rx.recv().await
            } else {
                match tokio::time::timeout(BATCH_WAIT, rx.recv()).await {
                    Ok(work) => work,
                    Err(_) => {
                        let written = self
                            .write_batch(&index, &embedding, std::mem::take(&mut batch), progress)
                            .await?;
                        report.chunks_written += written.iter().map(chunk_count).sum::<usize>();
                        written.into_iter().for_each(|o| finish(&mut report, o));
                        continue;
                    }
                }
            };
            let Some(work) = work else {
                if large.is_empty() {
                    break;
                }
                // Nothing else is ready (or every file is parsed): the next slice.
                let written = self
                    .write_next_slice(&index, &embedding, &mut batch, &mut large, progress)
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
                Work::Pages(path, read) => progress(Progress::Pages {
                    path: path.display().to_string(),
                    done: read.done,
                    total: read.total,
                    ocr: read.ocr,
                }),
                Work::Unchanged(path, stamp) => {
                    let path = path.display().to_string();
                    if let Some(stamp) = stamp
                        && let Err(e) = self.store.set_file_stamp(collection, &path, stamp)
                    {
                        tracing::warn!(%path, "could not record the file's stamp: {e}");
                    }
                    finish(
                        &mut report,
                        FileOutcome {
                            path,
                            status: FileStatus::Unchanged,
                            warnings: Vec::new(),
                        },
                    )
                }
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
                Work::Streamed(doc, slices) => {
                    let pending = self.pending(collection, &known, doc)?;
                    large.push_back(Streaming {
                        pending,
                        slices,
                        written: 0,
                        reached: 0,
                        started: None,
                    });
                }
                Work::Parsed(doc) => {
                    batch.push(self.pending(collection, &known, doc)?);
                    if batch.iter().map(|p| p.doc.chunks.len()).sum::<usize>() >= batch_chunks {
                        let written = self
                            .write_batch(&index, &embedding, std::mem::take(&mut batch), progress)
                            .await?;
                        report.chunks_written += written.iter().map(chunk_count).sum::<usize>();
                        written.into_iter().for_each(|o| finish(&mut report, o));
                    }
                }
            }
        }
        // Closed streams end the threads cutting them, and free the parsers waiting for a slot.
        drop(large);
        drop(rx);
        if cancel.is_cancelled() {
            report.cancelled = true;
        } else if !batch.is_empty() {
            let written = self
                .write_batch(&index, &embedding, batch, progress)
                .await?;
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

    /// A parsed document's place in the store, and whether it has rows to replace.
    fn pending(
        &self,
        collection: &str,
        known: &HashMap<String, DocumentRecord>,
        doc: Parsed,
    ) -> Result<Pending> {
        let path = doc.path.display().to_string();
        let id = self.store.ensure_document(collection, &path)?;
        let had_rows = known
            .get(&path)
            .is_some_and(|d| matches!(d.state, DocState::Indexed | DocState::Writing));
        Ok(Pending { doc, id, had_rows })
    }

    /// Writes the small documents waiting in `batch`, then the next slice of the first large
    /// document; returns the documents finished.
    async fn write_next_slice(
        &self,
        index: &CollectionIndex,
        embedder: &Embedding,
        batch: &mut Vec<Pending>,
        large: &mut std::collections::VecDeque<Streaming>,
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
            .write_slice(index, embedder, streaming, progress)
            .await?
        {
            large.pop_front();
            finished.push(done);
        }
        Ok(finished)
    }

    /// Embeds and appends the next slice of a large document under the journal protocol: marked
    /// `writing` (and its old rows deleted) before the first slice, `indexed` after the last, when
    /// its outcome is returned.
    async fn write_slice(
        &self,
        index: &CollectionIndex,
        embedder: &Embedding,
        streaming: &mut Streaming,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Option<FileOutcome>> {
        let p = &streaming.pending;
        let path = p.doc.path.display().to_string();
        let started = match streaming.started {
            Some(started) => started,
            None => {
                progress(Progress::Stage {
                    path: path.clone(),
                    stage: Stage::Embedding,
                });
                self.store.begin_writes(&[(p.id, p.doc.hash.as_str())])?;
                crate::fault::point("ingest.marked_writing");
                if p.had_rows {
                    index.delete_documents(&[p.id]).await?;
                    crate::fault::point("ingest.old_rows_deleted");
                }
                *streaming.started.insert(Instant::now())
            }
        };
        let slice = match streaming.slices.recv().await {
            Some(Slice::Chunks(slice)) => slice,
            Some(Slice::End) => {
                let written = streaming.written;
                self.store.finish_writes(&[indexed(p, written)])?;
                crate::fault::point("ingest.marked_indexed");
                return Ok(Some(FileOutcome {
                    path,
                    status: FileStatus::Indexed {
                        chunks: written,
                        pages: p.doc.pages,
                        replaced: p.had_rows,
                    },
                    warnings: p.doc.warnings.clone(),
                }));
            }
            // Left `writing`: the next run deletes what was written and reads it again.
            None => {
                return Ok(Some(failed(
                    &path,
                    "parser_crashed",
                    "it stopped being cut into passages before its end; it is read again on the next add",
                    p.doc.warnings.clone(),
                )));
            }
        };
        let vectors = embedder
            .embed(slice.iter().map(embedding_text).collect())
            .await?;
        let rows = rows_for(p, &slice, vectors)?;
        self.audit_shared_write(index.name(), &rows)?;
        index.add(&rows).await?;
        crate::fault::point("ingest.slice_appended");
        streaming.written += slice.len();
        streaming.reached = slice
            .last()
            .map_or(streaming.reached, |c| c.char_end as usize);
        let total = p
            .doc
            .chunk_total
            .unwrap_or_else(|| estimate_total(streaming.written, streaming.reached, p.doc.chars));
        let eta_seconds = eta(streaming.written, total, started.elapsed());
        progress(Progress::Passages {
            path,
            done: streaming.written,
            total,
            eta_seconds,
        });
        Ok(None)
    }

    /// Embeds and writes one batch of documents under the journal protocol (see the module docs).
    async fn write_batch(
        &self,
        index: &CollectionIndex,
        embedder: &Embedding,
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
        let mut vectors = embedder.embed(texts).await?.into_iter();
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
        crate::fault::point("ingest.marked_writing");
        let replaced: Vec<i64> = batch.iter().filter(|p| p.had_rows).map(|p| p.id).collect();
        if !replaced.is_empty() {
            index.delete_documents(&replaced).await?;
            crate::fault::point("ingest.old_rows_deleted");
        }
        self.audit_shared_write(index.name(), &rows)?;
        index.add(&rows).await?;
        crate::fault::point("ingest.rows_appended");
        let done: Vec<IndexedDocument> = batch
            .iter()
            .map(|p| indexed(p, p.doc.chunks.len()))
            .collect();
        self.store.finish_writes(&done)?;
        crate::fault::point("ingest.marked_indexed");
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

/// Passages in a document still being cut, from the `written` ones, whose last ends at character
/// `reached` of its `chars`: they cover the text at the same density to its end.
fn estimate_total(written: usize, reached: usize, chars: usize) -> usize {
    if reached == 0 {
        return written;
    }
    let total = (written as f64 * chars as f64 / reached as f64).round() as usize;
    total.max(written)
}

/// Seconds until `total` passages are written, at the pace of the `written` ones in `elapsed`.
fn eta(written: usize, total: usize, elapsed: Duration) -> Option<u64> {
    if written == 0 {
        return None;
    }
    let per_passage = elapsed.as_secs_f64() / written as f64;
    Some((total.saturating_sub(written) as f64 * per_passage).round() as u64)
}

/// The store's record of a document whose `chunks` rows are all written.
fn indexed(p: &Pending, chunks: usize) -> IndexedDocument {
    IndexedDocument {
        id: p.id,
        kind: p.doc.kind.as_str().to_string(),
        content_hash: p.doc.hash.clone(),
        size_bytes: p.doc.size as i64,
        chunk_count: chunks as i64,
        page_count: p.doc.pages.map(i64::from),
        warnings: p.doc.warnings.clone(),
        stamp: p.doc.stamp,
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
