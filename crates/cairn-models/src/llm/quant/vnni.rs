//! [`super::panel`]'s kernel on AVX-512 VNNI, chosen at run time: one `vpdpbusd` multiplies four
//! weight bytes of each of the panel's 16 rows by four activation bytes of one token and adds them
//! to that row's 32-bit sum, so a 512-bit load of weights serves every token of the tile.
//!
//! The float steps after each group are [`super::panel::tile_scalar`]'s, in its order, so the two
//! agree to the bit.
//!
//! SAFETY (whole module): the intrinsics run only inside `tile_n`, compiled for AVX-512F, BW and
//! VNNI and called only after [`available`] said the CPU has them; every load reads inside the
//! panel's or the batch's buffers, whose lengths `tile` and `tile_n` assert.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::panel::{Batch, Panel, ROWS, TOKENS, TileTokens};

/// Whether this CPU has the instructions.
pub fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vnni")
}

panel_tile_entry!("AVX-512 VNNI");

/// # Safety
/// The CPU has AVX-512F, BW and VNNI; the panel holds `groups × SUB × ROWS` bytes and
/// `groups × ROWS` scales and offsets; tokens `first..first + N` are in the batch; `ZERO` says
/// the panel has a zero point.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile_n<const N: usize, const SUB: usize, const ZERO: bool>(
    panel: &Panel,
    batch: &Batch,
    first: usize,
    out: &mut [[f32; ROWS]],
) {
    let TileTokens {
        xq,
        d,
        float_sums,
        byte_sums,
    } = TileTokens::<N>::new(panel, batch, first, SUB);
    let per_block = batch.block() / SUB;
    let z = panel.zero.unwrap_or(0);
    let (q, a, b) = (panel.q.as_ptr(), panel.a.as_ptr(), panel.b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); N];
    for k in 0..panel.groups / per_block {
        let mut inner = [_mm512_setzero_ps(); N];
        for j in k * per_block..(k + 1) * per_block {
            // The group's weights, four values of each row per register.
            // SAFETY: `(j·SUB/4 + quad)·64 + 64 ≤ groups·SUB·ROWS` bytes.
            let w: [__m512i; 8] = std::array::from_fn(|quad| {
                if quad < SUB / 4 {
                    unsafe { _mm512_loadu_si512(q.add((j * SUB / 4 + quad) * 64).cast()) }
                } else {
                    _mm512_setzero_si512()
                }
            });
            // SAFETY: `j·ROWS + ROWS ≤ groups·ROWS` floats.
            let (av, bv) = unsafe {
                (
                    _mm512_loadu_ps(a.add(j * ROWS)),
                    _mm512_loadu_ps(b.add(j * ROWS)),
                )
            };
            for t in 0..N {
                // With a zero point the offset is exact in the integer sum: it starts at
                // `−z·Σ xq`.
                let mut sum = if ZERO {
                    // SAFETY: group `j` of token `t`'s byte sums (lengths asserted).
                    _mm512_set1_epi32(-z * unsafe { *byte_sums[t].add(j) })
                } else {
                    _mm512_setzero_si512()
                };
                for (quad, w) in w.iter().enumerate().take(SUB / 4) {
                    // SAFETY: `j·SUB + quad·4 + 4 ≤ groups·SUB`, the token's length (asserted).
                    let x = unsafe { xq[t].add(j * SUB + quad * 4).cast::<i32>().read_unaligned() };
                    sum = _mm512_dpbusd_epi32(sum, *w, _mm512_set1_epi32(x));
                }
                inner[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), av, inner[t]);
                if ZERO {
                    continue;
                }
                // The offset goes in right after its group's product, although a loop of its
                // own after all groups ran the tile 5% faster: the two terms nearly cancel
                // (`w = a·q + b`), and two large sums subtracted at the end lost enough
                // precision to change Gemma-3's greedy tokens (tests/runtime.rs).
                // SAFETY: group `j` of token `t`'s sums (lengths asserted).
                let sx = unsafe { *float_sums[t].add(j) };
                inner[t] = _mm512_fmadd_ps(bv, _mm512_set1_ps(sx), inner[t]);
            }
        }
        for t in 0..N {
            // SAFETY: block `k` of token `t`'s scales (lengths asserted).
            let dx = unsafe { *d[t].add(k) };
            acc[t] = _mm512_fmadd_ps(inner[t], _mm512_set1_ps(dx), acc[t]);
        }
    }
    for t in 0..N {
        // SAFETY: `out[t]` is 16 floats.
        unsafe { _mm512_storeu_ps(out[t].as_mut_ptr(), acc[t]) };
    }
}
