//! Activation vectors quantized to meet weight rows in integer arithmetic, as llama.cpp does: 8-bit
//! blocks of 32 for the 32-value formats, 8-bit super-blocks of 256 with the sum of each group of
//! 16 for the K-quants.

use super::format::{QK, QK_K};

/// 32 activations as `d · q`, with `s = d · Σq` kept for the formats with an offset.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Q8Block {
    /// Scale.
    pub d: f32,
    /// `d` times the sum of `qs`.
    pub s: f32,
    /// 8-bit values.
    pub qs: [i8; QK],
}

/// 256 activations as `d · q`, with the sum of each group of 16 `q`s.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Q8KBlock {
    /// Scale.
    pub d: f32,
    /// 8-bit values.
    pub qs: [i8; QK_K],
    /// `Σ qs[16 g .. 16 g + 16]` for each group `g`.
    pub bsums: [i16; QK_K / 16],
}

impl Default for Q8KBlock {
    fn default() -> Self {
        Q8KBlock {
            d: 0.0,
            qs: [0; QK_K],
            bsums: [0; QK_K / 16],
        }
    }
}

/// Quantizes `xs` (a multiple of 32 long) into `out`, one block per 32 values.
pub fn quantize_q8(xs: &[f32], out: &mut [Q8Block]) {
    for (x, block) in xs.chunks_exact(QK).zip(out.iter_mut()) {
        let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
        let d = amax / 127.0;
        // As llama.cpp's quantize_row_q8_0: scaled by 127 / max, rounded half to even.
        let inv = if amax > 0.0 { 127.0 / amax } else { 0.0 };
        let mut sum = 0i32;
        for (q, v) in block.qs.iter_mut().zip(x) {
            let r = (v * inv).round_ties_even() as i32;
            *q = r as i8;
            sum += r;
        }
        // Stored in half precision, as llama.cpp's Q8_0 and Q8_1 blocks hold it.
        let d = half::f16::from_f32(d).to_f32();
        block.d = d;
        block.s = half::f16::from_f32(d * sum as f32).to_f32();
    }
}

/// Quantizes `xs` (a multiple of 256 long) into `out`, one super-block per 256 values. As
/// llama.cpp's: the value of largest magnitude maps to -127 exactly.
pub fn quantize_q8k(xs: &[f32], out: &mut [Q8KBlock]) {
    for (x, block) in xs.chunks_exact(QK_K).zip(out.iter_mut()) {
        let (mut amax, mut max) = (0f32, 0f32);
        for &v in x {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        if amax == 0.0 {
            *block = Q8KBlock::default();
            continue;
        }
        let iscale = -127.0 / max;
        for (q, v) in block.qs.iter_mut().zip(x) {
            *q = ((iscale * v).round_ties_even() as i32).min(127) as i8;
        }
        for (g, sum) in block.bsums.iter_mut().enumerate() {
            *sum = block.qs[16 * g..16 * g + 16]
                .iter()
                .map(|&q| i16::from(q))
                .sum();
        }
        block.d = 1.0 / iscale;
    }
}
