//! The CPU encoder's linear layers in 8-bit integers.
//!
//! Each weight row is quantized at load to signed bytes with a scale per [`Packed::group`] values
//! (128 where the row allows); each product quantizes its input tokens the same way, and the two
//! meet in integer multiply-adds that sum a whole group before one float step: on AVX-512 VNNI
//! ([`vnni`]) one `vpdpbusd` multiplies four bytes of each of 16 rows by four bytes of one token and
//! adds them to 16 sums, 64 products an instruction where f32 FMA does 16; on AVX-VNNI without
//! AVX-512 ([`avx_vnni`], most laptops since Alder Lake) the same on 256-bit registers.
//!
//! `vpdpbusd` multiplies unsigned bytes by signed ones, so weights are stored shifted into
//! `0..=254` (`q + 128`); the shift comes back out through each token's byte sum per group:
//! `Σ (q + 128)·x = Σ q·x + 128·Σ x`.
//!
//! Invariants:
//! - **Same model, same vectors within rounding.** A scale per 128 values on both sides keeps
//!   MiniLM's sentence vectors at cosine ≥ 0.99 to the f32 ones (`tests/models.rs` checks it on
//!   the evaluation passages), so an index built with either precision serves the other: the
//!   embedder's fingerprint names the model, not the arithmetic.
//! - **The kernel fits the CPU.** [`Precision::Auto`] takes int8 only where the CPU has the VNNI
//!   kernel; elsewhere f32's GEMM is faster than integer arithmetic without it. [`Precision::Int8`]
//!   asked for on such a CPU runs [`tile_scalar`], the definition of the same kernel: the same
//!   numbers to the bit, slowly.
//! - **Integer sums cannot overflow:** a group is at most 128 products of at most 254 · 127.

use std::sync::Mutex;

use crate::vnni_limit::{VnniLimit, fastest_allowed};

use candle_core::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::matrix::round_small;

/// The arithmetic of the CPU encoder's matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Int8 where the CPU has an integer kernel that beats f32 (AVX-512 VNNI), f32 elsewhere.
    #[default]
    Auto,
    /// Single-precision floats.
    F32,
    /// 8-bit integer products with a scale per 128 values.
    Int8,
}

impl Precision {
    /// What this comes to on this CPU: [`Precision::F32`] or [`Precision::Int8`].
    pub fn resolve(self) -> Precision {
        match self {
            Precision::Auto if fast_tile().is_some() => Precision::Int8,
            Precision::Auto => Precision::F32,
            chosen => chosen,
        }
    }

    /// `auto`, `f32` or `int8`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
        }
    }
}

/// Rows in a panel: one 512-bit register of 32-bit sums.
pub(crate) const ROWS: usize = 16;
/// Tokens a kernel call carries at once (its sums fill the registers).
pub(crate) const TOKENS: usize = 8;
/// Tokens of one parallel task: every panel meets them while they are in cache.
const BLOCK_TOKENS: usize = 4 * TOKENS;

/// The kernel: [`tile_scalar`]'s contract.
pub(crate) type Tile = fn(&Packed, &Tokens, usize, usize, &mut [f32]);

/// A SIMD module's [`Tile`], `tile`: checks the CPU (`available()`, named `$what` in the panic)
/// and the shapes, then runs the module's `tile_n::<N>` for the tile's token count.
#[allow(unused_macros)]
macro_rules! int8_tile_entry {
    ($what:literal) => {
        /// [`super::tile_scalar`] on this module's instructions. Panics where the CPU lacks them,
        /// which [`available`] tells.
        pub(super) fn tile(
            m: &Packed,
            tokens: &Tokens,
            first: usize,
            count: usize,
            out: &mut [f32],
        ) {
            assert!(available(), concat!($what, " is not available on this CPU"));
            assert!(count <= TOKENS && out.len() == count * m.rows);
            int8_tile_match!(m, tokens, first, count, out; 1 2 3 4 5 6 7 8)
        }
    };
}

/// [`int8_tile_entry`]'s dispatch over token counts.
#[allow(unused_macros)]
macro_rules! int8_tile_match {
    ($m:ident, $tokens:ident, $first:ident, $count:ident, $out:ident; $($n:literal)*) => {
        match $count {
            $($n => unsafe { tile_n::<$n>($m, $tokens, $first, $out) },)*
            _ => unreachable!("{} tokens", $count),
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod avx_vnni;
#[cfg(target_arch = "x86_64")]
mod vnni;

/// Every kernel this CPU runs that beats f32, fastest first, with the VNNI each needs.
fn fast_tiles() -> Vec<(VnniLimit, Tile)> {
    #[allow(unused_mut)]
    let mut tiles: Vec<(VnniLimit, Tile)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if vnni::available() {
            tiles.push((VnniLimit::Avx512, vnni::tile));
        }
        if avx_vnni::available() {
            tiles.push((VnniLimit::Avx, avx_vnni::tile));
        }
    }
    tiles
}

/// The fastest kernel this CPU has where it beats f32, as far as `CAIRN_VNNI` allows
/// ([`crate::vnni_limit`]).
fn fast_tile() -> Option<Tile> {
    fastest_allowed(fast_tiles())
}

/// A weight matrix of `rows × cols` in panels of [`ROWS`] rows: for panel `p` and quad `k` (values
/// `4k..4k + 4`), 64 bytes holding those four values of each of its rows, shifted by 128; and for
/// each group of `group` values, the 16 rows' scales.
pub(crate) struct Packed {
    rows: usize,
    cols: usize,
    group: usize,
    bytes: Vec<u8>,
    scales: Vec<f32>,
}

impl Packed {
    /// `weight` (`rows × cols`, row-major) quantized. `cols` must be a multiple of 32.
    fn new(weight: &[f32], rows: usize, cols: usize) -> Packed {
        assert!(cols.is_multiple_of(32) && weight.len() == rows * cols);
        let group = [128, 64, 32]
            .into_iter()
            .find(|g| cols.is_multiple_of(*g))
            .expect("a multiple of 32");
        let (panels, groups) = (rows.div_ceil(ROWS), cols / group);
        let mut bytes = vec![128u8; panels * ROWS * cols];
        let mut scales = vec![0f32; panels * groups * ROWS];
        for (r, row) in weight.chunks_exact(cols).enumerate() {
            let (p, lane) = (r / ROWS, r % ROWS);
            for (g, values) in row.chunks_exact(group).enumerate() {
                let (d, q) = quantize(values);
                scales[(p * groups + g) * ROWS + lane] = d;
                for (i, q) in q.into_iter().enumerate() {
                    let k = (g * group + i) / 4;
                    bytes[((p * cols / 4 + k) * ROWS + lane) * 4 + i % 4] = (q as i16 + 128) as u8;
                }
            }
        }
        Packed {
            rows,
            cols,
            group,
            bytes,
            scales,
        }
    }

    fn groups(&self) -> usize {
        self.cols / self.group
    }

    /// Panel `p`'s bytes.
    fn panel_bytes(&self, p: usize) -> &[u8] {
        &self.bytes[p * ROWS * self.cols..(p + 1) * ROWS * self.cols]
    }

    /// Panel `p`'s scales, `[group][row]`.
    fn panel_scales(&self, p: usize) -> &[f32] {
        let n = self.groups() * ROWS;
        &self.scales[p * n..(p + 1) * n]
    }
}

/// `values` as `d · q` with `q` in `-127..=127` (`d` = max |value| / 127).
fn quantize(values: &[f32]) -> (f32, Vec<i8>) {
    let amax = values
        .iter()
        .fold(0f32, |a, v| if v.abs() > a { v.abs() } else { a });
    let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
    (
        amax / 127.0,
        values.iter().map(|v| round_small(v * inv) as i8).collect(),
    )
}

/// Tokens quantized as the weights are: bytes, and per group a scale and the bytes' sum.
#[derive(Default)]
pub(crate) struct Tokens {
    cols: usize,
    group: usize,
    q: Vec<i8>,
    d: Vec<f32>,
    sums: Vec<i32>,
}

impl Tokens {
    /// Quantizes the `n` tokens of `xs` (`n × cols`) in groups of `group`, in parallel.
    fn set(&mut self, xs: &[f32], n: usize, cols: usize, group: usize) {
        let groups = n * cols / group;
        (self.cols, self.group) = (cols, group);
        self.q.resize(n * cols, 0);
        self.d.resize(groups, 0.0);
        self.sums.resize(groups, 0);
        xs[..n * cols]
            .par_chunks_exact(group)
            .zip(self.q.par_chunks_exact_mut(group))
            .zip(self.d.par_iter_mut())
            .zip(self.sums.par_iter_mut())
            .with_min_len(64)
            .for_each(|(((x, q), d), sum)| {
                // Sixteen lanes of maxima: one chain of `max` would be serial.
                let mut lanes = [0f32; 16];
                for chunk in x.chunks_exact(16) {
                    for (m, v) in lanes.iter_mut().zip(chunk) {
                        *m = if v.abs() > *m { v.abs() } else { *m };
                    }
                }
                let amax = lanes
                    .into_iter()
                    .fold(0f32, |a, m| if m > a { m } else { a });
                let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
                *d = amax / 127.0;
                let mut total = 0i32;
                for (q, v) in q.iter_mut().zip(x) {
                    let r = round_small(v * inv);
                    *q = r as i8;
                    total += r;
                }
                *sum = total;
            });
    }

    /// Token `t`'s bytes.
    fn q(&self, t: usize) -> &[i8] {
        &self.q[t * self.cols..(t + 1) * self.cols]
    }

    /// Token `t`'s scales, one per group.
    fn d(&self, t: usize) -> &[f32] {
        let groups = self.cols / self.group;
        &self.d[t * groups..(t + 1) * groups]
    }

    /// Token `t`'s byte sums, one per group.
    fn sums(&self, t: usize) -> &[i32] {
        let groups = self.cols / self.group;
        &self.sums[t * groups..(t + 1) * groups]
    }

    /// What a SIMD tile reads of tokens `first..first + N` for `m`: each token's bytes, group
    /// scales and group byte sums, their lengths checked against `m`'s here so the kernels'
    /// reads stay inside them.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    #[allow(clippy::type_complexity)]
    fn for_tile<const N: usize>(
        &self,
        m: &Packed,
        first: usize,
    ) -> ([*const i8; N], [&[f32]; N], [&[i32]; N]) {
        let x: [&[i8]; N] = std::array::from_fn(|t| self.q(first + t));
        let d: [&[f32]; N] = std::array::from_fn(|t| self.d(first + t));
        let sums: [&[i32]; N] = std::array::from_fn(|t| self.sums(first + t));
        for t in 0..N {
            assert!(
                x[t].len() == m.cols && d[t].len() == m.groups() && sums[t].len() == m.groups()
            );
        }
        (x.map(<[i8]>::as_ptr), d, sums)
    }
}

/// `out[t·rows + r] = Σ_g dw·dx·(Σ (q + 128)·x − 128·Σ x)` for tokens `first..first + count`
/// (`count ≤ TOKENS`) and every row `r`: the definition the VNNI kernel computes, operation for
/// operation.
pub(crate) fn tile_scalar(
    m: &Packed,
    tokens: &Tokens,
    first: usize,
    count: usize,
    out: &mut [f32],
) {
    assert!(count <= TOKENS && out.len() == count * m.rows);
    for p in 0..m.rows.div_ceil(ROWS) {
        let (bytes, scales) = (m.panel_bytes(p), m.panel_scales(p));
        for (t, out) in (first..first + count).zip(out.chunks_exact_mut(m.rows)) {
            let (x, d, sums) = (tokens.q(t), tokens.d(t), tokens.sums(t));
            let mut y = [0f32; ROWS];
            for g in 0..m.groups() {
                for (row, y) in y.iter_mut().enumerate() {
                    let mut acc = 0i32;
                    for k in g * m.group / 4..(g + 1) * m.group / 4 {
                        for i in 0..4 {
                            let w = bytes[(k * ROWS + row) * 4 + i];
                            acc += i32::from(w) * i32::from(x[4 * k + i]);
                        }
                    }
                    let exact = (acc - 128 * sums[g]) as f32;
                    *y = exact.mul_add(scales[g * ROWS + row] * d[g], *y);
                }
            }
            let width = ROWS.min(m.rows - p * ROWS);
            out[p * ROWS..p * ROWS + width].copy_from_slice(&y[..width]);
        }
    }
}

/// A linear layer `x · Wᵀ + b` in 8-bit integers.
pub(crate) struct Int8Linear {
    weight: Packed,
    bias: Vec<f32>,
    tile: Tile,
    /// The quantized input, kept from one product to the next (a lock taken by another product
    /// at the same moment gets a fresh one).
    tokens: Mutex<Tokens>,
}

impl std::fmt::Debug for Int8Linear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Int8Linear")
            .field("rows", &self.weight.rows)
            .field("cols", &self.weight.cols)
            .finish()
    }
}

impl Int8Linear {
    /// The layer of `weight` (`outputs × inputs`, row-major; `inputs` a multiple of 32) and `bias`.
    pub(crate) fn new(
        weight: &[f32],
        outputs: usize,
        inputs: usize,
        bias: Vec<f32>,
    ) -> Result<Self> {
        if weight.len() != outputs * inputs || bias.len() != outputs || !inputs.is_multiple_of(32) {
            candle_core::bail!(
                "int8 linear: {} weights and {} biases for {outputs} × {inputs}",
                weight.len(),
                bias.len()
            );
        }
        Ok(Int8Linear {
            weight: Packed::new(weight, outputs, inputs),
            bias,
            tile: fast_tile().unwrap_or(tile_scalar),
            tokens: Mutex::new(Tokens::default()),
        })
    }

    /// Outputs per token.
    pub(crate) fn outputs(&self) -> usize {
        self.weight.rows
    }

    /// `x · Wᵀ + b` for the `n` tokens of `x` (`n × inputs`, row-major), then `finish(t, row)` on
    /// each token's output row while it is in cache: an activation, a residual and a norm.
    pub(crate) fn forward(
        &self,
        x: &[f32],
        n: usize,
        finish: impl Fn(usize, &mut [f32]) + Sync,
    ) -> Result<Vec<f32>> {
        let m = &self.weight;
        if x.len() != n * m.cols {
            candle_core::bail!(
                "int8 linear: {} values for {n} tokens of {}",
                x.len(),
                m.cols
            );
        }
        let mut fresh = Tokens::default();
        let mut held = self.tokens.try_lock().ok();
        let tokens = held.as_deref_mut().unwrap_or(&mut fresh);
        tokens.set(x, n, m.cols, m.group);
        let tokens = &*tokens;
        let rows = m.rows;
        let mut out = vec![0f32; n * rows];
        out.par_chunks_mut(BLOCK_TOKENS * rows)
            .enumerate()
            .for_each(|(block, out)| {
                let first = block * BLOCK_TOKENS;
                for (tile, out) in out.chunks_mut(TOKENS * rows).enumerate() {
                    let start = first + tile * TOKENS;
                    (self.tile)(m, tokens, start, out.len() / rows, out);
                    for (t, row) in out.chunks_exact_mut(rows).enumerate() {
                        row.iter_mut().zip(&self.bias).for_each(|(y, b)| *y += b);
                        finish(start + t, row);
                    }
                }
            });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    /// A product of 37 rows (a partial panel) and 384 columns (three groups) over 13 tokens (a
    /// partial tile) is the f32 product to within the rounding of 8 bits: each value within 6
    /// standard deviations of that rounding's noise (about 0.03 here), and the error's energy a
    /// ten-thousandth of the result's.
    #[test]
    fn int8_products_match_f32() {
        let (rows, cols, n) = (37, 384, 13);
        let (w, x, bias) = (values(rows * cols, 1), values(n * cols, 2), values(rows, 3));
        let layer = Int8Linear::new(&w, rows, cols, bias.clone()).unwrap();
        let out = layer.forward(&x, n, |_, _| {}).unwrap();
        let (mut error, mut energy) = (0f64, 0f64);
        for t in 0..n {
            for r in 0..rows {
                let exact: f32 = (0..cols)
                    .map(|k| w[r * cols + k] * x[t * cols + k])
                    .sum::<f32>()
                    + bias[r];
                let got = out[t * rows + r];
                assert!(
                    (got - exact).abs() < 0.2,
                    "token {t} row {r}: {got} vs {exact}"
                );
                error += f64::from(got - exact).powi(2);
                energy += f64::from(exact).powi(2);
            }
        }
        assert!(
            error / energy < 1e-4,
            "relative error energy {}",
            error / energy
        );
    }

    /// Each VNNI kernel the CPU has (AVX-512, AVX) is the scalar definition to the bit.
    #[test]
    fn the_fast_kernels_are_the_definition() {
        if fast_tiles().is_empty() {
            assert!(Precision::Auto.resolve() == Precision::F32);
        }
        let (rows, cols, n) = (40, 1536, 11);
        let packed = Packed::new(&values(rows * cols, 4), rows, cols);
        let mut tokens = Tokens::default();
        tokens.set(&values(n * cols, 5), n, cols, packed.group);
        for (i, (_, fast)) in fast_tiles().into_iter().enumerate() {
            for (first, count) in [(0, 8), (8, 3), (2, 1)] {
                let (mut a, mut b) = (vec![0f32; count * rows], vec![1f32; count * rows]);
                fast(&packed, &tokens, first, count, &mut a);
                tile_scalar(&packed, &tokens, first, count, &mut b);
                assert_eq!(a, b, "kernel {i}, tokens {first}+{count}");
            }
        }
    }
}
