//! Decoding on AVX2 for CPUs without AVX-512 (most laptops): runs of Q4_K, Q5_K and Q6_K rows
//! meeting one Q8K activation vector. What the one-row kernels in [`super`] recompute per block
//! and row is done once per product here: the activation's sums per group of 32 (Q4_K and
//! Q5_K mins) and the `−32` offset of Q6_K, taken out of the integer loop through the
//! activation's group sums. Where the CPU has AVX-VNNI, `vpdpwssd` multiplies a group's 16-bit
//! products by its scale and adds them in one instruction ([`Dpwssd`]), else `vpmaddwd` then
//! `vpaddd` ([`Madd`]). Each block's sums run in two chains, so none waits on the latency of the
//! one before. Two rows at a time (sharing each activation load) measured no faster, within this
//! host's noise (`cargo bench -p cairn-models --bench decode`), so one row it is.
//!
//! Each function computes what its twin in [`super::super::scalar`] defines (the tests hold every
//! run kernel this CPU has to the scalar rows).
//!
//! SAFETY (whole module): the build has AVX2, FMA and F16C (this module's parent is compiled only
//! then); the AVX-VNNI variants run only inside functions compiled for it, called only after
//! [`super::vnni_available`] said the CPU has it. Every weight load reads inside one block of a row
//! (row slices are whole numbers of blocks, asserted) and every activation load inside one
//! super-block, of which there is one per block of the row (asserted).
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::super::Activation;
use super::super::act::Q8KBlock;
use super::super::avx512::kquant::{Q4K_BLOCK, Q5K_BLOCK, Q6K_BLOCK, q4k_scales_and_mins};
use super::super::avx512::prefetch_ahead;
use super::super::format::{Format, f16_le};
use super::{Q6_SCALE_SHUFFLE, SCALE_SHUFFLE, hsum};

/// `out[i] = row i · x` for the consecutive K-quant rows of `bytes` (each `row_bytes` long), on
/// AVX-VNNI where `vnni` (which needs [`super::vnni_available`]), else on plain AVX2; `false` (nothing
/// written) for the other formats.
pub fn rows(
    vnni: bool,
    format: Format,
    bytes: &[u8],
    row_bytes: usize,
    x: &Activation,
    out: &mut [f32],
) -> bool {
    let x = &x.q8k;
    let block = match format {
        Format::Q4K => Q4K_BLOCK,
        Format::Q5K => Q5K_BLOCK,
        Format::Q6K => Q6K_BLOCK,
        _ => return false,
    };
    let blocks = row_bytes / block;
    assert!(row_bytes == blocks * block && x.len() >= blocks);
    assert_eq!(bytes.len(), out.len() * row_bytes);
    let x = &x[..blocks];
    assert!(
        !vnni || super::vnni_available(),
        "AVX-VNNI is not available"
    );
    // SAFETY: the lengths are asserted above; AVX-VNNI where `vnni`, asserted.
    unsafe {
        match (format, vnni) {
            (Format::Q6K, false) => q6k_rows::<Madd>(bytes, row_bytes, x, out),
            (Format::Q6K, true) => q6k_rows_vnni(bytes, row_bytes, x, out),
            (Format::Q5K, false) => q45k_rows::<true, Madd>(bytes, row_bytes, x, out),
            (Format::Q5K, true) => q45k_rows_vnni::<true>(bytes, row_bytes, x, out),
            (_, false) => q45k_rows::<false, Madd>(bytes, row_bytes, x, out),
            (_, true) => q45k_rows_vnni::<false>(bytes, row_bytes, x, out),
        }
    }
    true
}

/// `sum + Σ pairs · scale` over each pair of 16-bit lanes, into 32-bit lanes.
trait ScaledSum {
    /// # Safety
    /// The CPU has the instructions the implementation names.
    unsafe fn add(sum: __m256i, pairs: __m256i, scale: __m256i) -> __m256i;
}

/// `vpmaddwd` then `vpaddd` (AVX2).
struct Madd;

impl ScaledSum for Madd {
    #[inline(always)]
    unsafe fn add(sum: __m256i, pairs: __m256i, scale: __m256i) -> __m256i {
        // SAFETY: the build has AVX2.
        unsafe { _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, scale)) }
    }
}

/// `vpdpwssd` (AVX-VNNI): both in one instruction.
struct Dpwssd;

impl ScaledSum for Dpwssd {
    #[inline(always)]
    unsafe fn add(sum: __m256i, pairs: __m256i, scale: __m256i) -> __m256i {
        // SAFETY: the caller's CPU has AVX-VNNI (the trait's contract).
        unsafe { _mm256_dpwssd_avx_epi32(sum, pairs, scale) }
    }
}

/// The sum of each group of 32 activations of each super-block (Q4_K's and Q5_K's groups).
fn sums_of_32(x: &[Q8KBlock]) -> Vec<[i16; 8]> {
    x.iter()
        .map(|b| std::array::from_fn(|g| b.bsums[2 * g] + b.bsums[2 * g + 1]))
        .collect()
}

/// # Safety
/// The CPU has AVX-VNNI; as [`q45k_rows`].
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn q45k_rows_vnni<const FIVE: bool>(
    bytes: &[u8],
    row_bytes: usize,
    x: &[Q8KBlock],
    out: &mut [f32],
) {
    // SAFETY: as this function's contract.
    unsafe { q45k_rows::<FIVE, Dpwssd>(bytes, row_bytes, x, out) }
}

/// # Safety
/// `S`'s instructions are available; `bytes` is `out.len()` rows of `row_bytes` = `x.len()` blocks
/// (Q5_K where `FIVE`, else Q4_K).
#[inline(always)]
unsafe fn q45k_rows<const FIVE: bool, S: ScaledSum>(
    bytes: &[u8],
    row_bytes: usize,
    x: &[Q8KBlock],
    out: &mut [f32],
) {
    let sums = sums_of_32(x);
    for (row, o) in bytes.chunks_exact(row_bytes).zip(out.iter_mut()) {
        // SAFETY: a row of `x.len()` blocks; `S` as the contract.
        *o = unsafe { q45k_row::<FIVE, S>(row.as_ptr(), x, &sums) };
    }
}

/// The Q4_K (Q5_K where `FIVE`) row at `row` · `x`.
///
/// # Safety
/// `row` starts `x.len()` readable blocks; `sums` has one entry per block; `S`'s instructions are
/// available.
#[inline(always)]
unsafe fn q45k_row<const FIVE: bool, S: ScaledSum>(
    row: *const u8,
    x: &[Q8KBlock],
    sums: &[[i16; 8]],
) -> f32 {
    // SAFETY: see the module note and this function's contract.
    unsafe {
        let (block_bytes, qs_at) = if FIVE {
            (Q5K_BLOCK, 48)
        } else {
            (Q4K_BLOCK, 16)
        };
        let m4 = _mm256_set1_epi8(0x0f);
        let sixteen = _mm256_set1_epi8(16);
        let mut acc = _mm256_setzero_ps();
        let mut acc_m = _mm_setzero_ps();
        for (b, (x, sums)) in x.iter().zip(sums).enumerate() {
            // Block `b` of the row (the contract).
            let p = row.add(b * block_bytes);
            prefetch_ahead(p, block_bytes);
            let bytes = std::slice::from_raw_parts(p, block_bytes);
            let (scales, mins) = q4k_scales_and_mins(&bytes[4..16]);
            let m = _mm_cvtepi32_ps(_mm_madd_epi16(mins, _mm_loadu_si128(sums.as_ptr().cast())));
            acc_m = _mm_fmadd_ps(_mm_set1_ps(f16_le(&bytes[2..]) * x.d), m, acc_m);
            let scales = _mm256_broadcastsi128_si256(scales);
            // Two sums, low nibbles and high, so that no chain waits on `vpdpwssd`'s latency.
            let mut sum = [_mm256_setzero_si256(); 2];
            for j in 0..4 {
                // Bytes `32j..32j + 32` of the block's 128 of nibbles; values `64j..64j + 64` of
                // the super-block.
                let bits = _mm256_loadu_si256(p.add(qs_at + 32 * j).cast());
                let x_lo = _mm256_loadu_si256(x.qs.as_ptr().add(64 * j).cast());
                let x_hi = _mm256_loadu_si256(x.qs.as_ptr().add(64 * j + 32).cast());
                let mut lo = _mm256_and_si256(bits, m4);
                let mut hi = _mm256_and_si256(_mm256_srli_epi16::<4>(bits), m4);
                if FIVE {
                    // Bytes 16..48 of the block, the fifth bits.
                    let hbits = _mm256_loadu_si256(p.add(16).cast());
                    let bit = |k: usize| {
                        let mask = _mm256_set1_epi8((1u8 << k) as i8);
                        let set = _mm256_cmpeq_epi8(_mm256_and_si256(hbits, mask), mask);
                        _mm256_and_si256(set, sixteen)
                    };
                    lo = _mm256_add_epi8(lo, bit(2 * j));
                    hi = _mm256_add_epi8(hi, bit(2 * j + 1));
                }
                let s_lo = _mm256_shuffle_epi8(scales, SCALE_SHUFFLE[2 * j]);
                let s_hi = _mm256_shuffle_epi8(scales, SCALE_SHUFFLE[2 * j + 1]);
                sum[0] = S::add(sum[0], _mm256_maddubs_epi16(lo, x_lo), s_lo);
                sum[1] = S::add(sum[1], _mm256_maddubs_epi16(hi, x_hi), s_hi);
            }
            let total = _mm256_cvtepi32_ps(_mm256_add_epi32(sum[0], sum[1]));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(f16_le(bytes) * x.d), total, acc);
        }
        let m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
        let m = _mm_add_ss(m, _mm_movehdup_ps(m));
        hsum(acc) - _mm_cvtss_f32(m)
    }
}

/// # Safety
/// The CPU has AVX-VNNI; as [`q6k_rows`].
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn q6k_rows_vnni(bytes: &[u8], row_bytes: usize, x: &[Q8KBlock], out: &mut [f32]) {
    // SAFETY: as this function's contract.
    unsafe { q6k_rows::<Dpwssd>(bytes, row_bytes, x, out) }
}

/// # Safety
/// `S`'s instructions are available; `bytes` is `out.len()` rows of `row_bytes` = `x.len()`
/// Q6_K blocks.
#[inline(always)]
unsafe fn q6k_rows<S: ScaledSum>(bytes: &[u8], row_bytes: usize, x: &[Q8KBlock], out: &mut [f32]) {
    for (row, o) in bytes.chunks_exact(row_bytes).zip(out.iter_mut()) {
        // SAFETY: a row of `x.len()` blocks; `S` as the contract.
        *o = unsafe { q6k_row::<S>(row.as_ptr(), x) };
    }
}

/// The Q6_K row at `row` · `x`.
///
/// # Safety
/// `row` starts `x.len()` readable blocks; `S`'s instructions are available.
#[inline(always)]
unsafe fn q6k_row<S: ScaledSum>(row: *const u8, x: &[Q8KBlock]) -> f32 {
    // SAFETY: see the module note and this function's contract.
    unsafe {
        let (m4, m3, m30) = (
            _mm256_set1_epi8(0x0f),
            _mm256_set1_epi8(3),
            _mm256_set1_epi8(0x30),
        );
        let mut acc = _mm256_setzero_ps();
        for (b, x) in x.iter().enumerate() {
            // Block `b` of the row (the contract); its 16 scale bytes at 192, its scale at 208.
            let p = row.add(b * Q6K_BLOCK);
            prefetch_ahead(p, Q6K_BLOCK);
            let sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(p.add(192).cast()));
            let d = f16_le(std::slice::from_raw_parts(p.add(208), 2)) * x.d;
            // (q − 32) · x as q · x − 32 · x: the second part is 32 · Σ scale · group sum.
            let bsums = _mm256_loadu_si256(x.bsums.as_ptr().cast());
            let offset = _mm256_slli_epi32::<5>(_mm256_madd_epi16(sc16, bsums));
            // Two sums, so that no chain waits on `vpdpwssd`'s latency.
            let mut sum = [
                _mm256_sub_epi32(_mm256_setzero_si256(), offset),
                _mm256_setzero_si256(),
            ];
            let halves = [
                _mm256_permute2x128_si256::<0x00>(sc16, sc16),
                _mm256_permute2x128_si256::<0x11>(sc16, sc16),
            ];
            for (half, scales) in halves.into_iter().enumerate() {
                // Bytes `64h..64h + 64` (low bits) and `128 + 32h..+ 32` (high bits) of the block.
                let ql1 = _mm256_loadu_si256(p.add(64 * half).cast());
                let ql2 = _mm256_loadu_si256(p.add(64 * half + 32).cast());
                let qh = _mm256_loadu_si256(p.add(128 + 32 * half).cast());
                let qh2 = _mm256_srli_epi16::<2>(qh);
                let q = [
                    _mm256_or_si256(
                        _mm256_and_si256(ql1, m4),
                        _mm256_slli_epi16::<4>(_mm256_and_si256(qh, m3)),
                    ),
                    _mm256_or_si256(
                        _mm256_and_si256(ql2, m4),
                        _mm256_slli_epi16::<4>(_mm256_and_si256(qh2, m3)),
                    ),
                    _mm256_or_si256(
                        _mm256_and_si256(_mm256_srli_epi16::<4>(ql1), m4),
                        _mm256_and_si256(qh, m30),
                    ),
                    _mm256_or_si256(
                        _mm256_and_si256(_mm256_srli_epi16::<4>(ql2), m4),
                        _mm256_and_si256(qh2, m30),
                    ),
                ];
                for (k, q) in q.into_iter().enumerate() {
                    // Values `128h + 32k..+ 32` of the super-block.
                    let xq = _mm256_loadu_si256(x.qs.as_ptr().add(128 * half + 32 * k).cast());
                    let scale = _mm256_shuffle_epi8(scales, Q6_SCALE_SHUFFLE[k]);
                    sum[k & 1] = S::add(sum[k & 1], _mm256_maddubs_epi16(q, xq), scale);
                }
            }
            let total = _mm256_cvtepi32_ps(_mm256_add_epi32(sum[0], sum[1]));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d), total, acc);
        }
        hsum(acc)
    }
}
