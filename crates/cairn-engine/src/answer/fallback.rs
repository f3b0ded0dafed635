//! The fallback chain, as written down in the design: the routed model with every passage → the
//! secondary (`router.secondary`) with the single most relevant passage → a fixed answer quoting
//! that passage. Only a cloud step can fail over; a step that had begun streaming is retracted
//! before the next one starts, so no half answer is shown twice.

use cairn_index::Hit;
use cairn_store::Tier;

use crate::answer::citation::Citation;
use crate::answer::fixed::fixed;
use crate::answer::turn::{Failure, Turn};
use crate::answer::value::{Answer, FallbackStep};
use crate::error::Result;
use crate::library::Library;
use crate::policy::{ModelRoute, Target};
use crate::prompts;

impl Library {
    /// Answers `turn` from `hits` with the routed model, walking the chain when it fails.
    pub(crate) async fn respond(
        &self,
        turn: &Turn<'_>,
        hits: &[Hit],
        route: &ModelRoute,
    ) -> Result<Answer> {
        let Target::Cloud { provider, model } = &route.target else {
            let generation = self.generate_local(turn, hits).await?;
            return self
                .finish(turn, generation, Tier::Primary, Vec::new())
                .await;
        };
        let mut steps = Vec::new();
        let retract = |failure: &Failure| {
            if failure.streamed {
                turn.events
                    .retract(format!("{} failed mid-answer", failure.step.target));
            }
        };
        match self
            .generate_cloud(turn, hits, provider, model, Tier::Primary)
            .await
        {
            Ok(generation) => {
                return self
                    .finish(turn, generation, Tier::Primary, Vec::new())
                    .await;
            }
            Err(failure) => {
                retract(&failure);
                steps.push(failure.step);
            }
        }
        let best: Vec<Hit> = hits.iter().take(1).cloned().collect();
        match Target::parse(&self.config.router.secondary).flatten() {
            Some(Target::Local) => match self.generate_local(turn, &best).await {
                Ok(generation) => {
                    return self.finish(turn, generation, Tier::Secondary, steps).await;
                }
                Err(e) => steps.push(FallbackStep {
                    target: "local".into(),
                    tier: Tier::Secondary,
                    code: e.code().into(),
                    reason: e.to_string(),
                }),
            },
            Some(Target::Cloud { provider, model }) => {
                match self
                    .generate_cloud(turn, &best, &provider, &model, Tier::Secondary)
                    .await
                {
                    Ok(generation) => {
                        return self.finish(turn, generation, Tier::Secondary, steps).await;
                    }
                    Err(failure) => {
                        retract(&failure);
                        steps.push(failure.step);
                    }
                }
            }
            None => {}
        }
        Ok(self.every_model_failed(turn, &best, steps))
    }

    /// The chain's last step: a fixed answer that says why each model failed and quotes the most
    /// relevant passage.
    fn every_model_failed(
        &self,
        turn: &Turn<'_>,
        best: &[Hit],
        steps: Vec<FallbackStep>,
    ) -> Answer {
        let reasons: Vec<String> = steps
            .iter()
            .map(|s| format!("{}: {}", s.target, s.reason))
            .collect();
        let quoted: Vec<Citation> = best
            .iter()
            .map(|h| Citation::of_hit(1, h, "quote"))
            .collect();
        let passage = quoted
            .first()
            .map(|c| {
                format!(
                    "The most relevant passage in your library [1] ({}):\n\n> {}",
                    c.label(),
                    c.text.trim().replace('\n', "\n> ")
                )
            })
            .unwrap_or_default();
        let template = self.template(prompts::FALLBACK);
        Answer {
            answer: template
                .section(
                    "text",
                    &[("reasons", &reasons.join("; ")), ("passage", &passage)],
                )
                .trim()
                .to_string(),
            citations: quoted,
            route_reason: format!(
                "{}; every model in the chain failed",
                turn.facts.decision.reason
            ),
            fallbacks: steps,
            ..fixed(turn.facts, template, "", Vec::new())
        }
    }
}
