//! The machine a model would run on: its total memory, and the free space of the disk a download
//! goes to.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sysinfo::{DiskRefreshKind, Disks, MemoryRefreshKind, RefreshKind, System};

/// Says how many bytes are free on the disk that holds a folder. [`crate::Downloader`] asks one
/// before it starts; tests give it one that returns a figure of their choosing.
pub type FreeSpace = Arc<dyn Fn(&Path) -> std::io::Result<u64> + Send + Sync>;

/// The machine's total memory in bytes.
pub fn total_memory() -> u64 {
    System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .total_memory()
}

/// The bytes free (to this user) on the disk that holds `dir`, or the nearest folder above it that
/// exists: the disk whose mount point is the longest prefix of that folder.
pub fn free_space(dir: &Path) -> std::io::Result<u64> {
    let existing = existing_ancestor(dir)?;
    let disks = Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage());
    disks
        .list()
        .iter()
        .filter(|d| existing.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| d.available_space())
        .ok_or_else(|| {
            std::io::Error::other(format!("no disk is mounted above {}", existing.display()))
        })
}

/// [`free_space`], as a [`FreeSpace`].
pub fn system_free_space() -> FreeSpace {
    Arc::new(free_space)
}

/// `dir` or the nearest folder above it that exists, made canonical (links resolved).
fn existing_ancestor(dir: &Path) -> std::io::Result<PathBuf> {
    let mut at = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()?.join(dir)
    };
    loop {
        if let Ok(canonical) = at.canonicalize() {
            return Ok(canonical);
        }
        if !at.pop() {
            return Err(std::io::Error::other(format!(
                "no folder of {} exists",
                dir.display()
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_has_memory_and_its_temporary_folder_has_free_space() {
        assert!(total_memory() > 256 * 1024 * 1024);
        let dir = tempfile::tempdir().unwrap();
        assert!(free_space(dir.path()).unwrap() > 0);
        // A folder not yet made is measured on the disk that will hold it.
        assert!(free_space(&dir.path().join("models/not/yet")).unwrap() > 0);
    }
}
