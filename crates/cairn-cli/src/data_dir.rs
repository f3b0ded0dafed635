//! Where the library lives when `--data-dir` (or `CAIRN_DATA_DIR`) does not say.

use std::path::PathBuf;

use anyhow::Context;

/// `cairn` under the OS data directory, e.g. `~/.local/share/cairn`.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    Ok(dirs::data_dir()
        .context("no data directory is known for this OS; pass --data-dir")?
        .join("cairn"))
}
