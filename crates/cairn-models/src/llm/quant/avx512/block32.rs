//! Rows of the 32-value formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) meeting one Q8 activation vector,
//! two blocks to a 512-bit register: one `vpdpbusd` multiplies their 64 weight bytes by the 64
//! activation bytes and adds them, four at a time, into 32-bit lanes, half of the lanes for each
//! block.
//!
//! The activation is laid out once per call in the order each format's register holds its values,
//! with the exact sum of each activation block, so a format's zero point (8 for Q4_0, 16 for Q5_0)
//! is one starting value per block instead of a subtraction per weight.
//!
//! SAFETY (whole module): see [`super`]; the buffers built here have one entry per pair of blocks
//! of the row, asserted.

use std::arch::x86_64::*;

use super::{available, prefetch_ahead};
use crate::llm::quant::act::Q8Block;
use crate::llm::quant::format::{Format, QK, f16_le};

/// `out[i] = row i · x` for the consecutive rows of `bytes`, each `row_bytes` long, in one of the
/// 32-value formats; `false` (nothing written) for a row of an odd number of blocks, which the
/// 256-bit kernels take. Panics where the CPU lacks the instructions ([`available`]).
pub fn rows(
    format: Format,
    bytes: &[u8],
    row_bytes: usize,
    x: &[Q8Block],
    out: &mut [f32],
) -> bool {
    assert!(available(), "AVX-512 VNNI is not available on this CPU");
    let block = format.block_bytes();
    let blocks = row_bytes / block;
    assert!(row_bytes == blocks * block && x.len() >= blocks);
    assert_eq!(bytes.len(), out.len() * row_bytes);
    if !blocks.is_multiple_of(2) {
        return false;
    }
    let act = Pairs::new(format, &x[..blocks]);
    // SAFETY: the CPU has the instructions (asserted); the lengths are asserted above and in
    // each kernel.
    unsafe {
        match format {
            Format::Q4_0 => rows_in::<Q4_0>(bytes, row_bytes, &act, out),
            Format::Q4_1 => rows_in::<Q4_1>(bytes, row_bytes, &act, out),
            Format::Q5_0 => rows_in::<Q5_0>(bytes, row_bytes, &act, out),
            Format::Q5_1 => rows_in::<Q5_1>(bytes, row_bytes, &act, out),
            Format::Q8_0 => rows_in::<Q8_0>(bytes, row_bytes, &act, out),
            other => panic!("{} is not a 32-value format", other.name()),
        }
    }
    true
}

/// The formats, as the kernel's const parameter.
pub(in crate::llm::quant) const Q4_0: u8 = 0;
pub(in crate::llm::quant) const Q4_1: u8 = 1;
pub(in crate::llm::quant) const Q5_0: u8 = 2;
pub(in crate::llm::quant) const Q5_1: u8 = 3;
pub(in crate::llm::quant) const Q8_0: u8 = 4;

/// The activation, a pair of blocks (`A`, then `B`) at a time.
struct Pairs {
    /// The pair's 64 values in the order the format's register holds its weights: for the
    /// four-bit formats, whose 16 bytes hold values `0..16` in their low nibbles and `16..32` in
    /// the high ones, `A 0..16, B 0..16, A 16..32, B 16..32`; for Q8_0, `A` then `B`. For Q8_0
    /// each value is stored plus 128, as an unsigned byte (its weights are the signed side).
    qs: Vec<[i8; 64]>,
    /// The 32-bit lanes a pair's sum starts from: minus the format's zero point times each
    /// block's exact sum of values, in one lane of that block's.
    start: Vec<[i32; 16]>,
    /// Each block's scale, and `s` (scale times the sum of its values) for the formats with an
    /// offset.
    d: Vec<[f32; 2]>,
    s: Vec<[f32; 2]>,
}

impl Pairs {
    fn new(format: Format, x: &[Q8Block]) -> Pairs {
        let zero_point = match format {
            Format::Q4_0 => 8,
            Format::Q5_0 => 16,
            _ => 0,
        };
        let split = format != Format::Q8_0;
        let mut pairs = Pairs {
            qs: Vec::with_capacity(x.len() / 2),
            start: Vec::with_capacity(x.len() / 2),
            d: Vec::with_capacity(x.len() / 2),
            s: Vec::with_capacity(x.len() / 2),
        };
        for pair in x.chunks_exact(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let mut qs = [0i8; 64];
            if split {
                qs[..16].copy_from_slice(&a.qs[..16]);
                qs[16..32].copy_from_slice(&b.qs[..16]);
                qs[32..48].copy_from_slice(&a.qs[16..]);
                qs[48..].copy_from_slice(&b.qs[16..]);
            } else {
                for (q, v) in qs.iter_mut().zip(a.qs.iter().chain(&b.qs)) {
                    *q = (*v as u8).wrapping_add(128) as i8;
                }
            }
            let sum = |block: &Q8Block| block.qs.iter().map(|&q| i32::from(q)).sum::<i32>();
            let mut start = [0i32; 16];
            start[0] = -zero_point * sum(a);
            start[B_LANE[usize::from(split)]] = -zero_point * sum(b);
            pairs.qs.push(qs);
            pairs.start.push(start);
            pairs.d.push([a.d, b.d]);
            pairs.s.push([a.s, b.s]);
        }
        pairs
    }
}

/// A 32-bit lane of block `B`'s, for the `A`-then-`B` order and the split one.
const B_LANE: [usize; 2] = [8, 4];
/// The 32-bit lanes of block `B`'s values, for the `A`-then-`B` order and the split one.
const B_LANES: [__mmask16; 2] = [0xff00, 0xf0f0];

/// Bytes of a block, and where its 16 or 32 value bytes begin.
pub(in crate::llm::quant) const fn layout(format: u8) -> (usize, usize) {
    match format {
        Q4_0 => (18, 2),
        Q4_1 => (20, 4),
        Q5_0 => (22, 6),
        Q5_1 => (24, 8),
        _ => (34, 2),
    }
}

/// # Safety
/// The CPU has AVX-512F, BW and VNNI; `bytes` is `out.len()` rows of `row_bytes`, each
/// `2 · act.qs.len()` blocks of format `F`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn rows_in<const F: u8>(bytes: &[u8], row_bytes: usize, act: &Pairs, out: &mut [f32]) {
    let (block, values_at) = layout(F);
    let pairs = act.qs.len();
    assert!(row_bytes == 2 * pairs * block && act.start.len() == pairs && act.d.len() == pairs);
    let split = F != Q8_0;
    let b_lanes = B_LANES[usize::from(split)];
    let m4 = _mm512_set1_epi8(0x0f);
    let sixteen = _mm512_set1_epi8(16);
    let offset128 = _mm512_set1_epi8(-128);
    for (row, o) in bytes.chunks_exact(row_bytes).zip(out.iter_mut()) {
        let mut acc = _mm512_setzero_ps();
        let mut offset = 0f32;
        for (p, two) in row.chunks_exact(2 * block).enumerate() {
            let (a, b) = (two.as_ptr(), two[block..].as_ptr());
            prefetch_ahead(a, 2 * block);
            // SAFETY: the pair's 64 activation bytes and its 16 starting lanes.
            let (xq, start) = unsafe {
                (
                    _mm512_loadu_si512(act.qs[p].as_ptr().cast()),
                    _mm512_loadu_si512(act.start[p].as_ptr().cast()),
                )
            };
            let sum = if split {
                // SAFETY: 16 value bytes at `values_at` of each block.
                let ab = unsafe {
                    _mm256_set_m128i(
                        _mm_loadu_si128(b.add(values_at).cast()),
                        _mm_loadu_si128(a.add(values_at).cast()),
                    )
                };
                let wide =
                    _mm512_inserti64x4::<1>(_mm512_castsi256_si512(ab), _mm256_srli_epi16::<4>(ab));
                let mut w = _mm512_and_si512(wide, m4);
                if F == Q5_0 || F == Q5_1 {
                    // SAFETY: the four bytes of fifth bits just before the values.
                    let (ha, hb) = unsafe {
                        (
                            u64::from(a.add(values_at - 4).cast::<u32>().read_unaligned()),
                            u64::from(b.add(values_at - 4).cast::<u32>().read_unaligned()),
                        )
                    };
                    let fifth =
                        (ha & 0xffff) | (hb & 0xffff) << 16 | (ha >> 16) << 32 | (hb >> 16) << 48;
                    w = _mm512_mask_add_epi8(w, fifth, w, sixteen);
                }
                _mm512_dpbusd_epi32(start, w, xq)
            } else {
                // SAFETY: the 32 value bytes of each block.
                let w = unsafe {
                    _mm512_inserti64x4::<1>(
                        _mm512_castsi256_si512(_mm256_loadu_si256(a.add(values_at).cast())),
                        _mm256_loadu_si256(b.add(values_at).cast()),
                    )
                };
                // Σ (x + 128) · w − Σ 128 · w.
                let shifted = _mm512_dpbusd_epi32(start, xq, w);
                _mm512_sub_epi32(
                    shifted,
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset128, w),
                )
            };
            let [da, db] = act.d[p];
            // Each block begins with its f16 scale (and, with an offset, its f16 offset).
            let (wa, wb) = (f16_le(two), f16_le(&two[block..]));
            let scale =
                _mm512_mask_blend_ps(b_lanes, _mm512_set1_ps(wa * da), _mm512_set1_ps(wb * db));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc);
            if F == Q4_1 || F == Q5_1 {
                let [sa, sb] = act.s[p];
                offset += f16_le(&two[2..]) * sa + f16_le(&two[block + 2..]) * sb;
            }
        }
        *o = _mm512_reduce_add_ps(acc) + offset;
    }
}

/// Values in a block (the layout above assumes 32).
const _: () = assert!(QK == 32);
