//! The review queue: answers that failed the output checks or a policy, waiting for a person to
//! approve, edit or reject them. Each decision is taken once; the thread message the person saw is
//! replaced in the same transaction.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::clock::now;
use crate::conversations::CitationRecord;
use crate::error::{Error, Result};
use crate::store::Store;

/// An answer to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    /// The thread it was asked in.
    pub thread_id: Option<i64>,
    /// The assistant message the person was shown.
    pub message_id: Option<i64>,
    /// The collection.
    pub collection: String,
    /// The question.
    pub question: String,
    /// Why it is held: the check or policy it failed.
    pub reason: String,
    /// `hold` (a fixed answer was shown instead) or `warn` (shown with a warning).
    pub mode: String,
    /// The answer as the model wrote it, JSON.
    pub answer: String,
    /// Its sources with their content hashes, JSON.
    pub sources: String,
}

/// A queued answer and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewRecord {
    /// Its id.
    pub id: i64,
    /// The trace of the answer.
    pub trace_id: Option<i64>,
    /// The thread.
    pub thread_id: Option<i64>,
    /// The message the person saw.
    pub message_id: Option<i64>,
    /// The collection.
    pub collection: String,
    /// The question.
    pub question: String,
    /// Why it was held.
    pub reason: String,
    /// `hold` or `warn`.
    pub mode: String,
    /// The answer as written, JSON.
    pub answer: String,
    /// Its sources, JSON.
    pub sources: String,
    /// `pending`, `approved`, `edited` or `rejected`.
    pub status: String,
    /// The text that replaced the message (approved or edited).
    pub final_text: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When it was decided.
    pub decided_at: Option<i64>,
}

/// A decision on a queued answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The answer stands as written: the message becomes `text` with `citations`.
    Approve {
        /// The answer's text.
        text: String,
        /// Its citations.
        citations: Vec<CitationRecord>,
    },
    /// The answer stands as the person rewrote it.
    Edit {
        /// The new text.
        text: String,
        /// The citations kept.
        citations: Vec<CitationRecord>,
    },
    /// The answer is wrong: the message becomes `text` (what the person is told instead), or
    /// stays as it is.
    Reject {
        /// The text that replaces it.
        text: Option<String>,
    },
}

const COLUMNS: &str = "id, trace_id, thread_id, message_id, collection, question, reason, mode, \
                       answer, sources, status, final_text, created_at, decided_at";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<ReviewRecord> {
    Ok(ReviewRecord {
        id: r.get(0)?,
        trace_id: r.get(1)?,
        thread_id: r.get(2)?,
        message_id: r.get(3)?,
        collection: r.get(4)?,
        question: r.get(5)?,
        reason: r.get(6)?,
        mode: r.get(7)?,
        answer: r.get(8)?,
        sources: r.get(9)?,
        status: r.get(10)?,
        final_text: r.get(11)?,
        created_at: r.get(12)?,
        decided_at: r.get(13)?,
    })
}

impl Store {
    /// Queues an answer; returns its id.
    pub fn review_add(&self, review: &NewReview) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO review_queue (thread_id, message_id, collection, question, reason, mode, \
             answer, sources, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                review.thread_id,
                review.message_id,
                review.collection,
                review.question,
                review.reason,
                review.mode,
                review.answer,
                review.sources,
                now()
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Links a queued answer to its trace.
    pub fn review_set_trace(&self, id: i64, trace_id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE review_queue SET trace_id = ?2 WHERE id = ?1",
            params![id, trace_id],
        )?;
        Ok(())
    }

    /// Queued answers, newest first: only those with `status`, or all.
    pub fn reviews(&self, status: Option<&str>) -> Result<Vec<ReviewRecord>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {COLUMNS} FROM review_queue WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([status], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One queued answer.
    pub fn review(&self, id: i64) -> Result<Option<ReviewRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM review_queue WHERE id = ?1");
        Ok(self.conn().query_row(&sql, [id], from_row).optional()?)
    }

    /// Takes a decision on a pending answer and rewrites the message the person saw, in one
    /// transaction. A decision already taken is not taken again.
    pub fn review_decide(&self, id: i64, decision: &Decision) -> Result<ReviewRecord> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (status, text, citations) = match decision {
            Decision::Approve { text, citations } => ("approved", Some(text), citations.as_slice()),
            Decision::Edit { text, citations } => ("edited", Some(text), citations.as_slice()),
            Decision::Reject { text } => ("rejected", text.as_ref(), &[][..]),
        };
        let final_text = text.filter(|_| status != "rejected");
        let changed = tx.execute(
            "UPDATE review_queue SET status = ?2, final_text = ?3, decided_at = ?4 \
             WHERE id = ?1 AND status = 'pending'",
            params![id, status, final_text, now()],
        )?;
        let sql = format!("SELECT {COLUMNS} FROM review_queue WHERE id = ?1");
        let record = tx.query_row(&sql, [id], from_row).optional()?;
        let Some(record) = record else {
            return Err(Error::NoSuchReview(id));
        };
        if changed == 0 {
            return Err(Error::AlreadyDecided {
                id,
                status: record.status,
            });
        }
        if let (Some(message), Some(text)) = (record.message_id, text) {
            tx.execute(
                "UPDATE messages SET content = ?2 WHERE id = ?1",
                params![message, text],
            )?;
            tx.execute("DELETE FROM citations WHERE message_id = ?1", [message])?;
            for c in citations {
                tx.execute(
                    "INSERT INTO citations (message_id, n, chunk_id, doc_path, page, heading, text, score) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![message, c.n, c.chunk_id, c.doc_path, c.page, c.heading, c.text, c.score],
                )?;
            }
        }
        tx.commit()?;
        Ok(record)
    }
}
