//! Weights as the GGUF file holds them and the products the runtime computes with them.
//!
//! A [`QMatrix`] keeps each tensor's bytes in its own ggml block format ([`Format`]): nothing is
//! re-quantized at load, so resident memory is the file's size. A fused projection (Q, K and V
//! stacked; gate and up) is a stack of parts that may differ in format (a Q4_K_M file mixes Q4_K,
//! Q6_K, Q5_0 and Q8_0). An activation vector is quantized once per product, to 8-bit blocks for
//! the 32-value formats and to 8-bit super-blocks for the K-quants ([`Activation`]), and each row
//! meets it in integer arithmetic ([`avx2`] on CPUs with AVX2, `neon` on ARM, [`scalar`]
//! elsewhere). Decoding meets a matrix as runs of rows on the fastest run kernel the CPU has
//! ([`row_runs`]: [`avx512`] where it has AVX-512 VNNI, else `avx2::kquant` and `avx2::block32`,
//! with AVX-VNNI where it has that). A prompt batch meets a
//! matrix 16 rows at a time in 8-bit panels ([`panel`]; AVX-512 VNNI in [`vnni`] or AVX-VNNI in
//! [`avx_vnni`], chosen at run time).

/// A SIMD module's [`panel::Tile`], `tile`: checks the CPU (`available()`, named `$what` in the
/// panic) and the shapes, then runs the module's `tile_n::<N, SUB, ZERO>` for the tile's token
/// count, group size and zero point.
#[allow(unused_macros)]
macro_rules! panel_tile_entry {
    ($what:literal) => {
        /// [`super::panel::tile_scalar`] on this module's instructions. Panics (in debug and
        /// release) where the CPU lacks them, which [`available`] tells.
        pub fn tile(
            panel: &Panel,
            batch: &Batch,
            first: usize,
            count: usize,
            out: &mut [[f32; ROWS]],
        ) {
            assert!(available(), concat!($what, " is not available on this CPU"));
            assert!(count <= TOKENS && out.len() >= count && first + count <= batch.len());
            assert_eq!(panel.q.len(), panel.groups * panel.sub * ROWS);
            panel_tile_match!(panel, batch, first, count, out; 1 2 3 4 5 6 7 8)
        }
    };
}

/// [`panel_tile_entry`]'s dispatch over token counts, group sizes and zero points.
#[allow(unused_macros)]
macro_rules! panel_tile_match {
    ($panel:ident, $batch:ident, $first:ident, $count:ident, $out:ident; $($n:literal)*) => {
        match ($count, $panel.sub, $panel.zero.is_some()) {
            $(
                ($n, 16, false) => unsafe { tile_n::<$n, 16, false>($panel, $batch, $first, $out) },
                ($n, 32, false) => unsafe { tile_n::<$n, 32, false>($panel, $batch, $first, $out) },
                ($n, 16, true) => unsafe { tile_n::<$n, 16, true>($panel, $batch, $first, $out) },
                ($n, 32, true) => unsafe { tile_n::<$n, 32, true>($panel, $batch, $first, $out) },
            )*
            _ => unreachable!("{} tokens, groups of {}", $count, $panel.sub),
        }
    };
}

/// The entry points of a SIMD kernel module (`avx2`, `neon`), written once over the row functions
/// each defines: `q4_0_row`, `q4_1_row`, `q5_0_row`, `q5_1_row` and `q8_0_row` (Q8 activations),
/// `dot_q45k(five, …)` and `dot_q6k` (Q8K), and `dot_float`.
#[allow(unused_macros)]
macro_rules! row_kernels {
    () => {
        /// `Σ w · x` of a 32-value-format row and Q8 activations.
        pub fn dot_q8(format: Format, bytes: &[u8], x: &[Q8Block]) -> f32 {
            match format {
                Format::Q4_0 => q4_0_row(bytes, x),
                Format::Q4_1 => q4_1_row(bytes, x),
                Format::Q5_0 => q5_0_row(bytes, x),
                Format::Q5_1 => q5_1_row(bytes, x),
                Format::Q8_0 => q8_0_row(bytes, x),
                other => panic!("{} rows meet Q8K or float activations", other.name()),
            }
        }

        /// `out[i] = row i · x` for the consecutive rows of `bytes` (each `row_bytes` long): one
        /// format check for the whole run, then one tight loop per format.
        pub fn dot_rows(
            format: Format,
            bytes: &[u8],
            row_bytes: usize,
            x: &Activation,
            out: &mut [f32],
        ) {
            let rows = bytes.chunks_exact(row_bytes).zip(out.iter_mut());
            match format {
                Format::Q4_0 => rows.for_each(|(r, o)| *o = q4_0_row(r, &x.q8)),
                Format::Q4_1 => rows.for_each(|(r, o)| *o = q4_1_row(r, &x.q8)),
                Format::Q5_0 => rows.for_each(|(r, o)| *o = q5_0_row(r, &x.q8)),
                Format::Q5_1 => rows.for_each(|(r, o)| *o = q5_1_row(r, &x.q8)),
                Format::Q8_0 => rows.for_each(|(r, o)| *o = q8_0_row(r, &x.q8)),
                Format::Q4K => rows.for_each(|(r, o)| *o = dot_q45k(false, r, &x.q8k)),
                Format::Q5K => rows.for_each(|(r, o)| *o = dot_q45k(true, r, &x.q8k)),
                Format::Q6K => rows.for_each(|(r, o)| *o = dot_q6k(r, &x.q8k)),
                Format::F16 | Format::BF16 | Format::F32 => {
                    rows.for_each(|(r, o)| *o = dot_float(format, r, &x.float))
                }
            }
        }

        /// `Σ w · x` of a K-quant row and Q8K activations.
        pub fn dot_q8k(format: Format, bytes: &[u8], x: &[Q8KBlock]) -> f32 {
            match format {
                Format::Q4K | Format::Q5K => dot_q45k(format == Format::Q5K, bytes, x),
                Format::Q6K => dot_q6k(bytes, x),
                other => panic!("{} rows do not meet Q8K activations", other.name()),
            }
        }
    };
}

pub mod act;
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma",
    target_feature = "f16c"
))]
mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
#[cfg(target_arch = "x86_64")]
mod avx_vnni;
pub mod dequant;
pub mod format;
#[cfg(target_arch = "aarch64")]
mod neon;
pub mod panel;
pub mod scalar;
pub mod storage;
mod transpose;
#[cfg(target_arch = "x86_64")]
mod vnni;

use act::{Q8Block, Q8KBlock, quantize_q8, quantize_q8k};
/// The kernels this build runs: AVX2 where the target has it, NEON on ARM, scalar elsewhere.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma",
    target_feature = "f16c"
))]
use avx2 as kernels;
pub use format::{ActivationKind, Format};
#[cfg(target_arch = "aarch64")]
use neon as kernels;
#[cfg(not(any(
    all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma",
        target_feature = "f16c"
    ),
    target_arch = "aarch64"
)))]
use scalar as kernels;
pub use storage::WeightBytes;

use crate::vnni_limit::{VnniLimit, allowed, fastest_allowed};

/// Every kernel this CPU runs for prompt batches ([`panel::matmul`]), fastest first, by name:
/// `avx512-vnni`, `avx-vnni`. None where the CPU has no VNNI: there the integer path would be
/// slower than dequantizing into an f32 GEMM.
pub fn panel_tiles() -> Vec<(&'static str, panel::Tile)> {
    tiles_here()
        .into_iter()
        .map(|(_, name, tile)| (name, tile))
        .collect()
}

/// [`panel_tiles`], each with the VNNI it needs.
fn tiles_here() -> Vec<(VnniLimit, &'static str, panel::Tile)> {
    #[allow(unused_mut)]
    let mut tiles: Vec<(VnniLimit, &'static str, panel::Tile)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if vnni::available() {
            tiles.push((VnniLimit::Avx512, "avx512-vnni", vnni::tile));
        }
        if avx_vnni::available() {
            tiles.push((VnniLimit::Avx, "avx-vnni", avx_vnni::tile));
        }
    }
    tiles
}

/// The kernel prompt batches run on: the fastest of [`panel_tiles`] that `CAIRN_VNNI` allows
/// ([`crate::vnni_limit`]), or `None` (the f32 GEMM). Chosen once: every product asks.
pub fn best_panel_tile() -> Option<panel::Tile> {
    static CHOSEN: std::sync::OnceLock<Option<panel::Tile>> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        fastest_allowed(
            tiles_here()
                .into_iter()
                .map(|(needs, _, tile)| (needs, tile)),
        )
    })
}

/// One tensor of a stack: `rows` rows of `cols` values in `format`.
#[derive(Debug)]
struct Part {
    format: Format,
    rows: usize,
    row_bytes: usize,
    data: WeightBytes,
}

/// A weight matrix of `rows × cols`, row-major, its rows in one or more formats.
#[derive(Debug)]
pub struct QMatrix {
    cols: usize,
    rows: usize,
    parts: Vec<Part>,
}

impl QMatrix {
    /// A matrix of `rows × cols` values held as `data` in `format`. `cols` must be a whole number
    /// of the format's blocks and `data` exactly `rows` rows long.
    pub fn new(
        format: Format,
        rows: usize,
        cols: usize,
        data: impl Into<WeightBytes>,
    ) -> Result<QMatrix, String> {
        let data = data.into();
        if !cols.is_multiple_of(format.block_values()) {
            return Err(format!(
                "{cols} columns is not a multiple of {} ({}'s block)",
                format.block_values(),
                format.name()
            ));
        }
        let row_bytes = format.row_bytes(cols);
        if data.len() != rows * row_bytes {
            return Err(format!(
                "{} bytes where {rows} rows of {cols} {} values take {}",
                data.len(),
                format.name(),
                rows * row_bytes
            ));
        }
        Ok(QMatrix {
            cols,
            rows,
            parts: vec![Part {
                format,
                rows,
                row_bytes,
                data,
            }],
        })
    }

    /// Matrices with the same column count, stacked: the rows of each in turn.
    pub fn stack(matrices: Vec<QMatrix>) -> Result<QMatrix, String> {
        let cols = matrices.first().map_or(0, |m| m.cols);
        if let Some(m) = matrices.iter().find(|m| m.cols != cols) {
            return Err(format!("cannot stack {} columns on {cols}", m.cols));
        }
        let rows = matrices.iter().map(|m| m.rows).sum();
        let parts = matrices.into_iter().flat_map(|m| m.parts).collect();
        Ok(QMatrix { cols, rows, parts })
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.parts.iter().map(|p| p.data.len()).sum()
    }

    /// The activation forms this matrix's rows meet.
    pub fn activation_kinds(&self) -> Vec<ActivationKind> {
        let mut kinds: Vec<ActivationKind> = Vec::new();
        for p in &self.parts {
            let kind = p.format.activation();
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        kinds
    }

    /// The part holding row `r`, and `r`'s index in it.
    #[inline]
    fn locate(&self, mut r: usize) -> (&Part, usize) {
        for part in &self.parts {
            if r < part.rows {
                return (part, r);
            }
            r -= part.rows;
        }
        panic!("row {r} past the matrix's {} rows", self.rows)
    }

    /// Row `r` as floats.
    pub fn row_f32(&self, r: usize, out: &mut [f32]) {
        let (part, r) = self.locate(r);
        let bytes = &part.data[r * part.row_bytes..(r + 1) * part.row_bytes];
        dequant::dequantize_row(part.format, bytes, &mut out[..self.cols]);
    }

    /// `out[i] = row (start + i) · x` for the rows `start..start + out.len()`.
    pub fn dot_rows(&self, start: usize, x: &Activation, out: &mut [f32]) {
        let end = start + out.len();
        let mut first = 0;
        for part in &self.parts {
            let (from, to) = (start.max(first), end.min(first + part.rows));
            if from < to {
                let bytes =
                    &part.data[(from - first) * part.row_bytes..(to - first) * part.row_bytes];
                dot_rows(
                    part.format,
                    bytes,
                    part.row_bytes,
                    x,
                    &mut out[from - start..to - start],
                );
            }
            first += part.rows;
        }
    }

    /// Row `r` · `x`.
    #[inline]
    pub fn dot_row(&self, r: usize, x: &Activation) -> f32 {
        let (part, r) = self.locate(r);
        let bytes = &part.data[r * part.row_bytes..(r + 1) * part.row_bytes];
        dot(part.format, bytes, x)
    }
}

/// A decoding kernel for a run of consecutive rows of one format: `out[i] = row i · x`, or `false`
/// (nothing written) where it does not take the format.
pub type RowRun = fn(Format, &[u8], usize, &Activation, &mut [f32]) -> bool;

/// Every run kernel this CPU has, fastest first, by name: `avx512-vnni`, `avx-vnni`, `avx2`, and
/// last the build's one-row kernels (AVX2, NEON or scalar), which take every format.
pub fn row_runs() -> Vec<(&'static str, RowRun)> {
    runs_here()
        .into_iter()
        .map(|(_, name, run)| (name, run))
        .collect()
}

/// [`row_runs`], each with the VNNI it needs.
fn runs_here() -> Vec<(VnniLimit, &'static str, RowRun)> {
    #[allow(unused_mut)]
    let mut runs: Vec<(VnniLimit, &'static str, RowRun)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    if vnni::available() {
        runs.push((VnniLimit::Avx512, "avx512-vnni", avx512::dot_rows));
    }
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma",
        target_feature = "f16c"
    ))]
    {
        if avx_vnni::available() {
            runs.push((VnniLimit::Avx, "avx-vnni", |f, b, n, x, o| {
                avx2::run_rows(true, f, b, n, x, o)
            }));
        }
        runs.push((VnniLimit::None, "avx2", |f, b, n, x, o| {
            avx2::run_rows(false, f, b, n, x, o)
        }));
    }
    runs.push((VnniLimit::None, "one row at a time", |f, b, n, x, o| {
        kernels::dot_rows(f, b, n, x, o);
        true
    }));
    runs
}

/// `out[i] = row i · x` for consecutive rows of one format: on the fastest run kernel that
/// `CAIRN_VNNI` allows and that takes the format.
fn dot_rows(format: Format, bytes: &[u8], row_bytes: usize, x: &Activation, out: &mut [f32]) {
    static ALLOWED: std::sync::OnceLock<Vec<RowRun>> = std::sync::OnceLock::new();
    let runs = ALLOWED.get_or_init(|| {
        allowed(runs_here().into_iter().map(|(needs, _, run)| (needs, run))).collect()
    });
    let taken = runs.iter().any(|run| run(format, bytes, row_bytes, x, out));
    debug_assert!(taken, "the one-row kernels take every format");
}

/// `Σ w · x` of one row held as `bytes` in `format`.
#[inline]
pub fn dot(format: Format, bytes: &[u8], x: &Activation) -> f32 {
    match format.activation() {
        ActivationKind::Q8 => kernels::dot_q8(format, bytes, &x.q8),
        ActivationKind::Q8K => kernels::dot_q8k(format, bytes, &x.q8k),
        ActivationKind::Float => kernels::dot_float(format, bytes, &x.float),
    }
}

/// One activation vector in the forms the rows it meets need.
#[derive(Clone, Debug, Default)]
pub struct Activation {
    /// The values.
    pub float: Vec<f32>,
    /// 8-bit blocks of 32 (empty when no row needs them).
    pub q8: Vec<Q8Block>,
    /// 8-bit super-blocks of 256 (empty when no row needs them).
    pub q8k: Vec<Q8KBlock>,
}

impl Activation {
    /// `xs` in the forms `kinds` name, reusing this activation's buffers.
    pub fn set(&mut self, xs: &[f32], kinds: &[ActivationKind]) {
        self.float.clear();
        self.q8.clear();
        self.q8k.clear();
        for kind in kinds {
            match kind {
                ActivationKind::Float => self.float.extend_from_slice(xs),
                ActivationKind::Q8 => {
                    self.q8.resize(xs.len() / format::QK, Q8Block::default());
                    quantize_q8(xs, &mut self.q8);
                }
                ActivationKind::Q8K => {
                    self.q8k
                        .resize(xs.len() / format::QK_K, Q8KBlock::default());
                    quantize_q8k(xs, &mut self.q8k);
                }
            }
        }
    }

    /// `xs` in the forms `m`'s rows need.
    pub fn for_matrix(xs: &[f32], m: &QMatrix) -> Activation {
        let mut a = Activation::default();
        a.set(xs, &m.activation_kinds());
        a
    }
}

#[cfg(test)]
mod tests;
