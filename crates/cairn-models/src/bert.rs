//! A BERT encoder for CPU inference (Devlin et al., 2019), equivalent to Hugging Face's `BertModel`
//! without the pooler, written for throughput on a few cores.
//!
//! It reads the same weights and `config.json` as `candle_transformers::models::bert`, which it
//! replaces on the CPU; GPUs keep candle's. What differs is where the time goes: candle's BERT spends
//! most of a forward pass outside the matrix multiplications, in a scalar `erf` for GELU, a softmax
//! built from five separate passes, and per-head attention products too small for its GEMM to
//! parallelise. Here
//! - Q, K and V come from one fused projection, and every projection is one 2-D GEMM over all tokens;
//! - attention runs as one kernel per (sequence, head), heads in parallel, with the softmax fused in;
//! - GELU uses the exact-erf form through a branch-free approximation (absolute error < 2e-7) that
//!   the compiler vectorises.
//!
//! The GEMM wrapper, softmax and `exp` it runs on are the crate's shared matrix kernels
//! (`crate::matrix`).

use candle_core::{CpuStorage, CustomOp1, CustomOp3, D, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use rayon::prelude::*;
use serde::Deserialize;

use crate::matrix::{Matrix, exp, horner, matmul, softmax_in_place};

/// The fields of a BERT `config.json` this encoder uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Config {
    pub(crate) vocab_size: usize,
    pub(crate) hidden_size: usize,
    pub(crate) num_hidden_layers: usize,
    pub(crate) num_attention_heads: usize,
    pub(crate) intermediate_size: usize,
    #[serde(default = "default_act")]
    pub(crate) hidden_act: String,
    pub(crate) max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub(crate) type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub(crate) layer_norm_eps: f64,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}

#[derive(Debug, Clone, Copy)]
enum Activation {
    /// `x · Φ(x)` with the exact normal CDF (Hugging Face's "gelu").
    GeluErf,
    /// The tanh approximation ("gelu_new", "gelu_pytorch_tanh").
    GeluTanh,
    Relu,
}

/// A linear layer applied to a 2-D `(tokens, in)` input, with its weight stored transposed
/// (`in × out`, contiguous) so the GEMM reads it row by row.
#[derive(Debug, Clone)]
struct Linear2d {
    weight_t: Tensor,
    bias: Tensor,
}

impl Linear2d {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?;
        let bias = vb.get(outputs, "bias")?;
        Ok(Linear2d {
            weight_t: weight.t()?.contiguous()?,
            bias,
        })
    }

    /// Q, K and V fused into one `in × 3·out` projection.
    fn fused(parts: &[Linear2d]) -> Result<Self> {
        let weights: Vec<&Tensor> = parts.iter().map(|p| &p.weight_t).collect();
        let biases: Vec<&Tensor> = parts.iter().map(|p| &p.bias).collect();
        Ok(Linear2d {
            weight_t: Tensor::cat(&weights, 1)?,
            bias: Tensor::cat(&biases, 0)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

#[derive(Debug, Clone)]
struct Layer {
    qkv: Linear2d,
    attention_out: Linear2d,
    attention_norm: LayerNorm,
    intermediate: Linear2d,
    output: Linear2d,
    output_norm: LayerNorm,
}

/// The encoder: embeddings and the transformer layers.
#[derive(Debug, Clone)]
pub(crate) struct Bert {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    activation: Activation,
}

fn layer_norm(vb: VarBuilder, size: usize, eps: f64) -> Result<LayerNorm> {
    candle_nn::layer_norm(size, eps, vb)
}

impl Bert {
    /// Loads the weights, with or without the `bert.` prefix that classification checkpoints carry.
    pub(crate) fn load(vb: VarBuilder, config: &Config) -> Result<Bert> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let activation = match config.hidden_act.as_str() {
            "gelu" => Activation::GeluErf,
            "gelu_new" | "gelu_pytorch_tanh" | "geluapproximate" | "gelu_fast" => {
                Activation::GeluTanh
            }
            "relu" => Activation::Relu,
            other => candle_core::bail!("unsupported hidden_act '{other}'"),
        };
        let h = config.hidden_size;
        let e = vb.pp("embeddings");
        let word = candle_nn::embedding(config.vocab_size, h, e.pp("word_embeddings"))?;
        let position = candle_nn::embedding(
            config.max_position_embeddings,
            h,
            e.pp("position_embeddings"),
        )?;
        let token_type =
            candle_nn::embedding(config.type_vocab_size, h, e.pp("token_type_embeddings"))?;
        let embedding_norm = layer_norm(e.pp("LayerNorm"), h, config.layer_norm_eps)?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let q = Linear2d::load(&a.pp("self.query"), h, h)?;
            let k = Linear2d::load(&a.pp("self.key"), h, h)?;
            let v = Linear2d::load(&a.pp("self.value"), h, h)?;
            layers.push(Layer {
                qkv: Linear2d::fused(&[q, k, v])?,
                attention_out: Linear2d::load(&a.pp("output.dense"), h, h)?,
                attention_norm: layer_norm(a.pp("output.LayerNorm"), h, config.layer_norm_eps)?,
                intermediate: Linear2d::load(
                    &l.pp("intermediate.dense"),
                    h,
                    config.intermediate_size,
                )?,
                output: Linear2d::load(&l.pp("output.dense"), config.intermediate_size, h)?,
                output_norm: layer_norm(l.pp("output.LayerNorm"), h, config.layer_norm_eps)?,
            });
        }
        Ok(Bert {
            word,
            position,
            token_type,
            embedding_norm,
            layers,
            heads: config.num_attention_heads,
            activation,
        })
    }

    /// Last hidden states `(batch, len, hidden)` for token ids `(batch, len)`; `lengths` gives each
    /// sequence's real length (the rest is padding, masked out of attention).
    pub(crate) fn forward(
        &self,
        ids: &Tensor,
        type_ids: &Tensor,
        lengths: &[usize],
    ) -> Result<Tensor> {
        let (batch, len) = ids.dims2()?;
        let positions = Tensor::arange(0u32, len as u32, ids.device())?;
        let x = self
            .word
            .forward(ids)?
            .broadcast_add(&self.position.forward(&positions)?)?
            .add(&self.token_type.forward(type_ids)?)?;
        let hidden = x.dim(D::Minus1)?;
        let mut x = self
            .embedding_norm
            .forward(&x)?
            .reshape((batch * len, hidden))?;
        let head_dim = hidden / self.heads;
        let attention = Attention {
            heads: self.heads,
            lengths: lengths.to_vec(),
            scale: (head_dim as f32).powf(-0.5),
        };
        for layer in &self.layers {
            // (b·l, 3h) → (3, b, heads, l, d): one copy, then q, k and v are contiguous views.
            let qkv = layer
                .qkv
                .forward(&x)?
                .reshape((batch, len, 3, self.heads, head_dim))?
                .permute((2, 0, 3, 1, 4))?
                .contiguous()?;
            let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
            let context = q.apply_op3_no_bwd(&k, &v, &attention)?;
            let context = context
                .permute((0, 2, 1, 3))?
                .contiguous()?
                .reshape((batch * len, hidden))?;
            let attended = layer.attention_out.forward(&context)?.add(&x)?;
            x = layer.attention_norm.forward(&attended)?;
            let inner = layer.intermediate.forward(&x)?;
            let inner = match self.activation {
                Activation::GeluErf => inner.apply_op1_no_bwd(&GeluErf)?,
                Activation::GeluTanh => inner.gelu()?,
                Activation::Relu => inner.relu()?,
            };
            let out = layer.output.forward(&inner)?.add(&x)?;
            x = layer.output_norm.forward(&out)?;
        }
        x.reshape((batch, len, hidden))
    }
}

fn contiguous_f32<'a>(storage: &'a CpuStorage, layout: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{what}: expected f32")
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{what}: expected a contiguous tensor"),
    }
}

/// Scaled dot-product attention over `(batch, heads, len, head_dim)` q, k, v, one task per
/// (sequence, head), keys beyond each sequence's length masked out.
struct Attention {
    heads: usize,
    lengths: Vec<usize>,
    scale: f32,
}

impl CustomOp3 for Attention {
    fn name(&self) -> &'static str {
        "cairn-bert-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (batch, heads, len, dim) = l1.shape().dims4()?;
        if heads != self.heads || self.lengths.len() != batch {
            candle_core::bail!("attention: shape {:?} does not match the batch", l1.shape());
        }
        let (q, k, v) = (
            contiguous_f32(s1, l1, "q")?,
            contiguous_f32(s2, l2, "k")?,
            contiguous_f32(s3, l3, "v")?,
        );
        let block = len * dim;
        let mut out = vec![0f32; batch * heads * block];
        out.par_chunks_mut(block).enumerate().for_each_init(
            || vec![0f32; len * len],
            |scores, (bh, out)| {
                // Padded positions are neither attended to (keys) nor computed (queries): their
                // outputs stay zero and pooling ignores them.
                let keys = self.lengths[bh / heads].clamp(1, len);
                let (q, k, v) = (
                    &q[bh * block..][..block],
                    &k[bh * block..][..block],
                    &v[bh * block..][..block],
                );
                let scores = &mut scores[..keys * keys];
                // scores = scale · Q Kᵀ, with Kᵀ read through strides.
                matmul(
                    Matrix::new(q, keys, dim, dim, 1),
                    Matrix::new(k, dim, keys, 1, dim),
                    self.scale,
                    scores,
                );
                scores.chunks_exact_mut(keys).for_each(softmax_in_place);
                matmul(
                    Matrix::new(scores, keys, keys, keys, 1),
                    Matrix::new(v, keys, dim, dim, 1),
                    1.0,
                    &mut out[..keys * dim],
                );
            },
        );
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// GELU with the exact normal CDF: `x/2 · (1 + erf(x/√2))`.
struct GeluErf;

/// `erf(x)` by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7), branch-free.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / 0.327_591_1f32.mul_add(a, 1.0);
    let poly = t * horner(
        t,
        &[
            0.254_829_6,
            -0.284_496_74,
            1.421_413_8,
            -1.453_152,
            1.061_405_4,
        ],
    );
    let y = (-poly).mul_add(exp(-a * a), 1.0);
    y.copysign(x)
}

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "cairn-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let xs = contiguous_f32(storage, layout, "gelu")?;
        let mut out = vec![0f32; xs.len()];
        out.par_chunks_mut(16 * 1024)
            .zip(xs.par_chunks(16 * 1024))
            .for_each(|(o, x)| {
                for (o, &x) in o.iter_mut().zip(x) {
                    *o = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
                }
            });
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_erf_matches_the_standard_library() {
        let mut worst_erf = 0f64;
        for i in 0..=20_000 {
            let y = -6.0 + i as f64 * 0.0006;
            worst_erf = worst_erf.max((erf(y as f32) as f64 - libm_erf(y)).abs());
        }
        assert!(worst_erf < 5e-7, "erf absolute error {worst_erf}");
    }

    /// erf through its Taylor series (small |x|) and continued fraction (large |x|), in f64.
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let v = if a < 2.5 {
            let mut term = a;
            let mut sum = a;
            for n in 1..80 {
                term *= -a * a / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // erfc by Lentz's continued fraction.
            let mut f = a;
            for n in (1..60).rev() {
                f = a + (n as f64 / 2.0) / f;
            }
            1.0 - (-a * a).exp() / (f * std::f64::consts::PI.sqrt())
        };
        v.copysign(x)
    }
}
