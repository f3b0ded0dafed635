//! [`super::tile_scalar`] on AVX-512 VNNI, chosen at run time: per quad of values, one 512-bit load
//! holds four weight bytes of each of the panel's 16 rows, and one `vpdpbusd` per token multiplies
//! them by that token's four bytes (broadcast) and adds them to the token's 16 sums. A whole group
//! (up to 128 values) is summed in integers before its one float step.
//!
//! The float steps are [`super::tile_scalar`]'s, in its order, so the two agree to the bit.
//!
//! SAFETY (whole module): the intrinsics run only inside `tile_n`, compiled for AVX-512F, BW and
//! VNNI and called only after [`available`] said the CPU has them; every load reads inside the
//! panel's or the tokens' buffers, whose lengths `tile` and `tile_n` assert.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{Packed, ROWS, TOKENS, Tokens};

/// Whether this CPU has the instructions.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vnni")
}

int8_tile_entry!("AVX-512 VNNI");

/// # Safety
/// The CPU has AVX-512F, BW and VNNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile_n<const N: usize>(m: &Packed, tokens: &Tokens, first: usize, out: &mut [f32]) {
    let (groups, quads, rows) = (m.groups(), m.group / 4, m.rows);
    let (xp, d, sums) = tokens.for_tile::<N>(m, first);
    for p in 0..rows.div_ceil(ROWS) {
        let (bytes, scales) = (m.panel_bytes(p), m.panel_scales(p));
        assert!(bytes.len() == groups * quads * 64 && scales.len() == groups * ROWS);
        let w = bytes.as_ptr();
        let mut y = [_mm512_setzero_ps(); N];
        for g in 0..groups {
            let mut acc = [_mm512_setzero_si512(); N];
            for k in g * quads..(g + 1) * quads {
                // SAFETY: `k·64 + 64 ≤ groups·quads·64`, the panel's length (asserted).
                let wk = unsafe { _mm512_loadu_si512(w.add(k * 64).cast()) };
                for t in 0..N {
                    // SAFETY: `4k + 4 ≤ cols`, the token's length (asserted).
                    let xk = unsafe { xp[t].add(4 * k).cast::<i32>().read_unaligned() };
                    acc[t] = _mm512_dpbusd_epi32(acc[t], wk, _mm512_set1_epi32(xk));
                }
            }
            // SAFETY: `g·ROWS + ROWS ≤ groups·ROWS` (asserted).
            let dw = unsafe { _mm512_loadu_ps(scales.as_ptr().add(g * ROWS)) };
            for t in 0..N {
                let exact = _mm512_sub_epi32(acc[t], _mm512_set1_epi32(128 * sums[t][g]));
                let scale = _mm512_mul_ps(dw, _mm512_set1_ps(d[t][g]));
                y[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scale, y[t]);
            }
        }
        let width = ROWS.min(rows - p * ROWS);
        for t in 0..N {
            let dst = &mut out[t * rows + p * ROWS..][..width];
            if width == ROWS {
                // SAFETY: `dst` is 16 floats.
                unsafe { _mm512_storeu_ps(dst.as_mut_ptr(), y[t]) };
            } else {
                let mut last = [0f32; ROWS];
                // SAFETY: `last` is 16 floats.
                unsafe { _mm512_storeu_ps(last.as_mut_ptr(), y[t]) };
                dst.copy_from_slice(&last[..width]);
            }
        }
    }
}
