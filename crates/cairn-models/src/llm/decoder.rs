//! What a chat model's decoder is: the model's shape read from GGUF metadata ([`LlamaConfig`]) and
//! the interface every decoder implements ([`Decoder`]).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::quantized::gguf_file::Content;
use serde::Serialize;

use crate::Result;
use crate::error::bad_file;

/// Shape of a llama-family model, read from `{arch}.*` GGUF metadata.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LlamaConfig {
    /// `general.architecture`.
    pub architecture: String,
    /// Transformer blocks.
    pub n_layer: usize,
    /// Hidden size.
    pub dim: usize,
    /// Feed-forward size.
    pub ff_dim: usize,
    /// Query heads.
    pub n_head: usize,
    /// Key/value heads.
    pub n_kv_head: usize,
    /// Size of one head.
    pub head_dim: usize,
    /// RMS-norm epsilon.
    pub eps: f32,
    /// RoPE base frequency.
    pub rope_base: f32,
    /// Longest sequence the model was trained for.
    pub context_length: usize,
}

impl LlamaConfig {
    /// `(head_dim, q_dim, kv_dim, q_dim + 2 kv_dim, query heads per kv head)`.
    pub fn attention_shape(&self) -> (usize, usize, usize, usize, usize) {
        let hd = self.head_dim;
        let (q_dim, kv_dim) = (self.n_head * hd, self.n_kv_head * hd);
        (
            hd,
            q_dim,
            kv_dim,
            q_dim + 2 * kv_dim,
            self.n_head / self.n_kv_head,
        )
    }

    /// Reads the shape from a GGUF; architectures other than llama's layout are a clear error.
    pub fn from_gguf(path: &Path, content: &Content) -> Result<Self> {
        let md = &content.metadata;
        let arch = md
            .get("general.architecture")
            .and_then(|v| v.to_string().ok().cloned())
            .unwrap_or_else(|| "llama".into());
        if !matches!(arch.as_str(), "llama" | "mistral") {
            return Err(bad_file(
                path,
                format!(
                    "architecture '{arch}' is not llama-family; Cairn runs llama-family GGUF models"
                ),
            ));
        }
        let num = |key: &str| -> Result<usize> {
            md.get(&format!("{arch}.{key}"))
                .and_then(|v| v.to_u64().ok().or_else(|| v.to_u32().ok().map(u64::from)))
                .map(|v| v as usize)
                .ok_or_else(|| bad_file(path, format!("GGUF metadata lacks {arch}.{key}")))
        };
        let float = |key: &str, default: f32| {
            md.get(&format!("{arch}.{key}"))
                .and_then(|v| v.to_f32().ok())
                .unwrap_or(default)
        };
        let dim = num("embedding_length")?;
        let n_head = num("attention.head_count")?;
        let n_kv_head = num("attention.head_count_kv").unwrap_or(n_head);
        let head_dim = num("rope.dimension_count").unwrap_or(dim / n_head);
        if n_head == 0 || n_kv_head == 0 || n_head % n_kv_head != 0 || head_dim * n_head != dim {
            return Err(bad_file(
                path,
                format!("unsupported head layout: {n_head} heads, {n_kv_head} kv heads, dim {dim}"),
            ));
        }
        Ok(Self {
            architecture: arch.clone(),
            n_layer: num("block_count")?,
            dim,
            ff_dim: num("feed_forward_length")?,
            n_head,
            n_kv_head,
            head_dim,
            eps: float("attention.layer_norm_rms_epsilon", 1e-5),
            rope_base: float("rope.freq_base", 10_000.0),
            context_length: num("context_length").unwrap_or(4096),
        })
    }
}

/// A causal language model with a KV cache: the part of a chat model that runs tensors.
pub trait Decoder: Send {
    /// The model's shape.
    fn config(&self) -> &LlamaConfig;
    /// Positions held in the KV cache.
    fn cached_len(&self) -> usize;
    /// Keeps the first `len` cached positions (or fewer, if the decoder cannot cut partway; it
    /// reports what it kept through [`Decoder::cached_len`]).
    fn truncate(&mut self, len: usize);
    /// Runs `tokens` after the cached positions and returns the logits of the last one.
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>>;
    /// [`Decoder::forward`] that gives up (`None`, cache as before the call) when `cancel` is set.
    fn forward_cancellable(
        &mut self,
        tokens: &[u32],
        cancel: &AtomicBool,
    ) -> Result<Option<Vec<f32>>> {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        self.forward(tokens).map(Some)
    }
}
