//! Trains the complexity classifier: `cargo run --release -p cairn-engine --example train-complexity`.
//!
//! Reads `data/router/complexity.jsonl` (`{"text", "label"}` per line, labels defined in
//! `data/router/complexity-labels.md`), embeds each text with the default embedder, appends the
//! measured features (`cairn_engine::complexity::features`), holds out a fixed fifth (by a hash of
//! the text), trains logistic regression on the rest, prints held-out accuracy beside a baseline on
//! the features alone and the confusion matrix, and writes `data/router/complexity-model.json`.

use cairn_engine::complexity::{self, Complexity, ComplexityModel};
use cairn_engine::router::fit;

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = common::root();
    let (examples, vectors, _) = common::embedded("data/router/complexity.jsonl")?;
    let class = |label: &str| {
        Complexity::ALL
            .iter()
            .position(|c| c.label() == label)
            .unwrap_or_else(|| panic!("unknown label {label}"))
    };
    let full: Vec<(&str, Vec<f32>, usize)> = examples
        .iter()
        .zip(&vectors)
        .map(|(e, v)| {
            (
                e.text.as_str(),
                complexity::input(v, &e.text),
                class(&e.label),
            )
        })
        .collect();
    let features_only: Vec<(&str, Vec<f32>, usize)> = examples
        .iter()
        .map(|e| {
            (
                e.text.as_str(),
                complexity::features(&e.text),
                class(&e.label),
            )
        })
        .collect();
    let baseline = fit(&features_only, 3, 2000, 2.0, 1e-4);
    let model = fit(&full, 3, 800, 4.0, 1e-4);
    println!(
        "examples: {} train, {} held out",
        model.train_examples, model.test_examples
    );
    println!(
        "features alone: held-out accuracy {:.3}",
        baseline.held_out_accuracy
    );
    println!(
        "embedding + features: train accuracy {:.3}, held-out accuracy {:.3}",
        model.train_accuracy, model.held_out_accuracy
    );
    println!(
        "confusion (rows: truth, columns: predicted) {:?}",
        Complexity::ALL.map(Complexity::label)
    );
    for (i, row) in model.confusion.iter().enumerate() {
        println!("  {:>9} {row:?}", Complexity::ALL[i].label());
    }
    let out = root.join("data/router/complexity-model.json");
    let saved = ComplexityModel {
        labels: Complexity::ALL
            .iter()
            .map(|c| c.label().to_string())
            .collect(),
        weights: model.weights,
        bias: model.bias,
        held_out_accuracy: model.held_out_accuracy,
        train_examples: model.train_examples,
        test_examples: model.test_examples,
    };
    std::fs::write(&out, serde_json::to_string(&saved)? + "\n")?;
    println!("wrote {}", out.display());
    Ok(())
}
