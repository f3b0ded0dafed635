//! Paths as the library keeps them: absolute, so that one file has one name whatever the
//! directory a command ran in.

use std::path::{Path, PathBuf};

/// `path` made absolute against the current directory, with `.` and `..` resolved where the path
/// exists (canonical), or lexically where it no longer does.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
