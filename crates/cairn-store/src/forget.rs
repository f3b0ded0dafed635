//! Forgetting what was asked: deleting a thread or a collection takes with it every record of the
//! questions asked there (traces, their feedback, review rows, cached answers), and traces older
//! than the retention period are pruned. What was spent is kept (budgets must not forget money):
//! the spend rows of a deleted thread lose their link to it and nothing else.

use rusqlite::{Transaction, params};

use crate::clock::now;
use crate::error::Result;
use crate::store::Store;

/// What a deletion took with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Traces deleted (their feedback with them).
    pub traces: usize,
    /// Review rows deleted.
    pub reviews: usize,
    /// Cached answers deleted.
    pub cached_answers: usize,
}

/// Deletes the traces `condition` selects (bound to `?1`), with their feedback, the review rows
/// and the cached answers made from them.
fn forget_traces(
    tx: &Transaction<'_>,
    condition: &str,
    value: &dyn rusqlite::ToSql,
) -> Result<Forgotten> {
    let selected = format!("SELECT id FROM traces WHERE {condition}");
    let cached_answers = tx.execute(
        &format!("DELETE FROM answer_cache WHERE trace_id IN ({selected})"),
        [value],
    )?;
    let reviews = tx.execute(
        &format!("DELETE FROM review_queue WHERE trace_id IN ({selected})"),
        [value],
    )?;
    tx.execute(
        &format!("DELETE FROM feedback WHERE trace_id IN ({selected})"),
        [value],
    )?;
    let traces = tx.execute(&format!("DELETE FROM traces WHERE {condition}"), [value])?;
    Ok(Forgotten {
        traces,
        reviews,
        cached_answers,
    })
}

impl Store {
    /// Deletes a thread, its messages, and every record of what was asked in it; `None` if there
    /// was no such thread.
    pub fn forget_thread(&self, id: i64) -> Result<Option<Forgotten>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut forgotten = forget_traces(&tx, "thread_id = ?1", &id)?;
        forgotten.reviews += tx.execute("DELETE FROM review_queue WHERE thread_id = ?1", [id])?;
        tx.execute(
            "UPDATE model_calls SET thread_id = NULL WHERE thread_id = ?1",
            [id],
        )?;
        let deleted = tx.execute("DELETE FROM threads WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok((deleted > 0).then_some(forgotten))
    }

    /// Deletes every record of what was asked of `collection`: its traces, their feedback, its
    /// review rows and cached answers. Part of deleting the collection ([`Store::delete_collection`]).
    pub(crate) fn forget_collection_questions(
        tx: &Transaction<'_>,
        collection: &str,
    ) -> Result<Forgotten> {
        let mut forgotten =
            forget_traces(tx, "json_extract(data, '$.collection') = ?1", &collection)?;
        forgotten.reviews += tx.execute(
            "DELETE FROM review_queue WHERE collection = ?1",
            [collection],
        )?;
        forgotten.cached_answers += tx.execute(
            "DELETE FROM answer_cache WHERE collection = ?1",
            [collection],
        )?;
        Ok(forgotten)
    }

    /// Deletes traces (with their feedback) older than `days` days; 0 keeps them all. Cached
    /// answers and review rows made from them stay, without the link.
    pub fn prune_traces(&self, days: u32) -> Result<usize> {
        if days == 0 {
            return Ok(0);
        }
        let cutoff = now() - i64::from(days) * 86_400;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let old = "SELECT id FROM traces WHERE created_at < ?1";
        tx.execute(
            &format!("UPDATE answer_cache SET trace_id = NULL WHERE trace_id IN ({old})"),
            params![cutoff],
        )?;
        tx.execute(
            &format!("UPDATE review_queue SET trace_id = NULL WHERE trace_id IN ({old})"),
            params![cutoff],
        )?;
        tx.execute(
            &format!("DELETE FROM feedback WHERE trace_id IN ({old})"),
            params![cutoff],
        )?;
        let pruned = tx.execute("DELETE FROM traces WHERE created_at < ?1", params![cutoff])?;
        tx.commit()?;
        Ok(pruned)
    }
}
