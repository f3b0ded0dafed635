//! Decoding: one activation vector meeting a whole matrix, the product each generated token runs
//! about a hundred times, beside the memory bandwidth that bounds it.
//!
//! ```sh
//! cargo bench -p cairn-models --bench decode
//! ```
//!
//! For an FFN-sized matrix (8,960 × 1,536, Qwen2.5-1.5B's gate and up) of random blocks in each
//! format decode meets, prints the time of one product on one thread and the bytes of weights it
//! reads per second, and the same for a plain sum over the same bytes (how fast this machine
//! streams them from memory: a product at that speed is bound by memory, not by its kernel).

use std::hint::black_box;
use std::time::Instant;

use cairn_models::llm::quant::{Activation, Format, QMatrix};
use common::random_blocks;

mod common;

fn main() {
    let (rows, cols) = (8960usize, 1536usize);
    println!("one thread, {rows}×{cols}, {COPIES} copies of each matrix taken in turn\n");
    println!("| format | µs per product | GB/s of weights | plain sum of the bytes, GB/s |");
    println!("|---|---|---|---|");
    let xs: Vec<f32> = (0..cols)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    for format in [
        Format::Q4K,
        Format::Q5K,
        Format::Q6K,
        Format::Q8_0,
        Format::Q4_0,
    ] {
        // Several copies, so each product reads rows that are not in the cache (as in a model,
        // where a token's ~100 products touch every weight once).
        let raw: Vec<Vec<u8>> = (0..COPIES)
            .map(|c| random_blocks(format, rows, cols, c as u64 + 1))
            .collect();
        let copies: Vec<QMatrix> = raw
            .iter()
            .map(|data| QMatrix::new(format, rows, cols, data.clone()).expect("matrix"))
            .collect();
        let x = Activation::for_matrix(&xs, &copies[0]);
        let mut out = vec![0f32; rows];
        let reps = 16 * COPIES;
        for m in &copies {
            m.dot_rows(0, &x, &mut out);
        }
        let started = Instant::now();
        for rep in 0..reps {
            copies[rep % COPIES].dot_rows(0, &x, &mut out);
            black_box(&out);
        }
        let per = started.elapsed().as_secs_f64() / reps as f64;
        let bytes = copies[0].bytes() as f64;
        let started = Instant::now();
        let mut total = 0u64;
        for rep in 0..reps {
            total = total.wrapping_add(sum_words(&raw[rep % COPIES]));
        }
        black_box(total);
        let sum_per = started.elapsed().as_secs_f64() / reps as f64;
        println!(
            "| {} | {:.0} | {:.1} | {:.1} |",
            format.name(),
            per * 1e6,
            bytes / per / 1e9,
            bytes / sum_per / 1e9
        );
    }
}

/// Copies of each matrix cycled through: together they are larger than this machine's caches.
const COPIES: usize = 16;

/// The bytes as 64-bit words, added: a loop the compiler vectorises, as fast as memory allows.
fn sum_words(bytes: &[u8]) -> u64 {
    bytes
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
        .fold(0u64, u64::wrapping_add)
}
