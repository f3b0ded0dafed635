//! Sentence embeddings with a BERT-family model.

use std::ops::Range;
use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use crate::bert::{self, Bert};
use crate::int8::Precision;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use crate::error::{Error, Result, bad_file as bad, model_file};

/// What identifies an embedding model: vectors from two models with different `id` or `fingerprint`
/// must never share an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderInfo {
    /// The model's name (its directory name, e.g. `all-MiniLM-L6-v2`).
    pub id: String,
    /// `sha256:` and the first 16 hex digits of the hash of the config, tokenizer and weights.
    pub fingerprint: String,
    /// Vector dimension.
    pub dimension: usize,
    /// Longest input, in tokens; longer input is truncated.
    pub max_tokens: usize,
    /// The arithmetic its encoder runs in: f32 or int8 (on a GPU, always f32). Not part of the
    /// model's identity: int8 vectors are the f32 ones to within cosine 0.99 (see `crate::int8`).
    pub precision: Precision,
}

/// Turns text into unit-length vectors whose dot product is cosine similarity.
pub trait Embedder: Send + Sync {
    /// The model's identity.
    fn info(&self) -> &EmbedderInfo;
    /// One vector per text, in input order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

/// How token vectors become one sentence vector (sentence-transformers' `1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pooling {
    Mean,
    Cls,
}

#[derive(Debug, Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
}

#[derive(Debug, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// The encoder behind an embedder: Cairn's CPU-tuned BERT on the CPU, candle's on a GPU.
enum Encoder {
    Cpu(Bert),
    Gpu(BertModel),
}

/// A BERT sentence embedder loaded from a model directory.
pub struct BertEmbedder {
    encoder: Encoder,
    /// Truncates to `max_tokens` and adds `[CLS]`/`[SEP]`: what the model sees.
    tokenizer: Tokenizer,
    /// No truncation, no special tokens: measures whole sections for the chunker.
    splitter: Tokenizer,
    device: Device,
    pooling: Pooling,
    info: EmbedderInfo,
    batch_size: usize,
}

impl std::fmt::Debug for BertEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertEmbedder")
            .field("info", &self.info)
            .field("device", &self.device)
            .finish()
    }
}

const EMBEDDER_FILES: &str = "point at a BERT sentence-model directory (config.json, model.safetensors, \
     tokenizer.json); the default model is fetched by scripts/fetch-models";

fn required(dir: &Path, name: &str) -> Result<PathBuf> {
    model_file(dir, name, EMBEDDER_FILES)
}

impl BertEmbedder {
    /// Loads the model in `dir` onto `device`, in the precision that is fastest on this CPU
    /// ([`Precision::Auto`]).
    pub fn load(dir: &Path, device: &Device) -> Result<BertEmbedder> {
        Self::load_with(dir, device, Precision::Auto)
    }

    /// Loads the model in `dir` onto `device`, its CPU encoder's products in `precision`.
    pub fn load_with(dir: &Path, device: &Device, precision: Precision) -> Result<BertEmbedder> {
        let config_path = required(dir, "config.json")?;
        let weights_path = required(dir, "model.safetensors")?;
        let tokenizer_path = required(dir, "tokenizer.json")?;

        let config_bytes = std::fs::read(&config_path).map_err(|e| bad(&config_path, e))?;
        let config: bert::Config =
            serde_json::from_slice(&config_bytes).map_err(|e| bad(&config_path, e))?;
        let pooling = match std::fs::read(dir.join("1_Pooling/config.json")) {
            Ok(bytes) => match serde_json::from_slice::<PoolingConfig>(&bytes) {
                Ok(p) if p.pooling_mode_cls_token => Pooling::Cls,
                _ => Pooling::Mean,
            },
            Err(_) => Pooling::Mean,
        };
        let max_seq_length = std::fs::read(dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<SentenceBertConfig>(&b).ok())
            .and_then(|c| c.max_seq_length);
        let max_tokens = max_seq_length
            .unwrap_or(512)
            .min(config.max_position_embeddings);

        let weights = std::fs::read(&weights_path).map_err(|e| bad(&weights_path, e))?;
        let tokenizer_bytes =
            std::fs::read(&tokenizer_path).map_err(|e| bad(&tokenizer_path, e))?;
        let fingerprint = fingerprint(&[&config_bytes, &tokenizer_bytes, &weights]);

        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, device)
            .map_err(|e| bad(&weights_path, e))?;
        let precision = if device.is_cpu() {
            precision.resolve()
        } else {
            Precision::F32
        };
        let encoder = if device.is_cpu() {
            Encoder::Cpu(Bert::load(vb, &config, precision).map_err(|e| bad(&weights_path, e))?)
        } else {
            let config: Config =
                serde_json::from_slice(&config_bytes).map_err(|e| bad(&config_path, e))?;
            Encoder::Gpu(BertModel::load(vb, &config).map_err(|e| bad(&weights_path, e))?)
        };

        let mut splitter =
            Tokenizer::from_bytes(&tokenizer_bytes).map_err(|e| bad(&tokenizer_path, e))?;
        splitter.with_padding(None);
        splitter
            .with_truncation(None)
            .map_err(|e| bad(&tokenizer_path, e))?;
        let mut tokenizer = splitter.clone();
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| bad(&tokenizer_path, e))?;

        let id = dir
            .canonicalize()
            .unwrap_or_else(|_| dir.to_path_buf())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bert".into());
        let info = EmbedderInfo {
            id,
            fingerprint,
            dimension: config.hidden_size,
            max_tokens,
            precision,
        };
        Ok(BertEmbedder {
            encoder,
            tokenizer,
            splitter,
            device: device.clone(),
            pooling,
            info,
            batch_size: 32,
        })
    }

    /// Texts per forward pass (default 32).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Per-token vectors (unit length, special tokens left out) for each text: the input to
    /// late-interaction scoring.
    pub fn token_embeddings(&self, texts: &[&str]) -> Result<Vec<Vec<Vec<f32>>>> {
        let encodings = self.encode(texts)?;
        let mut out = vec![Vec::new(); texts.len()];
        for batch in length_sorted_batches(&encodings, self.batch_size) {
            let refs: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            let (hidden, _) = self.forward(&refs)?;
            let norms = hidden
                .sqr()?
                .sum_keepdim(D::Minus1)?
                .sqrt()?
                .maximum(1e-12)?;
            let hidden = hidden.broadcast_div(&norms)?.to_vec3::<f32>()?;
            for ((&i, enc), tokens) in batch.iter().zip(&refs).zip(hidden) {
                let special = enc.get_special_tokens_mask();
                out[i] = tokens
                    .into_iter()
                    .zip(special)
                    .take(enc.len())
                    .filter(|(_, s)| **s == 0)
                    .map(|(v, _)| v)
                    .collect();
            }
        }
        Ok(out)
    }

    /// The token ids the model sees for `text`, special tokens included, truncated to `max_tokens`.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.encode(&[text])?.remove(0).get_ids().to_vec())
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Encoding>> {
        self.tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| Error::Tokenizer(e.to_string()))
    }

    /// Runs the model on encodings padded to the longest; returns hidden states `(b, l, h)` and the mask `(b, l)`.
    fn forward(&self, encodings: &[&Encoding]) -> Result<(Tensor, Tensor)> {
        let len = encodings.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(encodings.len() * len);
        let mut mask = Vec::with_capacity(encodings.len() * len);
        for enc in encodings {
            ids.extend_from_slice(enc.get_ids());
            mask.extend(std::iter::repeat_n(1u32, enc.len()));
            ids.extend(std::iter::repeat_n(0u32, len - enc.len()));
            mask.extend(std::iter::repeat_n(0u32, len - enc.len()));
        }
        let shape = (encodings.len(), len);
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        let type_ids = ids.zeros_like()?;
        let hidden = match &self.encoder {
            Encoder::Cpu(bert) => {
                let lengths: Vec<usize> = encodings.iter().map(|e| e.len()).collect();
                bert.forward(&ids, &type_ids, &lengths)?
            }
            Encoder::Gpu(model) => model.forward(&ids, &type_ids, Some(&mask))?,
        };
        Ok((hidden, mask))
    }

    fn pool(&self, hidden: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let pooled = match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
            Pooling::Mean => {
                let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
                let counts = mask.sum(1)?.maximum(1e-9)?;
                summed.broadcast_div(&counts)?
            }
        };
        let norms = pooled.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        Ok(pooled.broadcast_div(&norms)?)
    }
}

impl Embedder for BertEmbedder {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    /// Texts are tokenized and sorted by length [`ENCODE_WINDOW`] at a time: a whole large
    /// document at once would hold an `Encoding` (ids, offsets, token strings) for every chunk of it
    /// (gigabytes for a 180 MB text file), while a window keeps padding as low.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for window in texts.chunks(ENCODE_WINDOW) {
            let encodings = self.encode(window)?;
            let mut vectors = vec![Vec::new(); window.len()];
            for batch in length_sorted_batches(&encodings, self.batch_size) {
                let refs: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
                let (hidden, mask) = self.forward(&refs)?;
                let pooled = self.pool(&hidden, &mask)?.to_vec2::<f32>()?;
                for (&i, v) in batch.iter().zip(pooled) {
                    vectors[i] = v;
                }
            }
            out.extend(vectors);
        }
        Ok(out)
    }
}

impl cairn_ingest::Tokenize for BertEmbedder {
    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        match self.splitter.encode(text, false) {
            Ok(enc) => enc.get_offsets().iter().map(|&(s, e)| s..e).collect(),
            // The BERT tokenizer does not fail on valid UTF-8; if it ever does, fall back to words.
            Err(_) => cairn_ingest::WhitespaceTokens.token_spans(text),
        }
    }
}

/// Texts tokenized at once by [`Embedder::embed`].
const ENCODE_WINDOW: usize = 2048;

/// Indices of `encodings` grouped into batches of similar length, so padding wastes little work.
fn length_sorted_batches(encodings: &[Encoding], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..encodings.len()).collect();
    order.sort_by_key(|&i| encodings[i].len());
    order.chunks(batch_size).map(<[usize]>::to_vec).collect()
}

/// `sha256:` plus 16 hex digits over the given byte strings, each prefixed by its length.
fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
