//! Conversations: threads, their messages, and the citations of each answer.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::error::Result;
use crate::provenance::{Provenance, Tier};
use crate::store::Store;

/// A conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRecord {
    /// Its id.
    pub id: i64,
    /// A title (the first question, shortened).
    pub title: String,
    /// The collection it asks about.
    pub collection: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last message.
    pub updated_at: i64,
}

/// A passage an answer cited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitationRecord {
    /// The number the answer uses for it: `[n]`.
    pub n: i64,
    /// The chunk's id in the index.
    pub chunk_id: String,
    /// The document's path.
    pub doc_path: String,
    /// Page, for paged documents (1-based).
    pub page: Option<i64>,
    /// Heading path.
    pub heading: Option<String>,
    /// The passage's text.
    pub text: String,
    /// Its retrieval score.
    pub score: Option<f64>,
}

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Its id.
    pub id: i64,
    /// The thread.
    pub thread_id: i64,
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
    /// For answers: the route taken (`factual`, `chitchat`, ...).
    pub route: Option<String>,
    /// For answers: the tier that produced it.
    pub tier: Option<Tier>,
    /// For answers: the prompt template and version (`grounded@1.0.0`).
    pub prompt_version: Option<String>,
    /// For answers: the model.
    pub model: Option<String>,
    /// Prompt tokens.
    pub tokens_in: Option<i64>,
    /// Generated tokens.
    pub tokens_out: Option<i64>,
    /// For answers: who made it; unset before 0.4.
    pub provider: Option<Provenance>,
    /// For answers: US dollars.
    pub cost: Option<f64>,
    /// Unix seconds.
    pub created_at: i64,
    /// The passages it cited.
    pub citations: Vec<CitationRecord>,
}

/// A message to append: [`MessageRecord`] without the ids the store assigns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
    /// Route.
    pub route: Option<String>,
    /// Tier.
    pub tier: Option<Tier>,
    /// Prompt template version.
    pub prompt_version: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Prompt tokens.
    pub tokens_in: Option<i64>,
    /// Generated tokens.
    pub tokens_out: Option<i64>,
    /// Who made it.
    pub provider: Option<Provenance>,
    /// US dollars.
    pub cost: Option<f64>,
    /// Cited passages.
    pub citations: Vec<CitationRecord>,
}

fn thread_from_row(r: &rusqlite::Row) -> rusqlite::Result<ThreadRecord> {
    Ok(ThreadRecord {
        id: r.get(0)?,
        title: r.get(1)?,
        collection: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

impl Store {
    /// Starts a thread.
    pub fn create_thread(&self, title: &str, collection: &str) -> Result<ThreadRecord> {
        let conn = self.conn();
        let t = now();
        conn.execute(
            "INSERT INTO threads (title, collection, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
            params![title, collection, t],
        )?;
        Ok(ThreadRecord {
            id: conn.last_insert_rowid(),
            title: title.to_string(),
            collection: collection.to_string(),
            created_at: t,
            updated_at: t,
        })
    }

    /// The thread `id`, if it exists.
    pub fn thread(&self, id: i64) -> Result<Option<ThreadRecord>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, title, collection, created_at, updated_at FROM threads WHERE id = ?1",
                [id],
                thread_from_row,
            )
            .optional()?)
    }

    /// Every thread, most recently active first.
    pub fn threads(&self) -> Result<Vec<ThreadRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, title, collection, created_at, updated_at FROM threads ORDER BY updated_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], thread_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes a thread with its messages and citations, and every record of what was asked in it
    /// ([`Store::forget_thread`]).
    pub fn delete_thread(&self, id: i64) -> Result<bool> {
        Ok(self.forget_thread(id)?.is_some())
    }

    /// Appends a message (and its citations) to a thread, in one transaction.
    pub fn add_message(&self, thread_id: i64, message: &NewMessage) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let t = now();
        tx.execute(
            "INSERT INTO messages (thread_id, role, content, route, tier, prompt_version, model, tokens_in, \
             tokens_out, created_at, provider, cost) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                thread_id,
                message.role,
                message.content,
                message.route,
                message.tier,
                message.prompt_version,
                message.model,
                message.tokens_in,
                message.tokens_out,
                t,
                message.provider,
                message.cost
            ],
        )?;
        let id = tx.last_insert_rowid();
        for c in &message.citations {
            tx.execute(
                "INSERT INTO citations (message_id, n, chunk_id, doc_path, page, heading, text, score) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![id, c.n, c.chunk_id, c.doc_path, c.page, c.heading, c.text, c.score],
            )?;
        }
        tx.execute(
            "UPDATE threads SET updated_at = ?2 WHERE id = ?1",
            params![thread_id, t],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// A thread's messages, oldest first, with their citations.
    pub fn messages(&self, thread_id: i64) -> Result<Vec<MessageRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, thread_id, role, content, route, tier, prompt_version, model, tokens_in, tokens_out, \
             created_at, provider, cost FROM messages WHERE thread_id = ?1 ORDER BY id",
        )?;
        let mut messages: Vec<MessageRecord> = stmt
            .query_map([thread_id], |r| {
                Ok(MessageRecord {
                    id: r.get(0)?,
                    thread_id: r.get(1)?,
                    role: r.get(2)?,
                    content: r.get(3)?,
                    route: r.get(4)?,
                    tier: r.get(5)?,
                    prompt_version: r.get(6)?,
                    model: r.get(7)?,
                    tokens_in: r.get(8)?,
                    tokens_out: r.get(9)?,
                    created_at: r.get(10)?,
                    provider: r.get(11)?,
                    cost: r.get(12)?,
                    citations: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut cites = conn.prepare(
            "SELECT n, chunk_id, doc_path, page, heading, text, score FROM citations WHERE message_id = ?1 ORDER BY n",
        )?;
        for m in &mut messages {
            m.citations = cites
                .query_map([m.id], |r| {
                    Ok(CitationRecord {
                        n: r.get(0)?,
                        chunk_id: r.get(1)?,
                        doc_path: r.get(2)?,
                        page: r.get(3)?,
                        heading: r.get(4)?,
                        text: r.get(5)?,
                        score: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
        }
        Ok(messages)
    }
}
