//! An answered question kept in its thread: the question, the answer with its route, tier, prompt,
//! model, provenance and citations, and (for an answer that failed the checks) its entry in the
//! review queue.

use cairn_store::{NewMessage, NewReview};

use crate::answer::citation::citation_records;
use crate::answer::value::Answer;
use crate::error::Result;
use crate::library::Library;

impl Library {
    /// Saves the exchange in the answer's thread; an answer waiting for review gets its queue
    /// entry, linked to the message the person sees.
    pub(crate) fn save_exchange(
        &self,
        collection: &str,
        question: &str,
        answer: &mut Answer,
    ) -> Result<()> {
        let thread = answer.thread_id;
        self.store.add_message(
            thread,
            &NewMessage {
                role: "user".into(),
                content: question.to_string(),
                ..NewMessage::default()
            },
        )?;
        let message_id = self.store.add_message(
            thread,
            &NewMessage {
                role: "assistant".into(),
                content: answer.answer.clone(),
                route: Some(answer.route.label().into()),
                tier: Some(answer.tier),
                prompt_version: Some(answer.prompt_version.clone()),
                model: Some(answer.model.clone()),
                tokens_in: Some(answer.tokens_in as i64),
                tokens_out: Some(answer.tokens_out as i64),
                provider: Some(answer.provenance.clone()),
                cost: Some(answer.cost),
                citations: citation_records(&answer.citations),
            },
        )?;
        if let Some(note) = &mut answer.review {
            let id = self.store.review_add(&NewReview {
                thread_id: Some(thread),
                message_id: Some(message_id),
                collection: collection.to_string(),
                question: question.to_string(),
                reason: note.reason.clone(),
                mode: note.mode.label().into(),
                answer: serde_json::to_string(&note.held)?,
                sources: serde_json::to_string(&self.sources_of(collection, &note.citations)?)?,
            })?;
            note.id = Some(id);
        }
        Ok(())
    }
}
