//! Decoding: one activation vector meeting a whole matrix, the product each generated token runs
//! about a hundred times, beside the memory bandwidth that bounds it.
//!
//! ```sh
//! cargo bench -p cairn-models --bench decode
//! ```
//!
//! For an FFN-sized matrix (8,960 × 1,536, Qwen2.5-1.5B's gate and up) of random blocks in each
//! format decode meets, prints the time of one product on one thread and the bytes of weights it
//! reads per second for every decoding kernel this CPU has (`quant::row_runs`: AVX-512 VNNI,
//! AVX-VNNI, AVX2 runs of rows, and one row at a time), and the same for a plain sum over the same
//! bytes (how fast this machine streams them from memory: a product at that speed is bound by
//! memory, not by its kernel). The kernels take turns, so a busier memory bus (a neighbour on a
//! shared host) meets them all alike.

use std::hint::black_box;
use std::time::Instant;

use cairn_models::llm::quant::{Activation, Format, QMatrix, row_runs};
use common::random_blocks;

mod common;

fn main() {
    let (rows, cols) = (8960usize, 1536usize);
    let runs = row_runs();
    println!(
        "one thread, {rows}×{cols}, {COPIES} copies of each matrix taken in turn; every decoding \
         kernel this CPU has, timed in turns, the best of {ROUNDS} rounds\n"
    );
    let names: Vec<&str> = runs.iter().map(|(name, _)| *name).collect();
    println!(
        "| format | {} | plain sum of the bytes |",
        names
            .iter()
            .map(|n| format!("{n}: µs per product (GB/s)"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}---|", "---|".repeat(names.len()));
    let xs: Vec<f32> = (0..cols)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    for format in [
        Format::Q4K,
        Format::Q5K,
        Format::Q6K,
        Format::Q8_0,
        Format::Q4_0,
        Format::Q4_1,
        Format::Q5_0,
    ] {
        // Several copies, so each product reads rows that are not in the cache (as in a model,
        // where a token's ~100 products touch every weight once).
        let raw: Vec<Vec<u8>> = (0..COPIES)
            .map(|c| random_blocks(format, rows, cols, c as u64 + 1))
            .collect();
        let x = Activation::for_matrix(
            &xs,
            &QMatrix::new(format, rows, cols, raw[0].clone()).expect("matrix"),
        );
        let row_bytes = raw[0].len() / rows;
        let mut out = vec![0f32; rows];
        // The best round of each kernel and of the plain sum (index `runs.len()`).
        let mut best = vec![f64::INFINITY; runs.len() + 1];
        for _ in 0..ROUNDS {
            for (k, (_, run)) in runs.iter().enumerate() {
                if !run(format, &raw[0], row_bytes, &x, &mut out) {
                    continue;
                }
                let started = Instant::now();
                for copy in &raw {
                    run(format, copy, row_bytes, &x, &mut out);
                    black_box(&out);
                }
                best[k] = best[k].min(started.elapsed().as_secs_f64() / COPIES as f64);
            }
            let started = Instant::now();
            let total = raw
                .iter()
                .fold(0u64, |t, copy| t.wrapping_add(sum_words(copy)));
            black_box(total);
            best[runs.len()] =
                best[runs.len()].min(started.elapsed().as_secs_f64() / COPIES as f64);
        }
        let bytes = raw[0].len() as f64;
        let cell = |t: f64| {
            if t.is_finite() {
                format!("{:.0} ({:.1})", t * 1e6, bytes / t / 1e9)
            } else {
                "—".to_string()
            }
        };
        let cells: Vec<String> = best[..runs.len()].iter().map(|&t| cell(t)).collect();
        println!(
            "| {} | {} | {:.1} GB/s |",
            format.name(),
            cells.join(" | "),
            bytes / best[runs.len()] / 1e9
        );
    }
}

/// Rounds of every kernel in turn; the best of each is printed (the others met a busier memory
/// bus).
const ROUNDS: usize = 8;

/// Copies of each matrix cycled through: together they are larger than this machine's caches.
const COPIES: usize = 16;

/// The bytes as 64-bit words, added: a loop the compiler vectorises, as fast as memory allows.
fn sum_words(bytes: &[u8]) -> u64 {
    bytes
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
        .fold(0u64, u64::wrapping_add)
}
