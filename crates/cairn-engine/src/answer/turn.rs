//! One question being answered: what every step of the fallback chain is given ([`Turn`]), and
//! what a model that answered returns ([`Generation`]) or one that did not ([`Failure`]).

use std::time::Instant;

use cairn_guard::InjectionReport;
use cairn_store::{MessageRecord, Provenance};

use crate::answer::citation::Citation;
use crate::answer::events::Events;
use crate::answer::value::FallbackStep;
use crate::cancel::CancelToken;
use crate::policy::ModelRoute;
use crate::prompts::Template;
use crate::router::RouteDecision;

/// What every answer to this question carries, whichever path makes it.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    /// The thread the exchange is saved to.
    pub(crate) thread_id: i64,
    /// The route and its reason.
    pub(crate) decision: RouteDecision,
    /// The injection check of the question.
    pub(crate) input_check: InjectionReport,
    /// The model router's choice; `None` for an answer from the cache.
    pub(crate) model_route: Option<ModelRoute>,
}

/// One question on its way to a model.
pub(crate) struct Turn<'a> {
    pub(crate) facts: &'a Facts,
    /// The prompt template for this route, in the version the config picks.
    pub(crate) template: Template,
    /// The question, cleaned and checked.
    pub(crate) question: &'a str,
    /// The thread's earlier messages.
    pub(crate) history: &'a [MessageRecord],
    pub(crate) events: &'a Events,
    pub(crate) cancel: &'a CancelToken,
    /// When the question arrived.
    pub(crate) started: Instant,
}

/// What a model made of a turn, before it is cited and checked.
#[derive(Debug, Clone)]
pub(crate) struct Generation {
    /// The reply, trimmed (placeholders restored, for a cloud model).
    pub(crate) text: String,
    /// Prompt tokens.
    pub(crate) tokens_in: usize,
    /// Generated tokens.
    pub(crate) tokens_out: usize,
    /// The model, as it names itself.
    pub(crate) model: String,
    /// Where it ran.
    pub(crate) provenance: Provenance,
    /// How the local model's prompt was written (`chat_template` or `plain`); `None` for a cloud
    /// model, whose provider applies its own.
    pub(crate) prompt_format: Option<&'static str>,
    /// Milliseconds from the question to the first piece of the reply.
    pub(crate) first_token_ms: f64,
    /// Cut short: cancelled, or out of tokens.
    pub(crate) truncated: bool,
    /// US dollars (0 on this device).
    pub(crate) cost: f64,
    /// Entities redacted from what was sent (0 on this device).
    pub(crate) redacted: usize,
    /// The passages the model was given, numbered as its prompt numbers them.
    pub(crate) passages: Vec<Citation>,
    /// Every passage retrieved that passed the injection check, best first: the sources a
    /// withdrawn answer points to after the ones it cited.
    pub(crate) retrieved: Vec<Citation>,
    /// Passages left out for want of room.
    pub(crate) dropped: usize,
    /// Passages the injection check changed or removed.
    pub(crate) flagged: usize,
}

/// A cloud step that did not answer: what happened, and whether the person already saw part of
/// its reply (which is then retracted before the next step).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) step: FallbackStep,
    pub(crate) streamed: bool,
}
