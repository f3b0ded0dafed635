//! The Cairn desktop app.
// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The same allocator as the `cairn` command: glibc's malloc returns the embedder's large
/// per-batch blocks to the kernel and faults them back in, costing about 12% of indexing speed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (option 15 in its v2 and v3 headers).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Everything the app writes (the library, logs, models) is the user's alone.
    cairn_engine::private::restrict_umask();
    // Files are parsed by the worker-only program installed beside the app where it is there:
    // it starts in milliseconds, where this executable loads GTK and WebKit first (~68 ms a file).
    cairn_engine::parse_worker::use_worker_beside_this_program();
    // Otherwise this executable is the worker; started as one, it parses one file and exits here.
    cairn_engine::parse_worker::serve_if_asked();
    // A long-lived app must give back what indexing used. By default mimalloc purges freed
    // memory only on later allocator activity in the same thread, and the threads that embedded
    // a batch then sit idle: after indexing 1,000 documents the app kept ~300 MB it no longer
    // used (tests/app/perf.mjs). Purging at once gives it back, for a few percent of indexing
    // speed.
    #[allow(unsafe_code)]
    // SAFETY: sets a plain integer option of the allocator; valid at any time, from any thread.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
    cairn_desktop::run();
}
