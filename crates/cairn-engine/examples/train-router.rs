//! Trains the query router: `cargo run -p cairn-engine --example train-router`.
//!
//! Reads `data/router/intents.jsonl` (`{"text", "label"}` per line), embeds each text with the
//! default embedder (all-MiniLM-L6-v2 from `models/`), holds out a fixed fifth (by a hash of the
//! text), trains logistic regression on the rest, prints held-out accuracy and the confusion matrix,
//! and writes `data/router/intent-model.json`.

use cairn_engine::router::{IntentModel, Route, is_held_out, logits, train};

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = common::root();
    let (examples, vectors, embedder) = common::embedded("data/router/intents.jsonl")?;
    let labels: Vec<usize> = examples
        .iter()
        .map(|e| {
            Route::ALL
                .iter()
                .position(|r| r.label() == e.label)
                .unwrap_or_else(|| panic!("unknown label {}", e.label))
        })
        .collect();
    let (mut train_x, mut train_y, mut test_x, mut test_y) = (vec![], vec![], vec![], vec![]);
    for ((e, v), y) in examples.iter().zip(vectors).zip(labels) {
        if is_held_out(&e.text) {
            test_x.push(v);
            test_y.push(y);
        } else {
            train_x.push(v);
            train_y.push(y);
        }
    }
    let (weights, bias) = train(&train_x, &train_y, Route::ALL.len(), 600, 4.0, 1e-4);
    let predict = |x: &[f32]| {
        let z = logits(&weights, &bias, x);
        (0..z.len()).max_by(|a, b| z[*a].total_cmp(&z[*b])).unwrap()
    };
    let mut confusion = [[0usize; Route::ALL.len()]; Route::ALL.len()];
    for (x, &y) in test_x.iter().zip(&test_y) {
        confusion[y][predict(x)] += 1;
    }
    let correct: usize = (0..Route::ALL.len()).map(|i| confusion[i][i]).sum();
    let accuracy = correct as f32 / test_y.len() as f32;
    let train_correct = train_x
        .iter()
        .zip(&train_y)
        .filter(|(x, y)| predict(x) == **y)
        .count();
    println!(
        "examples: {} train, {} held out",
        train_y.len(),
        test_y.len()
    );
    println!(
        "train accuracy: {:.3}",
        train_correct as f32 / train_y.len() as f32
    );
    println!("held-out accuracy: {accuracy:.3}");
    println!(
        "confusion (rows: truth, columns: predicted) {:?}",
        Route::ALL.map(Route::label)
    );
    for (i, row) in confusion.iter().enumerate() {
        println!("  {:>12} {row:?}", Route::ALL[i].label());
    }
    let round = |v: f32| (v * 1e5).round() / 1e5;
    let model = IntentModel {
        embedder,
        labels: Route::ALL.iter().map(|r| r.label().to_string()).collect(),
        weights: weights
            .iter()
            .map(|w| w.iter().map(|v| round(*v)).collect())
            .collect(),
        bias: bias.iter().map(|v| round(*v)).collect(),
        held_out_accuracy: accuracy,
        train_examples: train_y.len(),
        test_examples: test_y.len(),
    };
    let out = root.join("data/router/intent-model.json");
    std::fs::write(&out, serde_json::to_string(&model)? + "\n")?;
    println!("wrote {}", out.display());
    Ok(())
}
