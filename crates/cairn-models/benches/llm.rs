//! Chat-model speed, side by side with llama.cpp in one run.
//!
//! `cargo bench -p cairn-models --bench llm [-- --quick] [--candle] [--model PATH]…`
//!
//! For each model (by default every chat model `scripts/fetch-models` put under `models/`:
//! SmolLM2-135M Q4_1, Qwen2.5-Coder-0.5B and 1.5B Q4_K_M), prints prefill tokens/s at 512 and 1024
//! prompt tokens, decode tokens/s over 128 generated tokens (each the median of three runs), time
//! to first token for a 1,000-token prompt, and resident memory (before and after load, and the
//! peak while a 1,000-token prompt is read and 128 tokens generated, beside the file's size), for
//! Cairn's CPU runtime (and candle's quantized llama with `--candle`, for llama-layout files);
//! then runs llama.cpp's `llama-bench` on the same file with the same shapes
//! and threads when `scripts/build-llama-bench` has built it (set `LLAMA_BENCH` to its path, or it
//! is looked for under `~/.cache/cairn/llama.cpp`), and prints Cairn's figures as multiples of its.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cairn_models::llm::{Backend, ChatModel, GenerateParams, Sampling};
use candle_core::Device;

/// The same allocator as the `cairn` binary and the app, so the memory figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-probe") {
        rss_probe(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let with_candle = args.iter().any(|a| a == "--candle");
    let mut paths: Vec<PathBuf> = args
        .windows(2)
        .filter(|w| w[0] == "--model")
        .map(|w| PathBuf::from(&w[1]))
        .collect();
    if paths.is_empty() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        paths = DEFAULT_MODELS
            .iter()
            .map(|m| models.join(m))
            .filter(|p| p.is_file())
            .collect();
    }
    let threads = rayon::current_num_threads();
    println!("threads: {threads}");
    println!();
    println!(
        "| model | engine | pp512 t/s | pp1024 t/s | tg128 t/s | tg128 after 1,000 tokens | TTFT 1000-token prompt | RSS MB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for path in &paths {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let ours = bench(path, &name, Backend::Cpu, "Cairn CPU runtime", quick);
        if with_candle {
            bench(path, &name, Backend::Candle, "candle quantized_llama", true);
        }
        if let Some(peer) = llama_cpp(path, &name, threads) {
            println!(
                "| {name} | Cairn ÷ llama.cpp | {:.2}× | {:.2}× | {:.2}× | {:.2}× | | |",
                ours.pp512 / peer.pp512,
                ours.pp1024 / peer.pp1024,
                ours.tg128 / peer.tg128,
                ours.tg128_deep / peer.tg128_deep
            );
        }
    }
}

/// The chat models `scripts/fetch-models` fetches, under `models/`.
const DEFAULT_MODELS: [&str; 3] = [
    "SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf",
    "Qwen2.5-Coder-0.5B-Instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    "Qwen2.5-Coder-1.5B-Instruct/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
];

/// Tokens per second of one engine on one model.
struct Figures {
    pp512: f64,
    pp1024: f64,
    tg128: f64,
    /// Decoding 128 tokens after a 1,000-token prompt: an answer's speed, its attention reading a
    /// long cache.
    tg128_deep: f64,
}

fn bench(path: &Path, name: &str, backend: Backend, label: &str, quick: bool) -> Figures {
    let decode_only = std::env::args().any(|a| a == "--decode-only");
    // Each speed is the median of three runs from a fresh load (one with `--quick`): this
    // machine's neighbours move single runs by ±8%, and llama-bench averages five repetitions.
    let runs = if quick { 1 } else { 3 };
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
    let pp512 = median_of(runs, || prefill(&mut model, 512));
    let pp1024 = if quick {
        f64::NAN
    } else {
        median_of(runs, || prefill(&mut model, 1024))
    };
    // Decode: 128 tokens after a short prompt, the stop tokens ignored by asking for exactly 128.
    let ids = prompt(16);
    let params = GenerateParams {
        max_tokens: if decode_only { 512 } else { 128 },
        sampling: Sampling::Greedy,
        repeat_penalty: 1.0,
        ignore_stop_tokens: true,
        ..GenerateParams::default()
    };
    let mut tokens_out = 0;
    let tg = median_of(runs, || {
        let mut model = ChatModel::load(path, &Device::Cpu, backend).expect("load");
        let g = model
            .generate(&ids, &params, &never, &mut |_| {})
            .expect("decode");
        tokens_out = g.tokens_out;
        if g.tokens_out > 1 {
            (g.tokens_out - 1) as f64 / (g.decode_ms / 1e3)
        } else {
            f64::NAN
        }
    });
    let tg_deep = if decode_only || quick {
        f64::NAN
    } else {
        let mut model = ChatModel::load(path, &Device::Cpu, backend).expect("load");
        let params = GenerateParams {
            max_tokens: 129,
            ..params.clone()
        };
        let g = model
            .generate(&prompt(1000), &params, &never, &mut |_| {})
            .expect("decode after a long prompt");
        (g.tokens_out - 1) as f64 / (g.decode_ms / 1e3)
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
        "| {name} | {label} | {pp512:.0} | {pp1024:.0} | {tg:.1} ({} tokens) | {tg_deep:.1} | {:.2} s | {} |",
        tokens_out,
        ttft / 1e3,
        probe_rss(path, backend)
    );
    eprintln!("  ({label}: load {load_ms:.0} ms)");
    Figures {
        pp512,
        pp1024,
        tg128: tg,
        tg128_deep: tg_deep,
    }
}

/// The median of `runs` results of `run`.
fn median_of(runs: usize, mut run: impl FnMut() -> f64) -> f64 {
    let mut results: Vec<f64> = (0..runs).map(|_| run()).collect();
    results.sort_by(f64::total_cmp);
    results[results.len() / 2]
}

/// Peak RSS of a fresh process that loads the model, reads a 1,000-token prompt and generates 128
/// tokens: what a person's machine sees while an answer is written.
fn probe_rss(path: &Path, backend: Backend) -> String {
    let name = if backend == Backend::Cpu {
        "cpu"
    } else {
        "candle"
    };
    // mimalloc as the app runs it (cairn_engine::allocator): arenas committed as they are used,
    // freed memory given back at once. The app sets these in-process; the probe, through the
    // environment mimalloc reads at start.
    let out = std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .args(["--rss-probe", name, &path.to_string_lossy()])
            .env("MIMALLOC_ARENA_EAGER_COMMIT", "0")
            .env("MIMALLOC_PURGE_DELAY", "0")
            .output()
    });
    match out {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(out) => format!(
            "probe failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("probe failed: {e}"),
    }
}

fn rss_probe(backend: &str, path: &Path) {
    let backend = if backend == "cpu" {
        Backend::Cpu
    } else {
        Backend::Candle
    };
    // What the process holds before the model: its code, the allocator, the thread pool.
    let before_load = status_mb("VmRSS:");
    let mut model = ChatModel::load(path, &Device::Cpu, backend).expect("load");
    let after_load = status_mb("VmRSS:");
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
    println!(
        "{before_load} before load, {after_load} after load, {} peak (file {})",
        status_mb("VmHWM:"),
        std::fs::metadata(path).map_or(0, |m| m.len() >> 20)
    );
}

/// A figure of this process's /proc status (Linux), in MB: `VmRSS:` now, `VmHWM:` the peak.
fn status_mb(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or("n/a".into(), |kb| format!("{}", kb / 1024))
}

fn llama_cpp(model: &Path, name: &str, threads: usize) -> Option<Figures> {
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
        println!("| {name} | llama.cpp: not built, run scripts/build-llama-bench | | | | | | |");
        return None;
    };
    let figures = llama_bench_csv(&bin, model, threads, &["-p", "512,1024", "-n", "128"])?;
    // Decoding after a 1,000-token prompt (`-d`, the depth), two repetitions: each one reads the
    // prompt first.
    let deep = llama_bench_csv(
        &bin,
        model,
        threads,
        &["-p", "0", "-n", "128", "-d", "1000", "-r", "2"],
    )?;
    let get = |k: &str| figures.get(k).copied().unwrap_or(f64::NAN);
    let tg128_deep = deep.get("tg128").copied().unwrap_or(f64::NAN);
    println!(
        "| {name} | llama.cpp llama-bench | {:.0} | {:.0} | {:.1} | {tg128_deep:.1} | {:.2} s (from pp1024) | |",
        get("pp512"),
        get("pp1024"),
        get("tg128"),
        1000.0 / get("pp1024")
    );
    Some(Figures {
        pp512: get("pp512"),
        pp1024: get("pp1024"),
        tg128: get("tg128"),
        tg128_deep,
    })
}

/// One run of llama-bench with `shape`'s arguments: its tokens per second by test (`pp512`,
/// `tg128`, …), or `None` (said on stdout) where it failed.
fn llama_bench_csv(
    bin: &Path,
    model: &Path,
    threads: usize,
    shape: &[&str],
) -> Option<std::collections::BTreeMap<String, f64>> {
    let out = Command::new(bin)
        .arg("-m")
        .arg(model)
        .args(shape)
        .args(["-t", &threads.to_string(), "-o", "csv"])
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
                return None;
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
            Some(figures)
        }
        Ok(out) => {
            println!(
                "llama-bench failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
        Err(e) => {
            println!("llama-bench could not run: {e}");
            None
        }
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
