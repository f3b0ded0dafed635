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
        offline_copy: None,
    }
}

/// A list of passages for a fixed answer's `{sources}`: one line per document, `prefix` before
/// its name, the headings of its passages after it (each once), in the order first listed.
pub(crate) fn source_lines(prefix: &str, passages: &[Citation]) -> String {
    let mut documents: Vec<(String, Vec<String>)> = Vec::new();
    for c in passages {
        let name = c.file_name();
        let place = match (c.page, c.heading.is_empty()) {
            (Some(p), _) => format!("p. {p}"),
            (None, false) => c.heading.clone(),
            (None, true) => String::new(),
        };
        let places = match documents.iter_mut().find(|(n, _)| *n == name) {
            Some((_, places)) => places,
            None => {
                documents.push((name, Vec::new()));
                &mut documents.last_mut().expect("just pushed").1
            }
        };
        if !place.is_empty() && !places.contains(&place) {
            places.push(place);
        }
    }
    documents
        .iter()
        .map(|(name, places)| match places.is_empty() {
            true => format!("{prefix}{name}"),
            false => format!("{prefix}{name}: {}", places.join("; ")),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(doc_path: &str, heading: &str, page: Option<u32>) -> Citation {
        Citation {
            n: 1,
            doc_path: doc_path.into(),
            page,
            chunk_id: format!("{doc_path}{heading}"),
            heading: heading.into(),
            text: String::new(),
            score: 0.5,
            cited_by: "model",
            tokens: 0,
        }
    }

    #[test]
    fn each_document_is_listed_once_with_its_places() {
        let lines = source_lines(
            "Closest: ",
            &[
                passage("/d/lighthouse.md", "History", None),
                passage("/d/tides.md", "", None),
                passage("/d/lighthouse.md", "The optic", None),
                passage("/d/lighthouse.md", "History", None),
                passage("/d/lease.pdf", "", Some(3)),
            ],
        );
        assert_eq!(
            lines,
            "Closest: lighthouse.md: History; The optic\nClosest: tides.md\nClosest: lease.pdf: p. 3"
        );
    }
}
