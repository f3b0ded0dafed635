//! Calibrates the semantic answer cache's threshold: at each similarity threshold, how many true
//! paraphrases would hit (the GPTCache mock pairs in `../shared/data/cache`, and the question
//! paraphrases in `data/cache/paraphrases.jsonl`) and how many different questions would be served
//! the wrong answer (`data/cache/negatives.jsonl`, and each GPTCache sentence against its nearest
//! other sentence), with the word check ([`cairn_engine::cache::conflict`]) and without it.
//!
//! `cargo run --release -p cairn-engine --example calibrate-cache`

use cairn_engine::cache::conflict;
use cairn_models::{BertEmbedder, Embedder};

#[derive(serde::Deserialize)]
struct Pair {
    #[serde(alias = "origin")]
    a: String,
    #[serde(alias = "similar")]
    b: String,
    #[serde(default)]
    kind: String,
}

fn pairs(path: &std::path::Path) -> Result<Vec<Pair>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    if text.trim_start().starts_with('[') {
        return Ok(serde_json::from_str(&text)?);
    }
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Each pair's similarity and whether the word check lets it through.
fn scored(
    embedder: &BertEmbedder,
    pairs: &[Pair],
) -> Result<Vec<(f32, bool)>, Box<dyn std::error::Error>> {
    let a: Vec<&str> = pairs.iter().map(|p| p.a.as_str()).collect();
    let b: Vec<&str> = pairs.iter().map(|p| p.b.as_str()).collect();
    let (va, vb) = (embedder.embed(&a)?, embedder.embed(&b)?);
    Ok(pairs
        .iter()
        .zip(va.iter().zip(&vb))
        .map(|(p, (x, y))| (dot(x, y), conflict(&p.a, &p.b).is_none()))
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let embedder = BertEmbedder::load(
        &root.join("models/all-MiniLM-L6-v2"),
        &candle_core::Device::Cpu,
    )?;
    let mock = pairs(&root.join("../shared/data/cache/gptcache-mock_data.json"))?;
    let paraphrases = pairs(&root.join("data/cache/paraphrases.jsonl"))?;
    let negatives = pairs(&root.join("data/cache/negatives.jsonl"))?;

    // The nearest other sentence of each mock origin: different statements that look alike.
    let origins: Vec<&str> = mock.iter().map(|p| p.a.as_str()).collect();
    let similars: Vec<&str> = mock.iter().map(|p| p.b.as_str()).collect();
    let (vo, vs) = (embedder.embed(&origins)?, embedder.embed(&similars)?);
    let mut cross = Vec::new();
    for (i, o) in vo.iter().enumerate() {
        let nearest = (0..vs.len())
            .filter(|&j| j != i && mock[j].b != mock[i].b && mock[j].a != mock[i].a)
            .max_by(|&x, &y| dot(o, &vs[x]).total_cmp(&dot(o, &vs[y])));
        if let Some(j) = nearest {
            cross.push((dot(o, &vs[j]), conflict(&mock[i].a, &mock[j].b).is_none()));
        }
    }
    let mock_scored = scored(&embedder, &mock)?;
    let para_scored = scored(&embedder, &paraphrases)?;
    let neg_scored = scored(&embedder, &negatives)?;

    let hits = |s: &[(f32, bool)], t: f32, checked: bool| {
        s.iter()
            .filter(|(sim, ok)| *sim >= t && (*ok || !checked))
            .count()
    };
    println!(
        "{} GPTCache paraphrase pairs, {} question paraphrases, {} negative pairs, {} nearest-other pairs",
        mock.len(),
        paraphrases.len(),
        negatives.len(),
        cross.len()
    );
    println!(
        "threshold | mock hit | para hit | neg wrong (checked / similarity only) | nearest-other wrong (checked / only)"
    );
    let mut chosen = None;
    for step in 0..=30 {
        let t = 0.70 + step as f32 * 0.01;
        let wrong = hits(&neg_scored, t, true) + hits(&cross, t, true);
        println!(
            "{t:.2}      | {:.3}    | {:.3}    | {:>3} / {:>3}                             | {:>3} / {:>3}",
            hits(&mock_scored, t, true) as f64 / mock.len() as f64,
            hits(&para_scored, t, true) as f64 / paraphrases.len() as f64,
            hits(&neg_scored, t, true),
            hits(&neg_scored, t, false),
            hits(&cross, t, true),
            hits(&cross, t, false),
        );
        if wrong == 0 && chosen.is_none() {
            chosen = Some(t);
        }
    }
    // The word check's own cost: true paraphrases it refuses, whatever their similarity.
    let refused = |s: &[(f32, bool)]| s.iter().filter(|(_, ok)| !ok).count();
    println!(
        "the word check refuses {} of {} mock pairs and {} of {} question paraphrases",
        refused(&mock_scored),
        mock.len(),
        refused(&para_scored),
        paraphrases.len()
    );
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (p, (_, ok)) in negatives.iter().zip(&neg_scored) {
        let e = by_kind.entry(p.kind.as_str()).or_default();
        e.0 += 1;
        e.1 += usize::from(!ok);
    }
    for (kind, (n, caught)) in by_kind {
        println!("  negatives {kind:<13} {caught:>3} of {n:>3} refused by the word check");
    }
    if std::env::var_os("CAIRN_CALIBRATE_VERBOSE").is_some() {
        for (p, (sim, ok)) in negatives.iter().zip(&neg_scored) {
            if *ok {
                println!("  passes check: {sim:.3} {} | {}", p.a, p.b);
            }
        }
        for (p, (sim, ok)) in paraphrases.iter().zip(&para_scored) {
            if !ok || *sim < 0.86 {
                println!(
                    "  para: {sim:.3} ok={ok} {} | {} ({:?})",
                    p.a,
                    p.b,
                    conflict(&p.a, &p.b)
                );
            }
        }
    }
    match chosen {
        Some(t) => println!("lowest threshold with no wrong hit: {t:.2}"),
        None => println!("no threshold up to 1.00 is free of wrong hits"),
    }
    Ok(())
}
