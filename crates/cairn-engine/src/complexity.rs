//! How hard a question is, decided without a language model: simple (one fact), moderate (a few
//! facts, a short explanation) or complex (reasoning across passages, synthesis, code, planning).
//! The model router sends each tier to a different model.
//!
//! Multinomial logistic regression over the question's sentence embedding (the one the intent
//! router already computed) and a few measured features: length, sentences, reasoning and
//! comparison markers, code, numbers. Trained on `data/router/complexity.jsonl` by
//! `cargo run --release -p cairn-engine --example train-complexity`, which writes
//! `data/router/complexity-model.json`; the weights are compiled in.

use serde::{Deserialize, Serialize};

use crate::router::{logits, softmax};

/// How hard a question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    /// One fact looked up, or a definition.
    Simple,
    /// A few facts combined, a short explanation or summary.
    Moderate,
    /// Multi-step reasoning, comparison across documents, synthesis, code, planning.
    Complex,
}

impl Complexity {
    /// Every tier, in the order of the classifier's labels.
    pub const ALL: [Complexity; 3] = [
        Complexity::Simple,
        Complexity::Moderate,
        Complexity::Complex,
    ];

    /// The label used in data files and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Complexity::Simple => "simple",
            Complexity::Moderate => "moderate",
            Complexity::Complex => "complex",
        }
    }

    /// The tier named `label`.
    pub fn from_label(label: &str) -> Option<Complexity> {
        Complexity::ALL.into_iter().find(|c| c.label() == label)
    }
}

/// Trained weights over the embedding followed by [`features`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplexityModel {
    /// Labels, in the order of `weights`.
    pub labels: Vec<String>,
    /// One row per label, embedding dimension plus [`FEATURES`] wide.
    pub weights: Vec<Vec<f32>>,
    /// One bias per label.
    pub bias: Vec<f32>,
    /// Accuracy on the held-out split when trained.
    pub held_out_accuracy: f32,
    /// Examples trained on.
    pub train_examples: usize,
    /// Held-out examples.
    pub test_examples: usize,
}

/// A complexity decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplexityDecision {
    /// The tier.
    pub complexity: Complexity,
    /// The classifier's probability for it.
    pub confidence: f32,
}

/// The names of the measured features, in order.
pub const FEATURES: [&str; 11] = [
    "log_chars",
    "words",
    "sentences",
    "question_marks",
    "reasoning_markers",
    "several_sources",
    "code",
    "digits",
    "conjunctions",
    "commas",
    "opens_with_task",
];

const REASONING: &[&str] = &[
    "compare",
    "comparison",
    "versus",
    " vs",
    "why",
    "explain",
    "analy",
    "implication",
    "evaluate",
    "assess",
    "pros",
    "cons",
    "trade-off",
    "tradeoff",
    "should i",
    "which is better",
    "recommend",
    "plan",
    "strategy",
    "draft",
    "write",
    "rewrite",
    "calculate",
    "estimate",
    "what if",
    "step by step",
    "reconcile",
    "contradict",
    "conflict",
    "justify",
    "argue",
    "predict",
    "optimi",
    "design",
    "refactor",
    "debug",
    "bug",
    "prove",
];

const SEVERAL: &[&str] = &[
    " all ",
    " both ",
    " each ",
    " every ",
    "across",
    " three ",
    " two ",
    "between",
    "documents",
    "contracts",
    "reports",
    "files",
    "sources",
];

const TASKS: &[&str] = &[
    "draft", "write", "compare", "explain", "plan", "analy", "evaluate", "design", "rewrite",
    "create", "build",
];

/// The measured features of `text`, each scaled to about 0–1.
pub fn features(text: &str) -> Vec<f32> {
    let lower = format!(" {} ", text.to_lowercase());
    let chars = text.chars().count() as f32;
    let words = text.split_whitespace().count() as f32;
    let count = |needles: &[&str]| {
        needles
            .iter()
            .map(|n| lower.matches(n).count())
            .sum::<usize>() as f32
    };
    let sentences = text
        .split(['.', '?', '!', '\n'])
        .filter(|s| s.split_whitespace().count() >= 2)
        .count() as f32;
    let code = [
        "```", "{", "};", "=>", "def ", "fn ", "function", "select ", "import ", "();", "</", "$ ",
    ]
    .iter()
    .any(|m| lower.contains(m));
    let first = lower.split_whitespace().next().unwrap_or("");
    vec![
        (1.0 + chars).ln() / 7.0,
        (words / 40.0).min(2.0),
        (sentences / 4.0).min(2.0),
        (text.matches('?').count() as f32 / 3.0).min(2.0),
        (count(REASONING) / 3.0).min(2.0),
        (count(SEVERAL) / 3.0).min(2.0),
        f32::from(u8::from(code)),
        (text.chars().filter(char::is_ascii_digit).count() as f32 / 10.0).min(2.0),
        ((lower.matches(" and ").count() + lower.matches(" or ").count()) as f32 / 4.0).min(2.0),
        (text.matches(',').count() as f32 / 6.0).min(2.0),
        f32::from(u8::from(TASKS.iter().any(|t| first.starts_with(t)))),
    ]
}

/// The classifier input: the embedding followed by the features.
pub fn input(embedding: &[f32], text: &str) -> Vec<f32> {
    let mut x = embedding.to_vec();
    x.extend(features(text));
    x
}

/// The classifier.
#[derive(Debug, Clone)]
pub struct ComplexityClassifier {
    model: ComplexityModel,
    tiers: Vec<Complexity>,
}

impl ComplexityClassifier {
    /// The weights shipped with Cairn.
    pub fn builtin() -> ComplexityClassifier {
        let model: ComplexityModel =
            serde_json::from_str(include_str!("../../../data/router/complexity-model.json"))
                .expect("data/router/complexity-model.json is valid");
        ComplexityClassifier::new(model).expect("the shipped classifier names known tiers")
    }

    /// A classifier with `model`'s weights; `None` if it names an unknown tier.
    pub fn new(model: ComplexityModel) -> Option<ComplexityClassifier> {
        let tiers = model
            .labels
            .iter()
            .map(|l| Complexity::from_label(l))
            .collect::<Option<Vec<_>>>()?;
        Some(ComplexityClassifier { model, tiers })
    }

    /// The weights in use.
    pub fn model(&self) -> &ComplexityModel {
        &self.model
    }

    /// The tier of a question, from its embedding and text.
    pub fn classify(&self, embedding: &[f32], text: &str) -> ComplexityDecision {
        let x = input(embedding, text);
        let probs = softmax(&logits(&self.model.weights, &self.model.bias, &x));
        let (i, p) = probs
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        ComplexityDecision {
            complexity: self.tiers[i],
            confidence: p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_see_length_reasoning_and_code() {
        let simple = features("When does my lease end?");
        let complex = features(
            "Compare the notice periods in all three contracts and explain which is better for me, and why.",
        );
        let code = features("what does `fn main() { let x = 1; }` do?");
        assert_eq!(simple.len(), FEATURES.len());
        assert!(complex[0] > simple[0]);
        assert!(complex[4] > simple[4], "reasoning markers");
        assert!(complex[5] > simple[5], "several sources");
        assert_eq!(code[6], 1.0);
        assert_eq!(simple[6], 0.0);
        assert_eq!(features("Draft a reply to the landlord")[10], 1.0);
    }

    #[test]
    fn the_shipped_classifier_is_trained_and_measured() {
        let c = ComplexityClassifier::builtin();
        assert_eq!(c.tiers, Complexity::ALL);
        assert!(c.model().test_examples >= 50);
        assert!(
            c.model().held_out_accuracy >= 0.7,
            "{}",
            c.model().held_out_accuracy
        );
    }
}
