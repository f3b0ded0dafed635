//! Decoding on AVX2 for CPUs without AVX-512: runs of rows in the 32-value formats (Q4_0, Q4_1,
//! Q5_0, Q5_1, Q8_0) meeting one Q8 activation vector, the four- and five-bit ones two rows at a
//! time (each activation load serves both; about 10% faster than one at a time in `cargo bench
//! --bench decode`), Q8_0 one row at a time. The four- and five-bit weights stay unsigned bytes and a format's zero point (8
//! for Q4_0, 16 for Q5_0) is one starting value per block, `−zero · Σ x`, computed once per
//! product, instead of a subtraction per weight. Where the CPU has AVX-VNNI, `vpdpbusd` multiplies
//! and adds four byte pairs into each 32-bit lane in one instruction ([`Dpbusd`]), else
//! `vpmaddubsw` then `vpmaddwd` ([`Maddubs`]).
//!
//! SAFETY (whole module): as [`super::kquant`]'s: the build has AVX2, FMA and F16C; the AVX-VNNI
//! variant runs only inside a function compiled for it, called only after
//! [`super::vnni_available`]; every load reads inside one block of a row (whole numbers of
//! blocks, asserted) or one activation block, of which there is one per block of the row
//! (asserted).
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::super::Activation;
use super::super::act::Q8Block;
use super::super::avx512::block32::{Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, layout};
use super::super::avx512::prefetch_ahead;
use super::super::format::{Format, f16_le};
use super::{bits_to_bytes, hsum, nibbles};

/// `out[i] = row i · x` for the consecutive rows of `bytes` (each `row_bytes` long) in a 32-value
/// format, on AVX-VNNI where `vnni` (which needs [`super::vnni_available`]), else on
/// plain AVX2; `false` (nothing written) for the other formats.
pub fn rows(
    vnni: bool,
    format: Format,
    bytes: &[u8],
    row_bytes: usize,
    x: &Activation,
    out: &mut [f32],
) -> bool {
    let f = match format {
        Format::Q4_0 => Q4_0,
        Format::Q4_1 => Q4_1,
        Format::Q5_0 => Q5_0,
        Format::Q5_1 => Q5_1,
        Format::Q8_0 => Q8_0,
        _ => return false,
    };
    let block = layout(f).0;
    let blocks = row_bytes / block;
    assert!(row_bytes == blocks * block && x.q8.len() >= blocks);
    assert_eq!(bytes.len(), out.len() * row_bytes);
    assert!(
        !vnni || super::vnni_available(),
        "AVX-VNNI is not available"
    );
    let x = &x.q8[..blocks];
    let starts = starts(format, x);
    // SAFETY: the lengths are asserted above; AVX-VNNI where `vnni`, asserted.
    unsafe {
        macro_rules! each_format {
            ($rows:ident, $dot:ty) => {
                match f {
                    Q4_0 => $rows::<Q4_0, $dot>(bytes, row_bytes, x, &starts, out),
                    Q4_1 => $rows::<Q4_1, $dot>(bytes, row_bytes, x, &starts, out),
                    Q5_0 => $rows::<Q5_0, $dot>(bytes, row_bytes, x, &starts, out),
                    Q5_1 => $rows::<Q5_1, $dot>(bytes, row_bytes, x, &starts, out),
                    _ => $rows::<Q8_0, $dot>(bytes, row_bytes, x, &starts, out),
                }
            };
        }
        if vnni {
            each_format!(rows_vnni, Dpbusd)
        } else {
            each_format!(rows_in, Maddubs)
        }
    }
    true
}

/// For each activation block, the 32-bit lanes its integer sum starts from: minus the format's
/// zero point times the block's exact sum of values, in lane 0 (empty for the formats without a
/// zero point).
fn starts(format: Format, x: &[Q8Block]) -> Vec<[i32; 8]> {
    let zero_point = match format {
        Format::Q4_0 => 8,
        Format::Q5_0 => 16,
        _ => return Vec::new(),
    };
    x.iter()
        .map(|b| {
            let mut lanes = [0i32; 8];
            lanes[0] = -zero_point * b.qs.iter().map(|&q| i32::from(q)).sum::<i32>();
            lanes
        })
        .collect()
}

/// `start + Σ u · s` over each four byte pairs of unsigned `u` and signed `s`, into 32-bit lanes.
trait ByteDot {
    /// # Safety
    /// The CPU has the instructions the implementation names.
    unsafe fn dot(start: __m256i, u: __m256i, s: __m256i) -> __m256i;
}

/// `vpmaddubsw`, `vpmaddwd` by ones, `vpaddd` (AVX2). Exact: a pair's 16-bit sum is at most
/// 2 · 31 · 128 (five-bit weights) or 2 · 128 · 127 (Q8_0, made unsigned by its sign).
struct Maddubs;

impl ByteDot for Maddubs {
    #[inline(always)]
    unsafe fn dot(start: __m256i, u: __m256i, s: __m256i) -> __m256i {
        // SAFETY: the build has AVX2.
        unsafe {
            let pairs = _mm256_maddubs_epi16(u, s);
            _mm256_add_epi32(start, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
        }
    }
}

/// `vpdpbusd` (AVX-VNNI): all of it in one instruction.
struct Dpbusd;

impl ByteDot for Dpbusd {
    #[inline(always)]
    unsafe fn dot(start: __m256i, u: __m256i, s: __m256i) -> __m256i {
        // SAFETY: the caller's CPU has AVX-VNNI (the trait's contract).
        unsafe { _mm256_dpbusd_avx_epi32(start, u, s) }
    }
}

/// # Safety
/// The CPU has AVX-VNNI; as [`rows_in`].
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn rows_vnni<const F: u8, D: ByteDot>(
    bytes: &[u8],
    row_bytes: usize,
    x: &[Q8Block],
    starts: &[[i32; 8]],
    out: &mut [f32],
) {
    // SAFETY: as this function's contract.
    unsafe { rows_in::<F, D>(bytes, row_bytes, x, starts, out) }
}

/// # Safety
/// `D`'s instructions are available; `bytes` is `out.len()` rows of `row_bytes` = `x.len()`
/// blocks of format `F`; `starts` has one entry per block where `F` has a zero point.
#[inline(always)]
unsafe fn rows_in<const F: u8, D: ByteDot>(
    bytes: &[u8],
    row_bytes: usize,
    x: &[Q8Block],
    starts: &[[i32; 8]],
    out: &mut [f32],
) {
    assert!(!matches!(F, Q4_0 | Q5_0) || starts.len() == x.len());
    if F == Q8_0 {
        // Its blocks are twice as long: one row at a time streams memory faster (measured with
        // `cargo bench --bench decode`: about 5% over two rows at a time).
        for (row, o) in bytes.chunks_exact(row_bytes).zip(out.iter_mut()) {
            // SAFETY: one row of `x.len()` blocks; `D` as the contract.
            *o = unsafe { run::<F, 1, D>([row.as_ptr()], x, starts)[0] };
        }
        return;
    }
    let mut pairs = bytes.chunks_exact(2 * row_bytes);
    let mut outs = out.chunks_exact_mut(2);
    for (rows, o) in (&mut pairs).zip(&mut outs) {
        let (a, b) = rows.split_at(row_bytes);
        // SAFETY: two rows of `x.len()` blocks; `D` as the contract.
        let [p, q] = unsafe { run::<F, 2, D>([a.as_ptr(), b.as_ptr()], x, starts) };
        o.copy_from_slice(&[p, q]);
    }
    if let ([o], row) = (outs.into_remainder(), pairs.remainder()) {
        // SAFETY: one row of `x.len()` blocks.
        *o = unsafe { run::<F, 1, D>([row.as_ptr()], x, starts)[0] };
    }
}

/// `R` rows of format `F` at `rows` · `x`.
///
/// # Safety
/// Each pointer starts `x.len()` readable blocks; `starts` as [`rows_in`]'s; `D`'s instructions
/// are available.
#[inline(always)]
unsafe fn run<const F: u8, const R: usize, D: ByteDot>(
    rows: [*const u8; R],
    x: &[Q8Block],
    starts: &[[i32; 8]],
) -> [f32; R] {
    let (block, values_at) = layout(F);
    // SAFETY: see the module note and this function's contract.
    unsafe {
        let sixteen = _mm256_set1_epi8(16);
        // Two accumulators per row, by block parity: no chain waits on the multiply-add.
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        let mut offset = [0f32; R];
        for (b, xb) in x.iter().enumerate() {
            let xq = _mm256_loadu_si256(xb.qs.as_ptr().cast());
            let start = if matches!(F, Q4_0 | Q5_0) {
                _mm256_loadu_si256(starts[b].as_ptr().cast())
            } else {
                _mm256_setzero_si256()
            };
            for r in 0..R {
                let p = rows[r].add(b * block);
                prefetch_ahead(p, block);
                let sum = if F == Q8_0 {
                    // Signed weights: their magnitudes meet the activations with their signs.
                    let w = _mm256_loadu_si256(p.add(values_at).cast());
                    D::dot(start, _mm256_abs_epi8(w), _mm256_sign_epi8(xq, w))
                } else {
                    let mut w = nibbles(p.add(values_at));
                    if F == Q5_0 || F == Q5_1 {
                        let fifth = _mm256_and_si256(bits_to_bytes(p.add(values_at - 4)), sixteen);
                        w = _mm256_or_si256(w, fifth);
                    }
                    D::dot(start, w, xq)
                };
                let scale = _mm256_set1_ps(f16_le(std::slice::from_raw_parts(p, 2)) * xb.d);
                acc[r][b & 1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), scale, acc[r][b & 1]);
                if F == Q4_1 || F == Q5_1 {
                    offset[r] += f16_le(std::slice::from_raw_parts(p.add(2), 2)) * xb.s;
                }
            }
        }
        std::array::from_fn(|r| hsum(_mm256_add_ps(acc[r][0], acc[r][1])) + offset[r])
    }
}
