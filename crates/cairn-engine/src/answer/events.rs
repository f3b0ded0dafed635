//! The one place answer events leave the engine. Every [`AnswerEvent`] the window, the command or
//! the local API sees is sent by a method here, in this order:
//!
//! 1. `Route`, once: the route decided (or, for an answer from the cache, the route it had);
//! 2. for a request about a whole document read in parts, `Progress` before each part and once
//!    when reading ends;
//! 3. per attempt to answer: `Sources` at most once (the numbered passages the model is given;
//!    none for small talk or a fixed answer), then the text as `Text` pieces, in order;
//! 4. `Retracted` when the attempt's text is withdrawn: its model failed mid-answer (the fallback
//!    chain's next step follows, from step 3) or it failed the output checks (the fixed answer
//!    that replaces it follows, as one `Text`).
//!
//! A fixed answer (refused, nothing found, every model failed) is one `Text` after `Route`.

use crate::answer::citation::Citation;
use crate::answer::value::{AnswerEvent, OnAnswerEvent};
use crate::router::RouteDecision;

/// The answer's event stream. Cloning shares the receiver, so generation on a blocking thread
/// streams through the same sink.
#[derive(Clone)]
pub(crate) struct Events {
    sink: OnAnswerEvent,
}

impl Events {
    pub(crate) fn new(sink: OnAnswerEvent) -> Events {
        Events { sink }
    }

    /// Step 1: the route.
    pub(crate) fn route(&self, decision: &RouteDecision) {
        (self.sink)(AnswerEvent::Route(decision.clone()));
    }

    /// Step 2: `done` of `total` parts of a document read, and what is happening, in words.
    pub(crate) fn progress(&self, done: usize, total: usize, stage: String) {
        (self.sink)(AnswerEvent::Progress { done, total, stage });
    }

    /// Step 3: the passages the model is given.
    pub(crate) fn sources(&self, passages: &[Citation]) {
        (self.sink)(AnswerEvent::Sources {
            passages: passages.to_vec(),
        });
    }

    /// Step 3: a piece of the answer (empty pieces are not sent).
    pub(crate) fn text(&self, text: impl Into<String>) {
        let text = text.into();
        if !text.is_empty() {
            (self.sink)(AnswerEvent::Text { text });
        }
    }

    /// Step 4: what was streamed of this attempt is withdrawn.
    pub(crate) fn retract(&self, reason: impl Into<String>) {
        (self.sink)(AnswerEvent::Retracted {
            reason: reason.into(),
        });
    }
}
