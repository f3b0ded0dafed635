//! Decode products on AVX-512 (F, BW and VNNI), chosen at run time: a run of rows meets one
//! activation vector 64 weight bytes at a time, twice the width of [`super::avx2`]'s kernels and
//! with fewer instructions per value, and each block asks for the weights a little ahead of it, so
//! decoding runs at the speed memory delivers the weights ([`kquant`] for Q4_K, Q5_K and Q6_K,
//! [`block32`] for the 32-value formats).
//!
//! Each function computes what its twin in [`super::scalar`] defines (the tests hold them equal).
//!
//! SAFETY (whole module and its children): the intrinsics run only inside functions compiled for
//! AVX-512F, BW and VNNI, called only after [`available`] said the CPU has them. Every load reads
//! inside one block of a row (the row slices are whole numbers of blocks, asserted) or inside the
//! activation buffers the kernels build, whose lengths are asserted against the row's blocks.
#![allow(unsafe_code)]

pub mod block32;
pub mod kquant;

use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};

use super::Activation;
use super::format::Format;

/// Whether this CPU has the instructions and `CAIRN_VNNI` ([`crate::vnni_limit`]) lets the
/// kernels use them.
pub fn available() -> bool {
    use crate::vnni_limit::{VnniLimit, vnni_limit};
    super::vnni::available() && vnni_limit() == VnniLimit::Avx512
}

/// `out[i] = row i · x` for the consecutive rows of `bytes` (each `row_bytes` long) in `format`,
/// or `false` (nothing written) where no kernel here takes the format or the CPU lacks the
/// instructions.
pub fn dot_rows(
    format: Format,
    bytes: &[u8],
    row_bytes: usize,
    x: &Activation,
    out: &mut [f32],
) -> bool {
    if !available() {
        return false;
    }
    match format {
        Format::Q4K => kquant::q4k_rows(bytes, row_bytes, &x.q8k, out),
        Format::Q5K => kquant::q5k_rows(bytes, row_bytes, &x.q8k, out),
        Format::Q6K => kquant::q6k_rows(bytes, row_bytes, &x.q8k, out),
        Format::Q4_0 | Format::Q4_1 | Format::Q5_0 | Format::Q5_1 | Format::Q8_0 => {
            return block32::rows(format, bytes, row_bytes, &x.q8, out);
        }
        _ => return false,
    }
    true
}

/// How far ahead of the block being read the next weights are asked for.
const PREFETCH_AHEAD: usize = 2048;

/// Asks for the cache lines of the `len` bytes `PREFETCH_AHEAD` on from `block`. A prefetch never
/// faults, so the address may lie past the matrix.
#[inline(always)]
pub(in crate::llm::quant) fn prefetch_ahead(block: *const u8, len: usize) {
    let at = block.wrapping_add(PREFETCH_AHEAD);
    let mut line = 0;
    while line < len {
        // SAFETY: a prefetch reads nothing the program sees and cannot fault.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(line).cast()) };
        line += 64;
    }
}
