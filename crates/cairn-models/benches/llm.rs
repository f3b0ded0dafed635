//! Chat-model speed, side by side with llama.cpp in one run.
//!
//! `cargo bench -p cairn-models --bench llm [-- --quick] [-- --no-candle]`
//!
//! Prints prefill tokens/s at 256 and 1024 prompt tokens, decode tokens/s over 128 generated tokens,
//! time to first token for a 1,000-token prompt, and peak RSS, for Cairn's CPU runtime and candle's
//! quantized llama on the same file; then runs llama.cpp's `llama-bench` with the same shapes when
//! `scripts/build-llama-bench` has built it (set `LLAMA_BENCH` to its path, or it is looked for under
//! `~/.cache/cairn/llama.cpp`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cairn_models::llm::{Backend, ChatModel, GenerateParams, Sampling};
use candle_core::Device;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-probe") {
        rss_probe(&args[i + 1]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let with_candle = !args.iter().any(|a| a == "--no-candle");
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    ));
    let threads = rayon::current_num_threads();
    println!("model: {}", path.display());
    println!("threads: {threads}");
    println!();
    println!("| engine | pp256 t/s | pp1024 t/s | tg128 t/s | TTFT 1000-token prompt | peak RSS |");
    println!("|---|---|---|---|---|---|");
    bench(&path, Backend::Cpu, "Cairn CPU runtime", quick);
    if with_candle {
        bench(&path, Backend::Candle, "candle quantized_llama", true);
    }
    llama_cpp(&path, threads);
}

fn bench(path: &Path, backend: Backend, label: &str, quick: bool) {
    let decode_only = std::env::args().any(|a| a == "--decode-only");
    let load = Instant::now();
    let mut model = ChatModel::load(path, &Device::Cpu, backend).expect("load");
    let load_ms = load.elapsed().as_secs_f64() * 1e3;
    let vocab = model.tokenizer().vocab_size() as u32;
    // A prompt of ordinary tokens (ids past the specials, deterministic).
    let prompt = |n: usize| -> Vec<u32> {
        (0..n as u32)
            .map(|i| 200 + (i * 7919) % (vocab - 200))
            .collect()
    };
    let never = AtomicBool::new(false);
    let prefill = |model: &mut ChatModel, n: usize| -> f64 {
        let ids = prompt(n);
        let fresh = ChatModel::load(path, &Device::Cpu, backend).expect("load");
        *model = fresh;
        let params = GenerateParams {
            max_tokens: 1,
            sampling: Sampling::Greedy,
            ..GenerateParams::default()
        };
        let g = model
            .generate(&ids, &params, &never, &mut |_| {})
            .expect("prefill");
        n as f64 / (g.ttft_ms / 1e3)
    };
    let pp256 = prefill(&mut model, 256);
    let pp1024 = if quick {
        f64::NAN
    } else {
        prefill(&mut model, 1024)
    };
    // Decode: 128 tokens after a short prompt, the stop tokens ignored by asking for exactly 128.
    let mut model = ChatModel::load(path, &Device::Cpu, backend).expect("load");
    let ids = prompt(16);
    let params = GenerateParams {
        max_tokens: if decode_only { 512 } else { 128 },
        sampling: Sampling::Greedy,
        repeat_penalty: 1.0,
        ..GenerateParams::default()
    };
    let g = model
        .generate(&ids, &params, &never, &mut |_| {})
        .expect("decode");
    let tg = if g.tokens_out > 1 {
        (g.tokens_out - 1) as f64 / (g.decode_ms / 1e3)
    } else {
        f64::NAN
    };
    let ttft = if decode_only {
        f64::NAN
    } else {
        let mut model = ChatModel::load(path, &Device::Cpu, backend).expect("load");
        let params = GenerateParams {
            max_tokens: 1,
            ..GenerateParams::default()
        };
        model
            .generate(&prompt(1000), &params, &never, &mut |_| {})
            .expect("ttft")
            .ttft_ms
    };
    println!(
        "| {label} | {pp256:.0} | {pp1024:.0} | {tg:.0} ({} tokens) | {:.2} s | {} MB |",
        g.tokens_out,
        ttft / 1e3,
        probe_rss(backend)
    );
    eprintln!("  ({label}: load {load_ms:.0} ms)");
}

/// Peak RSS of a fresh process that loads the model, reads a 1,000-token prompt and generates 128
/// tokens: what a person's machine sees while an answer is written.
fn probe_rss(backend: Backend) -> String {
    let name = if backend == Backend::Cpu {
        "cpu"
    } else {
        "candle"
    };
    let out = std::env::current_exe()
        .and_then(|exe| Command::new(exe).args(["--rss-probe", name]).output());
    match out {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(out) => format!(
            "probe failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("probe failed: {e}"),
    }
}

fn rss_probe(backend: &str) {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    ));
    let backend = if backend == "cpu" {
        Backend::Cpu
    } else {
        Backend::Candle
    };
    let mut model = ChatModel::load(&path, &Device::Cpu, backend).expect("load");
    let vocab = model.tokenizer().vocab_size() as u32;
    let prompt: Vec<u32> = (0..1000u32)
        .map(|i| 200 + (i * 7919) % (vocab - 200))
        .collect();
    let params = GenerateParams {
        max_tokens: 128,
        repeat_penalty: 1.0,
        ..GenerateParams::default()
    };
    model
        .generate(&prompt, &params, &AtomicBool::new(false), &mut |_| {})
        .expect("generate");
    println!("{}", peak_rss_mb());
}

/// Peak resident set of this process so far, from /proc (Linux).
fn peak_rss_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or("n/a".into(), |kb| format!("{}", kb / 1024))
}

fn llama_cpp(model: &Path, threads: usize) {
    let bin = std::env::var_os("LLAMA_BENCH")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            // scripts/build-llama-bench installs into <version>/bin; a raw build tree comes second.
            let mut found = Vec::new();
            walk(&cache.join("cairn/llama.cpp"), "llama-bench", 6, &mut found);
            found.sort_by_key(|p| p.to_string_lossy().contains("/build/"));
            found.into_iter().next()
        });
    let Some(bin) = bin else {
        println!("| llama.cpp | not built: run scripts/build-llama-bench | | | | |");
        return;
    };
    let out = Command::new(&bin)
        .args([
            "-m",
            &model.to_string_lossy(),
            "-p",
            "256,1024",
            "-n",
            "128",
            "-t",
            &threads.to_string(),
            "-o",
            "csv",
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let csv = String::from_utf8_lossy(&out.stdout);
            let mut lines = csv.lines();
            let header: Vec<&str> = lines
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|h| h.trim_matches('"'))
                .collect();
            let col = |name: &str| header.iter().position(|h| *h == name);
            let (Some(np), Some(ng), Some(ts)) = (col("n_prompt"), col("n_gen"), col("avg_ts"))
            else {
                println!("llama-bench printed an unexpected header: {header:?}");
                return;
            };
            let mut figures = std::collections::BTreeMap::new();
            for line in lines {
                let cells: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
                let key = if cells[ng] != "0" {
                    format!("tg{}", cells[ng])
                } else {
                    format!("pp{}", cells[np])
                };
                figures.insert(key, cells[ts].parse::<f64>().unwrap_or(f64::NAN));
            }
            let get = |k: &str| figures.get(k).copied().unwrap_or(f64::NAN);
            println!(
                "| llama.cpp ({}) | {:.0} | {:.0} | {:.0} | {:.2} s (from pp1024) | |",
                bin.display(),
                get("pp256"),
                get("pp1024"),
                get("tg128"),
                1000.0 / get("pp1024")
            );
        }
        Ok(out) => println!(
            "llama-bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!("llama-bench could not run: {e}"),
    }
}

fn walk(dir: &Path, name: &str, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == name) && p.is_file() {
            found.push(p);
        } else if depth > 0 && p.is_dir() {
            walk(&p, name, depth - 1, found);
        }
    }
}
