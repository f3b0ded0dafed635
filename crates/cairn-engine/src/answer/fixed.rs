//! Fixed answers: a refusal, nothing found, every model failed, an answer withdrawn. They are
//! texts from versioned templates, never a model's words (the deterministic tier).
//!
//! [`fixed`] is also the one place an [`Answer`] is written out whole: a generated or cached answer
//! is this with what its path made set on top, so no field is ever filled with a placeholder.

use cairn_store::{Provenance, Tier};

use crate::answer::citation::Citation;
use crate::answer::turn::Facts;
use crate::answer::value::{Answer, Timings};
use crate::prompts::Template;

/// `template`'s `text` section, with `{sources}` filled in; `closest` lists passages that came
/// near.
pub(crate) fn fixed(
    facts: &Facts,
    template: Template,
    sources: &str,
    closest: Vec<Citation>,
) -> Answer {
    Answer {
        answer: template
            .section("text", &[("sources", sources)])
            .trim()
            .to_string(),
        citations: Vec::new(),
        route: facts.decision.route,
        route_reason: facts.decision.reason.clone(),
        tier: Tier::Deterministic,
        prompt_version: template.id(),
        prompt_format: None,
        tokens_in: 0,
        tokens_out: 0,
        thread_id: facts.thread_id,
        model: "none".into(),
        closest,
        passages_used: 0,
        passages_dropped: 0,
        truncated: false,
        timings_ms: Timings::default(),
        input_check: Some(facts.input_check.clone()),
        passages_flagged: 0,
        output_check: None,
        provenance: Provenance::Fixed,
        cost: 0.0,
        model_route: facts.model_route.clone(),
        fallbacks: Vec::new(),
        redacted: 0,
        trace_id: None,
        cache: None,
        review: None,
    }
}

/// A list of passages for a fixed answer's `{sources}`: one line each, `prefix` before its label.
pub(crate) fn source_lines(prefix: &str, passages: &[Citation]) -> String {
    passages
        .iter()
        .map(|c| format!("{prefix}{}", c.label()))
        .collect::<Vec<_>>()
        .join("\n")
}
