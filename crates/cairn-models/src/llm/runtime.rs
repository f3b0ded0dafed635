//! The CPU runtime for llama-family GGUF models.
//!
//! candle's quantized llama runs every model on every device, but on a CPU it pays per-operation
//! overhead and, for Q4_1 (the default model's format), has no SIMD kernel and no batched prefill.
//! This runtime keeps the file's 4-bit (Q4_0/Q4_1) and 8-bit (Q8_0) blocks as they are, converts any
//! other format to 8-bit blocks once at load, and runs each layer as a few fused quantized
//! matrix products ([`super::kernels`]) over all prompt tokens at once, on rayon's threads. Its logits
//! are checked against candle's own model in the tests.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Device;
use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::{GgmlDType, QTensor};
use half::f16;
use rayon::prelude::*;

use super::decoder::{Decoder, LlamaConfig};
use super::kernels::{
    ActBlock, BLOCK, BlockQ4, BlockQ8, dot_q4, dot_q8, quantize_act, quantize_q8,
};
use super::pool::SpinPool;
use crate::Result;
use crate::error::bad_file;
use crate::matrix::{Matrix, exp, matmul_with, softmax_in_place};

/// A weight matrix of `rows × cols`, row-major, in quantized blocks along each row.
enum QMatrix {
    Q4 {
        rows: usize,
        cols: usize,
        blocks: Vec<BlockQ4>,
    },
    Q8 {
        rows: usize,
        cols: usize,
        blocks: Vec<BlockQ8>,
    },
}

impl QMatrix {
    fn rows(&self) -> usize {
        match self {
            Self::Q4 { rows, .. } | Self::Q8 { rows, .. } => *rows,
        }
    }

    fn cols(&self) -> usize {
        match self {
            Self::Q4 { cols, .. } | Self::Q8 { cols, .. } => *cols,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Self::Q4 { blocks, .. } => blocks.len() * size_of::<BlockQ4>(),
            Self::Q8 { blocks, .. } => blocks.len() * size_of::<BlockQ8>(),
        }
    }

    /// Stacks matrices with the same column count into one (fused projections).
    fn concat(parts: Vec<QMatrix>) -> QMatrix {
        let cols = parts[0].cols();
        let rows = parts.iter().map(QMatrix::rows).sum();
        if parts.iter().all(|p| matches!(p, Self::Q4 { .. })) {
            let blocks = parts
                .into_iter()
                .flat_map(|p| match p {
                    Self::Q4 { blocks, .. } => blocks,
                    Self::Q8 { .. } => unreachable!(),
                })
                .collect();
            Self::Q4 { rows, cols, blocks }
        } else {
            let blocks = parts.into_iter().flat_map(|p| p.into_q8_blocks()).collect();
            Self::Q8 { rows, cols, blocks }
        }
    }

    fn into_q8_blocks(self) -> Vec<BlockQ8> {
        match self {
            Self::Q8 { blocks, .. } => blocks,
            Self::Q4 { rows, cols, .. } => {
                let mut row = vec![0f32; cols];
                let mut out = Vec::with_capacity(rows * cols / BLOCK);
                for r in 0..rows {
                    self.row_f32(r, &mut row);
                    out.extend(quantize_q8(&row));
                }
                out
            }
        }
    }

    /// Row `r` as floats.
    fn row_f32(&self, r: usize, out: &mut [f32]) {
        match self {
            Self::Q4 { cols, blocks, .. } => {
                let per_row = cols / BLOCK;
                for (b, chunk) in blocks[r * per_row..(r + 1) * per_row]
                    .iter()
                    .zip(out.chunks_exact_mut(BLOCK))
                {
                    for j in 0..16 {
                        chunk[j] = b.d * f32::from(b.qs[j] & 0x0f) + b.m;
                        chunk[j + 16] = b.d * f32::from(b.qs[j] >> 4) + b.m;
                    }
                }
            }
            Self::Q8 { cols, blocks, .. } => {
                let per_row = cols / BLOCK;
                for (b, chunk) in blocks[r * per_row..(r + 1) * per_row]
                    .iter()
                    .zip(out.chunks_exact_mut(BLOCK))
                {
                    for (o, q) in chunk.iter_mut().zip(b.qs) {
                        *o = b.d * f32::from(q);
                    }
                }
            }
        }
    }

    /// `out[t][r] = row_r · x_t` for `n` float activation vectors `xs` (`n × cols`), by dequantizing
    /// the matrix into `scratch` and running an f32 GEMM: for prompts, where each weight meets many
    /// tokens, the float kernels' throughput beats integer dot products.
    fn matmul_f32(&self, xs: &[f32], n: usize, scratch: &mut Vec<f32>, out: &mut [f32]) {
        let (rows, cols) = (self.rows(), self.cols());
        scratch.resize(rows * cols, 0.0);
        scratch
            .par_chunks_mut(cols * 64)
            .enumerate()
            .for_each(|(c, dst)| {
                for (i, row) in dst.chunks_exact_mut(cols).enumerate() {
                    self.row_f32(c * 64 + i, row);
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

    /// Row `r` · the quantized vector `x`.
    fn dot_row(&self, r: usize, x: &[ActBlock]) -> f32 {
        let per_row = self.cols() / BLOCK;
        match self {
            Self::Q4 { blocks, .. } => dot_q4(&blocks[r * per_row..(r + 1) * per_row], x),
            Self::Q8 { blocks, .. } => dot_q8(&blocks[r * per_row..(r + 1) * per_row], x),
        }
    }

    /// `out[t][r] = row_r · x_t` for a few (`n`) quantized activation vectors `xs` (each `cols / 32`
    /// blocks): short prompts. Single tokens go through [`matvec`], long prompts through
    /// [`QMatrix::matmul_f32`].
    fn matmul(&self, xs: &[ActBlock], n: usize, out: &mut [f32]) {
        let (rows, per_row) = (self.rows(), self.cols() / BLOCK);
        debug_assert_eq!(xs.len(), n * per_row);
        debug_assert_eq!(out.len(), n * rows);
        // Rows in chunks, each chunk a task; every token of the batch meets a row while it is hot.
        let chunk = (rows / (4 * rayon::current_num_threads())).clamp(16, 512);
        let mut by_row = vec![0f32; rows * n];
        by_row
            .par_chunks_mut(chunk * n)
            .enumerate()
            .for_each(|(c, dst)| {
                for (i, row_out) in dst.chunks_exact_mut(n).enumerate() {
                    for (t, o) in row_out.iter_mut().enumerate() {
                        *o = self.dot_row(c * chunk + i, &xs[t * per_row..(t + 1) * per_row]);
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

struct Layer {
    attn_norm: Vec<f32>,
    wqkv: Arc<QMatrix>,
    wo: Arc<QMatrix>,
    ffn_norm: Vec<f32>,
    /// Gate rows, then up rows.
    w_gate_up: Arc<QMatrix>,
    w_down: Arc<QMatrix>,
}

/// A llama-family model on the CPU, with its KV cache.
pub struct CpuLlama {
    cfg: LlamaConfig,
    embed: Arc<QMatrix>,
    /// `None`: the output projection is the embedding matrix (tied).
    lm_head: Option<Arc<QMatrix>>,
    layers: Vec<Layer>,
    out_norm: Vec<f32>,
    /// Per layer: keys and values of every cached position, `[pos][kv_dim]`.
    k_cache: Vec<Vec<f32>>,
    v_cache: Vec<Vec<f32>>,
    cached: usize,
    /// `[pos][head_dim / 2]` cos and sin, grown on demand.
    rope_cos: Vec<f32>,
    rope_sin: Vec<f32>,
    /// Dequantized weights of one matrix, for prompt batches.
    scratch: Vec<f32>,
    /// Threads for single-token products.
    pool: SpinPool,
}

impl CpuLlama {
    /// Loads the weights of a llama-family GGUF.
    pub fn load(path: &Path, content: &Content, file: &mut std::fs::File) -> Result<Self> {
        let cfg = LlamaConfig::from_gguf(path, content)?;
        let mut norms = Vec::with_capacity(2 * cfg.n_layer);
        for i in 0..cfg.n_layer {
            norms.push(vector(
                path,
                &format!("blk.{i}.attn_norm.weight"),
                content,
                file,
            )?);
            norms.push(vector(
                path,
                &format!("blk.{i}.ffn_norm.weight"),
                content,
                file,
            )?);
        }
        let out_norm = vector(path, "output_norm.weight", content, file)?;
        let mut norms = norms.into_iter();
        let mut tensor = |name: &str| -> Result<QTensor> {
            content
                .tensor(file, name, &Device::Cpu)
                .map_err(|e| bad_file(path, format!("tensor {name}: {e}")))
        };
        let mut matrix = |name: &str| -> Result<QMatrix> { to_qmatrix(path, name, tensor(name)?) };
        let embed = Arc::new(matrix("token_embd.weight")?);
        let lm_head = if content.tensor_infos.contains_key("output.weight") {
            Some(Arc::new(matrix("output.weight")?))
        } else {
            None
        };
        let mut layers = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let p = format!("blk.{i}");
            let wqkv = Arc::new(QMatrix::concat(vec![
                matrix(&format!("{p}.attn_q.weight"))?,
                matrix(&format!("{p}.attn_k.weight"))?,
                matrix(&format!("{p}.attn_v.weight"))?,
            ]));
            let w_gate_up = Arc::new(QMatrix::concat(vec![
                matrix(&format!("{p}.ffn_gate.weight"))?,
                matrix(&format!("{p}.ffn_up.weight"))?,
            ]));
            layers.push(Layer {
                attn_norm: norms.next().expect("two norms per layer"),
                wqkv,
                wo: Arc::new(matrix(&format!("{p}.attn_output.weight"))?),
                ffn_norm: norms.next().expect("two norms per layer"),
                w_gate_up,
                w_down: Arc::new(matrix(&format!("{p}.ffn_down.weight"))?),
            });
        }
        let n_layer = cfg.n_layer;
        Ok(Self {
            cfg,
            embed,
            lm_head,
            layers,
            out_norm,
            k_cache: vec![Vec::new(); n_layer],
            v_cache: vec![Vec::new(); n_layer],
            cached: 0,
            rope_cos: Vec::new(),
            rope_sin: Vec::new(),
            scratch: Vec::new(),
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

    fn grow_rope(&mut self, len: usize) {
        let half = self.cfg.head_dim / 2;
        let have = self.rope_cos.len() / half;
        if have >= len {
            return;
        }
        let len = len.next_power_of_two();
        for pos in have..len {
            for i in 0..half {
                let theta = self
                    .cfg
                    .rope_base
                    .powf(-2.0 * i as f32 / self.cfg.head_dim as f32);
                let angle = pos as f32 * theta;
                self.rope_cos.push(angle.cos());
                self.rope_sin.push(angle.sin());
            }
        }
    }
}

impl Decoder for CpuLlama {
    fn config(&self) -> &LlamaConfig {
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
        let (q_dim, kv_dim) = (cfg.n_head * hd, cfg.n_kv_head * hd);
        let qkv_dim = q_dim + 2 * kv_dim;
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
        }
        let mut h = vec![0f32; n * dim];
        let mut act = vec![ActBlock::default(); n * dim.max(ff) / BLOCK];
        let mut qkv = vec![0f32; n * qkv_dim];
        let mut att = vec![0f32; n * q_dim];
        let mut o = vec![0f32; n * dim];
        let mut gate_up = vec![0f32; n * 2 * ff];
        let mut mlp = vec![0f32; n * ff];

        let mut scratch = std::mem::take(&mut self.scratch);
        for (li, layer) in self.layers.iter().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                self.scratch = scratch;
                self.truncate(pos0);
                return Ok(None);
            }
            rms_norm(&x, &layer.attn_norm, cfg.eps, &mut h);
            linear(
                &layer.wqkv,
                &h,
                n,
                &mut act,
                &mut scratch,
                &self.pool,
                &mut qkv,
            );
            // RoPE on q and k (pairs of neighbours, as llama GGUFs store them), then cache k and v.
            for (t, row) in qkv.chunks_exact_mut(qkv_dim).enumerate() {
                let pos = pos0 + t;
                let (cos, sin) = (
                    &self.rope_cos[pos * hd / 2..(pos + 1) * hd / 2],
                    &self.rope_sin[pos * hd / 2..(pos + 1) * hd / 2],
                );
                for head in row[..q_dim + kv_dim].chunks_exact_mut(hd) {
                    rope(head, cos, sin);
                }
                self.k_cache[li].extend_from_slice(&row[q_dim..q_dim + kv_dim]);
                self.v_cache[li].extend_from_slice(&row[q_dim + kv_dim..]);
            }
            let (k, v) = (&self.k_cache[li], &self.v_cache[li]);
            if n >= F32_MIN_TOKENS {
                attention_gemm(&cfg, &qkv, k, v, pos0, n, &mut att);
            } else {
                attention(&cfg, &qkv, k, v, pos0, n, &mut att);
            }
            linear(
                &layer.wo,
                &att,
                n,
                &mut act,
                &mut scratch,
                &self.pool,
                &mut o,
            );
            x.iter_mut().zip(&o).for_each(|(a, b)| *a += b);

            rms_norm(&x, &layer.ffn_norm, cfg.eps, &mut h);
            linear(
                &layer.w_gate_up,
                &h,
                n,
                &mut act,
                &mut scratch,
                &self.pool,
                &mut gate_up,
            );
            for (gu, m) in gate_up.chunks_exact(2 * ff).zip(mlp.chunks_exact_mut(ff)) {
                let (g, u) = gu.split_at(ff);
                for ((m, g), u) in m.iter_mut().zip(g).zip(u) {
                    *m = silu(*g) * u;
                }
            }
            linear(
                &layer.w_down,
                &mlp,
                n,
                &mut act,
                &mut scratch,
                &self.pool,
                &mut o,
            );
            x.iter_mut().zip(&o).for_each(|(a, b)| *a += b);
        }
        // Keep the prompt-sized scratch only while it is small; a long prompt's is given back.
        if scratch.capacity() <= 8 << 20 {
            self.scratch = scratch;
        }
        self.cached += n;

        // Logits of the last position only.
        let last = &x[(n - 1) * dim..];
        let mut normed = vec![0f32; dim];
        rms_norm(last, &self.out_norm, cfg.eps, &mut normed);
        quantize_act(&normed, &mut act[..dim / BLOCK]);
        let head = self.lm_head.as_ref().unwrap_or(&self.embed);
        let mut logits = vec![0f32; head.rows()];
        matvec(head, &act[..dim / BLOCK], &self.pool, &mut logits);
        Ok(Some(logits))
    }
}

/// `out = m · x` for one quantized vector, the rows split evenly over the spinning pool.
fn matvec(m: &Arc<QMatrix>, x: &[ActBlock], pool: &SpinPool, out: &mut [f32]) {
    let rows = m.rows();
    let per_part = rows.div_ceil(pool.parts());
    let (matrix, x) = (m.clone(), Arc::new(x.to_vec()));
    let parts = pool.run(Arc::new(move |part| {
        let start = (part * per_part).min(rows);
        let end = ((part + 1) * per_part).min(rows);
        (start..end).map(|r| matrix.dot_row(r, &x)).collect()
    }));
    let mut at = 0;
    for part in parts {
        out[at..at + part.len()].copy_from_slice(&part);
        at += part.len();
    }
}

/// Prompts of at least this many tokens take the dequantize-and-GEMM path.
const F32_MIN_TOKENS: usize = 8;

/// `out = x · mᵀ` for `n` rows of `x`.
fn linear(
    m: &Arc<QMatrix>,
    x: &[f32],
    n: usize,
    act: &mut [ActBlock],
    scratch: &mut Vec<f32>,
    pool: &SpinPool,
    out: &mut [f32],
) {
    if n >= F32_MIN_TOKENS {
        m.matmul_f32(x, n, scratch, out);
    } else if n == 1 {
        let width = m.cols();
        quantize_act(x, &mut act[..width / BLOCK]);
        matvec(m, &act[..width / BLOCK], pool, out);
    } else {
        let width = m.cols();
        quantize_rows(x, width, act);
        m.matmul(&act[..n * width / BLOCK], n, out);
    }
}

fn quantize_rows(xs: &[f32], width: usize, out: &mut [ActBlock]) {
    let per_row = width / BLOCK;
    out[..xs.len() / BLOCK]
        .par_chunks_mut(per_row)
        .zip(xs.par_chunks(width))
        .with_min_len(8)
        .for_each(|(o, x)| quantize_act(x, o));
}

fn rms_norm(xs: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let dim = weight.len();
    for (x, o) in xs.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        let ms = dot(x, x) / dim as f32;
        let scale = 1.0 / (ms + eps).sqrt();
        for ((o, x), w) in o.iter_mut().zip(x).zip(weight) {
            *o = x * scale * w;
        }
    }
}

/// `x · sigmoid(x)`, with the vectorisable `exp` (defined for arguments ≤ 0: `e = exp(-|x|)`, and
/// sigmoid is `1 / (1 + e)` or `e / (1 + e)` by the sign).
#[inline(always)]
fn silu(x: f32) -> f32 {
    let e = exp(-x.abs());
    let sigmoid = if x >= 0.0 { 1.0 } else { e } / (1.0 + e);
    x * sigmoid
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

fn rope(head: &mut [f32], cos: &[f32], sin: &[f32]) {
    for (pair, (c, s)) in head.chunks_exact_mut(2).zip(cos.iter().zip(sin)) {
        let (a, b) = (pair[0], pair[1]);
        pair[0] = a * c - b * s;
        pair[1] = a * s + b * c;
    }
}

/// Causal attention of `n` new positions (starting at `pos0`) over the cache, grouped-query.
fn attention(
    cfg: &LlamaConfig,
    qkv: &[f32],
    k: &[f32],
    v: &[f32],
    pos0: usize,
    n: usize,
    out: &mut [f32],
) {
    let (hd, _, kv_dim, qkv_dim, group) = cfg.attention_shape();
    let scale = 1.0 / (hd as f32).sqrt();
    // One task per (token, head).
    out.par_chunks_mut(hd)
        .enumerate()
        .with_min_len(4)
        .for_each_init(
            || Vec::with_capacity(pos0 + n),
            |scores: &mut Vec<f32>, (i, o)| {
                let (t, head) = (i / cfg.n_head, i % cfg.n_head);
                let kv_head = head / group;
                let q = &qkv[t * qkv_dim + head * hd..t * qkv_dim + (head + 1) * hd];
                let visible = pos0 + t + 1;
                scores.clear();
                let mut max = f32::NEG_INFINITY;
                for p in 0..visible {
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
                for (p, s) in scores.iter().enumerate() {
                    let w = s / total;
                    let vp = &v[p * kv_dim + kv_head * hd..p * kv_dim + (kv_head + 1) * hd];
                    for (o, v) in o.iter_mut().zip(vp) {
                        *o += w * v;
                    }
                }
            },
        );
}

/// Causal attention of a prompt batch as two GEMMs per head (scores = Q·Kᵀ, out = P·V), the heads
/// spread over rayon's threads. Masked scores are computed and zeroed: at prompt sizes the GEMM's
/// throughput more than pays for them.
fn attention_gemm(
    cfg: &LlamaConfig,
    qkv: &[f32],
    k: &[f32],
    v: &[f32],
    pos0: usize,
    n: usize,
    out: &mut [f32],
) {
    let (hd, q_dim, kv_dim, qkv_dim, group) = cfg.attention_shape();
    let len = pos0 + n;
    let scale = 1.0 / (hd as f32).sqrt();
    let heads: Vec<Vec<f32>> = (0..cfg.n_head)
        .into_par_iter()
        .map(|head| {
            let kv_head = head / group;
            let q = Matrix::new(&qkv[head * hd..], n, hd, qkv_dim, 1);
            let kt = Matrix::new(&k[kv_head * hd..], hd, len, 1, kv_dim);
            let mut scores = vec![0f32; n * len];
            matmul_with(q, kt, scale, &mut scores, gemm::Parallelism::None);
            for (t, row) in scores.chunks_exact_mut(len).enumerate() {
                let visible = pos0 + t + 1;
                softmax_in_place(&mut row[..visible]);
                row[visible..].fill(0.0);
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

/// A GGUF tensor as blocks this runtime computes with.
fn to_qmatrix(path: &Path, name: &str, t: QTensor) -> Result<QMatrix> {
    let dims = t.shape().dims().to_vec();
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        _ => {
            return Err(bad_file(
                path,
                format!("tensor {name} has shape {dims:?}, not a matrix"),
            ));
        }
    };
    if cols % BLOCK != 0 {
        return Err(bad_file(
            path,
            format!("tensor {name}: {cols} columns is not a multiple of {BLOCK}"),
        ));
    }
    let data = t
        .data()
        .map_err(|e| bad_file(path, format!("tensor {name}: {e}")))?;
    let f16_at = |b: &[u8]| f16::from_le_bytes([b[0], b[1]]).to_f32();
    Ok(match t.dtype() {
        GgmlDType::Q4_1 => QMatrix::Q4 {
            rows,
            cols,
            blocks: data
                .chunks_exact(20)
                .map(|b| BlockQ4 {
                    d: f16_at(&b[0..2]),
                    m: f16_at(&b[2..4]),
                    qs: b[4..20].try_into().expect("16 bytes"),
                })
                .collect(),
        },
        GgmlDType::Q4_0 => QMatrix::Q4 {
            rows,
            cols,
            blocks: data
                .chunks_exact(18)
                .map(|b| {
                    let d = f16_at(&b[0..2]);
                    BlockQ4 {
                        d,
                        m: -8.0 * d,
                        qs: b[2..18].try_into().expect("16 bytes"),
                    }
                })
                .collect(),
        },
        GgmlDType::Q8_0 => QMatrix::Q8 {
            rows,
            cols,
            blocks: data
                .chunks_exact(34)
                .map(|b| BlockQ8 {
                    d: f16_at(&b[0..2]),
                    qs: std::array::from_fn(|i| b[2 + i] as i8),
                })
                .collect(),
        },
        _ => {
            // Any other format (F16, F32, K-quants): to floats, then once to 8-bit blocks.
            let floats = t
                .dequantize(&Device::Cpu)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| bad_file(path, format!("tensor {name}: {e}")))?;
            QMatrix::Q8 {
                rows,
                cols,
                blocks: quantize_q8(&floats),
            }
        }
    })
}

fn vector(
    path: &Path,
    name: &str,
    content: &Content,
    file: &mut std::fs::File,
) -> Result<Vec<f32>> {
    content
        .tensor(file, name, &Device::Cpu)
        .and_then(|t| t.dequantize(&Device::Cpu))
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(|e| bad_file(path, format!("tensor {name}: {e}")))
}
