//! Rows of the semantic answer cache. What counts as a match, and when an entry may be served, is
//! the engine's business; here entries are kept, found, touched and evicted to a size.

use rusqlite::{OptionalExtension, params};

use crate::clock::now;
use crate::error::Result;
use crate::store::Store;

/// An entry to cache.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCacheEntry {
    /// The collection it was answered from.
    pub collection: String,
    /// The question as asked.
    pub question: String,
    /// The question normalised (case, spacing, punctuation), for exact matches.
    pub normalised: String,
    /// The embedder that made `vector`.
    pub embedder_id: String,
    /// The question's embedding.
    pub vector: Vec<f32>,
    /// The answer, JSON.
    pub answer: String,
    /// Its sources with their content hashes, JSON.
    pub sources: String,
    /// The trace of the answer.
    pub trace_id: Option<i64>,
}

/// An entry's key: what a lookup compares.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheKeyRow {
    /// Its id.
    pub id: i64,
    /// Collection.
    pub collection: String,
    /// The question as asked.
    pub question: String,
    /// Normalised question.
    pub normalised: String,
    /// Embedder id.
    pub embedder_id: String,
    /// The embedding.
    pub vector: Vec<f32>,
    /// Unix seconds.
    pub created_at: i64,
}

/// An entry's value.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheValueRow {
    /// The answer, JSON.
    pub answer: String,
    /// Sources, JSON.
    pub sources: String,
    /// The trace of the answer.
    pub trace_id: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

/// How full the cache is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheUsage {
    /// Entries.
    pub entries: u64,
    /// Bytes they take.
    pub bytes: u64,
    /// Times an entry was served.
    pub hits: u64,
}

fn vector_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn vector_from(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Store {
    /// Adds an entry, then evicts the least recently used until the cache holds at most
    /// `max_bytes`. Returns the new entry's id (`None`, and nothing evicted, when it alone would
    /// exceed the bound) and the ids evicted.
    pub fn cache_insert(
        &self,
        entry: &NewCacheEntry,
        max_bytes: u64,
    ) -> Result<(Option<i64>, Vec<i64>)> {
        let vector = vector_bytes(&entry.vector);
        let bytes = (entry.question.len()
            + entry.normalised.len()
            + entry.embedder_id.len()
            + vector.len()
            + entry.answer.len()
            + entry.sources.len()
            + 64) as i64;
        if bytes > max_bytes as i64 {
            return Ok((None, Vec::new()));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let at = now();
        tx.execute(
            "INSERT INTO answer_cache (collection, question, normalised, embedder_id, vector, answer, \
             sources, bytes, trace_id, created_at, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            params![
                entry.collection,
                entry.question,
                entry.normalised,
                entry.embedder_id,
                vector,
                entry.answer,
                entry.sources,
                bytes,
                entry.trace_id,
                at
            ],
        )?;
        let id = tx.last_insert_rowid();
        let mut evicted = Vec::new();
        {
            let mut total: i64 = tx.query_row(
                "SELECT COALESCE(SUM(bytes), 0) FROM answer_cache",
                [],
                |r| r.get(0),
            )?;
            let mut oldest =
                tx.prepare("SELECT id, bytes FROM answer_cache ORDER BY used_at, id")?;
            let mut rows = oldest.query([])?;
            while total > max_bytes as i64 {
                let Some(row) = rows.next()? else { break };
                let (victim, size): (i64, i64) = (row.get(0)?, row.get(1)?);
                evicted.push(victim);
                total -= size;
            }
        }
        for victim in &evicted {
            tx.execute("DELETE FROM answer_cache WHERE id = ?1", [victim])?;
        }
        tx.commit()?;
        Ok((Some(id), evicted))
    }

    /// Links an entry to the trace of the answer it holds.
    pub fn cache_set_trace(&self, id: i64, trace_id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE answer_cache SET trace_id = ?2 WHERE id = ?1",
            params![id, trace_id],
        )?;
        Ok(())
    }

    /// The keys of entries with an id above `after`, oldest first (a process picks up what others
    /// cached since it last looked).
    pub fn cache_keys_after(&self, after: i64) -> Result<Vec<CacheKeyRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, collection, question, normalised, embedder_id, vector, created_at \
             FROM answer_cache WHERE id > ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([after], |r| {
            Ok(CacheKeyRow {
                id: r.get(0)?,
                collection: r.get(1)?,
                question: r.get(2)?,
                normalised: r.get(3)?,
                embedder_id: r.get(4)?,
                vector: vector_from(&r.get::<_, Vec<u8>>(5)?),
                created_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// An entry's value, marking it used (for LRU eviction); `None` once it was evicted.
    pub fn cache_take(&self, id: i64) -> Result<Option<CacheValueRow>> {
        let conn = self.conn();
        let changed = conn
            .prepare_cached("UPDATE answer_cache SET used_at = ?2, hits = hits + 1 WHERE id = ?1")?
            .execute(params![id, now()])?;
        if changed == 0 {
            return Ok(None);
        }
        Ok(conn
            .prepare_cached(
                "SELECT answer, sources, trace_id, created_at FROM answer_cache WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok(CacheValueRow {
                    answer: r.get(0)?,
                    sources: r.get(1)?,
                    trace_id: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })
            .optional()?)
    }

    /// Removes entries; returns how many there were.
    pub fn cache_remove(&self, ids: &[i64]) -> Result<usize> {
        let conn = self.conn();
        let mut removed = 0;
        for id in ids {
            removed += conn.execute("DELETE FROM answer_cache WHERE id = ?1", [id])?;
        }
        Ok(removed)
    }

    /// Empties the cache, or one collection's part of it; returns the entries removed.
    pub fn cache_clear(&self, collection: Option<&str>) -> Result<usize> {
        Ok(self.conn().execute(
            "DELETE FROM answer_cache WHERE ?1 IS NULL OR collection = ?1",
            [collection],
        )?)
    }

    /// Entries, bytes and hits.
    pub fn cache_usage(&self) -> Result<CacheUsage> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(SUM(hits), 0) FROM answer_cache",
            [],
            |r| {
                Ok(CacheUsage {
                    entries: r.get::<_, i64>(0)? as u64,
                    bytes: r.get::<_, i64>(1)? as u64,
                    hits: r.get::<_, i64>(2)? as u64,
                })
            },
        )?)
    }
}
