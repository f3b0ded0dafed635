//! Chat models Cairn knows: each downloaded from the catalog or registered in place from a path.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::Result;
use crate::store::Store;

/// The source of a model registered in place rather than downloaded.
pub const LOCAL_SOURCE: &str = "local";

/// A chat model on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelRecord {
    /// Its name: the catalog id of a downloaded model, a name of the file's for another.
    pub name: String,
    /// The GGUF file, absolute.
    pub path: String,
    /// The catalog id it was downloaded as, or [`LOCAL_SOURCE`].
    pub source: String,
    /// The file's size.
    pub bytes: u64,
    /// Its SHA-256, when known (always, for a downloaded file).
    pub sha256: Option<String>,
    /// `general.architecture`, e.g. `llama`.
    pub architecture: String,
    /// Unix seconds.
    pub added_at: i64,
}

impl ModelRecord {
    /// Whether Cairn downloaded the file (and so deletes it when the model is removed).
    pub fn downloaded(&self) -> bool {
        self.source != LOCAL_SOURCE
    }

    fn from_row(r: &Row<'_>) -> rusqlite::Result<ModelRecord> {
        Ok(ModelRecord {
            name: r.get(0)?,
            path: r.get(1)?,
            source: r.get(2)?,
            bytes: r.get::<_, i64>(3)? as u64,
            sha256: r.get(4)?,
            architecture: r.get(5)?,
            added_at: r.get(6)?,
        })
    }
}

const COLUMNS: &str = "name, path, source, bytes, sha256, architecture, added_at";

impl Store {
    /// Records a model, replacing one of the same name or path.
    pub fn put_model(&self, model: &ModelRecord) -> Result<()> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM models WHERE name = ?1 OR path = ?2",
            params![model.name, model.path],
        )?;
        tx.execute(
            &format!("INSERT INTO models ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                model.name,
                model.path,
                model.source,
                model.bytes as i64,
                model.sha256,
                model.architecture,
                model.added_at
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every model, by name.
    pub fn models(&self) -> Result<Vec<ModelRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM models ORDER BY name"))?;
        let rows = stmt.query_map([], ModelRecord::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The model called `name`.
    pub fn model(&self, name: &str) -> Result<Option<ModelRecord>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM models WHERE name = ?1"),
                [name],
                ModelRecord::from_row,
            )
            .optional()?)
    }

    /// The model whose file is `path`.
    pub fn model_at(&self, path: &str) -> Result<Option<ModelRecord>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM models WHERE path = ?1"),
                [path],
                ModelRecord::from_row,
            )
            .optional()?)
    }

    /// Forgets the model called `name`. Returns false if there was none.
    pub fn remove_model(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM models WHERE name = ?1", [name])?
            > 0)
    }
}
