//! [`super::panel`]'s kernel on AVX-VNNI, for CPUs with the 256-bit dot-product instruction but
//! not AVX-512 (Intel's Alder Lake and later laptop and desktop cores, AMD's Zen 5 desktop parts
//! with AVX-512 off): the same `vpdpbusd` as [`super::vnni`], on ymm registers, so a panel's 16
//! rows take two of them. Chosen at run time after [`super::vnni`].
//!
//! With 16 ymm registers instead of 32 zmm, a tile's eight tokens are run two at a time: their
//! eight float accumulators, four sums, the weights and a token's bytes fit the registers (eight
//! tokens' accumulators lived on the stack, and every group's float steps loaded and stored them:
//! 111–124 GMAC/s, now 169–183 with pairs and 131–155 four at a time, `cargo bench -p
//! cairn-models --bench prefill`). Each pair reads the panel again, from L1 or L2. The float steps after each group
//! are [`super::panel::tile_scalar`]'s, in its order, so the two agree to the bit.
//!
//! SAFETY (whole module): the intrinsics run only inside `tile_n`, compiled for AVX2, FMA and
//! AVX-VNNI and called only after [`available`] said the CPU has them; every load reads inside the
//! panel's or the batch's buffers, whose lengths `tile` and `tile_n` assert.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::panel::{Batch, Panel, ROWS, TOKENS, TileTokens};

/// Whether this CPU has the instructions.
pub fn available() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("avxvnni")
}

panel_tile_entry!("AVX-VNNI");

/// Tokens one pass over the panel carries.
const PAIR: usize = 2;

/// # Safety
/// The CPU has AVX2, FMA and AVX-VNNI; the panel holds `groups × SUB × ROWS` bytes and
/// `groups × ROWS` scales and offsets; tokens `first..first + N` are in the batch; `ZERO` says
/// the panel has a zero point.
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn tile_n<const N: usize, const SUB: usize, const ZERO: bool>(
    panel: &Panel,
    batch: &Batch,
    first: usize,
    out: &mut [[f32; ROWS]],
) {
    // Two tokens at a time (see the module note).
    if N > PAIR {
        for c in (0..N).step_by(PAIR) {
            // SAFETY: as this function's contract, for tokens `first + c..` of the tile.
            unsafe {
                if N - c >= PAIR {
                    tile_n::<PAIR, SUB, ZERO>(panel, batch, first + c, &mut out[c..]);
                } else {
                    tile_n::<1, SUB, ZERO>(panel, batch, first + c, &mut out[c..]);
                }
            }
        }
        return;
    }
    let TileTokens {
        xq,
        d,
        float_sums,
        byte_sums,
    } = TileTokens::<N>::new(panel, batch, first, SUB);
    let per_block = batch.block() / SUB;
    let z = panel.zero.unwrap_or(0);
    let (q, a, b) = (panel.q.as_ptr(), panel.a.as_ptr(), panel.b.as_ptr());
    // Rows 0..8 in `[0]`, rows 8..16 in `[1]`.
    let mut acc = [[_mm256_setzero_ps(); 2]; N];
    for k in 0..panel.groups / per_block {
        let mut inner = [[_mm256_setzero_ps(); 2]; N];
        for j in k * per_block..(k + 1) * per_block {
            // SAFETY: `j·ROWS + ROWS ≤ groups·ROWS` floats.
            let (av, bv) = unsafe {
                let (a, b) = (a.add(j * ROWS), b.add(j * ROWS));
                (
                    [_mm256_loadu_ps(a), _mm256_loadu_ps(a.add(8))],
                    [_mm256_loadu_ps(b), _mm256_loadu_ps(b.add(8))],
                )
            };
            for t in 0..N {
                // With a zero point the offset is exact in the integer sum: it starts at
                // `−z·Σ xq`.
                let start = if ZERO {
                    // SAFETY: group `j` of token `t`'s byte sums (lengths asserted).
                    _mm256_set1_epi32(-z * unsafe { *byte_sums[t].add(j) })
                } else {
                    _mm256_setzero_si256()
                };
                let mut sum = [start; 2];
                for quad in 0..SUB / 4 {
                    // SAFETY: `j·SUB + quad·4 + 4 ≤ groups·SUB`, the token's length (asserted);
                    // `(j·SUB/4 + quad)·64 + 64 ≤ groups·SUB·ROWS` panel bytes.
                    let (x, w) = unsafe {
                        let x = xq[t].add(j * SUB + quad * 4).cast::<i32>().read_unaligned();
                        let w = q.add((j * SUB / 4 + quad) * 64);
                        (
                            _mm256_set1_epi32(x),
                            [
                                _mm256_loadu_si256(w.cast()),
                                _mm256_loadu_si256(w.add(32).cast()),
                            ],
                        )
                    };
                    sum[0] = _mm256_dpbusd_avx_epi32(sum[0], w[0], x);
                    sum[1] = _mm256_dpbusd_avx_epi32(sum[1], w[1], x);
                }
                for h in 0..2 {
                    inner[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[h]), av[h], inner[t][h]);
                }
                if ZERO {
                    continue;
                }
                // The offset right after its group's product, as in `tile_scalar` (see the
                // AVX-512 kernel for why).
                // SAFETY: group `j` of token `t`'s sums (lengths asserted).
                let sx = _mm256_set1_ps(unsafe { *float_sums[t].add(j) });
                for h in 0..2 {
                    inner[t][h] = _mm256_fmadd_ps(bv[h], sx, inner[t][h]);
                }
            }
        }
        for t in 0..N {
            // SAFETY: block `k` of token `t`'s scales (lengths asserted).
            let dx = _mm256_set1_ps(unsafe { *d[t].add(k) });
            for h in 0..2 {
                acc[t][h] = _mm256_fmadd_ps(inner[t][h], dx, acc[t][h]);
            }
        }
    }
    for t in 0..N {
        // SAFETY: `out[t]` is 16 floats.
        unsafe {
            _mm256_storeu_ps(out[t].as_mut_ptr(), acc[t][0]);
            _mm256_storeu_ps(out[t].as_mut_ptr().add(8), acc[t][1]);
        }
    }
}
