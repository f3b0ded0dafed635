//! NEON dot products of weight rows (ggml block layouts, as the file holds them) with quantized
//! activations, for ARM CPUs (Apple silicon, Graviton, Ampere, a Raspberry Pi 4 or 5): 16 byte
//! pairs at a time in `vmull_s8` and a pairwise add into 32-bit lanes, as llama.cpp's kernels do
//! where the CPU lacks the dot-product extension. Each function computes what its twin in
//! [`super::scalar`] defines; the tests in `tests.rs` hold them equal on every format.
//!
//! SAFETY (whole module): NEON is part of every AArch64 CPU, so every intrinsic is available. Every
//! load reads 16 bytes inside one block of the row slice (whose length is a whole number of blocks,
//! checked by the caller's `chunks_exact`) or inside one activation block's array.
#![allow(unsafe_code)]

use std::arch::aarch64::*;

use super::Activation;
use super::act::{Q8Block, Q8KBlock};
use super::dequant::scale_min_k4;
use super::format::{Format, f16_le};

/// `acc` plus `Σ a·b` of 16 signed byte pairs, folded into four 32-bit lanes. A product of two
/// bytes fits 16 bits (|−128 · −128| = 16384), a pair of them too.
#[inline(always)]
fn dot16(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    // SAFETY: register-only NEON operations.
    unsafe {
        let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
        let hi = vmull_high_s8(a, b);
        vpadalq_s16(vpadalq_s16(acc, lo), hi)
    }
}

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

// `dot_q8`, `dot_q8k` and `dot_rows`, over this module's row functions.
row_kernels!();

#[inline(always)]
fn q4_0_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 18, x, |p| {
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
fn q4_1_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 20, x, |p| {
        // SAFETY: `p` is one 20-byte block; its 16 value bytes start at 4.
        unsafe {
            let (lo, hi) = nibbles(p.add(4));
            let (lo, hi) = (vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi));
            (f16_at(p), lo, hi, f16_at(p.add(2)))
        }
    })
}

#[inline(always)]
fn q5_0_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 22, x, |p| {
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
fn q5_1_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 24, x, |p| {
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
fn q8_0_row(bytes: &[u8], x: &[Q8Block]) -> f32 {
    blocks_q8(bytes, 34, x, |p| {
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
fn blocks_q8(
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
            let sum = dot16(vdupq_n_s32(0), lo, load_x(x.qs.as_ptr()));
            let sum = dot16(sum, hi, load_x(x.qs.as_ptr().add(16)));
            acc[i & 1] = vfmaq_n_f32(acc[i & 1], vcvtq_f32_s32(sum), d * x.d);
            offset += m * x.s;
        }
        vaddvq_f32(vaddq_f32(acc[0], acc[1])) + offset
    }
}

#[inline(always)]
fn dot_q45k(five: bool, bytes: &[u8], x: &[Q8KBlock]) -> f32 {
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
                    group = dot16(group, vreinterpretq_s8_u8(v), xq);
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
fn dot_q6k(bytes: &[u8], x: &[Q8KBlock]) -> f32 {
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
                        let products = dot16(vdupq_n_s32(0), q, load_x(xq.add(l + 32 * k)));
                        sum += i32::from(sc[is + 2 * k] as i8) * vaddvq_s32(products);
                    }
                }
            }
            total += d * x.d * sum as f32;
        }
    }
    total
}

/// `Σ w · x` of a float row and float activations (half precision through the scalar path).
pub fn dot_float(format: Format, bytes: &[u8], x: &[f32]) -> f32 {
    let width = match format {
        Format::BF16 => 2,
        Format::F32 => 4,
        Format::F16 => return super::scalar::dot_float(format, bytes, x),
        other => panic!("{} rows do not meet float activations", other.name()),
    };
    let n = bytes.len() / width;
    let whole = n / 4 * 4;
    // SAFETY: every load reads 4 values at index `i < whole <= n`.
    let mut sum = unsafe {
        let mut acc = vdupq_n_f32(0.0);
        for i in (0..whole).step_by(4) {
            let w = if format == Format::BF16 {
                let h = vld1_u16(bytes.as_ptr().add(2 * i).cast());
                vreinterpretq_f32_u32(vshll_n_u16::<16>(h))
            } else {
                vld1q_f32(bytes.as_ptr().add(4 * i).cast())
            };
            acc = vfmaq_f32(acc, w, vld1q_f32(x.as_ptr().add(i)));
        }
        vaddvq_f32(acc)
    };
    sum += super::scalar::dot_float(format, &bytes[whole * width..], &x[whole..n]);
    sum
}
