//! Rows of weights back to floats (ggml's `dequantize_row_*`): for the embedding lookup and for
//! prompt batches, where a matrix dequantized once meets many tokens in an f32 GEMM.

use super::format::{Format, QK, QK_K, bf16_le, f16_le};

/// Writes the `out.len()` values of a row held as `bytes` in `format`.
pub fn dequantize_row(format: Format, bytes: &[u8], out: &mut [f32]) {
    let blocks = bytes.chunks_exact(format.block_bytes());
    match format {
        Format::Q4_0 => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK)) {
                let d = f16_le(&b[0..]);
                for j in 0..16 {
                    y[j] = (f32::from(b[2 + j] & 0x0f) - 8.0) * d;
                    y[j + 16] = (f32::from(b[2 + j] >> 4) - 8.0) * d;
                }
            }
        }
        Format::Q4_1 => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK)) {
                let (d, m) = (f16_le(&b[0..]), f16_le(&b[2..]));
                for j in 0..16 {
                    y[j] = f32::from(b[4 + j] & 0x0f) * d + m;
                    y[j + 16] = f32::from(b[4 + j] >> 4) * d + m;
                }
            }
        }
        Format::Q5_0 => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK)) {
                let d = f16_le(&b[0..]);
                let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
                for j in 0..16 {
                    let (lo, hi) = five_bit_pair(b[6 + j], qh, j);
                    y[j] = (lo as f32 - 16.0) * d;
                    y[j + 16] = (hi as f32 - 16.0) * d;
                }
            }
        }
        Format::Q5_1 => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK)) {
                let (d, m) = (f16_le(&b[0..]), f16_le(&b[2..]));
                let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                for j in 0..16 {
                    let (lo, hi) = five_bit_pair(b[8 + j], qh, j);
                    y[j] = lo as f32 * d + m;
                    y[j + 16] = hi as f32 * d + m;
                }
            }
        }
        Format::Q8_0 => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK)) {
                let d = f16_le(&b[0..]);
                for (o, &q) in y.iter_mut().zip(&b[2..34]) {
                    *o = f32::from(q as i8) * d;
                }
            }
        }
        Format::Q4K => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK_K)) {
                let (d, dmin) = (f16_le(&b[0..]), f16_le(&b[2..]));
                let (scales, qs) = (&b[4..16], &b[16..144]);
                for (j, (q, y)) in qs.chunks_exact(32).zip(y.chunks_exact_mut(64)).enumerate() {
                    let (s1, m1) = scale_min_k4(2 * j, scales);
                    let (s2, m2) = scale_min_k4(2 * j + 1, scales);
                    let (d1, m1, d2, m2) = (d * s1, dmin * m1, d * s2, dmin * m2);
                    for l in 0..32 {
                        y[l] = d1 * f32::from(q[l] & 0x0f) - m1;
                        y[l + 32] = d2 * f32::from(q[l] >> 4) - m2;
                    }
                }
            }
        }
        Format::Q5K => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK_K)) {
                let (d, dmin) = (f16_le(&b[0..]), f16_le(&b[2..]));
                let (scales, qh, qs) = (&b[4..16], &b[16..48], &b[48..176]);
                for (j, (q, y)) in qs.chunks_exact(32).zip(y.chunks_exact_mut(64)).enumerate() {
                    let (s1, m1) = scale_min_k4(2 * j, scales);
                    let (s2, m2) = scale_min_k4(2 * j + 1, scales);
                    let (d1, m1, d2, m2) = (d * s1, dmin * m1, d * s2, dmin * m2);
                    let (u1, u2) = (1u8 << (2 * j), 2u8 << (2 * j));
                    for l in 0..32 {
                        let h1 = if qh[l] & u1 != 0 { 16.0 } else { 0.0 };
                        let h2 = if qh[l] & u2 != 0 { 16.0 } else { 0.0 };
                        y[l] = d1 * (f32::from(q[l] & 0x0f) + h1) - m1;
                        y[l + 32] = d2 * (f32::from(q[l] >> 4) + h2) - m2;
                    }
                }
            }
        }
        Format::Q6K => {
            for (b, y) in blocks.zip(out.chunks_exact_mut(QK_K)) {
                let d = f16_le(&b[208..]);
                for half in 0..2 {
                    let ql = &b[64 * half..64 * half + 64];
                    let qh = &b[128 + 32 * half..128 + 32 * half + 32];
                    let sc = &b[192 + 8 * half..192 + 8 * half + 8];
                    let y = &mut y[128 * half..128 * half + 128];
                    for l in 0..32 {
                        let is = l / 16;
                        let [q1, q2, q3, q4] = six_bit_quad(ql, qh, l);
                        y[l] = d * f32::from(sc[is] as i8) * f32::from(q1);
                        y[l + 32] = d * f32::from(sc[is + 2] as i8) * f32::from(q2);
                        y[l + 64] = d * f32::from(sc[is + 4] as i8) * f32::from(q3);
                        y[l + 96] = d * f32::from(sc[is + 6] as i8) * f32::from(q4);
                    }
                }
            }
        }
        Format::F16 => {
            for (b, o) in bytes.chunks_exact(2).zip(out.iter_mut()) {
                *o = f16_le(b);
            }
        }
        Format::BF16 => {
            for (b, o) in bytes.chunks_exact(2).zip(out.iter_mut()) {
                *o = bf16_le(b);
            }
        }
        Format::F32 => {
            for (b, o) in bytes.chunks_exact(4).zip(out.iter_mut()) {
                *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
    }
}

/// Values `j` and `j + 16` of a Q5 block: the low nibbles of `q` with their fifth bits from `qh`.
#[inline(always)]
pub(crate) fn five_bit_pair(q: u8, qh: u32, j: usize) -> (u8, u8) {
    let h0 = (((qh >> j) << 4) & 0x10) as u8;
    let h1 = ((qh >> (j + 12)) & 0x10) as u8;
    ((q & 0x0f) | h0, (q >> 4) | h1)
}

/// Scale and min of group `j` (of 8) of a Q4_K/Q5_K super-block, 6 bits each, packed in 12 bytes.
#[inline(always)]
pub(crate) fn scale_min_k4(j: usize, q: &[u8]) -> (f32, f32) {
    let (s, m) = if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    };
    (f32::from(s), f32::from(m))
}

/// Values `l`, `l + 32`, `l + 64`, `l + 96` of one half (128 values) of a Q6_K super-block, each in
/// -32..32: four low bits from `ql`, two high bits from `qh`.
#[inline(always)]
pub(crate) fn six_bit_quad(ql: &[u8], qh: &[u8], l: usize) -> [i8; 4] {
    let h = qh[l];
    [
        ((ql[l] & 0x0f) | ((h & 3) << 4)) as i8 - 32,
        ((ql[l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) as i8 - 32,
        ((ql[l] >> 4) | (((h >> 4) & 3) << 4)) as i8 - 32,
        ((ql[l + 32] >> 4) | (((h >> 6) & 3) << 4)) as i8 - 32,
    ]
}
