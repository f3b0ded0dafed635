//! The query router: what kind of message this is, decided without a language model.
//!
//! Multinomial logistic regression over the question's sentence embedding (the library's own
//! embedder, so routing costs one embedding and a 5 × 384 product). Trained on
//! `data/router/intents.jsonl` by `cargo run -p cairn-engine --example train-router`,
//! which writes `data/router/intent-model.json`; the weights are compiled in.

use serde::{Deserialize, Serialize};

/// What a message asks for, and so which path answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Greetings and small talk: a direct reply, no retrieval.
    Chitchat,
    /// A fact to look up: grounded answer from retrieved passages.
    Factual,
    /// Reasoning across passages: step-wise grounded answer.
    Analytical,
    /// About one whole document (summarise it, list every date in it): the document is read
    /// passage by passage.
    Document,
    /// Abusive, harmful or impossible here: a polite refusal.
    OutOfScope,
}

impl Route {
    /// Every route, in the order of the classifier's labels.
    pub const ALL: [Route; 5] = [
        Route::Chitchat,
        Route::Factual,
        Route::Analytical,
        Route::OutOfScope,
        Route::Document,
    ];

    /// The label used in data files and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Route::Chitchat => "chitchat",
            Route::Factual => "factual",
            Route::Analytical => "analytical",
            Route::OutOfScope => "out_of_scope",
            Route::Document => "document",
        }
    }

    /// The route named `label`.
    pub fn from_label(label: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.label() == label)
    }

    /// Whether the route retrieves passages.
    pub fn retrieves(self) -> bool {
        matches!(self, Route::Factual | Route::Analytical | Route::Document)
    }
}

/// Trained weights: one row of `weights` and one `bias` per label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentModel {
    /// The embedding model the weights were trained on (its id).
    pub embedder: String,
    /// Labels, in row order.
    pub labels: Vec<String>,
    /// `labels.len()` rows of embedding-dimension weights.
    pub weights: Vec<Vec<f32>>,
    /// One bias per label.
    pub bias: Vec<f32>,
    /// Accuracy on the held-out split when trained.
    pub held_out_accuracy: f32,
    /// Examples trained on and held out.
    pub train_examples: usize,
    /// Held-out examples.
    pub test_examples: usize,
}

/// A routing decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteDecision {
    /// The route taken.
    pub route: Route,
    /// The classifier's probability for it.
    pub confidence: f32,
    /// Why, in a few words.
    pub reason: String,
}

/// The classifier.
#[derive(Debug, Clone)]
pub struct IntentRouter {
    model: IntentModel,
    routes: Vec<Route>,
}

/// Below this probability a retrieval route is preferred to a non-retrieval one: when unsure,
/// looking in the library is the safer mistake.
const MIN_CONFIDENCE: f32 = 0.5;

/// A refusal needs more certainty: a question about one's own medical leaflet or IT runbook can
/// sound like one to refuse, and a harmful request that is looked up instead finds nothing in the
/// library and is answered "not found".
const MIN_REFUSAL_CONFIDENCE: f32 = 0.8;

impl IntentRouter {
    /// The weights shipped with Cairn.
    pub fn builtin() -> IntentRouter {
        let model: IntentModel =
            serde_json::from_str(include_str!("../../../data/router/intent-model.json"))
                .expect("data/router/intent-model.json is valid");
        IntentRouter::new(model).expect("the shipped router names known routes")
    }

    /// A router with `model`'s weights; `None` if it names an unknown label.
    pub fn new(model: IntentModel) -> Option<IntentRouter> {
        let routes = model
            .labels
            .iter()
            .map(|l| Route::from_label(l))
            .collect::<Option<Vec<_>>>()?;
        Some(IntentRouter { model, routes })
    }

    /// The weights in use.
    pub fn model(&self) -> &IntentModel {
        &self.model
    }

    /// Probabilities per route for a sentence embedding.
    pub fn probabilities(&self, embedding: &[f32]) -> Vec<(Route, f32)> {
        let probs = softmax(&logits(&self.model.weights, &self.model.bias, embedding));
        self.routes.iter().copied().zip(probs).collect()
    }

    /// The route for a sentence embedding.
    pub fn route(&self, embedding: &[f32]) -> RouteDecision {
        let mut probs = self.probabilities(embedding);
        probs.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (best, p) = probs[0];
        let bar = if best == Route::OutOfScope {
            MIN_REFUSAL_CONFIDENCE
        } else {
            MIN_CONFIDENCE
        };
        if p < bar && !best.retrieves() {
            let (fallback, q) = probs
                .iter()
                .copied()
                .find(|(r, _)| r.retrieves())
                .unwrap_or((Route::Factual, 0.0));
            return RouteDecision {
                route: fallback,
                confidence: q,
                reason: format!(
                    "unsure ({} at {p:.2}); looking in the library",
                    best.label()
                ),
            };
        }
        RouteDecision {
            route: best,
            confidence: p,
            reason: format!("intent classifier: {} at {p:.2}", best.label()),
        }
    }
}

/// `W x + b`.
pub fn logits(weights: &[Vec<f32>], bias: &[f32], x: &[f32]) -> Vec<f32> {
    weights
        .iter()
        .zip(bias)
        .map(|(w, b)| w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>() + b)
        .collect()
}

/// Probabilities from logits.
pub fn softmax(z: &[f32]) -> Vec<f32> {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = z.iter().map(|v| (v - max).exp()).collect();
    let total: f32 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

/// Trains multinomial logistic regression by full-batch gradient descent with L2 regularisation.
/// Deterministic: the same data gives the same weights.
pub fn train(
    xs: &[Vec<f32>],
    ys: &[usize],
    classes: usize,
    epochs: usize,
    rate: f32,
    l2: f32,
) -> (Vec<Vec<f32>>, Vec<f32>) {
    let dim = xs.first().map_or(0, Vec::len);
    let mut w = vec![vec![0f32; dim]; classes];
    let mut b = vec![0f32; classes];
    let n = xs.len() as f32;
    for _ in 0..epochs {
        let mut gw = vec![vec![0f32; dim]; classes];
        let mut gb = vec![0f32; classes];
        for (x, &y) in xs.iter().zip(ys) {
            let p = softmax(&logits(&w, &b, x));
            for c in 0..classes {
                let err = p[c] - if c == y { 1.0 } else { 0.0 };
                gb[c] += err;
                for (g, xi) in gw[c].iter_mut().zip(x) {
                    *g += err * xi;
                }
            }
        }
        for c in 0..classes {
            for (wi, g) in w[c].iter_mut().zip(&gw[c]) {
                *wi -= rate * (g / n + l2 * *wi);
            }
            b[c] -= rate * gb[c] / n;
        }
    }
    (w, b)
}

/// A classifier trained on all but the held-out split, and how it does on that split.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// One row of weights per class.
    pub weights: Vec<Vec<f32>>,
    /// One bias per class.
    pub bias: Vec<f32>,
    /// Accuracy on the training examples.
    pub train_accuracy: f32,
    /// Accuracy on the held-out examples.
    pub held_out_accuracy: f32,
    /// Held-out confusion: `confusion[truth][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Examples trained on.
    pub train_examples: usize,
    /// Examples held out.
    pub test_examples: usize,
}

/// Splits `(text, input, class)` examples by [`is_held_out`], trains on the rest with [`train`],
/// and measures on the held-out ones. Weights are rounded to 5 decimals for a stable file.
pub fn fit(
    examples: &[(&str, Vec<f32>, usize)],
    classes: usize,
    epochs: usize,
    rate: f32,
    l2: f32,
) -> Fit {
    let (held, kept): (Vec<_>, Vec<_>) = examples.iter().partition(|(t, _, _)| is_held_out(t));
    let xs: Vec<Vec<f32>> = kept.iter().map(|(_, x, _)| x.clone()).collect();
    let ys: Vec<usize> = kept.iter().map(|(_, _, y)| *y).collect();
    let (weights, bias) = train(&xs, &ys, classes, epochs, rate, l2);
    let round = |v: f32| (v * 1e5).round() / 1e5;
    let weights: Vec<Vec<f32>> = weights
        .iter()
        .map(|w| w.iter().map(|v| round(*v)).collect())
        .collect();
    let bias: Vec<f32> = bias.iter().map(|v| round(*v)).collect();
    let predict = |x: &[f32]| {
        let z = logits(&weights, &bias, x);
        (0..z.len())
            .max_by(|a, b| z[*a].total_cmp(&z[*b]))
            .unwrap_or(0)
    };
    let mut confusion = vec![vec![0usize; classes]; classes];
    for (_, x, y) in &held {
        confusion[*y][predict(x)] += 1;
    }
    let correct: usize = (0..classes).map(|i| confusion[i][i]).sum();
    let train_correct = kept.iter().filter(|(_, x, y)| predict(x) == *y).count();
    Fit {
        train_accuracy: train_correct as f32 / kept.len().max(1) as f32,
        held_out_accuracy: correct as f32 / held.len().max(1) as f32,
        confusion,
        train_examples: kept.len(),
        test_examples: held.len(),
        weights,
        bias,
    }
}

/// Whether an example belongs to the held-out split: a fixed fifth, chosen by a hash of its text so
/// the split never changes when examples are added elsewhere.
pub fn is_held_out(text: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.trim().to_lowercase().as_bytes())[0] % 5 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_separates_separable_points() {
        let xs = vec![
            vec![1.0, 0.0],
            vec![0.9, 0.1],
            vec![0.0, 1.0],
            vec![0.1, 0.9],
        ];
        let ys = vec![0, 0, 1, 1];
        let (w, b) = train(&xs, &ys, 2, 500, 1.0, 0.0);
        for (x, y) in xs.iter().zip(&ys) {
            let p = softmax(&logits(&w, &b, x));
            assert!(p[*y] > 0.7, "{p:?}");
        }
    }

    #[test]
    fn the_shipped_router_knows_every_route() {
        let router = IntentRouter::builtin();
        assert_eq!(router.routes.len(), 5);
        assert!(
            router.model().held_out_accuracy >= 0.9,
            "{}",
            router.model().held_out_accuracy
        );
    }
}
