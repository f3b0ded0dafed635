//! The Cairn desktop app.
// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The same allocator as the `cairn` command: glibc's malloc returns the embedder's large
/// per-batch blocks to the kernel and faults them back in, costing about 12% of indexing speed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc commits arena memory as it is used; set before `main`, as it must be
/// ([`cairn_engine::allocator::commit_arenas_on_demand`]).
#[cfg(target_os = "linux")]
#[used]
#[allow(unsafe_code)]
// SAFETY: `.init_array` holds `extern "C" fn()` pointers the C runtime calls once before `main`;
// this one only sets an allocator option.
#[unsafe(link_section = ".init_array")]
static BEFORE_MAIN: extern "C" fn() = cairn_engine::allocator::commit_arenas_on_demand;

fn main() {
    // Everything the app writes (the library, logs, models) is the user's alone.
    cairn_engine::private::restrict_umask();
    // Files are parsed by the worker-only program installed beside the app where it is there:
    // it starts in milliseconds, where this executable loads GTK and WebKit first (~68 ms a file).
    cairn_engine::parse_worker::use_worker_beside_this_program();
    // Otherwise this executable is the worker; started as one, it parses one file and exits here.
    cairn_engine::parse_worker::serve_if_asked();
    cairn_desktop::run();
}
