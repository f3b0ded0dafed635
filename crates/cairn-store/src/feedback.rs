//! Feedback on answers: 👍/👎 and an optional correction, kept with the answer's trace.

use rusqlite::params;
use serde::Serialize;

use crate::clock::now;
use crate::error::{Error, Result};
use crate::store::Store;

/// A verdict on an answer, with the trace it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackRecord {
    /// The answer's trace.
    pub trace_id: i64,
    /// `1` (👍) or `-1` (👎).
    pub rating: i64,
    /// What the answer should have said.
    pub correction: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// The trace's JSON record (question, passages, answer).
    pub trace: String,
}

impl Store {
    /// Records (or replaces) the verdict on the answer of trace `trace_id`.
    pub fn set_feedback(&self, trace_id: i64, up: bool, correction: Option<&str>) -> Result<()> {
        let changed = self.conn().execute(
            "INSERT INTO feedback (trace_id, rating, correction, created_at) \
             SELECT id, ?2, ?3, ?4 FROM traces WHERE id = ?1 \
             ON CONFLICT (trace_id) DO UPDATE SET rating = excluded.rating, \
             correction = excluded.correction, created_at = excluded.created_at",
            params![trace_id, if up { 1 } else { -1 }, correction, now()],
        )?;
        if changed == 0 {
            return Err(Error::NoSuchTrace(trace_id));
        }
        Ok(())
    }

    /// Every verdict with its trace, oldest first.
    pub fn feedback(&self) -> Result<Vec<FeedbackRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT f.trace_id, f.rating, f.correction, f.created_at, t.data FROM feedback f \
             JOIN traces t ON t.id = f.trace_id ORDER BY f.created_at, f.trace_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FeedbackRecord {
                trace_id: r.get(0)?,
                rating: r.get(1)?,
                correction: r.get(2)?,
                created_at: r.get(3)?,
                trace: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The JSON records of the traces since `since` (Unix seconds), oldest first, each with its
    /// rating (if any): what the dashboards and `cairn stats` count.
    pub fn traces_since(&self, since: i64) -> Result<Vec<(i64, String, Option<i64>)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT t.created_at, t.data, f.rating FROM traces t LEFT JOIN feedback f ON f.trace_id = t.id \
             WHERE t.created_at >= ?1 ORDER BY t.id",
        )?;
        let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
