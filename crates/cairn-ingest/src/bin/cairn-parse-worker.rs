//! A parse worker and nothing else (see the crate's `worker` module): started by a Cairn program
//! with [`cairn_ingest::WORKER_ARG`], it parses one file and exits.
//!
//! The desktop app starts this one, found beside its executable, instead of itself. A worker of
//! the app's own executable loads GTK, WebKit and the rest of its ~170 shared libraries before
//! `main` runs: about 68 ms of CPU per file, a minute of a 1,000-file add on two cores. This
//! program links none of them and starts in a few milliseconds.

fn main() {
    cairn_ingest::serve_if_asked();
    eprintln!(
        "cairn-parse-worker parses one file for Cairn, which starts it with {}; it is not run by hand",
        cairn_ingest::WORKER_ARG
    );
    std::process::exit(2);
}
