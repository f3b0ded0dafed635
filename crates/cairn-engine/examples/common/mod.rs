//! Shared by the training examples: a labelled JSONL file, embedded with the default embedder.

use std::path::{Path, PathBuf};

use cairn_models::{BertEmbedder, Embedder};

/// One labelled text.
#[derive(serde::Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
}

/// Examples, their embeddings, and the embedder's id.
pub type Embedded = (Vec<Example>, Vec<Vec<f32>>, String);

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The examples of `relative` (`{"text", "label"}` per line) and the embedding of each text with
/// the default embedder (all-MiniLM-L6-v2 from `models/`), and that embedder's id.
pub fn embedded(relative: &str) -> Result<Embedded, Box<dyn std::error::Error>> {
    let data = std::fs::read_to_string(root().join(relative))?;
    let examples: Vec<Example> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let embedder = BertEmbedder::load(
        &root().join("models/all-MiniLM-L6-v2"),
        &candle_core::Device::Cpu,
    )?;
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let vectors = embedder.embed(&texts)?;
    Ok((examples, vectors, embedder.info().id.clone()))
}
