//! The parser side of `add`: threads that read, hash, mark, parse and chunk files, handing the
//! writer a [`Work`] for each, and the threads that cut long documents while they are written.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use cairn_ingest::{Chunk, Chunker, OnParseProgress, ParseError, ParseLimits};
use cairn_models::BertEmbedder;
use cairn_store::{FileStamp, Store};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::stamp::stamp_of;
use super::{Parsed, Slice, Work};
use crate::cancel::CancelToken;

/// Streamed documents cut into chunks at once; a parser with another waits for a slot, so the
/// texts held while their chunks are written stay few.
pub(super) const MAX_STREAMS: usize = 2;

/// What every parser thread shares.
pub(super) struct ParseContext {
    pub(super) seen: Seen,
    pub(super) chunker: Chunker,
    pub(super) limits: ParseLimits,
    pub(super) store: Arc<Store>,
    pub(super) collection: String,
    pub(super) batch_chunks: usize,
    /// Texts longer than this are cut into chunks while they are written (`ingest.stream_text_chars`).
    pub(super) stream_text_chars: usize,
    pub(super) streams: Arc<StreamSlots>,
}

/// Counts the documents being cut into chunks as they are written.
pub(super) struct StreamSlots {
    free: Mutex<usize>,
    freed: std::sync::Condvar,
}

impl StreamSlots {
    pub(super) fn new(slots: usize) -> StreamSlots {
        StreamSlots {
            free: Mutex::new(slots),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits for a free slot and takes it until the returned guard is dropped.
    fn take(self: &Arc<Self>) -> StreamSlot {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        StreamSlot(self.clone())
    }
}

struct StreamSlot(Arc<StreamSlots>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// Reads, hashes, parses and chunks files on `threads` threads of their own, so parsing overlaps
/// embedding and one slow file does not hold the others: each thread takes the next file from one
/// queue (and, where the program offered one, waits on that file's parse worker process). Results
/// arrive in the order they are done.
pub(super) fn spawn_parsers(
    files: Vec<PathBuf>,
    threads: usize,
    context: ParseContext,
    embedder: Arc<BertEmbedder>,
    cancel: CancelToken,
    tx: mpsc::Sender<Work>,
) -> Vec<std::thread::JoinHandle<()>> {
    let threads = threads.clamp(1, files.len().max(1));
    let queue = Arc::new(Mutex::new(files.into_iter()));
    let context = Arc::new(context);
    (0..threads)
        .map(|i| {
            let (queue, context, embedder, cancel, tx) = (
                queue.clone(),
                context.clone(),
                embedder.clone(),
                cancel.clone(),
                tx.clone(),
            );
            std::thread::Builder::new()
                .name(format!("cairn-ingest-{i}"))
                .spawn(move || {
                    super::threads::lower_this_threads_priority();
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some(path) = next else { return };
                        if cancel.is_cancelled()
                            || tx.blocking_send(Work::Started(path.clone())).is_err()
                        {
                            return;
                        }
                        let Some(work) = read_and_parse(&path, &context, &embedder, &tx) else {
                            continue;
                        };
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
pub(super) fn parse_threads(configured: usize) -> usize {
    match configured {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// What a collection already knows of its files' contents.
pub(super) struct Seen {
    /// Path → the content hash that is indexed, and the file's stamp when it was read (when
    /// that can be trusted).
    pub(super) indexed: HashMap<String, (String, Option<FileStamp>)>,
    /// Path → (the content hash that failed, its code, its reason).
    pub(super) quarantined: HashMap<String, (String, String, String)>,
}

/// The parse mark of a document being read; cleared when dropped, however the reading ended.
struct ParseMark {
    store: Arc<Store>,
    id: Option<i64>,
}

impl ParseMark {
    fn begin(context: &ParseContext, path: &str, hash: &str) -> ParseMark {
        let id = context
            .store
            .begin_parse(&context.collection, path, hash)
            .map_err(|e| tracing::warn!(path, error = %e, "could not mark a file as being read"))
            .ok();
        ParseMark {
            store: context.store.clone(),
            id,
        }
    }
}

impl Drop for ParseMark {
    fn drop(&mut self) {
        if let Some(id) = self.id
            && let Err(e) = self.store.end_parse(id)
        {
            tracing::warn!(id, error = %e, "could not clear a file's being-read mark");
        }
    }
}

/// Reads and parses one file: unchanged when its content hash matches what is indexed,
/// quarantined when it matches content that failed before. A document of more chunks than a batch
/// is handed over as [`Work::Streamed`] here, and `None` returned.
fn read_and_parse(
    path: &Path,
    context: &ParseContext,
    embedder: &Arc<BertEmbedder>,
    tx: &mpsc::Sender<Work>,
) -> Option<Work> {
    let key = path.display().to_string();
    let seen = &context.seen;
    let known = seen.indexed.get(&key);
    // Taken before the content is read: a change while it is read shows next time.
    let stamp = std::fs::metadata(path)
        .ok()
        .and_then(|meta| stamp_of(&meta, SystemTime::now()));
    let known_stamp = known.and_then(|(_, s)| *s);
    if stamp.is_some() && stamp == known_stamp {
        return Some(Work::Unchanged(path.to_path_buf(), None));
    }
    let (kind, bytes) = match cairn_ingest::read_file(path, &context.limits) {
        Ok(read) => read,
        Err(e) => return Some(Work::Failed(path.to_path_buf(), e, None)),
    };
    let size = bytes.len() as u64;
    let hash = format!("sha256:{:x}", Sha256::digest(&bytes));
    if known.is_some_and(|(h, _)| *h == hash) {
        // The same content under a new stamp (touched, restored): kept for the next add.
        let fresh = stamp.filter(|s| s.size == size as i64);
        return Some(Work::Unchanged(path.to_path_buf(), fresh));
    }
    if let Some((_, code, reason)) = seen.quarantined.get(&key).filter(|(h, ..)| *h == hash) {
        return Some(Work::Quarantined(
            path.to_path_buf(),
            code.clone(),
            reason.clone(),
        ));
    }
    let mark = ParseMark::begin(context, &key, &hash);
    let pages = tx.clone();
    let pages_of = path.to_path_buf();
    // Told often; dropped when the writer is busy, as the next will say more.
    let on_progress: OnParseProgress = Arc::new(move |read| {
        let _ = pages.try_send(Work::Pages(pages_of.clone(), read));
    });
    let doc =
        match cairn_ingest::parse_isolated_reporting(kind, bytes, &context.limits, on_progress) {
            Ok(doc) => doc,
            Err(e) => return Some(Work::Failed(path.to_path_buf(), e, Some(hash))),
        };
    let parsed = Parsed {
        path: path.to_path_buf(),
        kind,
        hash,
        size,
        stamp: stamp.filter(|s| s.size == size as i64),
        pages: doc.page_count(),
        chars: doc
            .sections
            .iter()
            .map(|s| s.text.chars().count() + 2)
            .sum(),
        warnings: doc.warnings.clone(),
        chunks: Vec::new(),
        chunk_total: None,
    };
    if parsed.chars > context.stream_text_chars {
        // Parsed: what is left is cutting it, in bounded memory, over the hours its passages may
        // take to write; a quit meanwhile must not quarantine it.
        drop(mark);
        stream_chunks(doc, parsed, context, embedder, tx);
        return None;
    }
    let chunks = context.chunker.chunk(&doc, embedder.as_ref());
    drop(mark);
    if chunks.is_empty() {
        return Some(Work::Failed(
            parsed.path,
            ParseError::Empty,
            Some(parsed.hash),
        ));
    }
    if chunks.len() <= context.batch_chunks {
        return Some(Work::Parsed(Parsed { chunks, ..parsed }));
    }
    // Already cut: every slice fits in the stream at once.
    let slices: Vec<Vec<Chunk>> = chunks
        .chunks(context.batch_chunks)
        .map(<[Chunk]>::to_vec)
        .collect();
    let (sender, receiver) = mpsc::channel(slices.len() + 1);
    for slice in slices {
        let _ = sender.try_send(Slice::Chunks(slice));
    }
    let _ = sender.try_send(Slice::End);
    let chunk_total = Some(chunks.len());
    Some(Work::Streamed(
        Parsed {
            chunk_total,
            ..parsed
        },
        receiver,
    ))
}

/// Hands `doc` over as [`Work::Streamed`] and cuts it into chunks on a thread of its own, a batch
/// at a time, at most two batches ahead of the writer.
fn stream_chunks(
    doc: cairn_ingest::Document,
    parsed: Parsed,
    context: &ParseContext,
    embedder: &Arc<BertEmbedder>,
    tx: &mpsc::Sender<Work>,
) {
    let slot = context.streams.take();
    let (sender, receiver) = mpsc::channel(2);
    if tx.blocking_send(Work::Streamed(parsed, receiver)).is_err() {
        return;
    }
    let (chunker, batch_chunks, embedder) = (
        context.chunker.clone(),
        context.batch_chunks,
        embedder.clone(),
    );
    let cut = move || {
        let _slot = slot;
        let mut slice = Vec::with_capacity(batch_chunks);
        let flow = chunker.chunk_each(&doc, embedder.as_ref(), &mut |chunk| {
            slice.push(chunk);
            if slice.len() < batch_chunks {
                return ControlFlow::Continue(());
            }
            let full = std::mem::replace(&mut slice, Vec::with_capacity(batch_chunks));
            match sender.blocking_send(Slice::Chunks(full)) {
                Ok(()) => ControlFlow::Continue(()),
                // The writer stopped (a cancel): nothing more to cut.
                Err(_) => ControlFlow::Break(()),
            }
        });
        if flow.is_continue() {
            if !slice.is_empty() {
                let _ = sender.blocking_send(Slice::Chunks(slice));
            }
            let _ = sender.blocking_send(Slice::End);
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("cairn-chunk-stream".into())
        .spawn(cut)
    {
        // The receiver closes unfinished: the writer reports it and the next run reads it again.
        tracing::warn!(error = %e, "could not start a thread to cut a large document");
    }
}
