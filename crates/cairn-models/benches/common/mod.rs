//! What the kernel benches share: weight rows to multiply.

use cairn_models::llm::quant::Format;

/// `rows × cols` values of `format` in pseudo-random blocks, each with a small f16 scale (and
/// min, for Q4_K and Q5_K) so that no value is infinite.
pub fn random_blocks(format: Format, rows: usize, cols: usize, seed: u64) -> Vec<u8> {
    let blocks = rows * cols / format.block_values();
    let mut state = seed;
    let mut data = vec![0u8; blocks * format.block_bytes()];
    for b in data.iter_mut() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        *b = (state >> 40) as u8;
    }
    let scale_at = if format == Format::Q6K { 208 } else { 0 };
    for block in data.chunks_exact_mut(format.block_bytes()) {
        block[scale_at..scale_at + 2].copy_from_slice(&[0, 0x20]);
        if matches!(format, Format::Q4K | Format::Q5K) {
            block[2..4].copy_from_slice(&[0, 0x20]);
        }
    }
    data
}
