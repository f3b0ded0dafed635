//! f32 matrix kernels for the CPU models: a bounds-checked wrapper around the `gemm` crate (the
//! kernels candle uses), a vectorised softmax, and the branch-free `exp` both rely on. The BERT
//! encoder (`crate::bert`) and the llama runtime (`crate::llm`) share them.
//!
//! Invariants:
//! - **Every bound is checked before the one `unsafe` call.** A [`Matrix`] can only be built by
//!   [`Matrix::new`], which panics unless every element it describes lies inside its slice;
//!   [`matmul_with`] then asserts that the inner dimensions agree and that the output fits, and only
//!   after that calls `gemm::gemm`. That call is the crate's only `unsafe` code, and the
//!   `#[allow(unsafe_code)]` covers that one function.
//! - **Layouts.** A [`Matrix`] is a view with a row and a column stride, so a row-major matrix and
//!   its transpose read through strides are the same type, with no copy. Every output is row-major
//!   and contiguous: `rows × cols` elements from the start of the slice, row `i` at `i · cols`.
//! - **Threads.** [`matmul`] runs on the calling thread, for products too small to be worth
//!   threading that the caller runs many of at once (one per sequence and head, say); [`matmul_with`]
//!   takes gemm's [`gemm::Parallelism`] for the large ones. [`softmax_in_place`] and [`exp`] never
//!   spawn threads: they are written so the compiler vectorises them, and callers parallelise over
//!   rows.

/// A matrix inside a slice: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// Panics unless every element lies inside `data`: the guarantee [`matmul`] relies on.
    pub(crate) fn new(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        assert!(
            rows > 0 && cols > 0 && (rows - 1) * row_stride + (cols - 1) * col_stride < data.len()
        );
        Matrix {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }
}

/// `out = scale · a · b`, `out` row-major and contiguous, on the calling thread. The `gemm` crate's
/// kernels (the ones candle uses) on matrices too small to be worth threading; the caller runs many at
/// once.
pub(crate) fn matmul(a: Matrix, b: Matrix, scale: f32, out: &mut [f32]) {
    matmul_with(a, b, scale, out, gemm::Parallelism::None);
}

/// [`matmul`] with gemm's own threading.
#[allow(unsafe_code)]
pub(crate) fn matmul_with(
    a: Matrix,
    b: Matrix,
    scale: f32,
    out: &mut [f32],
    parallelism: gemm::Parallelism,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions");
    assert!(out.len() >= a.rows * b.cols, "output too small");
    // SAFETY: `Matrix::new` checked that every element of `a` and `b` lies inside its slice, and the
    // assert above that the `a.rows × b.cols` row-major output fits in `out`, so gemm reads and writes
    // only inside the three slices; `out` is borrowed mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            out.as_mut_ptr(),
            1,
            b.cols as isize,
            false,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            0.0,
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Lanes for reductions: eight independent accumulators let the compiler keep a whole vector of
/// partial results, where one accumulator would serialise every addition (float addition is not
/// associative, so it may not reorder them itself).
const LANES: usize = 8;

/// `xs` folded with `op` (associative and commutative) in [`LANES`] independent lanes, so the loop
/// vectorises.
pub(crate) fn reduce(xs: &[f32], init: f32, op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, x) in acc.iter_mut().zip(chunk) {
            *a = op(*a, *x);
        }
    }
    tail.iter().chain(&acc).fold(init, |a, x| op(a, *x))
}

/// Rounds `x` (|x| < 2²²) to the nearest integer, ties to even, as an `i32`: adding 1.5·2²³ leaves
/// the rounded value in the low mantissa bits. Unlike `round_ties_even() as i32`, whose saturating
/// conversion keeps it scalar, a loop over it vectorises.
#[inline(always)]
pub(crate) fn round_small(x: f32) -> i32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    (x + ROUND).to_bits().wrapping_sub(ROUND.to_bits()) as i32
}

/// Replaces `xs` with `softmax(xs)` (the maximum subtracted first, so large scores do not overflow),
/// in three vectorised passes on the calling thread.
pub(crate) fn softmax_in_place(xs: &mut [f32]) {
    // A compare-and-select, not `f32::max`: its NaN rules would keep it from vectorising.
    let max = reduce(xs, f32::NEG_INFINITY, |a, b| if b > a { b } else { a });
    xs.iter_mut().for_each(|x| *x = exp(*x - max));
    let inv = 1.0 / reduce(xs, 0.0, |a, b| a + b);
    xs.iter_mut().for_each(|x| *x *= inv);
}

/// `exp(x)` for `x ≤ 0` (what softmax and erf need), branch-free so loops over it vectorise.
/// Cephes-style: `x = n·ln 2 + r` with ln 2 split in two so `r` is exact, `e^r` by its Taylor series
/// to degree 6 (remainder < 1.2e-7 on |r| ≤ ln2/2), and `2^n` written into the exponent bits.
/// Relative error below 3e-7; inputs below -87 are taken as -87 (e^-87 ≈ 1.6e-38).
///
/// `n` is rounded by adding and subtracting 1.5·2²³, which leaves it, as an integer, in the low
/// mantissa bits: no float-to-integer conversion, whose saturating semantics would stop the
/// compiler from vectorising.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4; // 0.693359375: few mantissa bits, so n·LN2_HI is exact
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    let x = if x < -87.0 { -87.0 } else { x };
    let shifted = x.mul_add(std::f32::consts::LOG2_E, ROUND);
    let n = shifted - ROUND;
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    let p = horner(
        r,
        &[
            1.0,
            1.0,
            0.5,
            1.0 / 6.0,
            1.0 / 24.0,
            1.0 / 120.0,
            1.0 / 720.0,
        ],
    );
    // The low bits of `shifted` hold n + 2^22 (two's complement for n < 0); add the exponent bias.
    let exponent = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    p * f32::from_bits(exponent << 23)
}

/// `c[0] + x·(c[1] + x·(c[2] + …))` with fused multiply-adds.
#[inline(always)]
pub(crate) fn horner(x: f32, coefficients: &[f32]) -> f32 {
    coefficients
        .iter()
        .rev()
        .fold(0.0, |acc, &c| acc.mul_add(x, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_the_standard_library() {
        let mut worst_exp = 0f32;
        for i in 0..=20_000 {
            let x = -20.0 + i as f32 * 0.001;
            worst_exp = worst_exp.max(((exp(x) - x.exp()) / x.exp()).abs());
        }
        assert!(worst_exp < 3e-7, "exp relative error {worst_exp}");
        assert!(exp(-200.0) < 1e-37);
    }

    #[test]
    fn small_values_round_to_nearest_even() {
        for i in -40_000..=40_000 {
            let x = i as f32 * 0.0125;
            assert_eq!(round_small(x), x.round_ties_even() as i32, "{x}");
        }
        assert_eq!(
            (round_small(2.5), round_small(-2.5), round_small(3.5)),
            (2, -2, 4)
        );
    }

    #[test]
    fn softmax_rows_sum_to_one_and_keep_order() {
        let mut xs = vec![1.0, 3.0, 2.0, -50.0];
        softmax_in_place(&mut xs);
        assert!((xs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(xs[1] > xs[2] && xs[2] > xs[0] && xs[3] < 1e-20);
    }
}
