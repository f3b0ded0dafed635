//! Rerankers: rescore a short list of retrieved passages against the query.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::{Linear, VarBuilder, linear};
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use crate::embedder::BertEmbedder;
use crate::error::{Error, Result, bad_file as bad, model_file};

/// Scores passages for a query; higher is more relevant. Scores are comparable within one call only.
pub trait Reranker: Send + Sync {
    /// A short name for traces and benchmarks.
    fn id(&self) -> &str;
    /// One score per passage, in input order.
    fn score(&self, query: &str, passages: &[&str]) -> Result<Vec<f32>>;
}

/// Late interaction (ColBERT's MaxSim) over the sentence embedder's own token vectors: each query token
/// finds its best-matching passage token, and the passage scores the mean of those similarities. It
/// needs no weights beyond the embedder's, which is why it is the default where no cross-encoder is
/// installed.
#[derive(Debug, Clone)]
pub struct MaxSimReranker {
    embedder: Arc<BertEmbedder>,
}

impl MaxSimReranker {
    /// A reranker over `embedder`'s token vectors.
    pub fn new(embedder: Arc<BertEmbedder>) -> Self {
        MaxSimReranker { embedder }
    }
}

impl Reranker for MaxSimReranker {
    fn id(&self) -> &str {
        "maxsim"
    }

    fn score(&self, query: &str, passages: &[&str]) -> Result<Vec<f32>> {
        let query_tokens = self.embedder.token_embeddings(&[query])?.remove(0);
        let passage_tokens = self.embedder.token_embeddings(passages)?;
        Ok(passage_tokens
            .iter()
            .map(|p| max_sim(&query_tokens, p))
            .collect())
    }
}

fn max_sim(query: &[Vec<f32>], passage: &[Vec<f32>]) -> f32 {
    if query.is_empty() || passage.is_empty() {
        return 0.0;
    }
    let total: f32 = query
        .iter()
        .map(|q| {
            passage
                .iter()
                .map(|p| dot(q, p))
                .fold(f32::NEG_INFINITY, f32::max)
        })
        .sum();
    total / query.len() as f32
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A BERT cross-encoder (`BertForSequenceClassification`, e.g. ms-marco-MiniLM-L-6-v2) read from a
/// directory the user supplies: it reads query and passage together and outputs a relevance logit.
pub struct CrossEncoderReranker {
    bert: BertModel,
    pooler: Linear,
    classifier: Linear,
    tokenizer: Tokenizer,
    device: Device,
    id: String,
}

impl std::fmt::Debug for CrossEncoderReranker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossEncoderReranker")
            .field("id", &self.id)
            .finish()
    }
}

impl CrossEncoderReranker {
    /// Loads `config.json`, `model.safetensors` (with `bert.*`, `bert.pooler.dense.*` and
    /// `classifier.*` tensors) and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let file = |name: &str| {
            model_file(
                dir,
                name,
                "a cross-encoder directory needs config.json, model.safetensors and tokenizer.json",
            )
        };
        let (config_path, weights_path, tokenizer_path) = (
            file("config.json")?,
            file("model.safetensors")?,
            file("tokenizer.json")?,
        );
        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| bad(&config_path, e))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| bad(&config_path, e))?;
        let weights = std::fs::read(&weights_path).map_err(|e| bad(&weights_path, e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, device)
            .map_err(|e| bad(&weights_path, e))?;
        let bert = BertModel::load(vb.pp("bert"), &config).map_err(|e| bad(&weights_path, e))?;
        let hidden = config.hidden_size;
        let pooler = linear(hidden, hidden, vb.pp("bert.pooler.dense"))
            .map_err(|e| bad(&weights_path, e))?;
        let raw: serde_json::Value =
            serde_json::from_str(&config_text).map_err(|e| bad(&config_path, e))?;
        let num_labels = raw
            .get("id2label")
            .and_then(|m| m.as_object())
            .map_or(1, |m| m.len().max(1));
        let classifier =
            linear(hidden, num_labels, vb.pp("classifier")).map_err(|e| bad(&weights_path, e))?;
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| bad(&tokenizer_path, e))?;
        let max_length = config.max_position_embeddings.min(512);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length,
                ..Default::default()
            }))
            .map_err(|e| bad(&tokenizer_path, e))?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        let id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "cross-encoder".into());
        Ok(CrossEncoderReranker {
            bert,
            pooler,
            classifier,
            tokenizer,
            device: device.clone(),
            id,
        })
    }
}

impl Reranker for CrossEncoderReranker {
    fn id(&self) -> &str {
        &self.id
    }

    fn score(&self, query: &str, passages: &[&str]) -> Result<Vec<f32>> {
        let mut scores = Vec::with_capacity(passages.len());
        for batch in passages.chunks(16) {
            let pairs: Vec<(&str, &str)> = batch.iter().map(|p| (query, *p)).collect();
            let encodings = self
                .tokenizer
                .encode_batch(pairs, true)
                .map_err(|e| Error::Tokenizer(e.to_string()))?;
            let tensor = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Result<Tensor> {
                let rows: Vec<Tensor> = encodings
                    .iter()
                    .map(|e| Tensor::new(f(e), &self.device))
                    .collect::<candle_core::Result<_>>()?;
                Ok(Tensor::stack(&rows, 0)?)
            };
            let ids = tensor(&|e| e.get_ids())?;
            let type_ids = tensor(&|e| e.get_type_ids())?;
            let mask = tensor(&|e| e.get_attention_mask())?;
            let hidden = self.bert.forward(&ids, &type_ids, Some(&mask))?;
            let cls = hidden.i((.., 0))?;
            let pooled = self.pooler.forward(&cls)?.tanh()?;
            let logits = self.classifier.forward(&pooled)?;
            // One label: the logit is the relevance. Two labels: the "relevant" logit minus the other.
            let logits = logits.to_vec2::<f32>()?;
            scores.extend(
                logits
                    .into_iter()
                    .map(|l| if l.len() == 1 { l[0] } else { l[1] - l[0] }),
            );
        }
        Ok(scores)
    }
}
