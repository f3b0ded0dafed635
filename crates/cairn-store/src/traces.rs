//! Traces: one row per question, whatever path it took, with the whole record as JSON.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::clock::now;
use crate::error::Result;
use crate::provenance::{Provenance, Tier};
use crate::store::Store;

/// What a trace list shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    /// Its id.
    pub id: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// The thread, when the question got that far.
    pub thread_id: Option<i64>,
    /// The question.
    pub question: String,
    /// `answered` or `failed`.
    pub outcome: String,
    /// The route.
    pub route: Option<String>,
    /// The tier that answered.
    pub tier: Option<Tier>,
    /// Who answered.
    pub provider: Option<Provenance>,
    /// The model.
    pub model: Option<String>,
    /// Prompt tokens.
    pub tokens_in: i64,
    /// Generated tokens.
    pub tokens_out: i64,
    /// US dollars.
    pub cost: f64,
    /// Milliseconds, end to end.
    pub total_ms: f64,
}

/// A trace to record: the summary's fields (its id and time are assigned) and the JSON record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTrace {
    /// The list's fields; `id` and `created_at` are ignored.
    pub summary: TraceSummary,
    /// The whole record, JSON.
    pub data: String,
}

const COLUMNS: &str = "id, created_at, thread_id, question, outcome, route, tier, provider, model, \
                       tokens_in, tokens_out, cost, total_ms";

fn summary(r: &rusqlite::Row) -> rusqlite::Result<TraceSummary> {
    Ok(TraceSummary {
        id: r.get(0)?,
        created_at: r.get(1)?,
        thread_id: r.get(2)?,
        question: r.get(3)?,
        outcome: r.get(4)?,
        route: r.get(5)?,
        tier: r.get(6)?,
        provider: r.get(7)?,
        model: r.get(8)?,
        tokens_in: r.get(9)?,
        tokens_out: r.get(10)?,
        cost: r.get(11)?,
        total_ms: r.get(12)?,
    })
}

impl Store {
    /// Records a trace; returns its id.
    pub fn record_trace(&self, trace: &NewTrace) -> Result<i64> {
        let s = &trace.summary;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO traces (created_at, thread_id, question, outcome, route, tier, provider, model, \
             tokens_in, tokens_out, cost, total_ms, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                now(),
                s.thread_id,
                s.question,
                s.outcome,
                s.route,
                s.tier,
                s.provider,
                s.model,
                s.tokens_in,
                s.tokens_out,
                s.cost,
                s.total_ms,
                trace.data
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The last `n` traces, newest first.
    pub fn traces(&self, n: usize) -> Result<Vec<TraceSummary>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM traces ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([n as i64], summary)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One trace: its summary and its JSON record.
    pub fn trace(&self, id: i64) -> Result<Option<(TraceSummary, String)>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!("SELECT {COLUMNS}, data FROM traces WHERE id = ?1"),
                [id],
                |r| Ok((summary(r)?, r.get::<_, String>(13)?)),
            )
            .optional()?)
    }
}
