//! Lists the phone-number false positives and misses on the PII dataset (a tuning aid):
//! `cargo run -p cairn-guard --example pii-misses`.
use cairn_guard::{EntityKind, PiiScanner};

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/pii/presidio-research-synth_dataset_v2.json"
    );
    let records: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let scanner = PiiScanner::default();
    for r in &records {
        let text = r["full_text"].as_str().unwrap();
        let gold: Vec<(usize, usize)> = r["spans"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["entity_type"] == "PHONE_NUMBER")
            .map(|s| {
                (
                    s["start_position"].as_u64().unwrap() as usize,
                    s["end_position"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let found = scanner.scan(text).unwrap();
        let offsets = cairn_guard::char_offsets(text, &found);
        let phones: Vec<_> = found
            .iter()
            .zip(&offsets)
            .filter(|(e, _)| e.kind == EntityKind::Phone)
            .collect();
        for (e, (s, en)) in &phones {
            if !gold.iter().any(|(gs, ge)| gs < en && s < ge) {
                let other: Vec<String> = r["spans"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|g| {
                        (g["start_position"].as_u64().unwrap() as usize) < *en
                            && *s < g["end_position"].as_u64().unwrap() as usize
                    })
                    .map(|g| g["entity_type"].to_string())
                    .collect();
                println!(
                    "FP {:.2} {:?} gold={other:?}",
                    e.score,
                    &text[e.start..e.end]
                );
            }
        }
        for (gs, ge) in &gold {
            if !phones.iter().any(|(_, (s, en))| gs < en && s < ge) {
                let v: String = text.chars().skip(*gs).take(ge - gs).collect();
                println!("FN {v:?}");
            }
        }
    }
}
