//! The CPU runtime: one transformer forward pass for every architecture in [`super::arch`], over
//! the weights as the GGUF holds them ([`super::quant`]).
//!
//! A single token (decoding) meets each matrix as integer dot products split over
//! [`super::pool`]'s spinning threads; a few tokens meet the rows one by one; a prompt batch of at
//! least [`BATCH_MIN_TOKENS`] meets each matrix in 8-bit panels on AVX-512 VNNI
//! ([`super::quant::panel`], as llama.cpp computes prompts) or, on CPUs without it, dequantizes
//! the matrix once into an f32 GEMM, and runs attention as two GEMMs per head; its elementwise
//! steps are split over the threads by rows. The KV cache keeps every position in f32. Its logits
//! are checked against llama.cpp's in `tests/runtime.rs`.
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::quantized::gguf_file::Content;
use rayon::prelude::*;

use super::arch::{Activation as Gate, RopeStyle, TransformerConfig};
use super::decoder::Decoder;
use super::pool::SpinPool;
use super::quant::{self, Activation, QMatrix, panel};
use super::weights::Weights;
use crate::Result;
use crate::matrix::{Matrix, exp, matmul_with, softmax_in_place};

/// One transformer block's weights.
struct Layer {
    attn_norm: Vec<f32>,
    /// Query rows, then key rows, then value rows.
    wqkv: Arc<QMatrix>,
    qkv_bias: Option<Vec<f32>>,
    q_norm: Option<Vec<f32>>,
    k_norm: Option<Vec<f32>>,
    wo: Arc<QMatrix>,
    post_attn_norm: Option<Vec<f32>>,
    ffn_norm: Vec<f32>,
    /// Gate rows, then up rows.
    w_gate_up: Arc<QMatrix>,
    w_down: Arc<QMatrix>,
    post_ffn_norm: Option<Vec<f32>>,
}

/// Cos and sin of each rotated pair at each position, grown on demand.
#[derive(Default)]
struct RopeTable {
    cos: Vec<f32>,
    sin: Vec<f32>,
}

/// A transformer on the CPU, with its KV cache.
pub struct CpuTransformer {
    cfg: TransformerConfig,
    embed: Arc<QMatrix>,
    /// `None`: the output projection is the embedding matrix (tied).
    lm_head: Option<Arc<QMatrix>>,
    layers: Vec<Layer>,
    out_norm: Vec<f32>,
    /// Per-frequency divisors of the rotation angles (1 where the model has none).
    rope_factors: Vec<f32>,
    /// Rotation tables of global and of sliding-window layers.
    rope_global: RopeTable,
    rope_local: RopeTable,
    /// Per layer: keys and values of every cached position, `[pos][kv_dim]`.
    k_cache: Vec<Vec<f32>>,
    v_cache: Vec<Vec<f32>>,
    cached: usize,
    /// What a prompt batch's products reuse from one matrix to the next.
    scratch: Scratch,
    /// Threads for single-token products.
    pool: SpinPool,
}

impl CpuTransformer {
    /// Loads the weights of a GGUF whose architecture [`TransformerConfig`] describes.
    pub fn load(path: &Path, content: &Content, file: &mut std::fs::File) -> Result<Self> {
        let cfg = TransformerConfig::from_gguf(path, content)?;
        let mut w = Weights::new(path, content, file)?;
        let facts = cfg.facts.clone();
        let (_, q_dim, kv_dim, _, _) = cfg.attention_shape();
        let embed = Arc::new(w.matrix("token_embd.weight")?);
        let lm_head = if facts.tied_embeddings {
            None
        } else {
            Some(Arc::new(w.matrix("output.weight")?))
        };
        let rope_factors = match &cfg.rope.factors_tensor {
            Some(name) => w.vector(name, cfg.rope.dims / 2)?,
            None => vec![1.0; cfg.rope.dims / 2],
        };
        let mut layers = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let p = format!("blk.{i}");
            let wqkv = if facts.fused_qkv {
                w.matrix(&format!("{p}.attn_qkv.weight"))?
            } else {
                QMatrix::stack(vec![
                    w.matrix(&format!("{p}.attn_q.weight"))?,
                    w.matrix(&format!("{p}.attn_k.weight"))?,
                    w.matrix(&format!("{p}.attn_v.weight"))?,
                ])
                .map_err(|e| w.bad(&format!("{p} attention"), e))?
            };
            w.expect_shape(
                &format!("{p} attention"),
                &wqkv,
                q_dim + 2 * kv_dim,
                cfg.dim,
            )?;
            let qkv_bias = if !facts.qkv_bias {
                None
            } else if facts.fused_qkv {
                Some(w.vector(&format!("{p}.attn_qkv.bias"), q_dim + 2 * kv_dim)?)
            } else {
                let mut bias = w.vector(&format!("{p}.attn_q.bias"), q_dim)?;
                bias.extend(w.vector(&format!("{p}.attn_k.bias"), kv_dim)?);
                bias.extend(w.vector(&format!("{p}.attn_v.bias"), kv_dim)?);
                Some(bias)
            };
            let (q_norm, k_norm) = if facts.qk_norm {
                (
                    Some(w.vector(&format!("{p}.attn_q_norm.weight"), cfg.head_dim)?),
                    Some(w.vector(&format!("{p}.attn_k_norm.weight"), cfg.head_dim)?),
                )
            } else {
                (None, None)
            };
            let w_gate_up = if facts.fused_gate_up {
                w.matrix(&format!("{p}.ffn_up.weight"))?
            } else {
                QMatrix::stack(vec![
                    w.matrix(&format!("{p}.ffn_gate.weight"))?,
                    w.matrix(&format!("{p}.ffn_up.weight"))?,
                ])
                .map_err(|e| w.bad(&format!("{p} feed-forward"), e))?
            };
            w.expect_shape(
                &format!("{p} feed-forward"),
                &w_gate_up,
                2 * cfg.ff_dim,
                cfg.dim,
            )?;
            let wo = w.matrix(&format!("{p}.attn_output.weight"))?;
            w.expect_shape(&format!("{p}.attn_output.weight"), &wo, cfg.dim, q_dim)?;
            let w_down = w.matrix(&format!("{p}.ffn_down.weight"))?;
            w.expect_shape(
                &format!("{p}.ffn_down.weight"),
                &w_down,
                cfg.dim,
                cfg.ff_dim,
            )?;
            let post = |w: &mut Weights, name: &str| -> Result<Option<Vec<f32>>> {
                if facts.post_norms {
                    Ok(Some(w.vector(&format!("{p}.{name}.weight"), cfg.dim)?))
                } else {
                    Ok(None)
                }
            };
            layers.push(Layer {
                attn_norm: w.vector(&format!("{p}.attn_norm.weight"), cfg.dim)?,
                wqkv: Arc::new(wqkv),
                qkv_bias,
                q_norm,
                k_norm,
                wo: Arc::new(wo),
                post_attn_norm: post(&mut w, "post_attention_norm")?,
                ffn_norm: w.vector(&format!("{p}.ffn_norm.weight"), cfg.dim)?,
                w_gate_up: Arc::new(w_gate_up),
                w_down: Arc::new(w_down),
                post_ffn_norm: post(&mut w, "post_ffw_norm")?,
            });
        }
        let out_norm = w.vector("output_norm.weight", cfg.dim)?;
        w.expect_shape("token_embd.weight", &embed, embed.rows(), cfg.dim)?;
        let n_layer = cfg.n_layer;
        Ok(Self {
            cfg,
            embed,
            lm_head,
            layers,
            out_norm,
            rope_factors,
            rope_global: RopeTable::default(),
            rope_local: RopeTable::default(),
            k_cache: vec![Vec::new(); n_layer],
            v_cache: vec![Vec::new(); n_layer],
            cached: 0,
            scratch: Scratch::default(),
            pool: SpinPool::new(rayon::current_num_threads().saturating_sub(1)),
        })
    }

    /// Bytes of weights held.
    pub fn weight_bytes(&self) -> usize {
        let layers: usize = self
            .layers
            .iter()
            .map(|l| l.wqkv.bytes() + l.wo.bytes() + l.w_gate_up.bytes() + l.w_down.bytes())
            .sum();
        layers + self.embed.bytes() + self.lm_head.as_ref().map_or(0, |m| m.bytes())
    }

    /// Grows both rotation tables to `len` positions.
    fn grow_rope(&mut self, len: usize) {
        let rope = &self.cfg.rope;
        let half = rope.dims / 2;
        for (table, base, scale) in [
            (&mut self.rope_global, rope.base, rope.scale),
            (&mut self.rope_local, rope.local_base, 1.0),
        ] {
            let have = table.cos.len() / half.max(1);
            if have >= len || half == 0 {
                continue;
            }
            let len = len.next_power_of_two();
            // As ggml computes them: each pair's angle is the previous one's times base^(-2/dims).
            let step = base.powf(-2.0 / rope.dims as f32);
            for pos in have..len {
                let mut theta = pos as f32;
                for factor in &self.rope_factors {
                    let angle = scale * theta / factor;
                    table.cos.push(angle.cos() * rope.attn_factor);
                    table.sin.push(angle.sin() * rope.attn_factor);
                    theta *= step;
                }
            }
        }
    }
}

impl Decoder for CpuTransformer {
    fn config(&self) -> &TransformerConfig {
        &self.cfg
    }

    fn cached_len(&self) -> usize {
        self.cached
    }

    fn truncate(&mut self, len: usize) {
        let len = len.min(self.cached);
        let kv_dim = self.cfg.n_kv_head * self.cfg.head_dim;
        for (k, v) in self.k_cache.iter_mut().zip(&mut self.v_cache) {
            k.truncate(len * kv_dim);
            v.truncate(len * kv_dim);
        }
        self.cached = len;
    }

    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        Ok(self
            .forward_cancellable(tokens, &AtomicBool::new(false))?
            .expect("not cancelled"))
    }

    fn forward_cancellable(
        &mut self,
        tokens: &[u32],
        cancel: &AtomicBool,
    ) -> Result<Option<Vec<f32>>> {
        let cfg = self.cfg.clone();
        let (n, dim, hd) = (tokens.len(), cfg.dim, cfg.head_dim);
        let pos0 = self.cached;
        if n == 0 {
            return Err(crate::Error::Tokenizer("nothing to run: no tokens".into()));
        }
        if pos0 + n > cfg.context_length {
            return Err(crate::Error::Tokenizer(format!(
                "{} tokens exceed the model's context of {}",
                pos0 + n,
                cfg.context_length
            )));
        }
        self.grow_rope(pos0 + n);
        let (_, q_dim, kv_dim, qkv_dim, _) = cfg.attention_shape();
        let ff = cfg.ff_dim;

        let mut x = vec![0f32; n * dim];
        for (t, row) in x.chunks_exact_mut(dim).enumerate() {
            let id = tokens[t] as usize;
            if id >= self.embed.rows() {
                return Err(crate::Error::Tokenizer(format!(
                    "token id {id} is outside the vocabulary"
                )));
            }
            self.embed.row_f32(id, row);
            if let Some(scale) = cfg.facts.embed_scale {
                row.iter_mut().for_each(|v| *v *= scale);
            }
        }
        let mut h = vec![0f32; n * dim];
        let mut qkv = vec![0f32; n * qkv_dim];
        let mut att = vec![0f32; n * q_dim];
        let mut o = vec![0f32; n * dim];
        let mut gate_up = vec![0f32; n * 2 * ff];
        let mut mlp = vec![0f32; n * ff];
        let mut normed = vec![0f32; dim];

        let mut scratch = std::mem::take(&mut self.scratch);
        for (li, layer) in self.layers.iter().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                self.scratch = scratch;
                self.truncate(pos0);
                return Ok(None);
            }
            rms_norm(&x, &layer.attn_norm, cfg.eps, &mut h);
            linear(&layer.wqkv, &h, n, &mut scratch, &self.pool, &mut qkv);
            let slides = cfg.slides(li);
            let rope = if slides {
                &self.rope_local
            } else {
                &self.rope_global
            };
            let half = cfg.rope.dims / 2;
            let place = |(t, row): (usize, &mut [f32])| {
                if let Some(bias) = &layer.qkv_bias {
                    row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
                }
                let pos = pos0 + t;
                let (cos, sin) = (
                    &rope.cos[pos * half..(pos + 1) * half],
                    &rope.sin[pos * half..(pos + 1) * half],
                );
                let (q, kv) = row.split_at_mut(q_dim);
                for head in q.chunks_exact_mut(hd) {
                    if let Some(w) = &layer.q_norm {
                        rms_norm_in_place(head, w, cfg.eps);
                    }
                    rotate(head, cos, sin, cfg.rope.style, cfg.rope.dims);
                }
                for head in kv[..kv_dim].chunks_exact_mut(hd) {
                    if let Some(w) = &layer.k_norm {
                        rms_norm_in_place(head, w, cfg.eps);
                    }
                    rotate(head, cos, sin, cfg.rope.style, cfg.rope.dims);
                }
            };
            if n >= PARALLEL_ROWS {
                qkv.par_chunks_exact_mut(qkv_dim)
                    .enumerate()
                    .for_each(place);
            } else {
                qkv.chunks_exact_mut(qkv_dim).enumerate().for_each(place);
            }
            for row in qkv.chunks_exact(qkv_dim) {
                self.k_cache[li].extend_from_slice(&row[q_dim..q_dim + kv_dim]);
                self.v_cache[li].extend_from_slice(&row[q_dim + kv_dim..]);
            }
            let window = if slides {
                cfg.facts.sliding_window
            } else {
                None
            };
            let span = Span { pos0, n, window };
            let (k, v) = (&self.k_cache[li], &self.v_cache[li]);
            if n >= BATCH_MIN_TOKENS {
                attention_gemm(&cfg, &qkv, k, v, span, &mut att);
            } else {
                attention(&cfg, &qkv, k, v, span, &self.pool, &mut att);
            }
            linear(&layer.wo, &att, n, &mut scratch, &self.pool, &mut o);
            if let Some(w) = &layer.post_attn_norm {
                rms_norm_rows_in_place(&mut o, w, cfg.eps);
            }
            add_in_place(&mut x, &o, n);

            rms_norm(&x, &layer.ffn_norm, cfg.eps, &mut h);
            linear(
                &layer.w_gate_up,
                &h,
                n,
                &mut scratch,
                &self.pool,
                &mut gate_up,
            );
            // One loop per activation, so SiLU's runs vectorised (a choice inside the loop kept
            // it scalar: 5% of a 1.5B prompt's time).
            let gate = |(gu, m): (&[f32], &mut [f32])| {
                let (g, u) = gu.split_at(ff);
                let pairs = m.iter_mut().zip(g).zip(u);
                match cfg.facts.activation {
                    Gate::Silu => pairs.for_each(|((m, g), u)| *m = silu(*g) * u),
                    Gate::GeluTanh => pairs.for_each(|((m, g), u)| *m = gelu_tanh(*g) * u),
                }
            };
            if n >= PARALLEL_ROWS {
                gate_up
                    .par_chunks_exact(2 * ff)
                    .zip(mlp.par_chunks_exact_mut(ff))
                    .for_each(gate);
            } else {
                gate_up
                    .chunks_exact(2 * ff)
                    .zip(mlp.chunks_exact_mut(ff))
                    .for_each(gate);
            }
            linear(&layer.w_down, &mlp, n, &mut scratch, &self.pool, &mut o);
            if let Some(w) = &layer.post_ffn_norm {
                rms_norm_rows_in_place(&mut o, w, cfg.eps);
            }
            add_in_place(&mut x, &o, n);
        }
        // Keep the prompt-sized scratch only while it is small; a long prompt's is given back.
        if scratch.bytes() <= 8 << 20 {
            self.scratch = scratch;
        }
        self.cached += n;

        // Logits of the last position only.
        rms_norm(&x[(n - 1) * dim..], &self.out_norm, cfg.eps, &mut normed);
        let head = self.lm_head.as_ref().unwrap_or(&self.embed);
        let mut logits = vec![0f32; head.rows()];
        matvec(
            head,
            Activation::for_matrix(&normed, head),
            &self.pool,
            &mut logits,
        );
        Ok(Some(logits))
    }
}

/// `out = m · x` for one activation vector, the rows split evenly over the spinning pool.
fn matvec(m: &Arc<QMatrix>, x: Activation, pool: &SpinPool, out: &mut [f32]) {
    let rows = m.rows();
    let per_part = rows.div_ceil(pool.parts());
    let (matrix, x) = (m.clone(), Arc::new(x));
    let parts = pool.run(Arc::new(move |part| {
        let start = (part * per_part).min(rows);
        let end = ((part + 1) * per_part).min(rows);
        let mut out = vec![0f32; end - start];
        matrix.dot_rows(start, &x, &mut out);
        out
    }));
    let mut at = 0;
    for part in parts {
        out[at..at + part.len()].copy_from_slice(&part);
        at += part.len();
    }
}

/// Buffers a prompt batch's products reuse from one matrix to the next.
#[derive(Default)]
struct Scratch {
    /// A dequantized matrix, where the f32 GEMM runs.
    floats: Vec<f32>,
    /// The integer path's batch and products.
    panel: panel::Scratch,
}

impl Scratch {
    fn bytes(&self) -> usize {
        self.floats.capacity() * 4 + self.panel.bytes()
    }
}

/// Cached positions from which a decoding step's attention is split over the threads.
const SPLIT_CONTEXT: usize = 256;

/// Prompts of at least this many tokens take the batch path (8-bit panels, or dequantize and GEMM).
const BATCH_MIN_TOKENS: usize = 8;

/// `out = x · mᵀ` for `n` rows of `x`.
fn linear(
    m: &Arc<QMatrix>,
    x: &[f32],
    n: usize,
    scratch: &mut Scratch,
    pool: &SpinPool,
    out: &mut [f32],
) {
    let (rows, cols) = (m.rows(), m.cols());
    if n >= BATCH_MIN_TOKENS {
        match quant::best_panel_tile() {
            Some(tile) if panel::packable(m) => {
                panel::matmul(m, x, n, tile, &mut scratch.panel, out)
            }
            _ => matmul_f32(m, x, n, &mut scratch.floats, out),
        }
    } else if n == 1 {
        matvec(m, Activation::for_matrix(&x[..cols], m), pool, out);
    } else {
        let acts: Vec<Activation> = x
            .chunks_exact(cols)
            .map(|row| Activation::for_matrix(row, m))
            .collect();
        // Rows in chunks, each chunk a task; every token of the batch meets a row while it is hot.
        let chunk = (rows / (4 * rayon::current_num_threads())).clamp(16, 512);
        let mut by_row = vec![0f32; rows * n];
        by_row
            .par_chunks_mut(chunk * n)
            .enumerate()
            .for_each(|(c, dst)| {
                for (i, row_out) in dst.chunks_exact_mut(n).enumerate() {
                    for (o, act) in row_out.iter_mut().zip(&acts) {
                        *o = m.dot_row(c * chunk + i, act);
                    }
                }
            });
        // [row][token] → [token][row]
        for (r, vals) in by_row.chunks_exact(n).enumerate() {
            for (t, v) in vals.iter().enumerate() {
                out[t * rows + r] = *v;
            }
        }
    }
}

/// `out[t][r] = row_r · x_t` for `n` float activation vectors `xs` (`n × cols`), by dequantizing
/// the matrix into `scratch` and running an f32 GEMM: for prompts, where each weight meets many
/// tokens, the float kernels' throughput beats integer dot products.
fn matmul_f32(m: &QMatrix, xs: &[f32], n: usize, scratch: &mut Vec<f32>, out: &mut [f32]) {
    let (rows, cols) = (m.rows(), m.cols());
    scratch.resize(rows * cols, 0.0);
    scratch
        .par_chunks_mut(cols * 64)
        .enumerate()
        .for_each(|(c, dst)| {
            for (i, row) in dst.chunks_exact_mut(cols).enumerate() {
                m.row_f32(c * 64 + i, row);
            }
        });
    let a = Matrix::new(xs, n, cols, cols, 1);
    let b = Matrix::new(scratch, cols, rows, 1, cols);
    matmul_with(
        a,
        b,
        1.0,
        &mut out[..n * rows],
        gemm::Parallelism::Rayon(rayon::current_num_threads()),
    );
}

/// Each `weight.len()`-long row of `xs`, normalized into `out`.
fn rms_norm(xs: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let dim = weight.len();
    let rows = xs.len() / dim;
    let norm = |(o, x): (&mut [f32], &[f32])| {
        let scale = rms_scale(x, eps);
        for ((o, x), w) in o.iter_mut().zip(x).zip(weight) {
            *o = x * scale * w;
        }
    };
    let out = &mut out[..rows * dim];
    if rows >= PARALLEL_ROWS {
        out.par_chunks_mut(dim)
            .zip(xs.par_chunks_exact(dim))
            .for_each(norm);
    } else {
        out.chunks_mut(dim).zip(xs.chunks_exact(dim)).for_each(norm);
    }
}

/// [`rms_norm`] of each `weight.len()`-long row of `xs`, in place.
fn rms_norm_rows_in_place(xs: &mut [f32], weight: &[f32], eps: f32) {
    let norm = |row: &mut [f32]| rms_norm_in_place(row, weight, eps);
    if xs.len() / weight.len() >= PARALLEL_ROWS {
        xs.par_chunks_exact_mut(weight.len()).for_each(norm);
    } else {
        xs.chunks_exact_mut(weight.len()).for_each(norm);
    }
}

/// `x += o`.
fn add_in_place(x: &mut [f32], o: &[f32], rows: usize) {
    if rows >= PARALLEL_ROWS {
        x.par_iter_mut().zip(o).for_each(|(a, b)| *a += b);
    } else {
        x.iter_mut().zip(o).for_each(|(a, b)| *a += b);
    }
}

/// Rows from which the elementwise steps of a batch are split over the threads: below, handing
/// out the work costs more than it saves (and a decoded token is one row).
const PARALLEL_ROWS: usize = 8;

fn rms_norm_in_place(x: &mut [f32], weight: &[f32], eps: f32) {
    let scale = rms_scale(x, eps);
    for (x, w) in x.iter_mut().zip(weight) {
        *x *= scale * w;
    }
}

/// `1 / √(mean(x²) + eps)`, the mean summed in double precision as ggml sums it.
fn rms_scale(x: &[f32], eps: f32) -> f32 {
    let sum: f64 = x.iter().map(|v| f64::from(v * v)).sum();
    1.0 / ((sum / x.len() as f64) as f32 + eps).sqrt()
}

/// `x · sigmoid(x)`, with the vectorisable `exp` (defined for arguments ≤ 0: `e = exp(-|x|)`, and
/// sigmoid is `1 / (1 + e)` or `e / (1 + e)` by the sign).
#[inline(always)]
fn silu(x: f32) -> f32 {
    let e = exp(-x.abs());
    let sigmoid = if x >= 0.0 { 1.0 } else { e } / (1.0 + e);
    x * sigmoid
}

/// GELU's tanh approximation, `x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)))`, at the precision
/// ggml computes it on a CPU: through a table of half-precision values (input and output rounded to
/// f16; 0 below -10, `x` above 10). Gemma's feed-forward passes its gate through it, and the same
/// rounding keeps the runtime's logits with the reference's.
#[inline(always)]
fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    if x <= -10.0 {
        return 0.0;
    }
    if x >= 10.0 {
        return x;
    }
    let x = half::f16::from_f32(x).to_f32();
    let u = SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x);
    let y = 0.5 * x * (1.0 + u.tanh());
    half::f16::from_f32(y).to_f32()
}

/// A float dot product in eight independent lanes, so the compiler vectorises it (a single running
/// sum is a serial chain it may not reorder).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Rotates the first `dims` dimensions of one head by the angles whose cos and sin are given.
fn rotate(head: &mut [f32], cos: &[f32], sin: &[f32], style: RopeStyle, dims: usize) {
    let half = dims / 2;
    for i in 0..half {
        let (a, b) = match style {
            RopeStyle::Pairs => (2 * i, 2 * i + 1),
            RopeStyle::Halves => (i, i + half),
        };
        let (x, y) = (head[a], head[b]);
        head[a] = x * cos[i] - y * sin[i];
        head[b] = x * sin[i] + y * cos[i];
    }
}

/// The positions a batch of queries covers and how far back each may look.
#[derive(Clone, Copy)]
struct Span {
    /// Position of the first new token.
    pos0: usize,
    /// New tokens.
    n: usize,
    /// A sliding window: keys at most this many positions back, counting the query's own.
    window: Option<usize>,
}

impl Span {
    /// Keys `[first, last]` visible to new token `t`.
    fn visible(&self, t: usize) -> (usize, usize) {
        let last = self.pos0 + t;
        let first = self.window.map_or(0, |w| (last + 1).saturating_sub(w));
        (first, last)
    }
}

/// Causal attention of the new positions over the cache, grouped-query.
fn attention(
    cfg: &TransformerConfig,
    qkv: &[f32],
    k: &[f32],
    v: &[f32],
    span: Span,
    pool: &SpinPool,
    out: &mut [f32],
) {
    let (hd, _, kv_dim, qkv_dim, group) = cfg.attention_shape();
    let scale = cfg.facts.attention_scale;
    let head = |scores: &mut Vec<f32>, (i, o): (usize, &mut [f32])| {
        let (t, head) = (i / cfg.n_head, i % cfg.n_head);
        let kv_head = head / group;
        let q = &qkv[t * qkv_dim + head * hd..t * qkv_dim + (head + 1) * hd];
        let (first, last) = span.visible(t);
        scores.clear();
        let mut max = f32::NEG_INFINITY;
        for p in first..=last {
            let kp = &k[p * kv_dim + kv_head * hd..p * kv_dim + (kv_head + 1) * hd];
            let s = dot(q, kp) * scale;
            max = max.max(s);
            scores.push(s);
        }
        let mut total = 0f32;
        for s in scores.iter_mut() {
            *s = (*s - max).exp();
            total += *s;
        }
        o.fill(0.0);
        for (p, s) in (first..=last).zip(scores.iter()) {
            let w = s / total;
            let vp = &v[p * kv_dim + kv_head * hd..p * kv_dim + (kv_head + 1) * hd];
            for (o, v) in o.iter_mut().zip(vp) {
                *o += w * v;
            }
        }
    };
    if span.n == 1 && span.pos0 + 1 >= SPLIT_CONTEXT && pool.parts() > 1 {
        // Decoding over a long cache: the heads split over the spinning pool (rayon's threads
        // sleep between tokens, and waking them costs more than a short cache's attention).
        let (heads, parts) = (cfg.n_head, pool.parts());
        let job = |part: usize| {
            let (from, to) = (part * heads / parts, (part + 1) * heads / parts);
            let mut mine = vec![0f32; (to - from) * hd];
            let mut scores = Vec::with_capacity(span.pos0 + 1);
            for (h, o) in (from..to).zip(mine.chunks_mut(hd)) {
                head(&mut scores, (h, o));
            }
            mine
        };
        let mut at = 0;
        for part in pool.run_scoped(&job) {
            out[at..at + part.len()].copy_from_slice(&part);
            at += part.len();
        }
    } else if span.n == 1 {
        // Decoding over a short cache: a few heads cost less than handing them out.
        let mut scores = Vec::with_capacity(span.pos0 + 1);
        out.chunks_mut(hd)
            .enumerate()
            .for_each(|item| head(&mut scores, item));
    } else {
        // One task per (token, head).
        out.par_chunks_mut(hd)
            .enumerate()
            .with_min_len(4)
            .for_each_init(|| Vec::with_capacity(span.pos0 + span.n), head);
    }
}

/// Causal attention of a prompt batch as two GEMMs per head (scores = Q·Kᵀ, out = P·V), the heads
/// spread over rayon's threads. Masked scores are computed and zeroed: at prompt sizes the GEMM's
/// throughput more than pays for them.
fn attention_gemm(
    cfg: &TransformerConfig,
    qkv: &[f32],
    k: &[f32],
    v: &[f32],
    span: Span,
    out: &mut [f32],
) {
    let (hd, q_dim, kv_dim, qkv_dim, group) = cfg.attention_shape();
    let (n, len) = (span.n, span.pos0 + span.n);
    let scale = cfg.facts.attention_scale;
    let heads: Vec<Vec<f32>> = (0..cfg.n_head)
        .into_par_iter()
        .map(|head| {
            let kv_head = head / group;
            let q = Matrix::new(&qkv[head * hd..], n, hd, qkv_dim, 1);
            let kt = Matrix::new(&k[kv_head * hd..], hd, len, 1, kv_dim);
            let mut scores = vec![0f32; n * len];
            matmul_with(q, kt, scale, &mut scores, gemm::Parallelism::None);
            for (t, row) in scores.chunks_exact_mut(len).enumerate() {
                let (first, last) = span.visible(t);
                softmax_in_place(&mut row[first..=last]);
                row[..first].fill(0.0);
                row[last + 1..].fill(0.0);
            }
            let p = Matrix::new(&scores, n, len, len, 1);
            let vm = Matrix::new(&v[kv_head * hd..], len, hd, kv_dim, 1);
            let mut o = vec![0f32; n * hd];
            matmul_with(p, vm, 1.0, &mut o, gemm::Parallelism::None);
            o
        })
        .collect();
    for (head, o) in heads.iter().enumerate() {
        for (t, row) in o.chunks_exact(hd).enumerate() {
            out[t * q_dim + head * hd..t * q_dim + (head + 1) * hd].copy_from_slice(row);
        }
    }
}
