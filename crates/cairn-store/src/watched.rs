//! Watched folders: which folders each collection keeps in sync.

use rusqlite::params;
use serde::Serialize;

use crate::clock::now;
use crate::error::Result;
use crate::store::Store;

/// A folder a collection keeps in sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchedRecord {
    /// The collection its files go to.
    pub collection: String,
    /// The folder, absolute.
    pub path: String,
    /// Unix seconds.
    pub added_at: i64,
}

impl Store {
    /// Starts keeping `path` in sync with `collection`. Returns false if it already was.
    pub fn watch_folder(&self, collection: &str, path: &str) -> Result<bool> {
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO watched_folders (collection, path, added_at) VALUES (?1, ?2, ?3)",
            params![collection, path, now()],
        )?;
        Ok(added > 0)
    }

    /// Stops keeping `path` in sync with `collection`. Returns false if it was not watched.
    pub fn unwatch_folder(&self, collection: &str, path: &str) -> Result<bool> {
        let removed = self.conn().execute(
            "DELETE FROM watched_folders WHERE collection = ?1 AND path = ?2",
            params![collection, path],
        )?;
        Ok(removed > 0)
    }

    /// The watched folders of `collection`, or of every collection, by collection then path.
    pub fn watched_folders(&self, collection: Option<&str>) -> Result<Vec<WatchedRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT collection, path, added_at FROM watched_folders \
             WHERE ?1 IS NULL OR collection = ?1 ORDER BY collection, path",
        )?;
        let rows = stmt.query_map([collection], |r| {
            Ok(WatchedRecord {
                collection: r.get(0)?,
                path: r.get(1)?,
                added_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
