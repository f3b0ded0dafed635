//! The shared tail of every generated answer, local or cloud: read its citations, run the output
//! checks, build the [`Answer`] once, and withdraw it (or mark it) when it fails them: an answer
//! its passages do not support gives way to their own sentences, quoted ([`super::quoted`]).

use std::cell::RefCell;
use std::collections::HashMap;

use cairn_guard::{OutputConfig, OutputReport, check_output};
use cairn_models::{BertEmbedder, Embedder};
use cairn_store::Tier;

use crate::answer::citation::{Citation, cite};
use crate::answer::fixed::{fixed, source_lines};
use crate::answer::quoted::{render, supporting_sentences};
use crate::answer::turn::{Generation, Turn};
use crate::answer::value::{Answer, FallbackStep, ReviewNote, Timings};
use crate::config::ReviewMode;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::prompts;

impl Library {
    /// Cites, checks and builds the answer `generation` makes for `turn`, as tier `tier` after the
    /// failed steps `fallbacks`.
    pub(crate) async fn finish(
        &self,
        turn: &Turn<'_>,
        generation: Generation,
        tier: Tier,
        fallbacks: Vec<FallbackStep>,
    ) -> Result<Answer> {
        let citations = cite(&generation.text, &generation.passages);
        let embedder = self.embedder()?;
        let output_cfg = self.config.guard.output.clone();
        let passage_texts: Vec<String> =
            generation.passages.iter().map(|p| p.text.clone()).collect();
        let text = generation.text.clone();
        let checker = embedder.clone();
        let output_check = tokio::task::spawn_blocking(move || {
            check_answer(&checker, &text, &passage_texts, &output_cfg)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        // Should the answer be held back for failing the grounding check, the passages' own
        // sentences are shown in its place: weighed now, while the embedder is at hand.
        let quotes = if !output_check.grounded
            && output_check.policy_hits.is_empty()
            && self.config.review.mode == ReviewMode::Hold
        {
            let (question, passages) = (turn.question.to_string(), generation.passages.clone());
            let floor = self.config.guard.output.quote_floor;
            tokio::task::spawn_blocking(move || {
                let quotes = supporting_sentences(&embedder, &question, &passages, floor);
                render(&quotes, &passages)
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
        } else {
            (String::new(), Vec::new())
        };
        let answer = Answer {
            answer: generation.text,
            citations,
            tier,
            prompt_version: turn.template.id(),
            tokens_in: generation.tokens_in,
            tokens_out: generation.tokens_out,
            model: generation.model,
            passages_used: generation.passages.len(),
            passages_dropped: generation.dropped,
            truncated: generation.truncated,
            timings_ms: Timings {
                first_token: generation.first_token_ms,
                ..Timings::default()
            },
            passages_flagged: generation.flagged,
            output_check: Some(output_check),
            provenance: generation.provenance,
            prompt_format: generation.prompt_format,
            cost: generation.cost,
            fallbacks,
            redacted: generation.redacted,
            ..fixed(turn.facts, turn.template, "", Vec::new())
        };
        Ok(self.enforce_output_check(answer, &generation.retrieved, turn, quotes))
    }

    /// A generated answer that failed the output checks is queued for review: under `review.mode
    /// = hold` it is withdrawn (the person is told why) and replaced by the passages' sentences
    /// that bear on the question, quoted (`quotes`: the text and the passages it cites), or where
    /// none do, by a fixed answer pointing at the passages; under `warn` it stands, marked.
    fn enforce_output_check(
        &self,
        answer: Answer,
        retrieved: &[Citation],
        turn: &Turn<'_>,
        (quotes, quoted): (String, Vec<Citation>),
    ) -> Answer {
        let Some(check) = &answer.output_check else {
            return answer;
        };
        let (why, replacement) = if !check.policy_hits.is_empty() {
            (
                "the answer touched a banned topic",
                self.template(prompts::REFUSAL),
            )
        } else if !check.grounded {
            (
                "the answer was not supported by the passages it cites",
                self.template(prompts::UNSUPPORTED),
            )
        } else {
            return answer;
        };
        let mode = self.config.review.mode;
        let note = ReviewNote {
            id: None,
            mode,
            reason: why.into(),
            original: answer.answer.clone(),
            citations: answer.citations.clone(),
            held: answer.kept(),
        };
        if mode == ReviewMode::Warn {
            return Answer {
                review: Some(note),
                ..answer
            };
        }
        turn.events.retract(why);
        let (withdrawn, why) = if quoted.is_empty() {
            // The cited passages first, then the best retrieved; each once.
            let mut closest: Vec<Citation> = Vec::new();
            for c in answer.citations.iter().chain(retrieved) {
                if closest.len() < 3 && closest.iter().all(|k| k.chunk_id != c.chunk_id) {
                    closest.push(c.clone());
                }
            }
            let sources = source_lines("- ", &closest);
            (
                fixed(turn.facts, replacement, &sources, closest),
                why.to_string(),
            )
        } else {
            let template = self.template(prompts::QUOTED);
            let shown = Answer {
                answer: template
                    .section("text", &[("quotes", &quotes)])
                    .trim()
                    .to_string(),
                citations: quoted,
                ..fixed(turn.facts, template, "", Vec::new())
            };
            (shown, format!("{why}; its passages are quoted instead"))
        };
        Answer {
            answer: format!(
                "{}\n\nWhat I wrote is waiting for a person to review it.",
                withdrawn.answer
            ),
            route_reason: format!("{}; {why}", turn.facts.decision.reason),
            tokens_in: answer.tokens_in,
            tokens_out: answer.tokens_out,
            passages_used: answer.passages_used,
            passages_flagged: answer.passages_flagged,
            output_check: answer.output_check,
            timings_ms: answer.timings_ms,
            cost: answer.cost,
            redacted: answer.redacted,
            fallbacks: answer.fallbacks,
            review: Some(note),
            ..withdrawn
        }
    }
}

/// The output checks of `text` against the passages it was given, with embedding similarity.
fn check_answer(
    embedder: &BertEmbedder,
    text: &str,
    passages: &[String],
    config: &OutputConfig,
) -> OutputReport {
    let passage_texts: Vec<&str> = passages.iter().map(String::as_str).collect();
    let cache = RefCell::new(HashMap::<String, Vec<f32>>::new());
    let vector = |t: &str| -> Vec<f32> {
        if let Some(v) = cache.borrow().get(t) {
            return v.clone();
        }
        let v = embedder
            .embed(&[t])
            .map(|mut v| v.remove(0))
            .unwrap_or_default();
        cache.borrow_mut().insert(t.to_string(), v.clone());
        v
    };
    let similarity =
        |a: &str, b: &str| -> f32 { vector(a).iter().zip(vector(b)).map(|(x, y)| x * y).sum() };
    check_output(
        text,
        &passage_texts,
        (!passage_texts.is_empty()).then_some(&similarity as &cairn_guard::Similarity<'_>),
        config,
    )
}
