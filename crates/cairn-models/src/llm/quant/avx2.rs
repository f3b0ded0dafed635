//! AVX2 dot products of weight rows (ggml block layouts, as the file holds them) with quantized
//! activations: `_mm256_maddubs_epi16` multiplies 32 byte pairs at a time, as llama.cpp's kernels
//! do. Each function computes what its twin in [`super::scalar`] defines; a test holds them equal.
//!
//! SAFETY (whole module): compiled only when AVX2, FMA and F16C are enabled for the build, so every
//! intrinsic is available. Every load reads bytes inside one block of the row slice (whose length
//! is a whole number of blocks, checked by the caller's `chunks_exact`) or inside one activation
//! block's array, through unaligned loads.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

pub mod block32;
pub mod kquant;

/// Whether this CPU has AVX-VNNI and `CAIRN_VNNI` ([`crate::vnni_limit`]) lets decoding use it.
pub fn vnni_available() -> bool {
    use crate::vnni_limit::{VnniLimit, vnni_limit};
    super::avx_vnni::available() && vnni_limit() >= VnniLimit::Avx
}

/// `out[i] = row i · x` for a run of consecutive rows (each `row_bytes` long), for every quantized
/// format decode meets: on AVX-VNNI where `vnni` (which needs
/// [`vnni_available`]), else on plain AVX2; `false` (nothing written) for float rows.
pub fn run_rows(
    vnni: bool,
    format: Format,
    bytes: &[u8],
    row_bytes: usize,
    x: &Activation,
    out: &mut [f32],
) -> bool {
    kquant::rows(vnni, format, bytes, row_bytes, x, out)
        || block32::rows(vnni, format, bytes, row_bytes, x, out)
}

use super::Activation;
use super::act::{Q8Block, Q8KBlock};
use super::format::{Format, f16_le};

/// Sum of the 8 lanes.
#[inline(always)]
fn hsum(v: __m256) -> f32 {
    // SAFETY: see the module note; register-only operations.
    unsafe {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
}

/// The 32 four-bit values of 16 bytes: low nibbles in bytes 0..16, high nibbles in 16..32.
#[inline(always)]
unsafe fn nibbles(qs: *const u8) -> __m256i {
    // SAFETY: the caller points at 16 readable bytes.
    unsafe {
        let tmp = _mm_loadu_si128(qs.cast());
        let both = _mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp);
        _mm256_and_si256(both, _mm256_set1_epi8(0x0f))
    }
}

/// Byte `i` is 0xFF where bit `i` of the 32 bits at `qh` is set, else 0.
#[inline(always)]
unsafe fn bits_to_bytes(qh: *const u8) -> __m256i {
    // SAFETY: the caller points at 4 readable bytes.
    unsafe {
        let x32 = u32::from_le_bytes(std::ptr::read_unaligned(qh.cast::<[u8; 4]>()));
        let shuffle = _mm256_set_epi64x(
            0x0303030303030303,
            0x0202020202020202,
            0x0101010101010101,
            0x0000000000000000,
        );
        let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(x32 as i32), shuffle);
        let bits = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
        _mm256_cmpeq_epi8(bits, _mm256_set1_epi64x(-1))
    }
}

/// Pairwise `Σ u · s` of unsigned bytes `u` and signed bytes `s`, as 8 float lanes.
#[inline(always)]
fn sum_unsigned_signed(u: __m256i, s: __m256i) -> __m256 {
    // SAFETY: see the module note; register-only operations.
    unsafe {
        let pairs = _mm256_maddubs_epi16(u, s);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
    }
}

/// Pairwise `Σ a · b` of signed bytes, as 8 float lanes (maddubs wants one unsigned side: `|a|`,
/// and `b` takes `a`'s sign).
#[inline(always)]
fn sum_signed(a: __m256i, b: __m256i) -> __m256 {
    // SAFETY: see the module note; register-only operations.
    unsafe { sum_unsigned_signed(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a)) }
}

// `dot_q8`, `dot_q8k` and `dot_rows`, over this module's row functions.
row_kernels!();

#[inline(always)]
fn q4_0_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 18, x, |p, xq| {
        // SAFETY: `p` is one 18-byte block; the rest is register-only.
        unsafe {
            let q = _mm256_sub_epi8(nibbles(p.add(2)), _mm256_set1_epi8(8));
            (f16_at(p), sum_signed(q, xq), 0.0)
        }
    })
}

#[inline(always)]
fn q4_1_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 20, x, |p, xq| {
        // SAFETY: `p` is one 20-byte block.
        let (q, d, m) = unsafe { (nibbles(p.add(4)), f16_at(p), f16_at(p.add(2))) };
        (d, sum_unsigned_signed(q, xq), m)
    })
}

#[inline(always)]
fn q5_0_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 22, x, |p, xq| {
        // SAFETY: `p` is one 22-byte block.
        unsafe {
            // q | 0xF0 where the fifth bit is clear: q - 16 as a signed byte.
            let high = _mm256_andnot_si256(bits_to_bytes(p.add(2)), _mm256_set1_epi8(-16));
            let q = _mm256_or_si256(nibbles(p.add(6)), high);
            (f16_at(p), sum_signed(q, xq), 0.0)
        }
    })
}

#[inline(always)]
fn q5_1_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 24, x, |p, xq| {
        // SAFETY: `p` is one 24-byte block.
        unsafe {
            let high = _mm256_and_si256(bits_to_bytes(p.add(4)), _mm256_set1_epi8(0x10));
            let q = _mm256_or_si256(nibbles(p.add(8)), high);
            (f16_at(p), sum_unsigned_signed(q, xq), f16_at(p.add(2)))
        }
    })
}

#[inline(always)]
fn q8_0_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 34, x, |p, xq| {
        // SAFETY: `p` is one 34-byte block.
        let (q, d) = unsafe { (_mm256_loadu_si256(p.add(2).cast()), f16_at(p)) };
        (d, sum_signed(q, xq), 0.0)
    })
}

/// The half-precision number at `p`.
#[inline(always)]
unsafe fn f16_at(p: *const u8) -> f32 {
    // SAFETY: the caller points at 2 readable bytes.
    f16_le(unsafe { &*p.cast::<[u8; 2]>() })
}

/// How far ahead of the block being read the next weights are asked for (a prefetch never faults,
/// so the address may lie past the row).
const PREFETCH_AHEAD: usize = 2048;

/// `Σ` over the blocks of a row of `block`-byte blocks: `block_dot(block, x.qs)` gives the block's
/// scale, its integer products as 8 float lanes, and the coefficient of `x.s` (the offset of the
/// formats that have one).
#[inline(always)]
fn blocks_q8(
    bytes: &[u8],
    block: usize,
    x: &[Q8Block],
    block_dot: impl Fn(*const u8, __m256i) -> (f32, __m256, f32),
) -> f32 {
    // SAFETY: see the module note; each `b` is one whole block, each `x` one activation block.
    unsafe {
        // Four accumulators: one chain of fused multiply-adds would wait on its own latency.
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut offset = 0f32;
        for (i, (b, x)) in bytes.chunks_exact(block).zip(x).enumerate() {
            // Ask for the weights a few blocks on: decoding reads each row once, from memory.
            _mm_prefetch::<_MM_HINT_T0>(b.as_ptr().wrapping_add(PREFETCH_AHEAD).cast());
            let xq = _mm256_loadu_si256(x.qs.as_ptr().cast());
            let (d, products, m) = block_dot(b.as_ptr(), xq);
            acc[i & 3] = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d), products, acc[i & 3]);
            offset += m * x.s;
        }
        let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        hsum(sum) + offset
    }
}

#[inline(always)]
fn dot_q45k(five: bool, bytes: &[u8], x: &[Q8KBlock]) -> f32 {
    let block = if five { 176 } else { 144 };
    // SAFETY: see the module note; each `b` is one whole block, each `x` one super-block.
    unsafe {
        let m4 = _mm256_set1_epi8(0x0f);
        let sixteen = _mm256_set1_epi8(16);
        let mut acc = _mm256_setzero_ps();
        let mut acc_m = _mm_setzero_ps();
        for (b, x) in bytes.chunks_exact(block).zip(x) {
            let (d, dmin) = (f16_le(b), f16_le(&b[2..]));
            let qs = if five {
                b.as_ptr().add(48)
            } else {
                b.as_ptr().add(16)
            };
            let hbits = if five {
                _mm256_loadu_si256(b.as_ptr().add(16).cast())
            } else {
                _mm256_setzero_si256()
            };
            // The 8 six-bit scales and 8 mins, unpacked as llama.cpp does: scales in the low
            // eight 16-bit lanes, mins in the high eight.
            let mut u = [0u32; 4];
            for (k, word) in u.iter_mut().take(3).enumerate() {
                *word =
                    u32::from_le_bytes([b[4 + 4 * k], b[5 + 4 * k], b[6 + 4 * k], b[7 + 4 * k]]);
            }
            const K1: u32 = 0x3f3f_3f3f;
            const K2: u32 = 0x0f0f_0f0f;
            const K3: u32 = 0x0303_0303;
            u[3] = ((u[2] >> 4) & K2) | (((u[1] >> 6) & K3) << 4);
            let aux = u[1] & K1;
            u[1] = (u[2] & K2) | (((u[0] >> 6) & K3) << 4);
            u[2] = aux;
            u[0] &= K1;
            let mins_and_scales = _mm256_cvtepu8_epi16(_mm_set_epi32(
                u[3] as i32,
                u[2] as i32,
                u[1] as i32,
                u[0] as i32,
            ));
            // Mins times the activations' group sums (pairs of 16 make the groups of 32).
            let sums = _mm256_loadu_si256(x.bsums.as_ptr().cast());
            let sums32 = _mm_hadd_epi16(
                _mm256_castsi256_si128(sums),
                _mm256_extracti128_si256(sums, 1),
            );
            let mins = _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), sums32);
            acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin * x.d), _mm_cvtepi32_ps(mins), acc_m);
            let sc = _mm256_castsi256_si128(mins_and_scales);
            let scales = _mm256_set_m128i(sc, sc);
            let mut sumi = _mm256_setzero_si256();
            for j in 0..4 {
                let bits = _mm256_loadu_si256(qs.add(32 * j).cast());
                let mut lo = _mm256_and_si256(bits, m4);
                let mut hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
                if five {
                    let bit = |k: usize| {
                        let mask = _mm256_set1_epi8((1u8 << k) as i8);
                        let set = _mm256_cmpeq_epi8(_mm256_and_si256(hbits, mask), mask);
                        _mm256_and_si256(set, sixteen)
                    };
                    lo = _mm256_add_epi8(lo, bit(2 * j));
                    hi = _mm256_add_epi8(hi, bit(2 * j + 1));
                }
                let x_lo = _mm256_loadu_si256(x.qs.as_ptr().add(64 * j).cast());
                let x_hi = _mm256_loadu_si256(x.qs.as_ptr().add(64 * j + 32).cast());
                let s_lo = _mm256_shuffle_epi8(scales, SCALE_SHUFFLE[2 * j]);
                let s_hi = _mm256_shuffle_epi8(scales, SCALE_SHUFFLE[2 * j + 1]);
                let p_lo = _mm256_madd_epi16(s_lo, _mm256_maddubs_epi16(lo, x_lo));
                let p_hi = _mm256_madd_epi16(s_hi, _mm256_maddubs_epi16(hi, x_hi));
                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p_lo, p_hi));
            }
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d), _mm256_cvtepi32_ps(sumi), acc);
        }
        let m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
        let m = _mm_add_ss(m, _mm_movehdup_ps(m));
        hsum(acc) - _mm_cvtss_f32(m)
    }
}

/// Shuffles that spread 16-bit lane `i` of a register holding eight scales over all sixteen lanes.
const SCALE_SHUFFLE: [__m256i; 8] = {
    let mut out = [[0u8; 32]; 8];
    let mut i = 0;
    while i < 8 {
        let mut k = 0;
        while k < 16 {
            out[i][2 * k] = 2 * i as u8;
            out[i][2 * k + 1] = 2 * i as u8 + 1;
            k += 1;
        }
        i += 1;
    }
    // SAFETY: `[u8; 32]` and `__m256i` have the same size, and any bits are a valid `__m256i`.
    unsafe { std::mem::transmute::<[[u8; 32]; 8], [__m256i; 8]>(out) }
};

#[inline(always)]
fn dot_q6k(bytes: &[u8], x: &[Q8KBlock]) -> f32 {
    // SAFETY: see the module note; each `b` is one whole 210-byte block, each `x` one super-block.
    unsafe {
        let m4 = _mm256_set1_epi8(0x0f);
        let m2 = _mm256_set1_epi8(3);
        let m32 = _mm256_set1_epi8(32);
        let mut acc = _mm256_setzero_ps();
        for (b, x) in bytes.chunks_exact(210).zip(x) {
            let d = f16_le(&b[208..]);
            // The 16 scales as 16-bit lanes, each half's eight in both 128-bit lanes.
            let sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.as_ptr().add(192).cast()));
            let halves = [
                _mm256_permute2x128_si256::<0x00>(sc16, sc16),
                _mm256_permute2x128_si256::<0x11>(sc16, sc16),
            ];
            let mut sumi = _mm256_setzero_si256();
            for (half, scales) in halves.iter().enumerate() {
                let ql = b.as_ptr().add(64 * half);
                let qh = _mm256_loadu_si256(b.as_ptr().add(128 + 32 * half).cast());
                let ql1 = _mm256_loadu_si256(ql.cast());
                let ql2 = _mm256_loadu_si256(ql.add(32).cast());
                let high = |shift: i32| {
                    let bits = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(shift)), m2);
                    _mm256_slli_epi16(bits, 4)
                };
                let q = [
                    _mm256_or_si256(_mm256_and_si256(ql1, m4), high(0)),
                    _mm256_or_si256(_mm256_and_si256(ql2, m4), high(2)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), high(4)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql2, 4), m4), high(6)),
                ];
                for (k, q) in q.iter().enumerate() {
                    let xq = _mm256_loadu_si256(x.qs.as_ptr().add(128 * half + 32 * k).cast());
                    // (q - 32) · x, as q · x - 32 · x.
                    let p = _mm256_sub_epi16(
                        _mm256_maddubs_epi16(*q, xq),
                        _mm256_maddubs_epi16(m32, xq),
                    );
                    let scale = _mm256_shuffle_epi8(*scales, Q6_SCALE_SHUFFLE[k]);
                    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(scale, p));
                }
            }
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * x.d), _mm256_cvtepi32_ps(sumi), acc);
        }
        hsum(acc)
    }
}

/// Shuffles that put scale `2k` of a half in the low 128-bit lane and scale `2k + 1` in the high
/// one, each spread over eight 16-bit lanes (values `32k..32k + 16` and `32k + 16..32k + 32`).
const Q6_SCALE_SHUFFLE: [__m256i; 4] = {
    let mut out = [[0u8; 32]; 4];
    let mut k = 0;
    while k < 4 {
        let mut l = 0;
        while l < 8 {
            out[k][2 * l] = 4 * k as u8;
            out[k][2 * l + 1] = 4 * k as u8 + 1;
            out[k][16 + 2 * l] = 4 * k as u8 + 2;
            out[k][16 + 2 * l + 1] = 4 * k as u8 + 3;
            l += 1;
        }
        k += 1;
    }
    // SAFETY: `[u8; 32]` and `__m256i` have the same size, and any bits are a valid `__m256i`.
    unsafe { std::mem::transmute::<[[u8; 32]; 4], [__m256i; 4]>(out) }
};

/// `Σ w · x` of a float row and float activations.
pub fn dot_float(format: Format, bytes: &[u8], x: &[f32]) -> f32 {
    let width = match format {
        Format::F16 | Format::BF16 => 2,
        Format::F32 => 4,
        other => panic!("{} rows do not meet float activations", other.name()),
    };
    let n = bytes.len() / width;
    let whole = n / 8 * 8;
    // SAFETY: see the module note; every load reads 8 values at index `i < whole <= n`.
    let mut sum = unsafe {
        let mut acc = _mm256_setzero_ps();
        for i in (0..whole).step_by(8) {
            let w = match format {
                Format::F16 => _mm256_cvtph_ps(_mm_loadu_si128(bytes.as_ptr().add(2 * i).cast())),
                Format::BF16 => {
                    let h =
                        _mm256_cvtepu16_epi32(_mm_loadu_si128(bytes.as_ptr().add(2 * i).cast()));
                    _mm256_castsi256_ps(_mm256_slli_epi32(h, 16))
                }
                _ => _mm256_loadu_ps(bytes.as_ptr().add(4 * i).cast()),
            };
            acc = _mm256_fmadd_ps(w, _mm256_loadu_ps(x.as_ptr().add(i)), acc);
        }
        hsum(acc)
    };
    sum += super::scalar::dot_float(format, &bytes[whole * width..], &x[whole..n]);
    sum
}
