//! Cairn's benchmarks. Each prints Markdown tables for BENCHMARKS.md.
//!
//! ```sh
//! cargo bench -p cairn-engine --bench cairn -- ingest   # or rescan, latency, quality, precision, cache, all
//! cargo bench -p cairn-engine --bench cairn -- shared   # latency in an S3 store on loopback (not in all)
//!
//! Embedding throughput against ONNX Runtime is `cairn-models`' `embed` bench.
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_engine::{
    CancelToken, Config, Fusion, Library, RerankerChoice, SearchMode, SearchRequest,
};
use cairn_index::{ChunkRow, EmbedderStamp, Index, IndexSettings, Passage, SearchParams};
use cairn_models::{BertEmbedder, Embedder, Precision};
use serde::Deserialize;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The same allocator as the `cairn` binary, so the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn embedder() -> Result<BertEmbedder> {
    Ok(BertEmbedder::load(
        &root().join("models/all-MiniLM-L6-v2"),
        &candle_core::Device::Cpu,
    )?)
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; the first other argument picks the benchmark.
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "all".into());
    let runtime = tokio::runtime::Runtime::new()?;
    println!("# cairn benchmarks ({which})\n");
    println!(
        "machine: {}, {} threads\n",
        cpu_name(),
        std::thread::available_parallelism()?.get()
    );
    if which == "query" {
        query_embedding()?;
    }
    if matches!(which.as_str(), "ingest" | "all") {
        runtime.block_on(ingest())?;
    }
    if matches!(which.as_str(), "rescan" | "all") {
        runtime.block_on(rescan())?;
    }
    if matches!(which.as_str(), "latency" | "all") {
        runtime.block_on(latency())?;
    }
    if which == "shared" {
        runtime.block_on(shared())?;
    }
    if matches!(which.as_str(), "precision" | "all") {
        runtime.block_on(precision())?;
    }
    if matches!(which.as_str(), "quality" | "all") {
        runtime.block_on(quality())?;
    }
    if matches!(which.as_str(), "cache" | "all") {
        runtime.block_on(answer_cache())?;
    }
    Ok(())
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

/// A small deterministic generator (PCG-style LCG) so every run sees the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn gaussian(&mut self) -> f32 {
        let u1 = (self.next() as f64 + 1.0) / (u32::MAX as f64 + 2.0);
        let u2 = (self.next() as f64 + 1.0) / (u32::MAX as f64 + 2.0);
        ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
    }
}

/// Lower-case words of the sample corpus: realistic vocabulary for generated text.
fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in walk(&root().join("tests/corpus")) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        for w in text
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.len() > 2)
        {
            let w = w.to_lowercase();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
    }
    words.sort();
    words
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn sentence(rng: &mut Lcg, words: &[String], len: usize) -> String {
    let mut s: Vec<&str> = (0..len)
        .map(|_| words[rng.below(words.len())].as_str())
        .collect();
    let first = s[0].to_string();
    let capital = first[..1].to_uppercase() + &first[1..];
    s[0] = &capital;
    format!("{}.", s.join(" "))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------------------------
// Embedding throughput against ONNX Runtime int8.

/// Embedding one short query at a time, as a search does (not part of `all`: a profiling aid).
fn query_embedding() -> Result<()> {
    let embedder = embedder()?;
    let queries: Vec<String> = questions()?.into_iter().map(|q| q.question).collect();
    let mut times = Vec::new();
    for q in queries.iter().cycle().take(queries.len() * 5) {
        let t = Instant::now();
        embedder.embed(&[q.as_str()])?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "query embedding: p50 {}, p95 {}\n",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95))
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Ingest throughput on a generated 1,000-document corpus.

async fn ingest() -> Result<()> {
    let words = vocabulary();
    let docs = tempfile::tempdir()?;
    let mut rng = Lcg(42);
    let mut bytes = 0;
    for i in 0..1000 {
        let text = markdown(&mut rng, &words, i);
        bytes += text.len();
        std::fs::write(docs.path().join(format!("doc{i:04}.md")), text)?;
    }
    let mixed = tempfile::tempdir()?;
    let mixed_bytes = mixed_folder(mixed.path(), &words)?;
    println!("## Ingest throughput (end to end: walk, hash, parse, chunk, embed, write, index)\n");
    println!(
        "1,000 generated Markdown documents ({:.1} MB); a mixed folder of 1,000 files ({:.1} MB): \
         250 Markdown, 250 HTML, 250 plain text, 125 copies of a three-page PDF and 125 of a DOCX \
         field guide (`crates/cairn-ingest/tests/fixtures`).\n",
        bytes as f64 / 1e6,
        mixed_bytes as f64 / 1e6
    );
    println!("| folder | embedder | cores | files | chunks | seconds | chunks/s | files/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let runs = [
        (Precision::F32, 0),
        (Precision::Int8, 0),
        (Precision::Int8, 1),
    ];
    for (folder, name) in [(docs.path(), "Markdown"), (mixed.path(), "mixed")] {
        for (precision, cores) in runs {
            let data = tempfile::tempdir()?;
            let mut config = Config::default();
            config.models.embedder_precision = precision;
            config.ingest.max_cores = cores;
            let library = Library::open(data.path(), config).await?;
            library.embedder()?;
            let (report, secs) = timed_add(&library, folder, "bench").await?;
            println!(
                "| {name} | {} | {} | {} | {} | {secs:.1} | {:.1} | {:.1} |",
                precision.name(),
                if cores == 0 {
                    "every".to_string()
                } else {
                    cores.to_string()
                },
                report.indexed(),
                report.chunks_written,
                report.chunks_written as f64 / secs,
                report.indexed() as f64 / secs
            );
            if name == "Markdown" && precision == Precision::Int8 && cores == 0 {
                let (again, secs) = timed_add(&library, folder, "bench").await?;
                println!(
                    "| Markdown, again, unchanged | {} | every | {} | 0 | {secs:.2} | - | {:.0} |",
                    precision.name(),
                    again.unchanged(),
                    again.unchanged() as f64 / secs
                );
            }
        }
    }
    println!();
    Ok(())
}

/// An add of `folder` to `collection`, and its seconds.
async fn timed_add(
    library: &Library,
    folder: &Path,
    collection: &str,
) -> Result<(cairn_engine::AddReport, f64)> {
    let start = Instant::now();
    let report = library
        .add(
            &[folder.to_path_buf()],
            collection,
            &|_| {},
            &CancelToken::new(),
        )
        .await?;
    Ok((report, start.elapsed().as_secs_f64()))
}

/// A generated Markdown document: 2–4 sections of 3–8 sentences of corpus vocabulary.
fn markdown(rng: &mut Lcg, words: &[String], i: usize) -> String {
    let mut text = format!("# Document {i}\n\n");
    for h in 0..(2 + rng.below(3)) {
        text.push_str(&format!("## Section {h}\n\n"));
        for _ in 0..(3 + rng.below(6)) {
            let len = 8 + rng.below(18);
            text.push_str(&sentence(rng, words, len));
            text.push(' ');
        }
        text.push_str("\n\n");
    }
    text
}

/// Writes the mixed folder into `dir`; returns its size in bytes.
fn mixed_folder(dir: &Path, words: &[String]) -> Result<usize> {
    let mut rng = Lcg(43);
    let fixtures = root().join("crates/cairn-ingest/tests/fixtures");
    let (pdf, docx) = (
        std::fs::read(fixtures.join("three-pages.pdf"))?,
        std::fs::read(fixtures.join("field-guide.docx"))?,
    );
    let mut bytes = 0;
    for i in 0..250 {
        let text = markdown(&mut rng, words, i);
        let html = format!(
            "<!doctype html><html><head><title>Page {i}</title></head><body>{}</body></html>",
            text.split("\n\n")
                .map(|p| format!("<p>{}</p>", p.trim_start_matches('#').trim()))
                .collect::<String>()
        );
        let plain = markdown(&mut rng, words, i).replace('#', "");
        for (name, content) in [
            (format!("note{i:03}.md"), text.into_bytes()),
            (format!("page{i:03}.html"), html.into_bytes()),
            (format!("text{i:03}.txt"), plain.into_bytes()),
        ] {
            bytes += content.len();
            std::fs::write(dir.join(name), content)?;
        }
    }
    for i in 0..125 {
        std::fs::write(dir.join(format!("report{i:03}.pdf")), &pdf)?;
        std::fs::write(dir.join(format!("guide{i:03}.docx")), &docx)?;
        bytes += pdf.len() + docx.len();
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// An add over a library whose files did not change (the app's start-up reconcile of its watched
// folders): what it reads.

/// Bytes this process has read through system calls so far (`rchar` of /proc/self/io).
fn bytes_read() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("rchar: ").map(|n| n.trim().parse().ok()))
        })
        .flatten()
        .unwrap_or(0)
}

async fn rescan() -> Result<()> {
    const FILES: usize = 10_000;
    let words = vocabulary();
    let docs = tempfile::tempdir()?;
    let mut rng = Lcg(7);
    // Web pages as saved from a browser: a sentence of text and 20 KB of script, so that reading
    // a file costs what reading a real one does while indexing it stays cheap.
    let script = format!("<script>{}</script>", "var x = 1;\n".repeat(1_860));
    let mut bytes = 0;
    let mut paths = Vec::with_capacity(FILES);
    for i in 0..FILES {
        let dir = docs.path().join(format!("d{:02}", i / 500));
        std::fs::create_dir_all(&dir)?;
        let text = format!(
            "<html><head>{script}</head><body><p>{}</p></body></html>",
            sentence(&mut rng, &words, 12)
        );
        bytes += text.len();
        let path = dir.join(format!("page{i:05}.html"));
        std::fs::write(&path, text)?;
        paths.push(path);
    }
    // Written a minute ago, as files are that did not change since.
    let set_times = |ago: Duration| -> Result<()> {
        let at = std::time::SystemTime::now() - ago;
        for p in &paths {
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)?
                .set_modified(at)?;
        }
        Ok(())
    };
    set_times(Duration::from_secs(60))?;
    let data = tempfile::tempdir()?;
    let library = Library::open(data.path(), Config::default()).await?;
    library.embedder()?;
    let folder = [docs.path().to_path_buf()];
    let first = library
        .add(&folder, "bench", &|_| {}, &CancelToken::new())
        .await?;
    assert_eq!(first.indexed(), FILES, "every page is indexed");
    let pass = |label: &'static str| {
        let library = &library;
        let folder = &folder;
        async move {
            let read_before = bytes_read();
            let start = Instant::now();
            let report = library
                .add(folder, "bench", &|_| {}, &CancelToken::new())
                .await?;
            let elapsed = start.elapsed();
            let read = bytes_read() - read_before;
            Ok::<_, Box<dyn std::error::Error>>((label, report.unchanged(), elapsed, read))
        }
    };
    // Touched (a new time, the same content): every file is read and hashed once more.
    set_times(Duration::from_secs(30))?;
    let touched = pass("touched: read and hashed, new stamps kept").await?;
    let unchanged = pass("unchanged: size, time and inode trusted").await?;
    println!(
        "## An add over {FILES} unchanged files ({:.0} MB of web pages), as at the app's start\n",
        bytes as f64 / 1e6
    );
    println!("| run | unchanged | seconds | files/s | MB read by the process |");
    println!("|---|---|---|---|---|");
    for (label, n, elapsed, read) in [touched, unchanged] {
        println!(
            "| {label} | {n} | {:.2} | {:.0} | {:.1} |",
            elapsed.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64(),
            read as f64 / 1e6
        );
    }
    println!();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Hybrid query latency at 10k and 100k chunks.

#[derive(Deserialize)]
struct Question {
    id: String,
    question: String,
    kind: String,
    relevant: Vec<Relevant>,
}

#[derive(Deserialize)]
struct Relevant {
    doc: String,
    quote: String,
}

fn questions() -> Result<Vec<Question>> {
    let text = std::fs::read_to_string(root().join("tests/eval/questions.jsonl"))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<std::result::Result<_, _>>()?)
}

/// What the latency benchmarks search: generated passages over real embeddings, and the
/// evaluation's questions.
struct LatencyCorpus {
    embedder: BertEmbedder,
    stamp: EmbedderStamp,
    words: Vec<String>,
    base: Vec<Vec<f32>>,
    base_texts: Vec<String>,
    queries: Vec<String>,
    query_vectors: Vec<Vec<f32>>,
}

impl LatencyCorpus {
    fn new() -> Result<LatencyCorpus> {
        let embedder = embedder()?;
        let words = vocabulary();
        let info = embedder.info().clone();
        let stamp = EmbedderStamp {
            id: info.id.clone(),
            fingerprint: info.fingerprint.clone(),
            dimension: info.dimension,
        };
        let queries: Vec<String> = questions()?.into_iter().map(|q| q.question).collect();
        // Vectors: 2,000 real embeddings of generated passages, each reused with Gaussian noise, so
        // the collection has the clustered structure of real data without embedding every passage.
        let mut rng = Lcg(99);
        let base_texts: Vec<String> = (0..2000)
            .map(|_| {
                let len = 20 + rng.below(30);
                sentence(&mut rng, &words, len)
            })
            .collect();
        let base_refs: Vec<&str> = base_texts.iter().map(String::as_str).collect();
        let base = embedder.embed(&base_refs)?;
        let query_vectors =
            embedder.embed(&queries.iter().map(String::as_str).collect::<Vec<_>>())?;
        Ok(LatencyCorpus {
            embedder,
            stamp,
            words,
            base,
            base_texts,
            queries,
            query_vectors,
        })
    }

    /// Rows `first..end`, 10,000 a write at most.
    fn rows(&self, rng: &mut Lcg, first: usize, end: usize) -> Vec<ChunkRow> {
        let base = &self.base;
        (first..end)
            .map(|i| {
                let b = &base[i % base.len()];
                let mut v: Vec<f32> = b.iter().map(|x| x + 0.03 * rng.gaussian()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= norm);
                let len = 10 + rng.below(20);
                let text = format!(
                    "{} {}",
                    self.base_texts[i % base.len()],
                    sentence(rng, &self.words, len)
                );
                let passage = Passage {
                    chunk_id: format!("{i}:0"),
                    doc_id: i as i64,
                    doc_path: format!("/bench/{i}.md"),
                    ordinal: 0,
                    page: None,
                    heading: String::new(),
                    char_start: 0,
                    char_end: text.chars().count() as u32,
                    text,
                };
                ChunkRow { passage, vector: v }
            })
            .collect()
    }

    /// Fills a new collection of `index` with `n` passages, builds its indices, then times the
    /// queries; prints one table row, `label` first.
    async fn measure(&self, label: &str, index: &Index, n: usize) -> Result<()> {
        let mut rng = Lcg(7);
        let table = index.collection("bench", &self.stamp).await?;
        let start = Instant::now();
        let mut generating = Duration::ZERO;
        for first in (0..n).step_by(10_000) {
            let t = Instant::now();
            let rows = self.rows(&mut rng, first, (first + 10_000).min(n));
            generating += t.elapsed();
            table.add(&rows).await?;
        }
        let added = start.elapsed() - generating;
        table.optimize(&IndexSettings::default()).await?;
        let build = start.elapsed() - generating;
        let params = SearchParams {
            k: 10,
            ..SearchParams::default()
        };
        let (mut dense, mut bm25, mut hybrid, mut embed_times) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let queries = &self.queries;
        for (round, (q, v)) in queries
            .iter()
            .zip(&self.query_vectors)
            .cycle()
            .take(queries.len() + 10)
            .enumerate()
        {
            let t = Instant::now();
            let _ = self.embedder.embed(&[q.as_str()])?;
            let e = t.elapsed();
            let t = Instant::now();
            table.dense(v, params.k, &params).await?;
            let d = t.elapsed();
            let t = Instant::now();
            table.bm25(q, params.k).await?;
            let b = t.elapsed();
            let t = Instant::now();
            table.hybrid(q, v, &params).await?;
            let h = t.elapsed();
            if round >= 10 {
                dense.push(d);
                bm25.push(b);
                hybrid.push(h);
                embed_times.push(e);
            }
        }
        let mut total: Vec<Duration> = hybrid
            .iter()
            .zip(&embed_times)
            .map(|(h, e)| *h + *e)
            .collect();
        for v in [
            &mut dense,
            &mut bm25,
            &mut hybrid,
            &mut embed_times,
            &mut total,
        ] {
            v.sort();
        }
        println!(
            "| {label} | {n} | {:.0} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            n as f64 / added.as_secs_f64(),
            if table.has_vector_index().await? {
                "IVF-HNSW-SQ"
            } else {
                "none (exact)"
            },
            build.as_secs_f64(),
            ms(percentile(&dense, 0.5)),
            ms(percentile(&bm25, 0.5)),
            ms(percentile(&hybrid, 0.5)),
            ms(percentile(&hybrid, 0.95)),
            ms(percentile(&embed_times, 0.5)),
            ms(percentile(&total, 0.5)),
            ms(percentile(&total, 0.95)),
        );
        Ok(())
    }

    fn header(&self) {
        println!(
            "## Query latency (hybrid = dense + BM25 + fusion; {} queries after 10 warm-up)\n",
            self.queries.len()
        );
        println!(
            "| where | chunks | add chunks/s | vector index | build s | dense p50 | BM25 p50 | hybrid p50 | hybrid p95 | query embedding p50 | end to end p50 | end to end p95 |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
}

async fn latency() -> Result<()> {
    let corpus = LatencyCorpus::new()?;
    corpus.header();
    for n in [10_000usize, 100_000] {
        let dir = tempfile::tempdir()?;
        corpus
            .measure("local disk", &Index::open(dir.path()).await?, n)
            .await?;
    }
    println!();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// A shared collection in an S3-compatible store on loopback (moto's server, as in the tests),
// beside the same collection on local disk. `CAIRN_BENCH_SHARED_CHUNKS` sets the sizes
// (comma-separated; default 100000).

#[path = "../../cairn-index/tests/support/s3.rs"]
mod s3;

async fn shared() -> Result<()> {
    let sizes: Vec<usize> = std::env::var("CAIRN_BENCH_SHARED_CHUNKS")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .map(|n| n.trim().parse())
        .collect::<std::result::Result<_, _>>()?;
    let corpus = LatencyCorpus::new()?;
    corpus.header();
    for n in sizes {
        let dir = tempfile::tempdir()?;
        corpus
            .measure("local disk", &Index::open(dir.path()).await?, n)
            .await?;
        drop(dir);
        let server = s3::S3Server::start("bench");
        let store =
            cairn_index::ObjectStore::new("s3://bench/library", Some(&server.endpoint()), None)?;
        let credentials = cairn_index::StoreCredentials {
            access_key_id: "bench".into(),
            secret_access_key: "bench-secret".into(),
            session_token: None,
        };
        let index = Index::open_shared(&store, &credentials).await?;
        corpus.measure("S3 (moto, loopback)", &index, n).await?;
    }
    println!();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The answer cache: a question asked again, end to end through `Library::ask` (lookup, source
// check, thread and trace written), against the model answering it the first time.

/// Questions about the sample documents, each with the same question in other words.
const CACHE_QUESTIONS: [(&str, &str); 8] = [
    (
        "When was the Fresnel lens of Skerrow Point lighthouse made?",
        "When was the Fresnel lens of the Skerrow Point lighthouse made?",
    ),
    (
        "What causes spring tides?",
        "What is the cause of spring tides?",
    ),
    (
        "What is the rule of twelfths?",
        "What is the rule of twelfths exactly?",
    ),
    (
        "Why does high water arrive about 50 minutes later each day?",
        "Why does high water come about 50 minutes later each day?",
    ),
    (
        "How large is the tidal range in the Bay of Fundy?",
        "How big is the tidal range in the Bay of Fundy?",
    ),
    (
        "How do you choose the size of a Bloom filter?",
        "How should you choose the size of a Bloom filter?",
    ),
    ("What are tidal streams?", "What are tidal streams exactly?"),
    (
        "How does commercial yeast differ from a sourdough starter?",
        "How is commercial yeast different from a sourdough starter?",
    ),
];

async fn answer_cache() -> Result<()> {
    use cairn_engine::AskRequest;
    let dir = tempfile::tempdir()?;
    let library = Library::open(dir.path(), Config::default()).await?;
    let corpus = root().join("tests/corpus");
    let paths: Vec<PathBuf> = [
        "nature/lighthouse-skerrow-point.md",
        "nature/tides.md",
        "nature/ocean-currents.md",
        "tech/bloom-filters.md",
        "food/yeasted-sandwich-loaf.md",
    ]
    .iter()
    .map(|p| corpus.join(p))
    .collect();
    library
        .add(&paths, "default", &|_| {}, &CancelToken::new())
        .await?;
    let ask = |question: String| {
        let library = &library;
        async move {
            let t = Instant::now();
            let answer = library
                .ask(
                    &AskRequest::new(question),
                    std::sync::Arc::new(|_| {}),
                    &CancelToken::new(),
                )
                .await?;
            Ok::<_, Box<dyn std::error::Error>>((
                t.elapsed(),
                answer.provenance == cairn_engine::Provenance::Cache,
            ))
        }
    };
    let mut made = Vec::new();
    for (question, _) in CACHE_QUESTIONS {
        made.push(ask(question.to_string()).await?.0);
    }
    let kept = library.answer_cache_usage()?.entries;
    let rounds = 12;
    let mut exact = Vec::new();
    let mut paraphrase = Vec::new();
    let (mut exact_hits, mut paraphrase_hits) = (0, 0);
    for round in 0..rounds {
        for (question, other) in CACHE_QUESTIONS {
            // Another spelling of the same words, then other words.
            let respelt = question.to_lowercase().replace('?', "");
            let (e, hit) = ask(respelt).await?;
            let (p, other_hit) = ask(other.to_string()).await?;
            if round < 2 {
                continue;
            }
            if hit {
                exact_hits += 1;
                exact.push(e);
            }
            if other_hit {
                paraphrase_hits += 1;
                paraphrase.push(p);
            }
        }
    }
    let kept_at_end = library.answer_cache_usage()?.entries;
    for v in [&mut made, &mut exact, &mut paraphrase] {
        v.sort();
    }
    let asked = (rounds - 2) * CACHE_QUESTIONS.len();
    println!(
        "## Answer cache (end to end through `Library::ask`; {} questions, {kept} of the first answers kept, {kept_at_end} entries at the end; {} rounds after 2 warm-up)\n",
        CACHE_QUESTIONS.len(),
        rounds - 2
    );
    println!("| path | asked | served from the cache | p50 | p95 |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, asked: usize, hits: usize, v: &[Duration]| {
        let (p50, p95) = if v.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            (ms(percentile(v, 0.5)), ms(percentile(v, 0.95)))
        };
        println!("| {name} | {asked} | {hits} | {p50} | {p95} |");
    };
    row("first asked: the local model answers", made.len(), 0, &made);
    row("same words, respelt", asked, exact_hits, &exact);
    row(
        "other words (one embedding)",
        asked,
        paraphrase_hits,
        &paraphrase,
    );
    println!();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Retrieval quality on the labelled set in tests/eval.

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A passage answers a labelled quote if it contains it, or at least its first or second half
/// (the quote straddles a chunk boundary).
fn matches(hit_text: &str, quote: &str) -> bool {
    let text = normalise(hit_text);
    let quote = normalise(quote);
    if text.contains(&quote) {
        return true;
    }
    let words: Vec<&str> = quote.split(' ').collect();
    let half = words.len() / 2;
    text.contains(&words[..half.max(1)].join(" ")) && half >= 3
        || text.contains(&words[half..].join(" ")) && words.len() - half >= 3
}

#[derive(Default, Clone, Copy)]
struct Scores {
    recall5: f64,
    ndcg10: f64,
    n: usize,
}

impl Scores {
    fn add(&mut self, recall5: f64, ndcg10: f64) {
        self.recall5 += recall5;
        self.ndcg10 += ndcg10;
        self.n += 1;
    }
    fn show(&self) -> String {
        format!(
            "{:.3} | {:.3}",
            self.recall5 / self.n as f64,
            self.ndcg10 / self.n as f64
        )
    }
}

/// Scores per question kind (and "all"), the ids of questions with no relevant passage in the top 5,
/// and the median time of one search (query embedding, retrieval, fusion, reranking).
async fn evaluate(
    library: &Library,
    questions: &[Question],
    mode: SearchMode,
    corpus: &Path,
) -> Result<(HashMap<String, Scores>, Vec<String>, Duration)> {
    let mut by_kind: HashMap<String, Scores> = HashMap::new();
    let mut misses = Vec::new();
    let mut times = Vec::new();
    for q in questions {
        let request = SearchRequest {
            k: Some(10),
            mode,
            collection: "eval".into(),
            ..SearchRequest::new(q.question.clone())
        };
        let started = Instant::now();
        let hits = library.search(&request).await?;
        times.push(started.elapsed());
        let mut found_rank: Vec<Option<usize>> = vec![None; q.relevant.len()];
        for (rank, hit) in hits.iter().enumerate() {
            for (r, rel) in q.relevant.iter().enumerate() {
                let doc = corpus.join(&rel.doc).display().to_string();
                if found_rank[r].is_none()
                    && hit.passage.doc_path == doc
                    && matches(&hit.passage.text, &rel.quote)
                {
                    found_rank[r] = Some(rank);
                }
            }
        }
        let recall5 = found_rank
            .iter()
            .filter(|r| r.is_some_and(|r| r < 5))
            .count() as f64
            / q.relevant.len() as f64;
        if recall5 == 0.0 {
            misses.push(q.id.clone());
        }
        let dcg: f64 = found_rank
            .iter()
            .flatten()
            .map(|&r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        let ideal: f64 = (0..q.relevant.len().min(10))
            .map(|r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        for key in [q.kind.as_str(), "all"] {
            by_kind
                .entry(key.to_string())
                .or_default()
                .add(recall5, dcg / ideal);
        }
    }
    times.sort();
    Ok((by_kind, misses, percentile(&times, 0.5)))
}

async fn quality() -> Result<()> {
    let questions = questions()?;
    let corpus = root().join("tests/corpus").canonicalize()?;
    let data = tempfile::tempdir()?;
    {
        let library = Library::open(data.path(), Config::default()).await?;
        let report = library
            .add(
                std::slice::from_ref(&corpus),
                "eval",
                &|_| {},
                &CancelToken::new(),
            )
            .await?;
        println!(
            "## Retrieval quality ({} questions over tests/corpus: {} files, {} chunks)\n",
            questions.len(),
            report.indexed(),
            report.chunks_written
        );
    }
    let with = |fusion: Fusion, reranker: RerankerChoice| {
        let mut config = Config::default();
        config.search.fusion = fusion;
        config.search.reranker = reranker;
        config
    };
    let weighted = |w: f32| Fusion::Weighted {
        dense_weight: w,
        bm25_weight: 1.0 - w,
    };
    let default_fusion = Config::default().search.fusion;
    let rrf = Fusion::Rrf {
        k: 60.0,
        dense_weight: 1.0,
        bm25_weight: 1.0,
    };
    let runs: Vec<(String, Config, SearchMode)> = vec![
        ("dense".into(), Config::default(), SearchMode::Dense),
        ("BM25".into(), Config::default(), SearchMode::Bm25),
        (
            format!("hybrid, {}", describe(default_fusion)),
            with(default_fusion, RerankerChoice::None),
            SearchMode::Hybrid,
        ),
        (
            format!("hybrid, {}", describe(rrf)),
            with(rrf, RerankerChoice::None),
            SearchMode::Hybrid,
        ),
        (
            format!(
                "hybrid, {} + MaxSim rerank of the top 20 (default)",
                describe(default_fusion)
            ),
            with(default_fusion, RerankerChoice::Maxsim),
            SearchMode::Hybrid,
        ),
    ];
    let mut misses = Vec::new();
    println!(
        "| retrieval | recall@5 | nDCG@10 | lexical R@5 / nDCG | semantic R@5 / nDCG | mixed R@5 / nDCG | search p50 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, config, mode) in runs {
        let library = Library::open(data.path(), config).await?;
        library.embedder()?;
        let (s, miss, p50) = evaluate(&library, &questions, mode, &corpus).await?;
        let get = |k: &str| {
            s.get(k)
                .map(Scores::show)
                .unwrap_or_default()
                .replace(" | ", " / ")
        };
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            s["all"].show(),
            get("lexical"),
            get("semantic"),
            get("mixed"),
            ms(p50)
        );
        misses.push(format!("{name}: {}", miss.join(" ")));
    }
    println!("\nQuestions with nothing relevant in the top 5:\n");
    for line in misses {
        println!("- {line}");
    }
    println!("\nFusion weight sweep (hybrid, no rerank):\n");
    println!("| fusion | recall@5 | nDCG@10 |");
    println!("|---|---|---|");
    let mut sweep: Vec<Fusion> = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
        .into_iter()
        .map(weighted)
        .collect();
    sweep.extend([0.5f32, 2.0].map(|b| Fusion::Rrf {
        k: 60.0,
        dense_weight: 1.0,
        bm25_weight: b,
    }));
    for fusion in sweep {
        let library = Library::open(data.path(), with(fusion, RerankerChoice::None)).await?;
        let (s, _, _) = evaluate(&library, &questions, SearchMode::Hybrid, &corpus).await?;
        println!("| {} | {} |", describe(fusion), s["all"].show());
    }
    println!();
    Ok(())
}

/// Retrieval on `tests/eval` with the embedder in each precision: each its own library, its
/// passages and its questions embedded in that precision.
async fn precision() -> Result<()> {
    let questions = questions()?;
    let corpus = root().join("tests/corpus").canonicalize()?;
    println!(
        "## Retrieval quality by embedding precision ({} questions over tests/corpus)\n",
        questions.len()
    );
    println!(
        "| embedder | dense recall@5 | dense nDCG@10 | default recall@5 | default nDCG@10 | add s |"
    );
    println!("|---|---|---|---|---|---|");
    for precision in [Precision::F32, Precision::Int8] {
        let data = tempfile::tempdir()?;
        let mut config = Config::default();
        config.models.embedder_precision = precision;
        let library = Library::open(data.path(), config).await?;
        library.embedder()?;
        let (_, added) = timed_add(&library, &corpus, "eval").await?;
        let (dense, _, _) = evaluate(&library, &questions, SearchMode::Dense, &corpus).await?;
        let (hybrid, _, _) = evaluate(&library, &questions, SearchMode::Hybrid, &corpus).await?;
        println!(
            "| {} | {} | {} | {added:.1} |",
            library.embedder()?.info().precision.name(),
            dense["all"].show(),
            hybrid["all"].show()
        );
    }
    println!("\ndefault: hybrid search with the default fusion and MaxSim rerank\n");
    Ok(())
}

fn describe(f: Fusion) -> String {
    match f {
        Fusion::Weighted {
            dense_weight,
            bm25_weight,
        } => format!("weighted {dense_weight:.1}/{bm25_weight:.1}"),
        Fusion::Rrf {
            k,
            dense_weight,
            bm25_weight,
        } => format!("RRF k={k} {dense_weight:.1}/{bm25_weight:.1}"),
    }
}
