//! Generation on this device: the chat model, one answer at a time, on a blocking thread.

use cairn_index::Hit;
use cairn_models::BertEmbedder;
use cairn_models::llm::{GenerateParams, Sampling, StopReason};
use cairn_store::Provenance;

use crate::answer::citation::Citation;
use crate::answer::condense::condense;
use crate::answer::prompt::{pack, screen};
use crate::answer::turn::{Generation, Turn};
use crate::config::AnswerConfig;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::policy::LocalTier;
use crate::prompts;

impl Library {
    /// Runs the chat model on `hits` screened and packed into its context window, streaming the
    /// reply as it is written.
    pub(crate) async fn generate_local(&self, turn: &Turn<'_>, hits: &[Hit]) -> Result<Generation> {
        let tier = turn
            .facts
            .model_route
            .as_ref()
            .map_or(LocalTier::Fast, |r| r.local_tier);
        let model = self.chat_model_for(tier)?;
        let cfg = self.config.answer.clone();
        let template = turn.template;
        let question = turn.question.to_string();
        let (hits, flagged) = screen(hits, &self.config.guard);
        let retrieved = Citation::numbered(&hits);
        // Only a question's passages are cut: a document read whole, or the notes on its parts,
        // are what the request is about.
        let cut = [prompts::GROUNDED.name, prompts::ANALYTICAL.name].contains(&template.name);
        let embedder = if cfg.condense && cut {
            Some(self.embedder()?)
        } else {
            None
        };
        let history = turn.history.to_vec();
        let events = turn.events.clone();
        let cancel = turn.cancel.clone();
        let started = turn.started;
        tokio::task::spawn_blocking(move || {
            let given = match &embedder {
                Some(embedder) => cut_to_question(embedder, &question, &hits),
                None => hits.clone(),
            };
            let mut model = model.lock().unwrap_or_else(|p| p.into_inner());
            let mut packed = pack(&model, template, &question, &given, &history, &cfg)?;
            // The person and the output check see each cited passage whole.
            for passage in &mut packed.passages {
                if let Some(whole) = hits.iter().find(|h| h.passage.chunk_id == passage.chunk_id) {
                    passage.text = whole.passage.text.clone();
                }
            }
            if template.name != prompts::CHITCHAT.name {
                events.sources(&packed.passages);
            }
            let format = model.tokenizer().prompt_format();
            let mut params = params(&cfg);
            params
                .stop
                .extend(format.stop_strings().iter().map(|s| s.to_string()));
            let mut first_token_ms = 0.0;
            let generation = model.generate(&packed.ids, &params, cancel.flag(), &mut |piece| {
                if first_token_ms == 0.0 {
                    first_token_ms = started.elapsed().as_secs_f64() * 1e3;
                }
                events.text(piece);
            })?;
            Ok(Generation {
                text: generation.text.trim().to_string(),
                tokens_in: generation.tokens_in,
                tokens_out: generation.tokens_out,
                model: model.info().name.clone(),
                provenance: Provenance::Local,
                prompt_format: Some(format.label()),
                first_token_ms,
                truncated: !matches!(
                    generation.stop,
                    StopReason::EndOfTurn | StopReason::StopString
                ),
                cost: 0.0,
                redacted: 0,
                passages: packed.passages,
                retrieved,
                dropped: packed.dropped,
                flagged,
            })
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
    }
}

/// `hits` with each passage cut to the sentences that bear on `question` ([`condense`]).
fn cut_to_question(embedder: &BertEmbedder, question: &str, hits: &[Hit]) -> Vec<Hit> {
    let texts: Vec<&str> = hits.iter().map(|h| h.passage.text.as_str()).collect();
    let cut = condense(embedder, question, &texts);
    hits.iter()
        .zip(cut)
        .map(|(hit, text)| {
            let mut hit = hit.clone();
            hit.passage.text = text;
            hit
        })
        .collect()
}

/// Sampling as `[answer]` asks: greedy at temperature 0, else seeded top-k/top-p.
fn params(cfg: &AnswerConfig) -> GenerateParams {
    GenerateParams {
        sampling: if cfg.temperature > 0.0 {
            Sampling::Random {
                temperature: cfg.temperature,
                top_k: 40,
                top_p: 0.95,
                seed: cfg.seed,
            }
        } else {
            Sampling::Greedy
        },
        max_tokens: cfg.max_tokens,
        repeat_penalty: cfg.repeat_penalty,
        ..GenerateParams::default()
    }
}
