//! Quantized dot products for the chat model's CPU runtime.
//!
//! Weights stay in 4- or 8-bit blocks of 32 values, as the GGUF file holds them; each activation
//! vector is quantized once to 8-bit blocks ([`ActBlock`]), and a weight row meets it in integer
//! arithmetic: `_mm256_maddubs_epi16` multiplies 32 byte pairs at a time, the way llama.cpp does.
//! This is the only module of the runtime with `unsafe`: the AVX2 intrinsics. Each AVX2 kernel has a
//! scalar twin that defines what it computes; a test holds them equal.

/// Values per quantization block, in every format here.
pub const BLOCK: usize = 32;

/// 32 weights as `d * q + m`, `q` in 0..16: GGUF's Q4_1 (and Q4_0, where `m = -8 d`).
/// `qs[j]` holds value `j` in its low nibble and value `j + 16` in its high nibble.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct BlockQ4 {
    /// Scale.
    pub d: f32,
    /// Offset.
    pub m: f32,
    /// Packed 4-bit values.
    pub qs: [u8; 16],
}

/// 32 weights as `d * q`, `q` in -127..=127: GGUF's Q8_0, and what other formats convert to.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct BlockQ8 {
    /// Scale.
    pub d: f32,
    /// 8-bit values.
    pub qs: [i8; 32],
}

/// 32 activations as `d * q`, with `s = d * sum(q)` kept for the Q4 offset term.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct ActBlock {
    /// Scale.
    pub d: f32,
    /// `d` times the sum of `qs`.
    pub s: f32,
    /// 8-bit values.
    pub qs: [i8; 32],
}

/// Quantizes `xs` (a multiple of 32 long) into `out`, one block per 32 values.
pub fn quantize_act(xs: &[f32], out: &mut [ActBlock]) {
    for (x, block) in xs.chunks_exact(BLOCK).zip(out.iter_mut()) {
        let amax = x.iter().fold(0f32, |a, v| a.max(v.abs()));
        let d = amax / 127.0;
        let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
        let mut sum = 0i32;
        for (q, v) in block.qs.iter_mut().zip(x) {
            let r = (v * inv).round() as i32;
            *q = r as i8;
            sum += r;
        }
        block.d = d;
        block.s = d * sum as f32;
    }
}

/// Quantizes `xs` (a multiple of 32 long) into 8-bit weight blocks.
pub fn quantize_q8(xs: &[f32]) -> Vec<BlockQ8> {
    let mut acts = vec![ActBlock::default(); xs.len() / BLOCK];
    quantize_act(xs, &mut acts);
    acts.iter().map(|a| BlockQ8 { d: a.d, qs: a.qs }).collect()
}

/// `sum(w * x)` over one weight row and one quantized activation vector.
pub fn dot_q4(w: &[BlockQ4], x: &[ActBlock]) -> f32 {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma"
    ))]
    {
        avx2::dot_q4(w, x)
    }
    #[cfg(not(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma"
    )))]
    {
        dot_q4_scalar(w, x)
    }
}

/// `sum(w * x)` over one weight row and one quantized activation vector.
pub fn dot_q8(w: &[BlockQ8], x: &[ActBlock]) -> f32 {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma"
    ))]
    {
        avx2::dot_q8(w, x)
    }
    #[cfg(not(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma"
    )))]
    {
        dot_q8_scalar(w, x)
    }
}

/// The reference for [`dot_q4`].
pub fn dot_q4_scalar(w: &[BlockQ4], x: &[ActBlock]) -> f32 {
    w.iter()
        .zip(x)
        .map(|(w, x)| {
            let mut sum = 0i32;
            for j in 0..16 {
                sum += i32::from(w.qs[j] & 0x0f) * i32::from(x.qs[j]);
                sum += i32::from(w.qs[j] >> 4) * i32::from(x.qs[j + 16]);
            }
            w.d * x.d * sum as f32 + w.m * x.s
        })
        .sum()
}

/// The reference for [`dot_q8`].
pub fn dot_q8_scalar(w: &[BlockQ8], x: &[ActBlock]) -> f32 {
    w.iter()
        .zip(x)
        .map(|(w, x)| {
            let sum: i32 =
                w.qs.iter()
                    .zip(&x.qs)
                    .map(|(&a, &b)| i32::from(a) * i32::from(b))
                    .sum();
            w.d * x.d * sum as f32
        })
        .sum()
}

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma"
))]
#[allow(unsafe_code)]
mod avx2 {
    //! SAFETY (whole module): compiled only when AVX2 and FMA are enabled for the build, so every
    //! intrinsic is available; every load reads exactly the 16 or 32 bytes of a block's `qs` array,
    //! through `loadu` (no alignment needed).
    use super::{ActBlock, BlockQ4, BlockQ8};
    use std::arch::x86_64::*;

    #[inline]
    fn hsum(v: __m256) -> f32 {
        // SAFETY: AVX is on (module gate); register-only operations.
        unsafe {
            let lo = _mm256_castps256_ps128(v);
            let hi = _mm256_extractf128_ps(v, 1);
            let s = _mm_add_ps(lo, hi);
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_movehdup_ps(s));
            _mm_cvtss_f32(s)
        }
    }

    /// One block's integer products, as 8 float lanes.
    #[inline(always)]
    fn q4_block(w: &BlockQ4, x: &ActBlock) -> __m256 {
        // SAFETY: see the module note.
        unsafe {
            let bytes = _mm_loadu_si128(w.qs.as_ptr().cast());
            let mask = _mm_set1_epi8(0x0f);
            let lo = _mm_and_si128(bytes, mask);
            let hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
            let wq = _mm256_set_m128i(hi, lo);
            let xq = _mm256_loadu_si256(x.qs.as_ptr().cast());
            let products = _mm256_madd_epi16(_mm256_maddubs_epi16(wq, xq), _mm256_set1_epi16(1));
            _mm256_cvtepi32_ps(products)
        }
    }

    pub fn dot_q4(w: &[BlockQ4], x: &[ActBlock]) -> f32 {
        // SAFETY: see the module note; `w` and `x` are zipped, so each index is in bounds.
        // Four accumulators: one chain of fused multiply-adds would wait on its own latency.
        unsafe {
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut offset = [0f32; 4];
            let (wc, xc) = (w.chunks_exact(4), x.chunks_exact(4));
            let (wr, xr) = (wc.remainder(), xc.remainder());
            for (w4, x4) in wc.zip(xc) {
                for i in 0..4 {
                    let p = q4_block(&w4[i], &x4[i]);
                    acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(w4[i].d * x4[i].d), p, acc[i]);
                    offset[i] += w4[i].m * x4[i].s;
                }
            }
            for (i, (w, x)) in wr.iter().zip(xr).enumerate() {
                let p = q4_block(w, x);
                acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(w.d * x.d), p, acc[i]);
                offset[i] += w.m * x.s;
            }
            let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
            hsum(sum) + offset.iter().sum::<f32>()
        }
    }

    #[inline(always)]
    fn q8_block(w: &BlockQ8, x: &ActBlock) -> __m256 {
        // SAFETY: see the module note.
        unsafe {
            let wq = _mm256_loadu_si256(w.qs.as_ptr().cast());
            let xq = _mm256_loadu_si256(x.qs.as_ptr().cast());
            // maddubs takes unsigned × signed: move w's sign onto x.
            let products = _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(xq, wq));
            _mm256_cvtepi32_ps(_mm256_madd_epi16(products, _mm256_set1_epi16(1)))
        }
    }

    pub fn dot_q8(w: &[BlockQ8], x: &[ActBlock]) -> f32 {
        // SAFETY: see the module note; `w` and `x` are zipped, so each index is in bounds.
        unsafe {
            let mut acc = [_mm256_setzero_ps(); 4];
            let (wc, xc) = (w.chunks_exact(4), x.chunks_exact(4));
            let (wr, xr) = (wc.remainder(), xc.remainder());
            for (w4, x4) in wc.zip(xc) {
                for i in 0..4 {
                    let p = q8_block(&w4[i], &x4[i]);
                    acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(w4[i].d * x4[i].d), p, acc[i]);
                }
            }
            for (i, (w, x)) in wr.iter().zip(xr).enumerate() {
                let p = q8_block(w, x);
                acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(w.d * x.d), p, acc[i]);
            }
            hsum(_mm256_add_ps(
                _mm256_add_ps(acc[0], acc[1]),
                _mm256_add_ps(acc[2], acc[3]),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
    }

    #[test]
    fn simd_kernels_match_their_scalar_twins() {
        let mut seed = 7;
        for n in [576, 1536, 96] {
            let xs: Vec<f32> = (0..n).map(|_| lcg(&mut seed) * 3.0).collect();
            let mut act = vec![ActBlock::default(); n / BLOCK];
            quantize_act(&xs, &mut act);
            let q4: Vec<BlockQ4> = (0..n / BLOCK)
                .map(|i| BlockQ4 {
                    d: 0.01 + i as f32 * 1e-3,
                    m: -0.05,
                    qs: std::array::from_fn(|j| (j * 37 + i * 11) as u8),
                })
                .collect();
            let ws: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
            let q8 = quantize_q8(&ws);
            let (a, b) = (dot_q4(&q4, &act), dot_q4_scalar(&q4, &act));
            assert!((a - b).abs() <= 1e-3 * b.abs().max(1.0), "q4 {a} vs {b}");
            let (a, b) = (dot_q8(&q8, &act), dot_q8_scalar(&q8, &act));
            assert!((a - b).abs() <= 1e-3 * b.abs().max(1.0), "q8 {a} vs {b}");
            // And the quantized product is close to the float one.
            let exact: f32 = ws.iter().zip(&xs).map(|(a, b)| a * b).sum();
            assert!(
                (a - exact).abs() < 0.05 * exact.abs().max(1.0),
                "{a} vs exact {exact}"
            );
        }
    }
}
