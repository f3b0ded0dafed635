//! Q4_K, Q5_K and Q6_K rows meeting one Q8K activation vector, 64 weight bytes at a time:
//! `vpmaddubsw` multiplies byte pairs into 16-bit sums and `vpdpwssd` multiplies those by the
//! group's scale and adds them to 32-bit sums in one step, so a super-block of 256 values costs
//! about half the instructions of the 256-bit kernels.
//!
//! SAFETY (whole module): see [`super`]; the activation buffers built here have one super-block
//! per block of the row, asserted.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{available, prefetch_ahead};
use crate::llm::quant::act::Q8KBlock;
use crate::llm::quant::format::{QK_K, f16_le};

/// Bytes of a Q4_K, a Q5_K and a Q6_K block.
pub(in crate::llm::quant) const Q4K_BLOCK: usize = 144;
pub(in crate::llm::quant) const Q5K_BLOCK: usize = 176;
pub(in crate::llm::quant) const Q6K_BLOCK: usize = 210;

/// `out[i] = row i · x` for the consecutive Q4_K rows of `bytes`, each `row_bytes` long. Panics
/// where the CPU lacks the instructions ([`available`]).
pub fn q4k_rows(bytes: &[u8], row_bytes: usize, x: &[Q8KBlock], out: &mut [f32]) {
    q45k_rows::<false>(bytes, row_bytes, x, out)
}

/// `out[i] = row i · x` for the consecutive Q5_K rows of `bytes`, each `row_bytes` long. Panics
/// where the CPU lacks the instructions ([`available`]).
pub fn q5k_rows(bytes: &[u8], row_bytes: usize, x: &[Q8KBlock], out: &mut [f32]) {
    q45k_rows::<true>(bytes, row_bytes, x, out)
}

fn q45k_rows<const FIVE: bool>(bytes: &[u8], row_bytes: usize, x: &[Q8KBlock], out: &mut [f32]) {
    assert!(available(), "AVX-512 VNNI is not available on this CPU");
    let block = if FIVE { Q5K_BLOCK } else { Q4K_BLOCK };
    let blocks = row_bytes / block;
    assert!(row_bytes == blocks * block && x.len() >= blocks);
    assert_eq!(bytes.len(), out.len() * row_bytes);
    let act = NibbleOrder::new(&x[..blocks]);
    // SAFETY: the CPU has the instructions (asserted); the lengths are asserted above and in
    // `NibbleOrder::new`.
    unsafe { q45k_rows_in::<FIVE>(bytes, row_bytes, blocks, &act, out) }
}

/// `out[i] = row i · x` for the consecutive Q6_K rows of `bytes`, each `row_bytes` long. Panics
/// where the CPU lacks the instructions ([`available`]).
pub fn q6k_rows(bytes: &[u8], row_bytes: usize, x: &[Q8KBlock], out: &mut [f32]) {
    assert!(available(), "AVX-512 VNNI is not available on this CPU");
    let blocks = row_bytes / Q6K_BLOCK;
    assert!(row_bytes == blocks * Q6K_BLOCK && x.len() >= blocks);
    assert_eq!(bytes.len(), out.len() * row_bytes);
    // SAFETY: as above.
    unsafe { q6k_rows_in(bytes, row_bytes, &x[..blocks], out) }
}

/// A Q8K activation with each super-block's groups of 32 in the order the nibbles of a 64-byte
/// load of Q4_K weights hold them: the low nibbles of bytes 0..64 are groups 0 and 2, the high
/// ones groups 1 and 3, and likewise 4, 6, 5, 7 in the next 64 bytes.
struct NibbleOrder {
    qs: Vec<[i8; QK_K]>,
    d: Vec<f32>,
    /// The sum of each group of 32, for the mins.
    sums: Vec<[i16; 8]>,
}

/// Where each group of 32 goes in [`NibbleOrder`].
const NIBBLE_GROUPS: [usize; 8] = [0, 2, 1, 3, 4, 6, 5, 7];

impl NibbleOrder {
    fn new(x: &[Q8KBlock]) -> NibbleOrder {
        let qs = x
            .iter()
            .map(|block| {
                let mut out = [0i8; QK_K];
                for (slot, group) in NIBBLE_GROUPS.iter().enumerate() {
                    out[32 * slot..32 * slot + 32]
                        .copy_from_slice(&block.qs[32 * group..32 * group + 32]);
                }
                out
            })
            .collect();
        let sums = x
            .iter()
            .map(|block| std::array::from_fn(|g| block.bsums[2 * g] + block.bsums[2 * g + 1]))
            .collect();
        NibbleOrder {
            qs,
            d: x.iter().map(|block| block.d).collect(),
            sums,
        }
    }
}

/// The pairs of groups each 64-byte register of nibbles holds: low nibbles of bytes 0..64 are
/// groups 0 and 2, their high nibbles 1 and 3, then 4 and 6, 5 and 7 (the first group of a pair in
/// bytes 0..32, the second in 32..64).
const PAIRS: [[u8; 2]; 4] = [[0, 2], [1, 3], [4, 6], [5, 7]];

/// For each register of nibbles, what byte `i` needs of its group: the fifth-bit mask, or the
/// shuffle index of the group's 16-bit scale (byte `i % 2` of it).
const fn per_byte(fifth_bits: bool) -> [[u8; 64]; 4] {
    let mut out = [[0u8; 64]; 4];
    let mut r = 0;
    while r < 4 {
        let mut i = 0;
        while i < 64 {
            let group = PAIRS[r][i / 32];
            out[r][i] = if fifth_bits {
                1 << group
            } else {
                2 * group + (i % 2) as u8
            };
            i += 1;
        }
        r += 1;
    }
    out
}

/// Byte shuffles (within each 128-bit lane) that spread 16-bit scale `k` of a register holding
/// eight over the lane: lanes 0–1 take the first group of the register's pair, lanes 2–3 the
/// second.
const Q4K_SCALES: [[u8; 64]; 4] = per_byte(false);

/// The bit of a Q5_K block's `qh` byte that holds each value's fifth bit: `qh[l]` bit `j` is value
/// `l` of group `j`.
const Q5K_FIFTH_BITS: [[u8; 64]; 4] = per_byte(true);

/// # Safety
/// The CPU has AVX-512F, BW and VNNI; `bytes` is `out.len()` rows of `row_bytes` = `blocks`
/// blocks (Q5_K where `FIVE`, else Q4_K); `act` holds `blocks` super-blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn q45k_rows_in<const FIVE: bool>(
    bytes: &[u8],
    row_bytes: usize,
    blocks: usize,
    act: &NibbleOrder,
    out: &mut [f32],
) {
    assert!(act.qs.len() == blocks && act.sums.len() == blocks && act.d.len() == blocks);
    let (block_bytes, qs_at) = if FIVE {
        (Q5K_BLOCK, 48)
    } else {
        (Q4K_BLOCK, 16)
    };
    let m4 = _mm512_set1_epi8(0x0f);
    let sixteen = _mm512_set1_epi8(16);
    // SAFETY: `[u8; 64]` and `__m512i` have the same size, and any bits are a valid `__m512i`.
    let shuffles: [__m512i; 4] = unsafe { std::mem::transmute(Q4K_SCALES) };
    // SAFETY: as above.
    let fifth_bits: [__m512i; 4] = unsafe { std::mem::transmute(Q5K_FIFTH_BITS) };
    for (row, o) in bytes.chunks_exact(row_bytes).zip(out.iter_mut()) {
        let mut acc = _mm512_setzero_ps();
        let mut acc_m = _mm_setzero_ps();
        for (b, block) in row.chunks_exact(block_bytes).enumerate() {
            let xd = act.d[b];
            prefetch_ahead(block.as_ptr(), block_bytes);
            let (d, dmin) = (f16_le(block), f16_le(&block[2..]));
            let (scales, mins) = q4k_scales_and_mins(&block[4..16]);
            // SAFETY: `sums[b]` is 8 readable i16s.
            let sums = unsafe { _mm_loadu_si128(act.sums[b].as_ptr().cast()) };
            let m = _mm_madd_epi16(mins, sums);
            acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin * xd), _mm_cvtepi32_ps(m), acc_m);

            let sc = _mm512_broadcast_i32x4(scales);
            // SAFETY: the block's 128 bytes of nibbles, and 256 bytes of `qs[b]`.
            let (q0, q1, x) = unsafe {
                (
                    _mm512_loadu_si512(block.as_ptr().add(qs_at).cast()),
                    _mm512_loadu_si512(block.as_ptr().add(qs_at + 64).cast()),
                    act.qs[b].as_ptr(),
                )
            };
            let mut nibbles = [
                _mm512_and_si512(q0, m4),
                _mm512_and_si512(_mm512_srli_epi16::<4>(q0), m4),
                _mm512_and_si512(q1, m4),
                _mm512_and_si512(_mm512_srli_epi16::<4>(q1), m4),
            ];
            if FIVE {
                // The 32 bytes of fifth bits, twice: byte `l` holds value `l`'s of every group.
                // SAFETY: bytes 16..48 of the block.
                let qh = unsafe { _mm256_loadu_si256(block.as_ptr().add(16).cast()) };
                let qh = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(qh), qh);
                for (w, bit) in nibbles.iter_mut().zip(fifth_bits) {
                    let set = _mm512_test_epi8_mask(qh, bit);
                    *w = _mm512_mask_add_epi8(*w, set, *w, sixteen);
                }
            }
            let mut sum = _mm512_setzero_si512();
            for (k, w) in nibbles.iter().enumerate() {
                // SAFETY: bytes `64k..64k + 64` of the super-block's 256.
                let xq = unsafe { _mm512_loadu_si512(x.add(64 * k).cast()) };
                let pairs = _mm512_maddubs_epi16(*w, xq);
                sum = _mm512_dpwssd_epi32(sum, pairs, _mm512_shuffle_epi8(sc, shuffles[k]));
            }
            acc = _mm512_fmadd_ps(_mm512_set1_ps(d * xd), _mm512_cvtepi32_ps(sum), acc);
        }
        let m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
        let m = _mm_add_ss(m, _mm_movehdup_ps(m));
        *o = _mm512_reduce_add_ps(acc) - _mm_cvtss_f32(m);
    }
}

/// A Q4_K block's eight 6-bit scales and eight 6-bit mins (its 12 scale bytes), each as eight
/// 16-bit lanes; unpacked as llama.cpp does.
#[inline(always)]
pub(in crate::llm::quant) fn q4k_scales_and_mins(packed: &[u8]) -> (__m128i, __m128i) {
    let word = |k: usize| {
        u32::from_le_bytes([
            packed[4 * k],
            packed[4 * k + 1],
            packed[4 * k + 2],
            packed[4 * k + 3],
        ])
    };
    let (u0, u1, u2) = (word(0), word(1), word(2));
    const K1: u32 = 0x3f3f_3f3f;
    const K2: u32 = 0x0f0f_0f0f;
    const K3: u32 = 0x0303_0303;
    let scales_lo = u0 & K1;
    let scales_hi = (u2 & K2) | (((u0 >> 6) & K3) << 4);
    let mins_lo = u1 & K1;
    let mins_hi = ((u2 >> 4) & K2) | (((u1 >> 6) & K3) << 4);
    // SAFETY: register-only operations; SSE4.1 is part of the build's baseline (AVX2).
    unsafe {
        (
            _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, scales_hi as i32, scales_lo as i32)),
            _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, mins_hi as i32, mins_lo as i32)),
        )
    }
}

/// For each 64-value register of a Q6_K half (values `128h..128h + 64`, then `+ 64..+ 128`), the
/// 16-bit scale index of each lane: its group of 16.
const Q6K_SCALES: [[u16; 32]; 4] = {
    let mut out = [[0u16; 32]; 4];
    let mut r = 0;
    while r < 4 {
        let mut i = 0;
        while i < 32 {
            out[r][i] = (4 * r + i / 8) as u16;
            i += 1;
        }
        r += 1;
    }
    out
};

/// # Safety
/// The CPU has AVX-512F, BW and VNNI; `bytes` is `out.len()` rows of `row_bytes` = `x.len()`
/// blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn q6k_rows_in(bytes: &[u8], row_bytes: usize, x: &[Q8KBlock], out: &mut [f32]) {
    let (m4, m3) = (_mm512_set1_epi8(0x0f), _mm512_set1_epi8(3));
    // SAFETY: `[u16; 32]` and `__m512i` have the same size, and any bits are a valid `__m512i`.
    let index: [__m512i; 4] = unsafe { std::mem::transmute(Q6K_SCALES) };
    for (row, o) in bytes.chunks_exact(row_bytes).zip(out.iter_mut()) {
        let mut acc = _mm512_setzero_ps();
        for (block, x) in row.chunks_exact(Q6K_BLOCK).zip(x) {
            let d = f16_le(&block[208..]);
            let p = block.as_ptr();
            prefetch_ahead(p, Q6K_BLOCK);
            // SAFETY: the 16 scale bytes at 192, the 16 group sums of the activation.
            let (sc16, bsums) = unsafe {
                (
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(p.add(192).cast())),
                    _mm256_loadu_si256(x.bsums.as_ptr().cast()),
                )
            };
            let sc = _mm512_castsi256_si512(sc16);
            // (q - 32) · x as q · x - 32 · x: the second part is 32 · Σ scale · group sum.
            let offset = _mm256_slli_epi32::<5>(_mm256_madd_epi16(sc16, bsums));
            let mut sum = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_zextsi256_si512(offset));
            for half in 0..2 {
                // SAFETY: bytes `64h..64h + 64` (low bits) and `128 + 32h..+ 32` (high bits) of
                // the block; values `128h..128h + 128` of the activation.
                let (ql, qh, xq) = unsafe {
                    (
                        _mm512_loadu_si512(p.add(64 * half).cast()),
                        _mm256_loadu_si256(p.add(128 + 32 * half).cast()),
                        x.qs.as_ptr().add(128 * half),
                    )
                };
                let high_lo =
                    _mm512_inserti64x4::<1>(_mm512_castsi256_si512(qh), _mm256_srli_epi16::<2>(qh));
                let high_hi = _mm512_inserti64x4::<1>(
                    _mm512_castsi256_si512(_mm256_srli_epi16::<4>(qh)),
                    _mm256_srli_epi16::<6>(qh),
                );
                let lo = _mm512_or_si512(
                    _mm512_and_si512(ql, m4),
                    _mm512_slli_epi16::<4>(_mm512_and_si512(high_lo, m3)),
                );
                let hi = _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16::<4>(ql), m4),
                    _mm512_slli_epi16::<4>(_mm512_and_si512(high_hi, m3)),
                );
                for (k, q) in [lo, hi].into_iter().enumerate() {
                    // SAFETY: values `128h + 64k..+ 64` of the super-block's 256.
                    let xv = unsafe { _mm512_loadu_si512(xq.add(64 * k).cast()) };
                    let scale = _mm512_permutexvar_epi16(index[2 * half + k], sc);
                    sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q, xv), scale);
                }
            }
            acc = _mm512_fmadd_ps(_mm512_set1_ps(d * x.d), _mm512_cvtepi32_ps(sum), acc);
        }
        *o = _mm512_reduce_add_ps(acc);
    }
}
