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

/// Whether `path`, or a folder on the way to it from the watched folder (of `roots`) it is in,
/// is a symbolic link. Outside every root, only `path` itself is looked at. A path that does not
/// exist is not a link.
pub(crate) fn linked_within(path: &Path, roots: &[PathBuf]) -> bool {
    let root = roots.iter().find(|r| path.starts_with(r));
    path.ancestors()
        .take_while(|a| root.is_none_or(|r| a != r) && !a.as_os_str().is_empty())
        .take(if root.is_some() { usize::MAX } else { 1 })
        .any(|a| std::fs::symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_link_or_a_path_through_a_linked_folder_is_linked() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("watched");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("credentials.md"), "secret").unwrap();
        std::fs::write(root.join("real/note.md"), "note").unwrap();
        std::os::unix::fs::symlink(outside.join("credentials.md"), root.join("link.md")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linked")).unwrap();
        let roots = vec![root.clone()];
        assert!(linked_within(&root.join("link.md"), &roots));
        assert!(linked_within(&root.join("linked/credentials.md"), &roots));
        assert!(!linked_within(&root.join("real/note.md"), &roots));
        assert!(!linked_within(&root.join("deleted.md"), &roots));
        // The watched folder may itself be reached through a link: that is the person's choice.
        let via = tmp.path().join("via");
        std::os::unix::fs::symlink(&root, &via).unwrap();
        assert!(!linked_within(
            &via.join("real/note.md"),
            std::slice::from_ref(&via)
        ));
    }
}
