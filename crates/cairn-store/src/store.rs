//! The SQLite connection and its queries.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::clock::now;
use crate::error::{Error, Result};
use crate::migrations::MIGRATIONS;
use crate::records::{
    CollectionRecord, DocState, DocumentRecord, FileStamp, IndexedDocument, SharedLocation,
};

/// The SQLite store. One connection behind a mutex: every query here takes microseconds, and WAL mode
/// lets other processes read while this one writes.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

const DOCUMENT_COLUMNS: &str = "id, collection, path, kind, state, content_hash, size_bytes, chunk_count, \
     page_count, error_code, error_message, warnings, indexed_at, file_modified_ns, file_inode";

fn document_from_row(row: &Row) -> rusqlite::Result<DocumentRecord> {
    let warnings: String = row.get(11)?;
    Ok(DocumentRecord {
        id: row.get(0)?,
        collection: row.get(1)?,
        path: row.get(2)?,
        kind: row.get(3)?,
        state: DocState::parse(&row.get::<_, String>(4)?),
        content_hash: row.get(5)?,
        size_bytes: row.get(6)?,
        chunk_count: row.get(7)?,
        page_count: row.get(8)?,
        error_code: row.get(9)?,
        error_message: row.get(10)?,
        warnings: serde_json::from_str(&warnings).unwrap_or_default(),
        indexed_at: row.get(12)?,
        stamp: match (row.get(6)?, row.get(13)?, row.get(14)?) {
            (Some(size), Some(modified_ns), Some(inode)) => Some(FileStamp {
                size,
                modified_ns,
                inode,
            }),
            _ => None,
        },
    })
}

fn collection_from_row(row: &Row) -> rusqlite::Result<CollectionRecord> {
    Ok(CollectionRecord {
        name: row.get(0)?,
        embedder_id: row.get(1)?,
        embedder_fingerprint: row.get(2)?,
        dimension: row.get(3)?,
        created_at: row.get(4)?,
        shared: match row.get::<_, Option<String>>(5)? {
            None => None,
            Some(uri) => Some(SharedLocation {
                uri,
                endpoint: row.get(6)?,
                region: row.get(7)?,
            }),
        },
    })
}

/// The columns [`collection_from_row`] reads, in its order.
const COLLECTION_COLUMNS: &str = "name, embedder_id, embedder_fingerprint, dimension, created_at, shared_uri, shared_endpoint, shared_region";

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back),
        // so a poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The collection named `name`, if it exists.
    pub fn collection(&self, name: &str) -> Result<Option<CollectionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLLECTION_COLUMNS} FROM collections WHERE name = ?1"
        ))?;
        Ok(stmt.query_row([name], collection_from_row).optional()?)
    }

    /// A collection's version (bumped by every change to its documents, in any process) and its
    /// creation time: together they name the state of its index. `None` if it does not exist.
    pub fn collection_version(&self, name: &str) -> Result<Option<(i64, i64)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT version, created_at FROM collections WHERE name = ?1")?;
        Ok(stmt
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// All collections, by name.
    pub fn collections(&self) -> Result<Vec<CollectionRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLLECTION_COLUMNS} FROM collections ORDER BY name"
        ))?;
        let rows = stmt.query_map([], collection_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a new collection.
    pub fn create_collection(&self, record: &CollectionRecord) -> Result<()> {
        self.conn().execute(
            "INSERT INTO collections (name, embedder_id, embedder_fingerprint, dimension, created_at, shared_with_tools, \
             shared_uri, shared_endpoint, shared_region) \
             VALUES (?1, ?2, ?3, ?4, ?5, EXISTS (SELECT 1 FROM tool_server WHERE default_collection = ?1), ?6, ?7, ?8)",
            params![
                record.name,
                record.embedder_id,
                record.embedder_fingerprint,
                record.dimension,
                record.created_at,
                record.shared.as_ref().map(|s| &s.uri),
                record.shared.as_ref().and_then(|s| s.endpoint.as_ref()),
                record.shared.as_ref().and_then(|s| s.region.as_ref()),
            ],
        )?;
        Ok(())
    }

    /// Forgets a collection, its documents and every record of what was asked of it (traces,
    /// feedback, reviews, cached answers), in one transaction. Threads that asked about it keep
    /// their messages and copied citations. False if there was no such collection.
    pub fn delete_collection(&self, name: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        Store::forget_collection_questions(&tx, name)?;
        tx.execute("DELETE FROM documents WHERE collection = ?1", [name])?;
        tx.execute("DELETE FROM watched_folders WHERE collection = ?1", [name])?;
        let deleted = tx.execute("DELETE FROM collections WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(deleted > 0)
    }

    /// The collections other AI tools may read, by name.
    pub fn tool_collections(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT name FROM collections WHERE shared_with_tools = 1 ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records how the file system now describes an indexed document whose content was found
    /// unchanged (touched, copied back, restored): the next add trusts it without reading.
    pub fn set_file_stamp(&self, collection: &str, path: &str, stamp: FileStamp) -> Result<()> {
        self.conn().execute(
            "UPDATE documents SET file_modified_ns = ?3, file_inode = ?4 \
             WHERE collection = ?1 AND path = ?2 AND state = 'indexed' AND size_bytes = ?5",
            params![collection, path, stamp.modified_ns, stamp.inode, stamp.size],
        )?;
        Ok(())
    }

    /// Records that a server for other tools was turned on. The first time only, `default` is
    /// shared with them, now or when it is made; true when this was that first time.
    pub fn start_tool_server(&self, default: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let first = tx.execute(
            "INSERT OR IGNORE INTO tool_server (id, first_started_at, default_collection) VALUES (1, ?1, ?2)",
            params![crate::clock::now(), default],
        )? > 0;
        if first {
            tx.execute(
                "UPDATE collections SET shared_with_tools = 1 WHERE name = ?1",
                [default],
            )?;
        }
        tx.commit()?;
        Ok(first)
    }

    /// Lets other AI tools read a collection, or stops them; false if there is no such collection.
    pub fn share_with_tools(&self, name: &str, shared: bool) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE collections SET shared_with_tools = ?2 WHERE name = ?1",
            params![name, shared],
        )? > 0)
    }

    /// Records that a collection's index now holds vectors of another model (after a re-index), and
    /// marks every document for re-indexing: `writing`, the journal's state for "whatever rows it
    /// has are to be deleted and the file read again", so that a re-index stopped at any point is
    /// completed by the next add (and the next start deletes its rows).
    pub fn replace_embedder(&self, record: &CollectionRecord) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE collections SET embedder_id = ?2, embedder_fingerprint = ?3, dimension = ?4 WHERE name = ?1",
            params![record.name, record.embedder_id, record.embedder_fingerprint, record.dimension],
        )?;
        if changed == 0 {
            return Err(Error::NoSuchCollection(record.name.clone()));
        }
        tx.execute(
            "UPDATE documents SET state = 'writing', content_hash = NULL, pending_hash = NULL, chunk_count = 0 WHERE collection = ?1",
            [&record.name],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The id of the document at `path` in `collection`, creating its record if needed.
    ///
    /// In a shared collection, other libraries write passages under their own documents' ids to
    /// the same table: there an id is drawn at random from 63 bits, not counted up from 1, so two
    /// libraries do not give two documents one id (a delete of one would take the other's rows).
    pub fn ensure_document(&self, collection: &str, path: &str) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO documents (id, collection, path) VALUES ( \
               CASE WHEN (SELECT shared_uri FROM collections WHERE name = ?1) IS NULL THEN NULL \
               ELSE (random() & 0x3fffffffffffffff) + 1 END, ?1, ?2) \
             ON CONFLICT (collection, path) DO NOTHING",
            params![collection, path],
        )?;
        Ok(conn.query_row(
            "SELECT id FROM documents WHERE collection = ?1 AND path = ?2",
            params![collection, path],
            |r| r.get(0),
        )?)
    }

    /// The document at `path` in `collection`.
    pub fn document(&self, collection: &str, path: &str) -> Result<Option<DocumentRecord>> {
        let conn = self.conn();
        let sql =
            format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE collection = ?1 AND path = ?2");
        Ok(conn
            .prepare_cached(&sql)?
            .query_row(params![collection, path], document_from_row)
            .optional()?)
    }

    /// The document with this id.
    pub fn document_by_id(&self, id: i64) -> Result<Option<DocumentRecord>> {
        let conn = self.conn();
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = ?1");
        Ok(conn
            .prepare_cached(&sql)?
            .query_row([id], document_from_row)
            .optional()?)
    }

    /// Documents of one collection, or of all, ordered by collection and path.
    pub fn documents(&self, collection: Option<&str>) -> Result<Vec<DocumentRecord>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE ?1 IS NULL OR collection = ?1 ORDER BY collection, path"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([collection], document_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Documents of a collection in one state.
    pub fn documents_in_state(
        &self,
        collection: &str,
        state: DocState,
    ) -> Result<Vec<DocumentRecord>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE collection = ?1 AND state = ?2 ORDER BY path"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![collection, state.as_str()], document_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Journals that these documents' chunks are about to be written: from here until
    /// [`Store::finish_writes`], their rows in the vector index may be partial.
    pub fn begin_writes(&self, documents: &[(i64, &str)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE documents SET state = 'writing', pending_hash = ?2 WHERE id = ?1",
            )?;
            for (id, hash) in documents {
                stmt.execute(params![id, hash])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Journals that these documents' chunks are completely written.
    pub fn finish_writes(&self, documents: &[IndexedDocument]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE documents SET state = 'indexed', kind = ?2, content_hash = ?3, pending_hash = NULL, \
                 size_bytes = ?4, chunk_count = ?5, page_count = ?6, warnings = ?7, error_code = NULL, \
                 error_message = NULL, indexed_at = ?8, file_modified_ns = ?9, file_inode = ?10 \
                 WHERE id = ?1",
            )?;
            let now = now();
            for d in documents {
                let warnings = serde_json::to_string(&d.warnings).unwrap_or_else(|_| "[]".into());
                stmt.execute(params![
                    d.id,
                    d.kind,
                    d.content_hash,
                    d.size_bytes,
                    d.chunk_count,
                    d.page_count,
                    warnings,
                    now,
                    d.stamp.map(|s| s.modified_ns),
                    d.stamp.map(|s| s.inode),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records why a document could not be indexed. A document that was indexed before keeps its
    /// chunks and state (nothing already indexed is lost); one never indexed becomes `Failed`.
    /// `failed_hash`: the content that failed, quarantined until it changes ([`Store::quarantined`]).
    pub fn record_failure(
        &self,
        id: i64,
        code: &str,
        message: &str,
        failed_hash: Option<&str>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE documents SET error_code = ?2, error_message = ?3, failed_hash = ?4, \
             state = CASE WHEN state = 'indexed' THEN 'indexed' ELSE 'failed' END WHERE id = ?1",
            params![id, code, message, failed_hash],
        )?;
        Ok(())
    }

    /// Marks the document at `path` as being read (parsed and chunked) with content `hash`,
    /// creating its record if needed; returns its id. Cleared by [`Store::end_parse`]; a mark
    /// found by [`Store::quarantine_interrupted_parses`] outlived the run that wrote it.
    pub fn begin_parse(&self, collection: &str, path: &str, hash: &str) -> Result<i64> {
        let id = self.ensure_document(collection, path)?;
        self.conn().execute(
            "UPDATE documents SET parsing_hash = ?2 WHERE id = ?1",
            params![id, hash],
        )?;
        Ok(id)
    }

    /// The document is no longer being read, however its reading ended.
    pub fn end_parse(&self, id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE documents SET parsing_hash = NULL, interrupted_hash = NULL WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Documents of `collection` that were being read when the program last stopped. One whose
    /// same content had already stopped the run before is quarantined with `code` and `message`
    /// (not read again until it changes or a retry releases it; one indexed before keeps its rows
    /// and state, as with [`Store::record_failure`]); any other is remembered as interrupted and
    /// read again, since a kill or a power cut stops good files too. Every mark is cleared. Call
    /// this after any half-written rows were deleted. Returns the paths quarantined.
    pub fn quarantine_interrupted_parses(
        &self,
        collection: &str,
        code: &str,
        message: &str,
    ) -> Result<Vec<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let paths: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT path FROM documents WHERE collection = ?1 AND parsing_hash IS NOT NULL \
                 AND parsing_hash = interrupted_hash ORDER BY path",
            )?;
            let rows = stmt.query_map([collection], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        tx.execute(
            "UPDATE documents SET error_code = ?2, error_message = ?3, failed_hash = parsing_hash, \
             parsing_hash = NULL, interrupted_hash = NULL, \
             state = CASE WHEN state = 'indexed' THEN 'indexed' ELSE 'failed' END \
             WHERE collection = ?1 AND parsing_hash IS NOT NULL AND parsing_hash = interrupted_hash",
            params![collection, code, message],
        )?;
        tx.execute(
            "UPDATE documents SET interrupted_hash = parsing_hash, parsing_hash = NULL \
             WHERE collection = ?1 AND parsing_hash IS NOT NULL",
            [collection],
        )?;
        tx.commit()?;
        Ok(paths)
    }

    /// The quarantined files of a collection: path → (the content hash that failed, its code, its
    /// reason).
    pub fn quarantined(
        &self,
        collection: &str,
    ) -> Result<std::collections::HashMap<String, (String, String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT path, failed_hash, COALESCE(error_code, ''), COALESCE(error_message, '') \
             FROM documents WHERE collection = ?1 AND failed_hash IS NOT NULL",
        )?;
        let rows = stmt.query_map([collection], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Lets quarantined files be tried again: those at `paths`, or every one of the collection.
    /// Returns their paths.
    pub fn release_quarantine(
        &self,
        collection: &str,
        paths: Option<&[String]>,
    ) -> Result<Vec<String>> {
        let mut released: Vec<String> = self.quarantined(collection)?.into_keys().collect();
        if let Some(paths) = paths {
            released.retain(|p| paths.contains(p));
        }
        let conn = self.conn();
        for path in &released {
            conn.execute(
                "UPDATE documents SET failed_hash = NULL WHERE collection = ?1 AND path = ?2",
                params![collection, path],
            )?;
        }
        released.sort();
        Ok(released)
    }

    /// Journals that these documents are leaving: marked `removing` before their chunks are
    /// deleted from the index, so a kill in between leaves a removal the next start finishes
    /// rather than a document marked indexed without its chunks.
    pub fn begin_removal(&self, ids: &[i64]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for id in ids {
            tx.execute(
                "UPDATE documents SET state = 'removing' WHERE id = ?1",
                [id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets a document. Its chunks must already be gone from the vector index.
    pub fn remove_document(&self, id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM documents WHERE id = ?1", [id])?;
        Ok(())
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(Error::TooNew {
            found: version,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
