//! The cores an add keeps busy (`ingest.max_cores`): its parser threads and the threads that
//! embed its chunks, a pool of its own so the cap holds however the encoder splits its work, and
//! a search's query embedding (on the shared pool) never waits behind a batch of chunks.
//!
//! On Linux these threads run one notch of niceness below the rest of the process, so the app's
//! window, whose threads keep the default, comes first when the two want the same core: an add
//! still takes every idle cycle, and a drag of the window takes its frame first.

use std::sync::Arc;

use cairn_models::BertEmbedder;

use crate::error::{Error, Result};
use crate::library::embed_on;

/// Niceness added to an add's threads on Linux.
const INGEST_NICENESS: i32 = 5;

/// The embedder and the threads an add embeds on.
pub(super) struct Embedding {
    pub(super) model: Arc<BertEmbedder>,
    pool: Arc<rayon::ThreadPool>,
}

impl Embedding {
    /// `model` on `cores` threads of lowered priority.
    pub(super) fn new(model: Arc<BertEmbedder>, cores: usize) -> Result<Embedding> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cores.max(1))
            .thread_name(|i| format!("cairn-embed-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            .build()
            .map_err(|e| Error::Internal(format!("could not start the embedding threads: {e}")))?;
        let pool = Arc::new(pool);
        crate::allocator::purge_on(&pool);
        Ok(Embedding { model, pool })
    }

    /// One unit-length vector per text, in order, computed on the pool off the async runtime.
    pub(super) async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>> {
        embed_on(Some(self.pool.clone()), &self.model, texts).await
    }
}

/// The cores an add may use: `max_cores`, or every core where it is 0 (or more than there are).
pub(super) fn allowed_cores(max_cores: usize) -> usize {
    let available = std::thread::available_parallelism().map_or(1, |n| n.get());
    match max_cores {
        0 => available,
        n => n.min(available),
    }
}

/// Lowers the calling thread's scheduling priority by [`INGEST_NICENESS`] (Linux, where niceness
/// is per thread; elsewhere nothing). Parse worker processes a lowered thread starts inherit it.
pub(super) fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    {
        // SAFETY: plain system calls on the calling thread's own id; no memory is passed.
        unsafe {
            let tid = libc::gettid() as libc::id_t;
            let now = libc::getpriority(libc::PRIO_PROCESS, tid);
            if libc::setpriority(libc::PRIO_PROCESS, tid, now + INGEST_NICENESS) != 0 {
                tracing::debug!("could not lower an ingest thread's priority");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_at_most_the_machine() {
        let available = std::thread::available_parallelism().unwrap().get();
        assert_eq!(allowed_cores(0), available);
        assert_eq!(allowed_cores(1), 1);
        assert_eq!(allowed_cores(available + 7), available);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_lowered_thread_is_nicer_than_its_parent() {
        #[allow(unsafe_code)]
        let niceness =
            || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let before = niceness();
        let after = std::thread::spawn(move || {
            lower_this_threads_priority();
            niceness()
        })
        .join()
        .unwrap();
        assert_eq!(after, (before + INGEST_NICENESS).min(19));
        assert_eq!(niceness(), before, "only the thread that asked is lowered");
    }
}
