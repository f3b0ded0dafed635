//! Prompt batches in 8-bit integers, as llama.cpp runs them: each weight meets many tokens in
//! integer multiply-adds instead of being dequantized to floats.
//!
//! A matrix's rows are taken [`ROWS`] at a time and unpacked from their ggml blocks into a
//! [`Panel`]: one unsigned byte per weight with a scale and an offset per group of [`Panel::sub`]
//! values, `w = a · q + b`, which holds exactly for every quantized format (Q4_K's mins, Q6_K's
//! and Q8_0's signed values shifted into `0..=255` are the offset). The batch's activations are
//! quantized once to signed bytes with a scale per 32 values, or per 256 where the matrix is all
//! K-quants ([`Batch`]). A panel is unpacked once per batch into a buffer that stays in cache and
//! meets every token of the batch there, so nothing the size of the matrix is written and the
//! file's bytes stay the only copy of the weights.
//!
//! Per group and token: `Σ w·x ≈ dx·(a·Σ q·xq + b·Σ xq)`, with `dx` applied once per scale block;
//! the integer sum on AVX-512 VNNI (`vpdpbusd`, 64 byte products an instruction) in `vnni.rs`,
//! which [`super::best_panel_tile`] picks; [`tile_scalar`] is the definition the SIMD kernel is
//! tested against, operation for operation.

use rayon::prelude::*;

use super::dequant::{five_bit_pair, scale_min_k4, six_bit_quad};
use super::format::{Format, QK, QK_K, f16_le};
use super::{QMatrix, transpose};
use crate::matrix::round_small;

/// Rows in a panel: one 512-bit register of 32-bit sums.
pub const ROWS: usize = 16;
/// Tokens a kernel call carries at once (its accumulators fill the registers).
pub const TOKENS: usize = 8;

/// A batch of `n` activation vectors of `cols` values as signed bytes with a scale `d` per
/// [`Batch::block`] values (32, or 256 for matrices of K-quants, as llama.cpp's Q8_0 and Q8_K), and
/// the exact sum of the bytes of each 16 and 32 values, as integers (a zero point's term) and as
/// floats (an offset's), so that the tile converts nothing per group and token.
#[derive(Default)]
pub struct Batch {
    cols: usize,
    block: usize,
    qs: Vec<i8>,
    d: Vec<f32>,
    q16: Vec<i32>,
    q32: Vec<i32>,
    f16: Vec<f32>,
    f32: Vec<f32>,
}

impl Batch {
    /// Quantizes `n` vectors, `xs` row-major (`n × cols`, `cols` a multiple of `block`), with a
    /// scale per `block` values (32 or 256), into this batch's buffers.
    pub fn set(&mut self, xs: &[f32], n: usize, cols: usize, block: usize) {
        assert!(block == QK || block == QK_K, "a block of {block} values");
        assert!(
            cols.is_multiple_of(block),
            "{cols} values in blocks of {block}"
        );
        self.cols = cols;
        self.block = block;
        self.qs.resize(n * cols, 0);
        self.d.resize(n * cols / block, 0.0);
        self.q16.resize(n * cols / 16, 0);
        self.q32.resize(n * cols / QK, 0);
        self.f16.resize(n * cols / 16, 0.0);
        self.f32.resize(n * cols / QK, 0.0);
        let blocks = xs[..n * cols]
            .par_chunks_exact(block)
            .zip(self.qs.par_chunks_exact_mut(block))
            .zip(self.d.par_iter_mut())
            .with_min_len(256 * QK / block);
        blocks.for_each(|((x, q), d)| {
            *d = if block == QK {
                quantize::<QK>(x, q)
            } else {
                quantize::<QK_K>(x, q)
            }
        });
        let sums = self
            .qs
            .par_chunks_exact(QK)
            .zip(self.q16.par_chunks_exact_mut(2))
            .zip(self.q32.par_iter_mut())
            .zip(self.f16.par_chunks_exact_mut(2))
            .zip(self.f32.par_iter_mut())
            .with_min_len(256);
        sums.for_each(|((((q, q16), q32), f16), f32)| {
            let halves = [
                q[..16].iter().map(|&v| i32::from(v)).sum::<i32>(),
                q[16..].iter().map(|&v| i32::from(v)).sum::<i32>(),
            ];
            q16.copy_from_slice(&halves);
            *q32 = halves[0] + halves[1];
            f16[0] = halves[0] as f32;
            f16[1] = halves[1] as f32;
            *f32 = *q32 as f32;
        });
    }

    /// Vectors in the batch.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(super) fn len(&self) -> usize {
        self.qs.len() / self.cols
    }

    /// Values per scale: 32 or 256.
    pub(super) fn block(&self) -> usize {
        self.block
    }

    /// Token `t`'s bytes.
    pub(super) fn qs(&self, t: usize) -> &[i8] {
        &self.qs[t * self.cols..(t + 1) * self.cols]
    }

    /// Token `t`'s scales, one per [`Batch::block`] values.
    pub(super) fn d(&self, t: usize) -> &[f32] {
        let per = self.cols / self.block;
        &self.d[t * per..(t + 1) * per]
    }

    /// Token `t`'s byte sums, one per group of `sub` values.
    pub(super) fn byte_sums(&self, t: usize, sub: usize) -> &[i32] {
        let (all, per) = if sub == 16 {
            (&self.q16, self.cols / 16)
        } else {
            (&self.q32, self.cols / QK)
        };
        &all[t * per..(t + 1) * per]
    }

    /// The same sums as floats (exact: at most 127 · 32).
    pub(super) fn float_sums(&self, t: usize, sub: usize) -> &[f32] {
        let (all, per) = if sub == 16 {
            (&self.f16, self.cols / 16)
        } else {
            (&self.f32, self.cols / QK)
        };
        &all[t * per..(t + 1) * per]
    }
}

/// What a SIMD tile reads of tokens `first..first + N` for a panel of `sub`-value groups: each
/// token's bytes, block scales, and per-group byte and float sums, their lengths checked against
/// the panel's here so the kernels' reads stay inside them.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(super) struct TileTokens<const N: usize> {
    pub(super) xq: [*const i8; N],
    pub(super) d: [*const f32; N],
    pub(super) float_sums: [*const f32; N],
    pub(super) byte_sums: [*const i32; N],
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl<const N: usize> TileTokens<N> {
    /// Tokens `first..first + N` of `batch` for `panel` (groups of `sub` values).
    pub(super) fn new(panel: &Panel, batch: &Batch, first: usize, sub: usize) -> Self {
        TileTokens {
            xq: std::array::from_fn(|t| {
                let token = batch.qs(first + t);
                assert_eq!(token.len(), panel.groups * sub);
                token.as_ptr()
            }),
            d: std::array::from_fn(|t| {
                let token = batch.d(first + t);
                assert_eq!(token.len() * batch.block(), panel.groups * sub);
                token.as_ptr()
            }),
            float_sums: std::array::from_fn(|t| {
                let token = batch.float_sums(first + t, sub);
                assert_eq!(token.len(), panel.groups);
                token.as_ptr()
            }),
            byte_sums: std::array::from_fn(|t| {
                let token = batch.byte_sums(first + t, sub);
                assert_eq!(token.len(), panel.groups);
                token.as_ptr()
            }),
        }
    }
}

/// `B` values to signed bytes `q`, returning their scale: the largest magnitude becomes ±127.
fn quantize<const B: usize>(x: &[f32], q: &mut [i8]) -> f32 {
    // A compare-and-select maximum and a rounding without a saturating cast: the block
    // vectorises.
    let (x, q): (&[f32; B], &mut [i8; B]) = (
        x.try_into().expect("a block"),
        q.try_into().expect("a block"),
    );
    // Eight lanes of maxima: one chain of `max` would be serial.
    let mut lanes = [0f32; 8];
    for chunk in x.chunks_exact(8) {
        for (m, v) in lanes.iter_mut().zip(chunk) {
            *m = if v.abs() > *m { v.abs() } else { *m };
        }
    }
    let amax = lanes
        .into_iter()
        .fold(0f32, |a, m| if m > a { m } else { a });
    let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
    for (q, v) in q.iter_mut().zip(x) {
        *q = round_small(v * inv) as i8;
    }
    amax / 127.0
}

/// [`ROWS`] rows unpacked: for group `j` of `sub` values, the bytes in quads (`q[j][quad][row]
/// [0..4]`, so that one 512-bit load holds four values of each row) and `a[j][row]`, `b[j][row]`.
#[derive(Default)]
pub struct Panel {
    /// Values per group: 16 where a row is Q6_K (a scale per 16), else 32.
    pub sub: usize,
    /// `z` where every row's offset is `−z · a` (the formats whose values are `a · (q − z)`:
    /// Q4_0, Q5_0, Q6_K, Q8_0, one `z` for all the panel's rows). Then the offset is taken in the
    /// integer sum (`Σ q·xq − z·Σ xq`, exact), and `b` is not read.
    pub zero: Option<i32>,
    /// Groups in a row.
    pub groups: usize,
    pub(super) q: Vec<u8>,
    pub(super) a: Vec<f32>,
    pub(super) b: Vec<f32>,
    row_q: Vec<u8>,
    row_a: Vec<f32>,
    row_b: Vec<f32>,
}

/// Whether every row of `m` is in a format a panel holds exactly.
pub fn packable(m: &QMatrix) -> bool {
    m.parts.iter().all(|p| {
        !matches!(p.format, Format::F16 | Format::BF16 | Format::F32) && m.cols.is_multiple_of(QK)
    })
}

impl Panel {
    /// Unpacks rows `first..first + ROWS` of `m` (rows past its end as zeros).
    pub fn fill(&mut self, m: &QMatrix, first: usize) {
        let cols = m.cols;
        let last = (first + ROWS).min(m.rows);
        self.sub = if (first..last).any(|r| m.locate(r).0.format == Format::Q6K) {
            16
        } else {
            32
        };
        let zero = |r: usize| match m.locate(r).0.format {
            Format::Q4_0 => Some(8),
            Format::Q5_0 => Some(16),
            Format::Q6K => Some(32),
            Format::Q8_0 => Some(128),
            _ => None,
        };
        self.zero = zero(first).filter(|&z| (first..last).all(|r| zero(r) == Some(z)));
        let (sub, groups) = (self.sub, cols / self.sub);
        self.groups = groups;
        // Every byte and scale below is written before it is read, so the buffers keep their
        // old contents instead of being cleared (clearing them was 2% of a prompt's time).
        self.q.resize(groups * sub * ROWS, 0);
        self.a.resize(groups * ROWS, 0.0);
        self.b.resize(groups * ROWS, 0.0);
        // The rows unpacked one after another, then interleaved: reading 16 rows in step and
        // writing the panel in order touches each cache line once.
        self.row_q.resize(ROWS * cols, 0);
        self.row_a.resize(cols / 16, 0.0);
        self.row_b.resize(cols / 16, 0.0);
        let per = sub / 16;
        for (row, r) in (first..last).enumerate() {
            let (part, local) = m.locate(r);
            let bytes = &part.data[local * part.row_bytes..(local + 1) * part.row_bytes];
            unpack_row(
                part.format,
                bytes,
                &mut self.row_q[row * cols..(row + 1) * cols],
                &mut self.row_a,
                &mut self.row_b,
            );
            for j in 0..groups {
                self.a[j * ROWS + row] = self.row_a[j * per];
                self.b[j * ROWS + row] = self.row_b[j * per];
            }
        }
        // Rows past the matrix's end are zeros.
        for row in last - first..ROWS {
            self.row_q[row * cols..(row + 1) * cols].fill(0);
            for j in 0..groups {
                self.a[j * ROWS + row] = 0.0;
                self.b[j * ROWS + row] = 0.0;
            }
        }
        // Quad `g` of row `row` (its values `4g..4g + 4`) goes to slot `row` of the panel's quad `g`.
        transpose::quads(&self.row_q, cols, &mut self.q);
    }
}

/// One row as bytes `q` with, per 16 values, `a` and `b` such that value `i` is `a·q[i] + b`.
/// Formats with a scale per 32 repeat it in both halves.
fn unpack_row(format: Format, bytes: &[u8], q: &mut [u8], a: &mut [f32], b: &mut [f32]) {
    let blocks = bytes.chunks_exact(format.block_bytes());
    let mut set = |g: usize, scale: f32, offset: f32| {
        a[g] = scale;
        b[g] = offset;
    };
    match format {
        Format::Q4_0 | Format::Q4_1 | Format::Q5_0 | Format::Q5_1 | Format::Q8_0 => {
            for (i, blk) in blocks.enumerate() {
                let d = f16_le(blk);
                let y = &mut q[i * QK..(i + 1) * QK];
                let offset = match format {
                    Format::Q4_0 => {
                        nibbles(&blk[2..18], y);
                        -8.0 * d
                    }
                    Format::Q4_1 => {
                        nibbles(&blk[4..20], y);
                        f16_le(&blk[2..])
                    }
                    Format::Q5_0 => {
                        fifths(
                            &blk[6..22],
                            u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]),
                            y,
                        );
                        -16.0 * d
                    }
                    Format::Q5_1 => {
                        fifths(
                            &blk[8..24],
                            u32::from_le_bytes([blk[4], blk[5], blk[6], blk[7]]),
                            y,
                        );
                        f16_le(&blk[2..])
                    }
                    _ => {
                        for (o, &v) in y.iter_mut().zip(&blk[2..34]) {
                            *o = (v as i8 as i16 + 128) as u8;
                        }
                        -128.0 * d
                    }
                };
                set(2 * i, d, offset);
                set(2 * i + 1, d, offset);
            }
        }
        Format::Q4K | Format::Q5K => {
            for (i, blk) in blocks.enumerate() {
                let (d, dmin) = (f16_le(&blk[0..]), f16_le(&blk[2..]));
                let scales = &blk[4..16];
                let (qh, qs) = if format == Format::Q5K {
                    (Some(&blk[16..48]), &blk[48..176])
                } else {
                    (None, &blk[16..144])
                };
                let y = &mut q[i * QK_K..(i + 1) * QK_K];
                for (j, (src, y)) in qs.chunks_exact(32).zip(y.chunks_exact_mut(64)).enumerate() {
                    let (lo, hi) = y.split_at_mut(32);
                    for ((lo, hi), s) in lo.iter_mut().zip(hi.iter_mut()).zip(src) {
                        (*lo, *hi) = (s & 0x0f, s >> 4);
                    }
                    if let Some(qh) = qh {
                        for ((lo, hi), h) in lo.iter_mut().zip(hi.iter_mut()).zip(qh) {
                            *lo |= ((h >> (2 * j)) & 1) << 4;
                            *hi |= ((h >> (2 * j + 1)) & 1) << 4;
                        }
                    }
                    for half in 0..2 {
                        let (s, m) = scale_min_k4(2 * j + half, scales);
                        let g = i * 16 + 4 * j + 2 * half;
                        set(g, d * s, -(dmin * m));
                        set(g + 1, d * s, -(dmin * m));
                    }
                }
            }
        }
        Format::Q6K => {
            for (i, blk) in blocks.enumerate() {
                let d = f16_le(&blk[208..]);
                for half in 0..2 {
                    let ql = &blk[64 * half..64 * half + 64];
                    let qh = &blk[128 + 32 * half..128 + 32 * half + 32];
                    let y = &mut q[i * QK_K + 128 * half..i * QK_K + 128 * half + 128];
                    for l in 0..32 {
                        for (k, v) in six_bit_quad(ql, qh, l).into_iter().enumerate() {
                            y[l + 32 * k] = (v + 32) as u8;
                        }
                    }
                    for g in 0..8 {
                        let scale = d * f32::from(blk[192 + 8 * half + g] as i8);
                        set(i * 16 + 8 * half + g, scale, -32.0 * scale);
                    }
                }
            }
        }
        Format::F16 | Format::BF16 | Format::F32 => {
            unreachable!("{} rows are not packed (see `packable`)", format.name())
        }
    }
}

/// The 32 four-bit values of a Q4_0/Q4_1 block: low nibbles first.
fn nibbles(qs: &[u8], y: &mut [u8]) {
    for j in 0..16 {
        y[j] = qs[j] & 0x0f;
        y[j + 16] = qs[j] >> 4;
    }
}

/// The 32 five-bit values of a Q5_0/Q5_1 block.
fn fifths(qs: &[u8], qh: u32, y: &mut [u8]) {
    for j in 0..16 {
        let (lo, hi) = five_bit_pair(qs[j], qh, j);
        y[j] = lo;
        y[j + 16] = hi;
    }
}

/// `out[t][row] = Σ_k dx_k · Σ_j (a·Σ q·xq + b·Σ xq)` over the batch's scale blocks `k` and the
/// panel's groups `j` inside each (with a zero point: `Σ_k dx_k · Σ_j a·(Σ q·xq − z·Σ xq)`), for
/// tokens `first..first + count` of `batch` (`count ≤ TOKENS`) and the panel's rows: the
/// definition the VNNI kernel (`vnni.rs`) computes, in its order. A block of 256 values pays one
/// float step per 8 or 16 groups for its scale; each group pays a conversion and one or two FMAs.
pub fn tile_scalar(
    panel: &Panel,
    batch: &Batch,
    first: usize,
    count: usize,
    out: &mut [[f32; ROWS]],
) {
    let sub = panel.sub;
    let per_block = batch.block() / sub;
    for (t, out) in (first..first + count).zip(out.iter_mut()) {
        let (xq, d) = (batch.qs(t), batch.d(t));
        let (byte_sums, float_sums) = (batch.byte_sums(t, sub), batch.float_sums(t, sub));
        *out = [0.0; ROWS];
        for (k, &dx) in d.iter().enumerate() {
            let mut inner = [0f32; ROWS];
            for j in k * per_block..(k + 1) * per_block {
                for (row, inner) in inner.iter_mut().enumerate() {
                    let mut sum = panel.zero.map_or(0, |z| -z * byte_sums[j]);
                    for quad in 0..sub / 4 {
                        let at = ((j * sub / 4 + quad) * ROWS + row) * 4;
                        for k in 0..4 {
                            sum +=
                                i32::from(panel.q[at + k]) * i32::from(xq[j * sub + quad * 4 + k]);
                        }
                    }
                    let (a, b) = (panel.a[j * ROWS + row], panel.b[j * ROWS + row]);
                    *inner = (sum as f32).mul_add(a, *inner);
                    if panel.zero.is_none() {
                        *inner = b.mul_add(float_sums[j], *inner);
                    }
                }
            }
            for (acc, inner) in out.iter_mut().zip(inner) {
                *acc = inner.mul_add(dx, *acc);
            }
        }
    }
}

/// A kernel: [`tile_scalar`]'s contract.
pub type Tile = fn(&Panel, &Batch, usize, usize, &mut [[f32; ROWS]]);

/// What [`matmul`] reuses from one product to the next: the quantized batch.
#[derive(Default)]
pub struct Scratch {
    batch: Batch,
}

impl Scratch {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        let b = &self.batch;
        b.qs.capacity()
            + (b.d.capacity()
                + b.q16.capacity()
                + b.q32.capacity()
                + b.f16.capacity()
                + b.f32.capacity())
                * 4
    }
}

/// `out[t][r] = row_r · x_t` for the `n` vectors `xs` (`n × cols`), row panels in parallel, with
/// `tile` as the kernel.
pub fn matmul(
    m: &QMatrix,
    xs: &[f32],
    n: usize,
    tile: Tile,
    scratch: &mut Scratch,
    out: &mut [f32],
) {
    let (rows, cols) = (m.rows, m.cols);
    // K-quant rows meet activations with a scale per 256 values (llama.cpp's Q8_K), which the
    // tile applies once per super-block; 32-value formats meet a scale per 32 (its Q8_0).
    let block = if m.parts.iter().all(|p| p.format.block_values() == QK_K) {
        QK_K
    } else {
        QK
    };
    let batch = &mut scratch.batch;
    batch.set(xs, n, cols, block);
    let batch = &*batch;
    let out = PanelColumns::new(&mut out[..n * rows], rows);
    (0..rows.div_ceil(ROWS)).into_par_iter().for_each_init(
        || (Panel::default(), vec![[0f32; ROWS]; TOKENS]),
        |(panel, tiles), group| {
            panel.fill(m, group * ROWS);
            for t0 in (0..n).step_by(TOKENS) {
                let count = TOKENS.min(n - t0);
                tile(panel, batch, t0, count, tiles);
                for (t, values) in tiles[..count].iter().enumerate() {
                    out.write(group, t0 + t, values);
                }
            }
        },
    );
}

/// A product's output (`n` rows of `rows` values), written by panel: each panel's task writes
/// only its own [`ROWS`] columns of each token's row, straight where they belong (a buffer by
/// panel and a copy into place after were 4% of a prompt's time).
struct PanelColumns<'a> {
    out: *mut f32,
    len: usize,
    rows: usize,
    _borrow: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: the tasks that share it write disjoint columns (see `write`), and the borrow of `out`
// outlives them.
#[allow(unsafe_code)]
unsafe impl Sync for PanelColumns<'_> {}

impl<'a> PanelColumns<'a> {
    fn new(out: &'a mut [f32], rows: usize) -> PanelColumns<'a> {
        PanelColumns {
            out: out.as_mut_ptr(),
            len: out.len(),
            rows,
            _borrow: std::marker::PhantomData,
        }
    }

    /// Token `t`'s values for panel `group`'s rows (those inside the matrix).
    #[allow(unsafe_code)]
    fn write(&self, group: usize, t: usize, values: &[f32; ROWS]) {
        let first = group * ROWS;
        let width = ROWS.min(self.rows - first);
        let at = t * self.rows + first;
        assert!(at + width <= self.len, "token {t} past the output");
        // SAFETY: in bounds (asserted); columns `first..first + width` of a token's row are
        // written only by panel `group`'s task, so no two threads touch the same values, and
        // nothing reads `out` until every task has finished.
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), self.out.add(at), width) };
    }
}
