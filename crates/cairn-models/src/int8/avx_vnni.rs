//! [`super::tile_scalar`] on AVX-VNNI, for CPUs with the 256-bit dot-product instruction but not
//! AVX-512 (Intel's Alder Lake and later laptop and desktop cores): [`super::vnni`]'s kernel on ymm
//! registers, a panel's 16 rows in two of them. Chosen at run time after [`super::vnni`].
//!
//! With 16 ymm registers instead of 32 zmm, a tile's eight tokens run four at a time: their eight
//! integer sums, the weights and a token's bytes fit the registers through a group's products
//! (eight tokens' sixteen sums did not, and were loaded and stored around every `vpdpbusd`): MiniLM
//! int8 56 → 75 sequences/s on 2 threads, two at a time 57 (`CAIRN_VNNI=avx cargo bench -p
//! cairn-models --bench embed`). Each pass reads the matrix again, from L2.
//!
//! The float steps are [`super::tile_scalar`]'s, in its order, so the two agree to the bit.
//!
//! SAFETY (whole module): the intrinsics run only inside `tile_n`, compiled for AVX2, FMA and
//! AVX-VNNI and called only after [`available`] said the CPU has them; every load reads inside the
//! panel's or the tokens' buffers, whose lengths `tile` and `tile_n` assert.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{Packed, ROWS, TOKENS, Tokens};

/// Whether this CPU has the instructions.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("avxvnni")
}

int8_tile_entry!("AVX-VNNI");

/// Tokens one pass over the matrix carries.
const PASS: usize = 4;

/// # Safety
/// The CPU has AVX2, FMA and AVX-VNNI.
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn tile_n<const N: usize>(m: &Packed, tokens: &Tokens, first: usize, out: &mut [f32]) {
    let rows = m.rows;
    // Four tokens at a time (see the module note).
    if N > PASS {
        for c in (0..N).step_by(PASS) {
            let out = &mut out[c * rows..];
            // SAFETY: as this function's contract, for tokens `first + c..` of the tile.
            unsafe {
                match N - c {
                    1 => tile_n::<1>(m, tokens, first + c, out),
                    2 => tile_n::<2>(m, tokens, first + c, out),
                    3 => tile_n::<3>(m, tokens, first + c, out),
                    _ => tile_n::<PASS>(m, tokens, first + c, out),
                }
            }
        }
        return;
    }
    let (groups, quads) = (m.groups(), m.group / 4);
    let (xp, d, sums) = tokens.for_tile::<N>(m, first);
    for p in 0..rows.div_ceil(ROWS) {
        let (bytes, scales) = (m.panel_bytes(p), m.panel_scales(p));
        assert!(bytes.len() == groups * quads * 64 && scales.len() == groups * ROWS);
        let w = bytes.as_ptr();
        // Rows 0..8 in `[0]`, rows 8..16 in `[1]`.
        let mut y = [[_mm256_setzero_ps(); 2]; N];
        for g in 0..groups {
            let mut acc = [[_mm256_setzero_si256(); 2]; N];
            for k in g * quads..(g + 1) * quads {
                // SAFETY: `k·64 + 64 ≤ groups·quads·64`, the panel's length (asserted).
                let wk = unsafe {
                    [
                        _mm256_loadu_si256(w.add(k * 64).cast()),
                        _mm256_loadu_si256(w.add(k * 64 + 32).cast()),
                    ]
                };
                for t in 0..N {
                    // SAFETY: `4k + 4 ≤ cols`, the token's length (asserted).
                    let xk = unsafe { xp[t].add(4 * k).cast::<i32>().read_unaligned() };
                    let xk = _mm256_set1_epi32(xk);
                    for h in 0..2 {
                        acc[t][h] = _mm256_dpbusd_avx_epi32(acc[t][h], wk[h], xk);
                    }
                }
            }
            // SAFETY: `g·ROWS + ROWS ≤ groups·ROWS` (asserted).
            let dw = unsafe {
                let s = scales.as_ptr().add(g * ROWS);
                [_mm256_loadu_ps(s), _mm256_loadu_ps(s.add(8))]
            };
            for t in 0..N {
                let shift = _mm256_set1_epi32(128 * sums[t][g]);
                let dx = _mm256_set1_ps(d[t][g]);
                for h in 0..2 {
                    let exact = _mm256_sub_epi32(acc[t][h], shift);
                    let scale = _mm256_mul_ps(dw[h], dx);
                    y[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(exact), scale, y[t][h]);
                }
            }
        }
        let width = ROWS.min(rows - p * ROWS);
        for t in 0..N {
            let mut all = [0f32; ROWS];
            // SAFETY: `all` is 16 floats.
            unsafe {
                _mm256_storeu_ps(all.as_mut_ptr(), y[t][0]);
                _mm256_storeu_ps(all.as_mut_ptr().add(8), y[t][1]);
            }
            out[t * rows + p * ROWS..][..width].copy_from_slice(&all[..width]);
        }
    }
}
