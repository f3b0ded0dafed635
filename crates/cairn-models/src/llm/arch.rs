//! One transformer, described by a few facts read from the GGUF: the shape, how positions are
//! rotated (RoPE), and how the architectures that Cairn runs differ (biases, extra norms, the
//! activation, sliding-window layers, tied or fused matrices). The forward pass in
//! [`super::runtime`] reads these facts; there is no copy of it per model.
//!
//! | architecture | what sets it apart |
//! |---|---|
//! | `llama`, `mistral` | RoPE on neighbouring pairs (the converter permutes Q and K); Llama 3.x's rope scaling as per-frequency factors (`rope_freqs.weight`) |
//! | `qwen2` | RoPE on halves; Q/K/V biases |
//! | `qwen3` | RoPE on halves; an RMS norm of each query and key head before RoPE |
//! | `gemma3` | embeddings scaled by √dim; norms after attention and after the feed-forward too; Q/K norms; GELU (tanh); five local (sliding-window, own RoPE base) layers to one global |
//! | `phi3` | Q, K, V in one matrix and gate and up in one; rope factors (`rope_factors_short/long.weight`) with an attention factor |

use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use serde::Serialize;

use crate::Result;
use crate::error::bad_file;

/// The architectures the runtime runs (`general.architecture`).
pub const SUPPORTED: [&str; 6] = ["llama", "mistral", "qwen2", "qwen3", "gemma3", "phi3"];

/// How RoPE pairs the dimensions of a head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RopeStyle {
    /// Dimensions `2i` and `2i + 1` (llama.cpp's "normal" rope).
    Pairs,
    /// Dimensions `i` and `i + d/2` (GPT-NeoX's).
    Halves,
}

/// How positions are rotated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rope {
    /// Pairing of dimensions.
    pub style: RopeStyle,
    /// Dimensions of a head that are rotated (from the first).
    pub dims: usize,
    /// Base frequency of global layers.
    pub base: f32,
    /// Base frequency of sliding-window layers.
    pub local_base: f32,
    /// Positions are multiplied by this in global layers (1 / linear scaling factor).
    pub scale: f32,
    /// Multiplies cos and sin (phi3's long-rope attention factor; 1 otherwise).
    pub attn_factor: f32,
    /// The tensor of per-frequency divisors, if the model has one (`rope_freqs.weight` for
    /// Llama 3.x, `rope_factors_short.weight` for phi3).
    pub factors_tensor: Option<String>,
}

/// The non-linearity of the feed-forward block, applied to the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `x · sigmoid(x)` (SwiGLU).
    Silu,
    /// GELU, tanh approximation (GeGLU).
    GeluTanh,
}

/// What sets one architecture's transformer apart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Facts {
    /// Q, K and V have bias vectors (`attn_q.bias`…).
    pub qkv_bias: bool,
    /// Each query and key head is RMS-normed before RoPE (`attn_q_norm`, `attn_k_norm`).
    pub qk_norm: bool,
    /// The attention and feed-forward outputs are RMS-normed before the residual add
    /// (`post_attention_norm`, `post_ffw_norm`).
    pub post_norms: bool,
    /// The feed-forward gate's non-linearity.
    pub activation: Activation,
    /// Embeddings are multiplied by this (`√dim` for Gemma).
    pub embed_scale: Option<f32>,
    /// The output projection is the embedding matrix (no `output.weight`).
    pub tied_embeddings: bool,
    /// Q, K and V come from one matrix (`attn_qkv.weight`).
    pub fused_qkv: bool,
    /// Gate and up come from one matrix (`ffn_up` with twice the rows, gate first).
    pub fused_gate_up: bool,
    /// Layers that attend to at most this many recent positions, if any.
    pub sliding_window: Option<usize>,
    /// Which layers slide (true) and which are global; empty when none slide.
    pub sliding_layers: Vec<bool>,
    /// Scores are `q · k` times this.
    pub attention_scale: f32,
}

/// A transformer decoder's shape and facts, read from `{arch}.*` GGUF metadata and its tensors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransformerConfig {
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
    /// Longest sequence the model was trained for.
    pub context_length: usize,
    /// Position rotation.
    pub rope: Rope,
    /// What sets the architecture apart.
    pub facts: Facts,
}

impl TransformerConfig {
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

    /// Whether layer `layer` attends through a sliding window.
    pub fn slides(&self, layer: usize) -> bool {
        self.facts
            .sliding_layers
            .get(layer)
            .copied()
            .unwrap_or(false)
    }

    /// Reads the shape and facts of a GGUF. An architecture the runtime does not run is an error
    /// that names it and the ones it does.
    pub fn from_gguf(path: &Path, content: &Content) -> Result<Self> {
        let md = &content.metadata;
        let arch = md
            .get("general.architecture")
            .and_then(|v| v.to_string().ok().cloned())
            .unwrap_or_else(|| "llama".into());
        if !SUPPORTED.contains(&arch.as_str()) {
            return Err(bad_file(
                path,
                format!(
                    "architecture '{arch}' is not one Cairn runs; it runs {}",
                    SUPPORTED.join(", ")
                ),
            ));
        }
        let key = |name: &str| md.get(&format!("{arch}.{name}"));
        let num = |name: &str| -> Option<usize> {
            key(name).and_then(|v| {
                v.to_u64()
                    .ok()
                    .or_else(|| v.to_u32().ok().map(u64::from))
                    .or_else(|| v.to_i32().ok().and_then(|n| u64::try_from(n).ok()))
                    .map(|v| v as usize)
            })
        };
        let need = |name: &str| -> Result<usize> {
            num(name).ok_or_else(|| bad_file(path, format!("GGUF metadata lacks {arch}.{name}")))
        };
        let float = |name: &str| key(name).and_then(|v| v.to_f32().ok());
        let has = |tensor: &str| content.tensor_infos.contains_key(tensor);

        let dim = need("embedding_length")?;
        let n_head = need("attention.head_count")?;
        let n_kv_head = num("attention.head_count_kv").unwrap_or(n_head);
        let n_layer = need("block_count")?;
        if n_head == 0 || n_kv_head == 0 || n_head % n_kv_head != 0 {
            return Err(bad_file(
                path,
                format!("unsupported head layout: {n_head} heads, {n_kv_head} kv heads"),
            ));
        }
        let head_dim = num("attention.key_length").unwrap_or(dim / n_head);
        if num("attention.value_length").is_some_and(|v| v != head_dim) {
            return Err(bad_file(
                path,
                "keys and values of different sizes are not supported",
            ));
        }
        let rope_dims = num("rope.dimension_count").unwrap_or(head_dim);
        if rope_dims > head_dim || rope_dims % 2 != 0 {
            return Err(bad_file(
                path,
                format!("{rope_dims} rotated dimensions in heads of {head_dim}"),
            ));
        }
        let scaling = key("rope.scaling.type").and_then(|v| v.to_string().ok().cloned());
        let factor = float("rope.scaling.factor").filter(|f| *f > 0.0);
        let scale = match scaling.as_deref() {
            None | Some("none") => 1.0,
            Some("linear") => factor.map_or(1.0, |f| 1.0 / f),
            // Phi's long rope is its factors tensor; Llama 3's too.
            Some("longrope") | Some("llama3") => 1.0,
            Some(other) => {
                return Err(bad_file(
                    path,
                    format!(
                        "rope scaling '{other}' is not supported (none, linear, llama3 and longrope are)"
                    ),
                ));
            }
        };
        let factors_tensor = ["rope_freqs.weight", "rope_factors_short.weight"]
            .into_iter()
            .find(|t| has(t))
            .map(str::to_string);
        let gemma = arch == "gemma3";
        let window = num("attention.sliding_window").filter(|w| *w > 0);
        // Gemma 3 slides in five layers of six (or as the file's pattern says); llama.cpp runs the
        // other architectures' windows as global attention, and so does Cairn.
        let sliding_layers = match (gemma, window) {
            (true, Some(_)) => sliding_pattern(key("attention.sliding_window_pattern"), n_layer),
            _ => Vec::new(),
        };
        let sliding_window = window.filter(|_| !sliding_layers.is_empty());
        let facts = Facts {
            qkv_bias: has("blk.0.attn_q.bias") || has("blk.0.attn_qkv.bias"),
            qk_norm: has("blk.0.attn_q_norm.weight"),
            post_norms: gemma,
            activation: if gemma {
                Activation::GeluTanh
            } else {
                Activation::Silu
            },
            embed_scale: gemma.then(|| (dim as f32).sqrt()),
            tied_embeddings: !has("output.weight"),
            fused_qkv: has("blk.0.attn_qkv.weight"),
            fused_gate_up: !has("blk.0.ffn_gate.weight"),
            sliding_window,
            sliding_layers,
            attention_scale: 1.0 / (head_dim as f32).sqrt(),
        };
        Ok(Self {
            architecture: arch.clone(),
            n_layer,
            dim,
            ff_dim: need("feed_forward_length")?,
            n_head,
            n_kv_head,
            head_dim,
            eps: float("attention.layer_norm_rms_epsilon").unwrap_or(1e-5),
            context_length: num("context_length").unwrap_or(4096),
            rope: Rope {
                style: if matches!(arch.as_str(), "llama" | "mistral") {
                    RopeStyle::Pairs
                } else {
                    RopeStyle::Halves
                },
                dims: rope_dims,
                base: float("rope.freq_base").unwrap_or(10_000.0),
                local_base: float("rope.freq_base_swa").unwrap_or(10_000.0),
                scale,
                attn_factor: float("rope.scaling.attn_factor").unwrap_or(1.0),
                factors_tensor,
            },
            facts,
        })
    }
}

/// Which of `n_layer` layers slide: the file's per-layer pattern, or one global layer in every `n`
/// (the last of each `n`; Gemma 3's `n` is 6).
fn sliding_pattern(pattern: Option<&Value>, n_layer: usize) -> Vec<bool> {
    if let Some(flags) = pattern.and_then(|v| v.to_vec().ok()) {
        return flags
            .iter()
            .map(|f| f.to_bool().unwrap_or(false))
            .chain(std::iter::repeat(false))
            .take(n_layer)
            .collect();
    }
    let n = pattern
        .and_then(|v| v.to_u32().ok())
        .map_or(6, |n| n as usize);
    (0..n_layer).map(|il| n == 0 || il % n < n - 1).collect()
}
