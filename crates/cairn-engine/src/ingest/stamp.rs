//! A file as the file system describes it — size, modification time, inode — so that an add over
//! unchanged files (the app's start-up reconcile of watched folders above all) reads none of them.
//!
//! A stamp is trusted only when the file was last modified well before it was taken: a write in
//! the same tick of the file system's clock as the stamp could leave size and time unchanged
//! (the "racy clean" case), so such a file is read and hashed again next time.

use std::fs::Metadata;
use std::time::{Duration, SystemTime};

use cairn_store::FileStamp;

/// How long before the stamp a modification must be for the stamp to be trusted.
const SETTLED: Duration = Duration::from_secs(2);

/// The stamp of a file, taken before it is read; `None` where it cannot be trusted.
pub(super) fn stamp_of(meta: &Metadata, now: SystemTime) -> Option<FileStamp> {
    let modified = meta.modified().ok()?;
    if now.duration_since(modified).ok()? < SETTLED {
        return None;
    }
    let modified_ns = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(FileStamp {
        size: i64::try_from(meta.len()).ok()?,
        modified_ns: i64::try_from(modified_ns).ok()?,
        inode: inode(meta),
    })
}

#[cfg(unix)]
fn inode(meta: &Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    // Inode numbers are 64-bit; the bits are kept as they are.
    meta.ino() as i64
}

/// Windows and others: no stable file id in the standard library; size and time only.
#[cfg(not(unix))]
fn inode(_meta: &Metadata) -> i64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_modified_just_now_is_not_trusted_and_an_older_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "twelve bytes").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(stamp_of(&meta, SystemTime::now()), None);
        let later = SystemTime::now() + Duration::from_secs(3);
        let stamp = stamp_of(&meta, later).unwrap();
        assert_eq!(stamp.size, 12);
        assert!(stamp.modified_ns > 0);
        #[cfg(unix)]
        assert_ne!(stamp.inode, 0);
    }
}
