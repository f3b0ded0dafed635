//! How the shells set up their allocator. The `cairn` command and the app both run on mimalloc
//! (each declares it as its `#[global_allocator]`: glibc's malloc hands the embedder's large
//! per-batch blocks back to the kernel and faults them in again, about 12% of indexing speed), and
//! both tune it through here.

/// mimalloc's `mi_option_arena_eager_commit` (option 4 in its v2 and v3 headers).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
/// Makes mimalloc commit its arenas' memory as it is used rather than all at once. Where the
/// kernel overcommits (Linux) mimalloc commits a whole arena when it makes one, and what the
/// process touched there stayed resident in 2 MiB steps: 12 MB of heap after loading SmolLM2
/// where 3 MB were in use, and 4 MB more before anything was loaded (BENCHMARKS, "Resident memory
/// after load"). mimalloc reads the option when it makes its first arena, before `main` runs, so
/// the shells call this from the ELF init array:
///
/// ```ignore
/// #[cfg(target_os = "linux")]
/// #[used]
/// #[unsafe(link_section = ".init_array")]
/// static BEFORE_MAIN: extern "C" fn() = cairn_engine::allocator::commit_arenas_on_demand;
/// ```
pub extern "C" fn commit_arenas_on_demand() {
    #[allow(unsafe_code)]
    // SAFETY: sets a plain integer option of the allocator; valid at any time, from any thread,
    // before mimalloc has made anything too.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
}

use std::sync::{Arc, Mutex, Weak};

/// How often the purging thread asks every thread's heap to give back what it holds free.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Starts a thread that gives freed memory back to the system every few seconds (the `cairn`
/// command calls it first thing, the app once its rayon pool is built: the thread visits rayon's
/// global pool, and would start the default one). mimalloc runs the purges it has scheduled only when some thread next allocates or
/// frees, and the threads that embedded a batch or loaded a model then sit idle: after indexing
/// 1,000 documents the app kept ~300 MB it no longer used (tests/app/perf.mjs), and a server whose
/// idle models were unloaded kept ~200 MB of them (BENCHMARKS, "Models out of memory when idle").
/// Purging at once instead (a purge delay of 0) gave that back but made every layer of the embedder
/// fault its buffers in again: indexing ran about 1.5 times as long (BENCHMARKS, "Freed memory
/// given back when idle"). This is jemalloc's background thread: freed memory is reused while
/// work goes on (a layer's buffers are freed and taken again within milliseconds) and returned
/// within a few seconds of it stopping.
pub fn give_freed_memory_back_when_idle() {
    let purger = std::thread::Builder::new()
        .name("cairn-purge".into())
        .spawn(|| {
            // Every few seconds, each thread that may hold freed memory (rayon's, and the pools
            // given to `purge_on`) gives it back, and so do the allocator's scheduled purges.
            loop {
                std::thread::sleep(PURGE_EVERY);
                rayon::broadcast(|_| collect());
                let pools: Vec<Arc<rayon::ThreadPool>> = {
                    let mut pools = POOLS.lock().unwrap_or_else(|p| p.into_inner());
                    pools.retain(|pool| pool.strong_count() > 0);
                    pools.iter().filter_map(Weak::upgrade).collect()
                };
                for pool in pools {
                    pool.broadcast(|_| collect());
                }
                collect();
            }
        });
    if let Err(e) = purger {
        tracing::warn!("cannot start the thread that gives freed memory back: {e}");
    }
}

/// Thread pools besides rayon's global one whose threads the purging thread visits (an add's
/// embedding threads), held weakly: a pool dropped is forgotten.
static POOLS: Mutex<Vec<Weak<rayon::ThreadPool>>> = Mutex::new(Vec::new());

/// Has the purging thread ([`give_freed_memory_back_when_idle`]) visit `pool`'s threads too: what
/// a thread's heap holds free, only that thread can give back.
pub fn purge_on(pool: &Arc<rayon::ThreadPool>) {
    POOLS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Arc::downgrade(pool));
}

/// Asks mimalloc to give back what this thread's heap holds free, and every purge it scheduled.
fn collect() {
    #[allow(unsafe_code)]
    // SAFETY: asks the allocator to collect; valid on any thread at any time.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}
