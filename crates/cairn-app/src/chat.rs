//! Conversations: asking (streamed, stoppable), threads and their messages, in the UI's types.

use std::sync::Arc;

use cairn_engine::{
    Answer, AnswerEvent, AskRequest, CancelToken, Citation, CitationRecord, MessageRecord,
    ThreadRecord,
};

use crate::api::{
    AnswerView, ApiError, AskArgs, CachedView, ChatEvent, CitationView, MessageView,
    ReviewNoteView, StopRequest, ThreadRequest, ThreadView, TimingsView,
};
use crate::{App, lock};

/// Where the events of one answer go, in order.
pub type ChatSink = Arc<dyn Fn(ChatEvent) + Send + Sync>;

impl App {
    /// Answers a question, streaming [`ChatEvent`]s to `events`, and saves the exchange in its
    /// thread. [`App::stop_answer`] with the same `request_id` stops it.
    pub async fn ask(&self, request: AskArgs, events: ChatSink) -> Result<AnswerView, ApiError> {
        let library = self.library()?;
        let cancel = CancelToken::new();
        {
            let mut answers = lock(&self.answers);
            if answers.contains_key(&request.request_id) {
                return Err(ApiError::invalid(format!(
                    "an answer with request id {} is already being written",
                    request.request_id
                )));
            }
            answers.insert(request.request_id, cancel.clone());
        }
        // Forget the request however this ends (an error, or the UI going away mid-answer).
        let _forget = Forget {
            app: self,
            request_id: request.request_id,
        };
        let on_event = Arc::new(move |event: AnswerEvent| events(chat_event(event)));
        let ask = AskRequest {
            question: request.question,
            collection: request.collection,
            thread: request.thread,
            policy: None,
            document: request.document,
        };
        let answer = library.ask(&ask, on_event, &cancel).await?;
        Ok(answer_view(answer))
    }

    /// Stops an answer being written. Stopping one that has finished does nothing.
    pub async fn stop_answer(&self, request: StopRequest) -> Result<(), ApiError> {
        if let Some(cancel) = lock(&self.answers).get(&request.request_id) {
            cancel.cancel();
        }
        Ok(())
    }

    /// Every thread, most recently active first.
    pub async fn threads(&self) -> Result<Vec<ThreadView>, ApiError> {
        Ok(self
            .library()?
            .threads()?
            .into_iter()
            .map(thread_view)
            .collect())
    }

    /// A thread's messages, oldest first.
    pub async fn thread_messages(
        &self,
        request: ThreadRequest,
    ) -> Result<Vec<MessageView>, ApiError> {
        Ok(self
            .library()?
            .thread_messages(request.thread)?
            .into_iter()
            .map(message_view)
            .collect())
    }

    /// Deletes a thread and its messages.
    pub async fn delete_thread(&self, request: ThreadRequest) -> Result<(), ApiError> {
        if self.library()?.delete_thread(request.thread)? {
            Ok(())
        } else {
            Err(ApiError::invalid(format!(
                "there is no thread {}",
                request.thread
            )))
        }
    }

    /// Whether an answer is being written.
    pub(crate) fn answering(&self) -> bool {
        !lock(&self.answers).is_empty()
    }
}

struct Forget<'a> {
    app: &'a App,
    request_id: u32,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        lock(&self.app.answers).remove(&self.request_id);
    }
}

fn chat_event(event: AnswerEvent) -> ChatEvent {
    match event {
        AnswerEvent::Route(decision) => ChatEvent::Route {
            route: decision.route.label().to_string(),
            confidence: decision.confidence,
            reason: decision.reason,
        },
        AnswerEvent::Sources { passages } => ChatEvent::Sources {
            passages: passages
                .into_iter()
                .map(|c| CitationView {
                    cited_by: "retrieved".into(),
                    ..citation_view(c)
                })
                .collect(),
        },
        AnswerEvent::Progress { done, total, stage } => ChatEvent::Progress {
            done: done as u32,
            total: total as u32,
            stage,
        },
        AnswerEvent::Text { text } => ChatEvent::Text { text },
        AnswerEvent::Retracted { reason } => ChatEvent::Retracted { reason },
    }
}

pub(crate) fn citation_view(c: Citation) -> CitationView {
    CitationView {
        n: c.n as u32,
        doc_path: c.doc_path,
        page: c.page,
        heading: c.heading,
        text: c.text,
        score: Some(c.score),
        cited_by: c.cited_by.to_string(),
    }
}

fn answer_view(a: Answer) -> AnswerView {
    AnswerView {
        answer: a.answer,
        citations: a.citations.into_iter().map(citation_view).collect(),
        closest: a.closest.into_iter().map(citation_view).collect(),
        route: a.route.label().to_string(),
        route_reason: a.route_reason,
        tier: a.tier.label().to_string(),
        model: a.model,
        prompt_version: a.prompt_version,
        tokens_in: a.tokens_in as u32,
        tokens_out: a.tokens_out as u32,
        thread_id: a.thread_id,
        truncated: a.truncated,
        on_device: a.provenance.on_device(),
        cost: a.cost,
        model_route: a.model_route.map(|r| r.reason).unwrap_or_default(),
        fallbacks: a
            .fallbacks
            .iter()
            .map(|f| format!("{} ({}): {}", f.target, f.code, f.reason))
            .collect(),
        redacted: a.redacted as u32,
        trace_id: a.trace_id,
        provider: a.provenance.label().to_string(),
        timings_ms: TimingsView {
            route: a.timings_ms.route,
            retrieve: a.timings_ms.retrieve,
            first_token: a.timings_ms.first_token,
            total: a.timings_ms.total,
        },
        cached: a.cache.map(|c| CachedView {
            question: c.question,
            similarity: c.similarity,
            made_by: c.made_by,
            made_at: c.made_at,
            trace_id: c.trace_id,
        }),
        review: a.review.map(|r| ReviewNoteView {
            id: r.id,
            mode: r.mode.label().to_string(),
            reason: r.reason,
        }),
        offline_copy: a.offline_copy.map(|c| offline_copy_sentence(&c)),
    }
}

/// What the answer view says when a shared collection's offline copy answered.
fn offline_copy_sentence(copy: &cairn_engine::FromOfflineCopy) -> String {
    let minutes = copy.age_secs / 60;
    let age = match minutes {
        0 => "less than a minute".to_string(),
        1 => "1 minute".to_string(),
        2..120 => format!("{minutes} minutes"),
        _ => format!("{} hours", minutes / 60),
    };
    format!(
        "From this computer's offline copy of \"{}\", as the shared store had it {age} ago: the \
         store could not be reached.",
        copy.collection
    )
}

fn thread_view(t: ThreadRecord) -> ThreadView {
    ThreadView {
        id: t.id,
        title: t.title,
        collection: t.collection,
        updated_at: t.updated_at,
    }
}

fn message_view(m: MessageRecord) -> MessageView {
    MessageView {
        id: m.id,
        role: m.role,
        content: m.content,
        route: m.route,
        tier: m.tier.map(|t| t.label().to_string()),
        model: m.model,
        provider: m.provider.map(|p| p.label().to_string()),
        cost: m.cost,
        prompt_version: m.prompt_version,
        created_at: m.created_at,
        citations: m.citations.into_iter().map(stored_citation_view).collect(),
    }
}

fn stored_citation_view(c: CitationRecord) -> CitationView {
    CitationView {
        n: c.n as u32,
        doc_path: c.doc_path,
        page: c.page.map(|p| p as u32),
        heading: c.heading.unwrap_or_default(),
        text: c.text,
        score: c.score.map(|s| s as f32),
        cited_by: "model".into(),
    }
}
