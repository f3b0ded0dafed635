//! Sixteen rows of bytes turned into a panel's order: four bytes of each row, row after row
//! (`out[(g·16 + row)·4 + k] = rows[row][4g + k]`), the layout in which one 512-bit load holds four
//! values of each of the sixteen rows. On AVX-512 (chosen at run time) sixteen quads of all
//! sixteen rows are turned at once with a 16 × 16 transpose of 32-bit lanes; elsewhere, and for
//! what is left over, quad by quad.
//!
//! SAFETY (the AVX-512 function): it runs only after `is_x86_feature_detected!` said the CPU has
//! AVX-512F, and reads and writes only 64-byte chunks inside `rows` and `out`, whose lengths
//! [`quads`] asserts.
#![allow(unsafe_code)]

/// Rows in a panel.
const ROWS: usize = 16;

/// Writes `rows` (sixteen rows of `cols` bytes, one after another) into `out` in panel order.
pub fn quads(rows: &[u8], cols: usize, out: &mut [u8]) {
    assert!(cols.is_multiple_of(4) && rows.len() == ROWS * cols && out.len() == ROWS * cols);
    // Quads already in place.
    let done = simd_quads(rows, cols, out);
    let (quads, _) = rows.as_chunks::<4>();
    let (slots, _) = out.as_chunks_mut::<4>();
    for (g, slots) in slots.chunks_exact_mut(ROWS).enumerate().skip(done) {
        for (row, slot) in slots.iter_mut().enumerate() {
            *slot = quads[row * cols / 4 + g];
        }
    }
}

/// Places what the CPU's vector instructions can and returns how many quads that was.
fn simd_quads(rows: &[u8], cols: usize, out: &mut [u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F; the caller asserted the lengths.
        unsafe { sixteen_at_a_time(rows, cols, out) };
        return cols / 64 * 16;
    }
    let _ = (rows, cols, out);
    0
}

/// The first `cols / 64 · 16` quads of every row, sixteen at a time.
///
/// # Safety
/// The CPU has AVX-512F; `rows` and `out` are `16 · cols` bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sixteen_at_a_time(rows: &[u8], cols: usize, out: &mut [u8]) {
    use std::arch::x86_64::*;
    for block in 0..cols / 64 {
        // SAFETY: bytes `64·block..64·block + 64` of each row, inside `rows`.
        let r: [__m512i; 16] = std::array::from_fn(|row| unsafe {
            _mm512_loadu_si512(rows.as_ptr().add(row * cols + 64 * block).cast())
        });
        // Within each 128-bit lane: pairs of rows interleaved, then quadruples, so `u[4i + k]`
        // holds, in lane `L`, quad `4L + k` of rows `4i..4i + 4`.
        let t: [__m512i; 16] = std::array::from_fn(|i| {
            let (a, b) = (r[i & !1], r[i | 1]);
            if i % 2 == 0 {
                _mm512_unpacklo_epi32(a, b)
            } else {
                _mm512_unpackhi_epi32(a, b)
            }
        });
        let u: [__m512i; 16] = std::array::from_fn(|i| {
            let (four, k) = (i / 4, i % 4);
            let (a, b) = (t[4 * four + k / 2], t[4 * four + k / 2 + 2]);
            if k % 2 == 0 {
                _mm512_unpacklo_epi64(a, b)
            } else {
                _mm512_unpackhi_epi64(a, b)
            }
        });
        // Across lanes: quad `4L + k` gathers lane `L` of `u[k]`, `u[4 + k]`, `u[8 + k]`, `u[12 + k]`.
        for k in 0..4 {
            let low = _mm512_shuffle_i32x4::<0x44>(u[k], u[4 + k]);
            let high = _mm512_shuffle_i32x4::<0xee>(u[k], u[4 + k]);
            let low2 = _mm512_shuffle_i32x4::<0x44>(u[8 + k], u[12 + k]);
            let high2 = _mm512_shuffle_i32x4::<0xee>(u[8 + k], u[12 + k]);
            let by_lane = [
                _mm512_shuffle_i32x4::<0x88>(low, low2),
                _mm512_shuffle_i32x4::<0xdd>(low, low2),
                _mm512_shuffle_i32x4::<0x88>(high, high2),
                _mm512_shuffle_i32x4::<0xdd>(high, high2),
            ];
            for (lane, v) in by_lane.into_iter().enumerate() {
                let g = 16 * block + 4 * lane + k;
                // SAFETY: bytes `64g..64g + 64` of `out`, `g < cols / 4`.
                unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(64 * g).cast(), v) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_lands_in_its_panel_slot() {
        for cols in [64, 576, 1536, 4 * 37] {
            let rows: Vec<u8> = (0..ROWS * cols).map(|i| (i * 131 % 251) as u8).collect();
            let mut out = vec![0u8; ROWS * cols];
            quads(&rows, cols, &mut out);
            for row in 0..ROWS {
                for v in 0..cols {
                    let (g, k) = (v / 4, v % 4);
                    assert_eq!(
                        out[(g * ROWS + row) * 4 + k],
                        rows[row * cols + v],
                        "{cols} columns: row {row}, value {v}"
                    );
                }
            }
        }
    }
}
