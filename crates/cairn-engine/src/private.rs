//! A library is private to the person whose it is: its folder is 0700 and its files 0600.
//!
//! The folder is created private, and an existing one that is not (a library made before this, or
//! moved in from elsewhere) is made private, files and all, when it is opened. The shells also call
//! [`restrict_umask`] first thing, so every file the process creates later (SQLite's journal, the
//! index's data files, logs, downloaded models) is born private, not just hidden behind the folder.

use std::path::Path;

use crate::error::{Error, Result};

/// Makes files this process creates from now on readable by their owner only (umask 077). Call it
/// at the start of `main`, before any thread is started. Does nothing where there are no modes.
#[allow(unsafe_code)]
pub fn restrict_umask() {
    #[cfg(unix)]
    // SAFETY: umask(2) cannot fail and touches no memory; it is process-wide, hence called from
    // `main` before other threads exist.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `dir` (and its parents) if needed, and makes it and everything in it private.
pub(crate) fn make_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {
            tighten_existing(dir)
        }
        Err(e) => Err(io(dir, e)),
    }
}

/// Makes an existing library folder private, with every file and folder in it, if it is not yet.
#[cfg(unix)]
fn tighten_existing(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)
        .map_err(|e| io(dir, e))?
        .permissions()
        .mode();
    if mode & 0o077 == 0 {
        return Ok(());
    }
    tracing::info!(dir = %dir.display(), "making the library folder private (0700, files 0600)");
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let entry = entry.map_err(|e| Error::Io {
            path: dir.display().to_string(),
            source: e.into(),
        })?;
        let wanted = if entry.file_type().is_dir() {
            0o700
        } else if entry.file_type().is_file() {
            0o600
        } else {
            continue; // a link's own mode means nothing, and its target is not ours to change
        };
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(wanted))
            .map_err(|e| io(entry.path(), e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten_existing(_dir: &Path) -> Result<()> {
    // The folder sits in the user's profile, whose ACL already keeps other users out.
    Ok(())
}

/// Creates an empty file readable by its owner only, unless it exists.
pub(crate) fn create_private_file(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(|e| io(path, e))
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_folder_is_private_and_an_open_one_is_made_private() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("a/b/library");
        make_private_dir(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);

        let old = root.path().join("old");
        std::fs::create_dir_all(old.join("lance/data")).unwrap();
        std::fs::write(old.join("cairn.sqlite"), b"x").unwrap();
        std::fs::write(old.join("lance/data/1.lance"), b"x").unwrap();
        for p in [&old, &old.join("lance"), &old.join("lance/data")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(
            old.join("cairn.sqlite"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        make_private_dir(&old).unwrap();
        assert_eq!(mode(&old), 0o700);
        assert_eq!(mode(&old.join("lance/data")), 0o700);
        assert_eq!(mode(&old.join("cairn.sqlite")), 0o600);
        assert_eq!(mode(&old.join("lance/data/1.lance")), 0o600);

        create_private_file(&fresh.join("new.sqlite")).unwrap();
        assert_eq!(mode(&fresh.join("new.sqlite")), 0o600);
    }
}
