//! The Cairn desktop app.
// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The same allocator as the `cairn` command: glibc's malloc returns the embedder's large
/// per-batch blocks to the kernel and faults them back in, costing about 12% of indexing speed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    cairn_desktop::run();
}
