//! The row functions of every quantized format over either dot step ([`Dot16`]): the block
//! layouts unpacked into signed bytes, sixteen at a time, as [`super::super::scalar`] defines them.
//!
//! SAFETY: as the parent module's.

use std::arch::aarch64::*;

use super::Dot16;
use crate::llm::quant::act::{Q8Block, Q8KBlock};
use crate::llm::quant::dequant::scale_min_k4;
use crate::llm::quant::format::f16_le;

/// The 16 bytes at `p`.
#[inline(always)]
unsafe fn load(p: *const u8) -> uint8x16_t {
    // SAFETY: the caller points at 16 readable bytes.
    unsafe { vld1q_u8(p) }
}

/// The 16 activation bytes at `p`.
#[inline(always)]
unsafe fn load_x(p: *const i8) -> int8x16_t {
    // SAFETY: the caller points at 16 readable bytes.
    unsafe { vld1q_s8(p) }
}

/// The low and high nibbles of the 16 bytes at `p`: values 0..16 and 16..32 of a block.
#[inline(always)]
unsafe fn nibbles(p: *const u8) -> (uint8x16_t, uint8x16_t) {
    // SAFETY: the caller points at 16 readable bytes; the rest is register-only.
    unsafe {
        let bytes = load(p);
        (vandq_u8(bytes, vdupq_n_u8(0x0f)), vshrq_n_u8::<4>(bytes))
    }
}

/// 0x10 in byte `i` where bit `i` of `bits` (16 bits) is set, else 0: a Q5 block's fifth bits.
#[inline(always)]
fn fifth_bits(bits: u16) -> uint8x16_t {
    // SAFETY: register-only NEON operations.
    unsafe {
        let [lo, hi] = bits.to_le_bytes();
        let spread = vcombine_u8(vdup_n_u8(lo), vdup_n_u8(hi));
        let which = vld1q_u8([1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128].as_ptr());
        vandq_u8(vtstq_u8(spread, which), vdupq_n_u8(0x10))
    }
}

#[inline(always)]
pub(super) fn q4_0_row<D: Dot16>(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8::<D>(bytes, 18, x, |p| {
        // SAFETY: `p` is one 18-byte block; its 16 value bytes start at 2.
        unsafe {
            let (lo, hi) = nibbles(p.add(2));
            let eight = vdupq_n_s8(8);
            let lo = vsubq_s8(vreinterpretq_s8_u8(lo), eight);
            let hi = vsubq_s8(vreinterpretq_s8_u8(hi), eight);
            (f16_at(p), lo, hi, 0.0)
        }
    })
}

#[inline(always)]
pub(super) fn q4_1_row<D: Dot16>(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8::<D>(bytes, 20, x, |p| {
        // SAFETY: `p` is one 20-byte block; its 16 value bytes start at 4.
        unsafe {
            let (lo, hi) = nibbles(p.add(4));
            let (lo, hi) = (vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi));
            (f16_at(p), lo, hi, f16_at(p.add(2)))
        }
    })
}

#[inline(always)]
pub(super) fn q5_0_row<D: Dot16>(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8::<D>(bytes, 22, x, |p| {
        // SAFETY: `p` is one 22-byte block: `qh` at 2..6, values at 6..22.
        unsafe {
            let qh = u32::from_le_bytes(std::ptr::read_unaligned(p.add(2).cast::<[u8; 4]>()));
            let (lo, hi) = nibbles(p.add(6));
            let sixteen = vdupq_n_s8(16);
            let lo = vreinterpretq_s8_u8(vorrq_u8(lo, fifth_bits(qh as u16)));
            let hi = vreinterpretq_s8_u8(vorrq_u8(hi, fifth_bits((qh >> 16) as u16)));
            (f16_at(p), vsubq_s8(lo, sixteen), vsubq_s8(hi, sixteen), 0.0)
        }
    })
}

#[inline(always)]
pub(super) fn q5_1_row<D: Dot16>(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8::<D>(bytes, 24, x, |p| {
        // SAFETY: `p` is one 24-byte block: `qh` at 4..8, values at 8..24.
        unsafe {
            let qh = u32::from_le_bytes(std::ptr::read_unaligned(p.add(4).cast::<[u8; 4]>()));
            let (lo, hi) = nibbles(p.add(8));
            let lo = vreinterpretq_s8_u8(vorrq_u8(lo, fifth_bits(qh as u16)));
            let hi = vreinterpretq_s8_u8(vorrq_u8(hi, fifth_bits((qh >> 16) as u16)));
            (f16_at(p), lo, hi, f16_at(p.add(2)))
        }
    })
}

#[inline(always)]
pub(super) fn q8_0_row<D: Dot16>(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8::<D>(bytes, 34, x, |p| {
        // SAFETY: `p` is one 34-byte block: 32 signed values at 2..34.
        unsafe {
            let lo = vreinterpretq_s8_u8(load(p.add(2)));
            let hi = vreinterpretq_s8_u8(load(p.add(18)));
            (f16_at(p), lo, hi, 0.0)
        }
    })
}

/// The half-precision number at `p`.
#[inline(always)]
unsafe fn f16_at(p: *const u8) -> f32 {
    // SAFETY: the caller points at 2 readable bytes.
    f16_le(unsafe { &*p.cast::<[u8; 2]>() })
}

/// `Σ` over the blocks of a row of `block`-byte blocks: `values(block)` gives the block's scale,
/// its 32 values as signed bytes (values 0..16, then 16..32), and the coefficient of `x.s` (the
/// offset of the formats that have one).
#[inline(always)]
fn blocks_q8<D: Dot16>(
    bytes: &[u8],
    block: usize,
    x: &[Q8Block],
    values: impl Fn(*const u8) -> (f32, int8x16_t, int8x16_t, f32),
) -> f32 {
    // SAFETY: each `b` is one whole block, each `x` one activation block of 32 bytes.
    unsafe {
        // Two accumulators: one chain of multiply-adds would wait on its own latency.
        let mut acc = [vdupq_n_f32(0.0); 2];
        let mut offset = 0f32;
        for (i, (b, x)) in bytes.chunks_exact(block).zip(x).enumerate() {
            let (d, lo, hi, m) = values(b.as_ptr());
            let sum = D::dot16(vdupq_n_s32(0), lo, load_x(x.qs.as_ptr()));
            let sum = D::dot16(sum, hi, load_x(x.qs.as_ptr().add(16)));
            acc[i & 1] = vfmaq_n_f32(acc[i & 1], vcvtq_f32_s32(sum), d * x.d);
            offset += m * x.s;
        }
        vaddvq_f32(vaddq_f32(acc[0], acc[1])) + offset
    }
}

#[inline(always)]
pub(super) fn dot_q45k<D: Dot16>(five: bool, bytes: &[u8], x: &[Q8KBlock]) -> f32 {
    let block = if five { 176 } else { 144 };
    let mut total = 0f32;
    // SAFETY: each `b` is one whole block, each `x` one super-block of 256 bytes.
    unsafe {
        for (b, x) in bytes.chunks_exact(block).zip(x) {
            let (d, dmin) = (f16_le(b), f16_le(&b[2..]));
            let (qh, qs) = if five {
                (Some(&b[16..48]), &b[48..176])
            } else {
                (None, &b[16..144])
            };
            // Fifth bits: bit `j` of `qh[l]` belongs to value `l` of group `j`.
            let qh = qh.map(|qh| [load(qh.as_ptr()), load(qh.as_ptr().add(16))]);
            let (mut sumi, mut mins) = (0i32, 0i32);
            for j in 0..8 {
                let (sc, m) = scale_min_k4(j, &b[4..16]);
                let q = qs.as_ptr().add(32 * (j / 2));
                let mut group = vdupq_n_s32(0);
                for half in 0..2 {
                    let bytes = load(q.add(16 * half));
                    let mut v = if j % 2 == 0 {
                        vandq_u8(bytes, vdupq_n_u8(0x0f))
                    } else {
                        vshrq_n_u8::<4>(bytes)
                    };
                    if let Some(qh) = qh {
                        let bit = vtstq_u8(qh[half], vdupq_n_u8(1 << j));
                        v = vorrq_u8(v, vandq_u8(bit, vdupq_n_u8(0x10)));
                    }
                    let xq = load_x(x.qs.as_ptr().add(32 * j + 16 * half));
                    group = D::dot16(group, vreinterpretq_s8_u8(v), xq);
                }
                sumi += sc as i32 * vaddvq_s32(group);
                mins += m as i32 * (i32::from(x.bsums[2 * j]) + i32::from(x.bsums[2 * j + 1]));
            }
            total += x.d * (d * sumi as f32 - dmin * mins as f32);
        }
    }
    total
}

#[inline(always)]
pub(super) fn dot_q6k<D: Dot16>(bytes: &[u8], x: &[Q8KBlock]) -> f32 {
    let mut total = 0f32;
    // SAFETY: each `b` is one whole 210-byte block, each `x` one super-block of 256 bytes.
    unsafe {
        let (m4, m2, m32) = (vdupq_n_u8(0x0f), vdupq_n_u8(3), vdupq_n_s8(32));
        for (b, x) in bytes.chunks_exact(210).zip(x) {
            let d = f16_le(&b[208..]);
            let mut sum = 0i32;
            for half in 0..2 {
                let ql = b.as_ptr().add(64 * half);
                let qh = b.as_ptr().add(128 + 32 * half);
                let sc = &b[192 + 8 * half..192 + 8 * half + 8];
                let xq = x.qs.as_ptr().add(128 * half);
                // Lanes `l..l + 16` of the half's values `l`, `l + 32`, `l + 64`, `l + 96`.
                for is in 0..2 {
                    let l = 16 * is;
                    let (a, c, h) = (load(ql.add(l)), load(ql.add(l + 32)), load(qh.add(l)));
                    // Two high bits of each value from `qh`, moved up to bits 4 and 5.
                    let high = [
                        vshlq_n_u8::<4>(vandq_u8(h, m2)),
                        vshlq_n_u8::<4>(vandq_u8(vshrq_n_u8::<2>(h), m2)),
                        vshlq_n_u8::<4>(vandq_u8(vshrq_n_u8::<4>(h), m2)),
                        vshlq_n_u8::<4>(vshrq_n_u8::<6>(h)),
                    ];
                    let q = [
                        vorrq_u8(vandq_u8(a, m4), high[0]),
                        vorrq_u8(vandq_u8(c, m4), high[1]),
                        vorrq_u8(vshrq_n_u8::<4>(a), high[2]),
                        vorrq_u8(vshrq_n_u8::<4>(c), high[3]),
                    ];
                    for (k, q) in q.into_iter().enumerate() {
                        let q = vsubq_s8(vreinterpretq_s8_u8(q), m32);
                        let products = D::dot16(vdupq_n_s32(0), q, load_x(xq.add(l + 32 * k)));
                        sum += i32::from(sc[is + 2 * k] as i8) * vaddvq_s32(products);
                    }
                }
            }
            total += d * x.d * sum as f32;
        }
    }
    total
}
