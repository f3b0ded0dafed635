//! The two routers a question meets, neither of them a language model: its intent (one embedding,
//! a linear classifier) and the model that answers it (its complexity and the policy's choice among
//! the configured models).

use cairn_models::Embedder;

use crate::error::{Error, Result};
use crate::library::Library;
use crate::policy::{Candidate, ModelRoute, Policy};
use crate::router::RouteDecision;

impl Library {
    /// The question's embedding and its route.
    pub(crate) async fn route(&self, question: &str) -> Result<(Vec<f32>, RouteDecision)> {
        let embedder = self.embedder()?;
        let q = question.to_string();
        let vector = tokio::task::spawn_blocking(move || embedder.embed(&[q.as_str()]))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??
            .remove(0);
        let decision = self.router.route(&vector);
        Ok((vector, decision))
    }

    /// The model router: the question's complexity, then the policy's choice among the configured
    /// models. Under offline-only no provider is constructed.
    pub(crate) fn route_model(
        &self,
        policy: Policy,
        vector: &[f32],
        question: &str,
    ) -> Result<ModelRoute> {
        let complexity = self.complexity.classify(vector, question);
        let local = self.config.models.local_answers;
        if policy == Policy::OfflineOnly || self.config.providers.is_empty() {
            return Ok(crate::policy::choose(policy, &complexity, local, &[]));
        }
        let providers = self.providers()?;
        let mut candidates = Vec::new();
        for provider in providers {
            for model in &provider.config().models {
                candidates.push(Candidate {
                    provider: provider.name(),
                    model,
                    paused: provider.is_paused(),
                    median_ms: self
                        .store
                        .latency(provider.name(), &model.id, 20)?
                        .map(|l| l.median_total_ms),
                });
            }
        }
        Ok(crate::policy::choose(
            policy,
            &complexity,
            local,
            &candidates,
        ))
    }
}
