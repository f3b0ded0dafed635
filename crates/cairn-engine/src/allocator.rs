//! How the shells set up their allocator. The `cairn` command and the app both run on mimalloc
//! (each declares it as its `#[global_allocator]`: glibc's malloc hands the embedder's large
//! per-batch blocks back to the kernel and faults them in again, about 12% of indexing speed), and
//! both tune it through here.

/// mimalloc's `mi_option_arena_eager_commit` (option 4 in its v2 and v3 headers).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
/// mimalloc's `mi_option_purge_delay` (option 15 in its v2 and v3 headers).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

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

/// Makes mimalloc give freed memory back to the system at once, for processes that stay running
/// (the app, `cairn serve`, `mcp` and `watch`). By default it purges freed memory only on later
/// allocator activity in the thread that freed it, and the threads that embedded a batch or
/// loaded a model then sit idle: after indexing 1,000 documents the app kept ~300 MB it no longer
/// used (tests/app/perf.mjs), and a server whose idle models were unloaded kept ~200 MB of them
/// (BENCHMARKS, "Models out of memory when idle"). One-shot commands keep the default, which
/// indexes a few percent faster.
pub fn give_freed_memory_back_at_once() {
    #[allow(unsafe_code)]
    // SAFETY: sets a plain integer option of the allocator; valid at any time, from any thread.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}
