//! Fault injection for the crash tests: `CAIRN_FAULT=<point>` (or `<point>:<n>`) kills the process
//! with SIGKILL the first (or n-th) time it passes that point (`<point>:<n>:panic` panics there), so a test can stop a writer at each
//! step of a journalled change instead of guessing with sleeps. Unset, a point costs one load.
//!
//! The points, in the order a change passes them, are named where they stand: `ingest.*` in the
//! writer (`ingest/mod.rs`), `reindex.*` and `delete_collection.*` beside those operations.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable that names the point.
pub const FAULT_VAR: &str = "CAIRN_FAULT";

struct Fault {
    point: String,
    nth: usize,
    /// Panic there instead (`<point>:<n>:panic`): a bug, where a kill is a crash.
    panic: bool,
    passed: AtomicUsize,
}

fn armed() -> Option<&'static Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            let spec = std::env::var(FAULT_VAR).ok()?;
            let mut parts = spec.split(':');
            let point = parts.next()?.to_string();
            let nth = parts.next().map_or(Some(1), |n| n.parse().ok())?;
            let panic = parts.next() == Some("panic");
            Some(Fault {
                point,
                nth,
                panic,
                passed: AtomicUsize::new(0),
            })
        })
        .as_ref()
}

/// Marks a point of a journalled change; dies here if the test armed it.
#[allow(unsafe_code)]
pub(crate) fn point(name: &str) {
    let Some(fault) = armed() else { return };
    if fault.point != name || fault.passed.fetch_add(1, Ordering::SeqCst) + 1 != fault.nth {
        return;
    }
    if fault.panic {
        panic!("{FAULT_VAR}: a panic at {name}");
    }
    eprintln!("{FAULT_VAR}: killed at {name}");
    #[cfg(unix)]
    // SAFETY: raise(2) with a valid signal number; SIGKILL ends the process here.
    unsafe {
        libc::raise(libc::SIGKILL);
    }
    std::process::abort();
}
