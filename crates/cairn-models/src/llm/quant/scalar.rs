//! Scalar dot products of a weight row with a quantized activation vector: the definition of what
//! each SIMD kernel in [`super::avx2`] computes (a test holds them equal), and the kernels on CPUs
//! without AVX2.

use super::act::{Q8Block, Q8KBlock};
use super::dequant::{five_bit_pair, scale_min_k4, six_bit_quad};
use super::format::{Format, bf16_le, f16_le};

/// `Σ w · x` of a 32-value-format row (`bytes`) and Q8 activations.
pub fn dot_q8(format: Format, bytes: &[u8], x: &[Q8Block]) -> f32 {
    let blocks = bytes.chunks_exact(format.block_bytes()).zip(x);
    let sum_products = |qs: &mut dyn Iterator<Item = i32>, x: &Q8Block| -> i32 {
        qs.zip(x.qs.iter()).map(|(w, &a)| w * i32::from(a)).sum()
    };
    match format {
        Format::Q4_0 => blocks
            .map(|(b, x)| {
                let d = f16_le(b);
                let mut q = nibbles(&b[2..18]).map(|q| i32::from(q) - 8);
                d * x.d * sum_products(&mut q, x) as f32
            })
            .sum(),
        Format::Q4_1 => blocks
            .map(|(b, x)| {
                let (d, m) = (f16_le(b), f16_le(&b[2..]));
                let mut q = nibbles(&b[4..20]).map(i32::from);
                d * x.d * sum_products(&mut q, x) as f32 + m * x.s
            })
            .sum(),
        Format::Q5_0 => blocks
            .map(|(b, x)| {
                let d = f16_le(b);
                let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
                let mut q = five_bits(&b[6..22], qh).map(|q| i32::from(q) - 16);
                d * x.d * sum_products(&mut q, x) as f32
            })
            .sum(),
        Format::Q5_1 => blocks
            .map(|(b, x)| {
                let (d, m) = (f16_le(b), f16_le(&b[2..]));
                let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                let mut q = five_bits(&b[8..24], qh).map(i32::from);
                d * x.d * sum_products(&mut q, x) as f32 + m * x.s
            })
            .sum(),
        Format::Q8_0 => blocks
            .map(|(b, x)| {
                let d = f16_le(b);
                let mut q = b[2..34].iter().map(|&q| i32::from(q as i8));
                d * x.d * sum_products(&mut q, x) as f32
            })
            .sum(),
        other => panic!("{} rows meet Q8K or float activations", other.name()),
    }
}

/// `Σ w · x` of a K-quant row (`bytes`) and Q8K activations.
pub fn dot_q8k(format: Format, bytes: &[u8], x: &[Q8KBlock]) -> f32 {
    let blocks = bytes.chunks_exact(format.block_bytes()).zip(x);
    match format {
        Format::Q4K | Format::Q5K => blocks
            .map(|(b, x)| {
                let (d, dmin) = (f16_le(b), f16_le(&b[2..]));
                let scales = &b[4..16];
                let (qh, qs) = if format == Format::Q5K {
                    (Some(&b[16..48]), &b[48..176])
                } else {
                    (None, &b[16..144])
                };
                let (mut sum, mut mins) = (0f32, 0f32);
                for j in 0..8 {
                    let (sc, m) = scale_min_k4(j, scales);
                    let q = &qs[32 * (j / 2)..32 * (j / 2) + 32];
                    let mut acc = 0i32;
                    for l in 0..32 {
                        let mut v = if j % 2 == 0 { q[l] & 0x0f } else { q[l] >> 4 };
                        if let Some(qh) = qh
                            && qh[l] & (1 << j) != 0
                        {
                            v += 16;
                        }
                        acc += i32::from(v) * i32::from(x.qs[32 * j + l]);
                    }
                    sum += sc * acc as f32;
                    let bsum = i32::from(x.bsums[2 * j]) + i32::from(x.bsums[2 * j + 1]);
                    mins += m * bsum as f32;
                }
                x.d * (d * sum - dmin * mins)
            })
            .sum(),
        Format::Q6K => blocks
            .map(|(b, x)| {
                let d = f16_le(&b[208..]);
                let mut sum = 0i32;
                for half in 0..2 {
                    let ql = &b[64 * half..64 * half + 64];
                    let qh = &b[128 + 32 * half..128 + 32 * half + 32];
                    let sc = &b[192 + 8 * half..192 + 8 * half + 8];
                    let xq = &x.qs[128 * half..128 * half + 128];
                    for l in 0..32 {
                        let is = l / 16;
                        let q = six_bit_quad(ql, qh, l);
                        for (k, q) in q.iter().enumerate() {
                            sum += i32::from(sc[is + 2 * k] as i8)
                                * i32::from(*q)
                                * i32::from(xq[l + 32 * k]);
                        }
                    }
                }
                d * x.d * sum as f32
            })
            .sum(),
        other => panic!("{} rows do not meet Q8K activations", other.name()),
    }
}

/// `Σ w · x` of a float row (`bytes`) and float activations.
pub fn dot_float(format: Format, bytes: &[u8], x: &[f32]) -> f32 {
    match format {
        Format::F16 => bytes
            .chunks_exact(2)
            .zip(x)
            .map(|(b, x)| f16_le(b) * x)
            .sum(),
        Format::BF16 => bytes
            .chunks_exact(2)
            .zip(x)
            .map(|(b, x)| bf16_le(b) * x)
            .sum(),
        Format::F32 => bytes
            .chunks_exact(4)
            .zip(x)
            .map(|(b, x)| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * x)
            .sum(),
        other => panic!("{} rows do not meet float activations", other.name()),
    }
}

/// The 32 four-bit values of a block, in order: low nibbles, then high nibbles.
fn nibbles(qs: &[u8]) -> impl Iterator<Item = u8> + '_ {
    qs.iter().map(|q| q & 0x0f).chain(qs.iter().map(|q| q >> 4))
}

/// The 32 five-bit values of a Q5 block, in order.
fn five_bits(qs: &[u8], qh: u32) -> impl Iterator<Item = u8> + '_ {
    let pairs: Vec<(u8, u8)> = qs
        .iter()
        .enumerate()
        .map(|(j, &q)| five_bit_pair(q, qh, j))
        .collect();
    let lo: Vec<u8> = pairs.iter().map(|p| p.0).collect();
    let hi: Vec<u8> = pairs.iter().map(|p| p.1).collect();
    lo.into_iter().chain(hi)
}

/// `out[i] = row i · x` for the consecutive rows of `bytes` (each `row_bytes` long).
pub fn dot_rows(
    format: Format,
    bytes: &[u8],
    row_bytes: usize,
    x: &super::Activation,
    out: &mut [f32],
) {
    for (row, o) in bytes.chunks_exact(row_bytes).zip(out.iter_mut()) {
        *o = super::dot(format, row, x);
    }
}
