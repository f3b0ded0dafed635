//! Prompt batches: the 8-bit panel kernel alone, and whole prompts through a model.
//!
//! ```sh
//! cargo bench -p cairn-models --bench prefill                         # the kernel, GMAC/s per format
//! cargo bench -p cairn-models --bench prefill -- --model /abs/path.gguf   # and three 512-token prompts
//! cargo bench --profile dev -p cairn-models --bench prefill -- --model /abs/path.gguf   # the dev build
//! ```
//!
//! The kernel figures are for an FFN-sized matrix (8,960 × 1,536, Qwen2.5-1.5B's gate and up) of
//! random blocks meeting 512 tokens, on every kernel this CPU runs (`panel_tiles`; nothing is
//! printed where the CPU has no VNNI). The prompts run on the kernel the runtime picks;
//! `CAIRN_VNNI=avx` (or `none`, the f32 GEMM) keeps it to what a CPU with less would run. The
//! prompt figures come from fresh loads of the model, as `perf record` sees a prefill: run the
//! binary under it to see where the time goes.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cairn_models::llm::quant::{Format, QMatrix, panel, panel_tiles};
use cairn_models::llm::{Backend, ChatModel, GenerateParams, Sampling};
use candle_core::Device;
use common::random_blocks;

mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let models: Vec<PathBuf> = args
        .windows(2)
        .filter(|w| w[0] == "--model")
        .map(|w| PathBuf::from(&w[1]))
        .collect();
    println!("threads: {}\n", rayon::current_num_threads());
    kernel();
    for model in &models {
        prompts(model);
    }
}

fn kernel() {
    let tiles = panel_tiles();
    if tiles.is_empty() {
        println!("no 8-bit panel kernel on this CPU (no VNNI): prompts take the f32 GEMM");
        return;
    }
    let (rows, cols, n) = (8960usize, 1536usize, 512usize);
    println!("| kernel | format | {rows}×{cols} · {n} tokens | GMAC/s |");
    println!("|---|---|---|---|");
    for (name, tile) in tiles {
        for format in [Format::Q4K, Format::Q6K, Format::Q8_0] {
            kernel_row(name, tile, format, rows, cols, n);
        }
    }
    println!();
}

fn kernel_row(name: &str, tile: panel::Tile, format: Format, rows: usize, cols: usize, n: usize) {
    let data = random_blocks(format, rows, cols, 1);
    let m = QMatrix::new(format, rows, cols, data).expect("matrix");
    let xs: Vec<f32> = (0..n * cols)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let mut out = vec![0f32; n * rows];
    let mut scratch = panel::Scratch::default();
    panel::matmul(&m, &xs, n, tile, &mut scratch, &mut out);
    let reps = 5;
    let started = Instant::now();
    for _ in 0..reps {
        panel::matmul(&m, &xs, n, tile, &mut scratch, &mut out);
    }
    let secs = started.elapsed().as_secs_f64() / reps as f64;
    println!(
        "| {name} | {} | {:.1} ms | {:.0} |",
        format.name(),
        secs * 1e3,
        (rows * cols * n) as f64 / secs / 1e9
    );
}

fn prompts(path: &Path) {
    let never = AtomicBool::new(false);
    let name = path.file_stem().unwrap_or_default().to_string_lossy();
    for run in 1..=3 {
        let mut model = ChatModel::load(path, &Device::Cpu, Backend::Cpu).expect("load");
        let vocab = model.tokenizer().vocab_size() as u32;
        let ids: Vec<u32> = (0..512u32)
            .map(|i| 200 + (i * 7919) % (vocab - 200))
            .collect();
        let params = GenerateParams {
            max_tokens: 1,
            sampling: Sampling::Greedy,
            ..GenerateParams::default()
        };
        let g = model
            .generate(&ids, &params, &never, &mut |_| {})
            .expect("prefill");
        println!(
            "{name}: run {run}, pp512 {:.1} t/s",
            512.0 / (g.ttft_ms / 1e3)
        );
    }
}
