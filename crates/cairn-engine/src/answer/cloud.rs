//! Generation by a cloud model: passages screened and packed within `router.cloud_context_tokens`,
//! the request built by the guard (redacted), its largest cost reserved against the budgets, the
//! audit entry written, the reply streamed with placeholders restored, the call settled at what it
//! really cost. Nothing is sent when any step before the request fails.

use std::time::Instant;

use cairn_guard::{Guard, Outbound, PiiScanner, Redactor};
use cairn_index::Hit;
use cairn_providers::{Params, ProviderError};
use cairn_store::{Provenance, Reservation, Settlement, Tier};

use crate::answer::citation::Citation;
use crate::answer::prompt::{fit_passages, recent_turns, screen};
use crate::answer::turn::{Failure, Generation, Turn};
use crate::answer::value::FallbackStep;
use crate::error::Error;
use crate::library::Library;
use crate::prompts;

impl Library {
    /// Asks `model_id` of `provider_name` as tier `tier` of the fallback chain.
    pub(crate) async fn generate_cloud(
        &self,
        turn: &Turn<'_>,
        hits: &[Hit],
        provider_name: &str,
        model_id: &str,
        tier: Tier,
    ) -> Result<Generation, Failure> {
        let target = format!("{provider_name}/{model_id}");
        let fail = |code: &str, reason: String, streamed: bool| Failure {
            step: FallbackStep {
                target: target.clone(),
                tier,
                code: code.into(),
                reason,
            },
            streamed,
        };
        let internal = |e: Error| fail(e.code(), e.to_string(), false);
        // Nothing goes to a cloud model without spending caps the person chose.
        if let Some(missing) = self.config.budget.missing_caps() {
            return Err(fail(
                "budget",
                format!(
                    "no {missing} spending cap is set, and cloud models are asked only under day \
                     and month caps you choose (Settings → Cloud, or budget.day and budget.month \
                     in config.toml)"
                ),
                false,
            ));
        }
        let providers = self.providers().map_err(internal)?;
        let Some(provider) = providers.iter().find(|p| p.name() == provider_name) else {
            return Err(fail(
                "provider_config",
                format!("no provider is called {provider_name}"),
                false,
            ));
        };
        let Some(model) = provider.config().model(model_id).cloned() else {
            return Err(fail(
                "provider_config",
                format!("{provider_name} serves no model {model_id}"),
                false,
            ));
        };
        let router = &self.config.router;
        let (hits, flagged) = screen(hits, &self.config.guard);
        let retrieved = Citation::numbered(&hits);

        // Whole passages within the budget (4 characters a token), then recent turns.
        let mut budget = router.cloud_context_tokens;
        let estimate = |text: &str| Ok(text.len().div_ceil(4));
        let (passages, texts, dropped) = fit_passages(
            &hits,
            &mut budget,
            |_, c| format!("({}) {}", c.label(), c.text.trim()),
            estimate,
        )
        .map_err(internal)?;
        let turns = recent_turns(
            turn.history,
            2 * self.config.answer.history_turns,
            &mut budget,
            |text| Ok(estimate(text)? + 4),
        )
        .map_err(internal)?;
        let outbound = Outbound {
            system: turn.template.section("system", &[]),
            history: turns,
            passages: texts,
            question: turn.question.to_string(),
        };
        let mut guard = Guard::new(
            Redactor::new(PiiScanner::new(self.config.guard.pii.clone())),
            self.config.guard.injection.clone(),
        );
        let (egress, report) = guard
            .prepare(&outbound)
            .map_err(|e| fail("guard", e.to_string(), false))?;
        if turn.template.name != prompts::CHITCHAT.name {
            turn.events.sources(&passages);
        }

        // Reserve the most it can cost: a byte-level tokenizer (GPT's, Claude's, Mistral's) makes
        // no more tokens of a text than it has UTF-8 bytes, plus a margin for each message's
        // framing; and the longest reply.
        let prompt_bytes: usize = egress.messages().iter().map(|m| m.content.len()).sum();
        let most_in = (prompt_bytes + 8 * egress.messages().len()) as u64;
        let most_out = u64::from(router.cloud_max_tokens);
        let reservation = Reservation {
            thread_id: Some(turn.facts.thread_id),
            provider: provider_name.into(),
            model: model.id.clone(),
            tokens: most_in + most_out,
            cost: model.cost(most_in, most_out),
        };
        let id = match self
            .store
            .reserve(&reservation, &self.config.budget.limits())
        {
            Ok(Ok(id)) => id,
            Ok(Err(refused)) => {
                return Err(fail(
                    "budget",
                    format!(
                        "the {} budget would be exceeded (this request may cost up to ${:.4}, {} tokens)",
                        refused.period, reservation.cost, reservation.tokens
                    ),
                    false,
                ));
            }
            Err(e) => return Err(internal(e.into())),
        };

        // Nothing leaves without its line in the audit log: when, where, how much, what was redacted.
        let chars: usize = egress
            .messages()
            .iter()
            .map(|m| m.content.chars().count())
            .sum();
        if let Err(e) =
            self.store
                .append_audit(provider_name, &model.id, chars as u64, &report.types)
        {
            let _ = self.store.settle(
                id,
                &Settlement {
                    outcome: "not_sent".into(),
                    ..Settlement::default()
                },
            );
            return Err(fail(
                "audit",
                format!("the egress audit log could not be written, so nothing was sent: {e}"),
                false,
            ));
        }
        let params = Params {
            max_tokens: router.cloud_max_tokens,
            temperature: self.config.answer.temperature,
        };
        let mut restorer = guard.redactor().stream();
        let mut shown = 0;
        let mut first_token_ms = 0.0;
        let events = turn.events;
        let started = turn.started;
        let called = Instant::now();
        let result = provider
            .complete(
                &model.id,
                &egress,
                &params,
                &mut |piece| {
                    let text = restorer.push(piece);
                    if !text.is_empty() {
                        if first_token_ms == 0.0 {
                            first_token_ms = started.elapsed().as_secs_f64() * 1e3;
                        }
                        shown += text.len();
                        events.text(text);
                    }
                },
                turn.cancel.flag(),
            )
            .await;
        let completion = match result {
            Ok(completion) => completion,
            Err(error) => {
                let streamed = shown > 0 || matches!(error, ProviderError::StreamBroken { .. });
                // A reply that had begun was billed for its prompt and what arrived.
                let (used_in, used_out) = if streamed {
                    (most_in, shown.div_ceil(4) as u64)
                } else {
                    (0, 0)
                };
                let settled = self.store.settle(
                    id,
                    &Settlement {
                        outcome: error.code().into(),
                        tokens_in: used_in,
                        tokens_out: used_out,
                        cost: model.cost(used_in, used_out),
                        first_token_ms: None,
                        total_ms: Some(called.elapsed().as_secs_f64() * 1e3),
                    },
                );
                if let Err(e) = settled {
                    tracing::warn!("settling a failed call: {e}");
                }
                tracing::info!(
                    target = target.as_str(),
                    code = error.code(),
                    "cloud step failed: {error}"
                );
                return Err(fail(error.code(), error.to_string(), streamed));
            }
        };
        events.text(restorer.finish());
        let usage = completion.usage;
        let cost = model.cost(usage.input_tokens, usage.output_tokens);
        self.store
            .settle(
                id,
                &Settlement {
                    outcome: if turn.cancel.is_cancelled() {
                        "cancelled".into()
                    } else {
                        "ok".into()
                    },
                    tokens_in: usage.input_tokens,
                    tokens_out: usage.output_tokens,
                    cost,
                    first_token_ms: Some(completion.first_token_ms),
                    total_ms: Some(completion.total_ms),
                },
            )
            .map_err(|e| internal(e.into()))?;
        // Checked again: what the provider reported may be more than was reserved.
        if usage.input_tokens + usage.output_tokens > reservation.tokens || cost > reservation.cost
        {
            tracing::warn!(
                target = target.as_str(),
                reserved_tokens = reservation.tokens,
                used_tokens = usage.input_tokens + usage.output_tokens,
                "the provider reported more than was reserved"
            );
        }
        match self
            .store
            .over_limit(Some(turn.facts.thread_id), &self.config.budget.limits())
        {
            Ok(Some(over)) => tracing::warn!(
                period = over.period,
                "the {} spending cap is now exceeded: further cloud requests are refused",
                over.period
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!("checking the caps after a call: {e}"),
        }
        Ok(Generation {
            text: guard
                .redactor()
                .restore(&completion.text)
                .trim()
                .to_string(),
            tokens_in: usage.input_tokens as usize,
            tokens_out: usage.output_tokens as usize,
            model: completion.model,
            provenance: Provenance::Cloud {
                provider: provider_name.into(),
            },
            prompt_format: None,
            first_token_ms,
            truncated: completion.truncated,
            cost,
            redacted: report.redacted,
            passages,
            retrieved,
            dropped,
            flagged,
        })
    }
}
