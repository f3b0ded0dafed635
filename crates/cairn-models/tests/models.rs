//! The embedder and rerankers on real weights (fetched by `scripts/fetch-models`).

use std::path::PathBuf;
use std::sync::Arc;

use cairn_ingest::Tokenize;
use cairn_models::{
    BertEmbedder, CrossEncoderReranker, Embedder, Error, MaxSimReranker, Precision, Reranker,
};
use candle_core::Device;
use serde::Deserialize;

fn minilm_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/all-MiniLM-L6-v2"
    ));
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run scripts/fetch-models",
        dir.display()
    );
    dir
}

fn minilm() -> BertEmbedder {
    BertEmbedder::load(&minilm_dir(), &Device::Cpu).unwrap()
}

fn minilm_in(precision: Precision) -> BertEmbedder {
    BertEmbedder::load_with(&minilm_dir(), &Device::Cpu, precision).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[derive(Deserialize)]
struct Reference {
    text: String,
    token_ids: Vec<u32>,
    vector: Vec<f32>,
}

/// The reference vectors come from `tests/fixtures/reference_embeddings.py`: an independent NumPy
/// float64 implementation of the tokenizer and the BERT encoder (see its docstring). Embedding them
/// all in one batch also checks that padding does not leak into the pooled vectors.
#[test]
fn embeddings_agree_with_an_independent_reference() {
    let refs: Vec<Reference> =
        serde_json::from_str(include_str!("fixtures/reference_embeddings.json")).unwrap();
    let embedder = minilm_in(Precision::F32);
    assert_eq!(embedder.info().precision, Precision::F32);
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let vectors = embedder.embed(&texts).unwrap();
    let mut worst = f32::INFINITY;
    for (r, v) in refs.iter().zip(&vectors) {
        assert_eq!(
            embedder.token_ids(&r.text).unwrap(),
            r.token_ids,
            "token ids of {:?}",
            r.text
        );
        let cos = cosine(v, &r.vector);
        worst = worst.min(cos);
        assert!(cos >= 0.999, "cosine {cos} for {:?}", r.text);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
    }
    eprintln!("lowest cosine to the reference: {worst:.6}");
    assert_eq!(embedder.info().dimension, 384);
    assert_eq!(embedder.info().id, "all-MiniLM-L6-v2");
    assert!(embedder.info().fingerprint.starts_with("sha256:"));
}

/// A paragraph of the evaluation corpus (`tests/corpus`) and the file it is in.
struct Passage {
    doc: String,
    text: String,
}

/// A question of `tests/eval/questions.jsonl` and its relevant quotes (document, quote).
struct Question {
    text: String,
    relevant: Vec<(String, String)>,
}

fn normalised(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn evaluation_set() -> (Vec<Passage>, Vec<Question>) {
    let root = minilm_dir().join("../../tests");
    let corpus = root.join("corpus");
    let mut passages = Vec::new();
    let mut folders = vec![corpus.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let doc = path
                .strip_prefix(&corpus)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            passages.extend(
                text.split("\n\n")
                    .map(str::trim)
                    .filter(|p| p.len() > 40)
                    .map(|p| Passage {
                        doc: doc.clone(),
                        text: p.to_string(),
                    }),
            );
        }
    }
    let lines = std::fs::read_to_string(root.join("eval/questions.jsonl")).unwrap();
    let questions = lines
        .lines()
        .map(|line| {
            let q: serde_json::Value = serde_json::from_str(line).unwrap();
            Question {
                text: q["question"].as_str().unwrap().to_string(),
                relevant: q["relevant"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        let field = |k: &str| r[k].as_str().unwrap().to_string();
                        (field("doc"), normalised(&field("quote")))
                    })
                    .collect(),
            }
        })
        .collect();
    (passages, questions)
}

/// Dense-only recall@5 over the paragraphs: the share of each question's relevant quotes whose
/// paragraph is among the five nearest, averaged over the questions.
fn recall_at_5(passages: &[Passage], questions: &[Question], vectors: &[Vec<f32>]) -> f64 {
    let (passage_vectors, question_vectors) = vectors.split_at(passages.len());
    let total: f64 = questions
        .iter()
        .zip(question_vectors)
        .map(|(q, qv)| {
            let mut order: Vec<usize> = (0..passages.len()).collect();
            order.sort_by(|&a, &b| {
                cosine(qv, &passage_vectors[b]).total_cmp(&cosine(qv, &passage_vectors[a]))
            });
            let found = q
                .relevant
                .iter()
                .filter(|(doc, quote)| {
                    order[..5].iter().any(|&i| {
                        passages[i].doc == *doc && normalised(&passages[i].text).contains(quote)
                    })
                })
                .count();
            found as f64 / q.relevant.len() as f64
        })
        .sum();
    total / questions.len() as f64
}

/// 8-bit products keep the model's vectors: cosine ≥ 0.99 to the f32 ones on every passage and
/// question of the evaluation set, and dense retrieval over its paragraphs finds as many of the
/// relevant ones in the top five, give or take one of the 90 questions' entries: rounding moves
/// a passage that is a near-tie for fifth place (one such swap appears at every group size from
/// 128 down to 32, so it is a tie, not a loss of precision).
#[test]
fn int8_vectors_stay_within_cosine_0_99_of_f32() {
    let (passages, questions) = evaluation_set();
    assert!(
        passages.len() > 400 && questions.len() == 90,
        "{} passages",
        passages.len()
    );
    let texts: Vec<&str> = passages
        .iter()
        .map(|p| p.text.as_str())
        .chain(questions.iter().map(|q| q.text.as_str()))
        .collect();
    let (f32_model, int8_model) = (minilm_in(Precision::F32), minilm_in(Precision::Int8));
    assert_eq!(int8_model.info().precision, Precision::Int8);
    assert_eq!(int8_model.info().fingerprint, f32_model.info().fingerprint);
    let (exact, int8) = (
        f32_model.embed(&texts).unwrap(),
        int8_model.embed(&texts).unwrap(),
    );
    let cosines: Vec<f32> = exact.iter().zip(&int8).map(|(a, b)| cosine(a, b)).collect();
    let worst = cosines.iter().copied().fold(f32::INFINITY, f32::min);
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    let (recall_f32, recall_int8) = (
        recall_at_5(&passages, &questions, &exact),
        recall_at_5(&passages, &questions, &int8),
    );
    eprintln!(
        "int8 against f32 over {} texts: min cosine {worst:.5}, mean {mean:.5}; dense recall@5 \
         f32 {recall_f32:.4}, int8 {recall_int8:.4}",
        texts.len()
    );
    assert!(worst >= 0.99, "lowest cosine {worst}");
    assert!(
        recall_f32 > 0.5,
        "the set is answerable: recall@5 {recall_f32}"
    );
    assert!(
        recall_int8 >= recall_f32 - 1.0 / 90.0 - 1e-9,
        "recall@5 {recall_int8} in int8 against {recall_f32}"
    );
}

/// Where the CPU has the integer kernel (AVX-512 VNNI), the default is int8; elsewhere f32.
#[test]
fn the_default_precision_follows_the_cpu() {
    let expected = if cairn_models::llm::quant::best_panel_tile().is_some() {
        Precision::Int8
    } else {
        Precision::F32
    };
    assert_eq!(minilm().info().precision, expected);
    assert_eq!(Precision::Auto.resolve(), expected);
}

#[test]
fn batch_size_does_not_change_the_vectors() {
    let texts = [
        "short",
        "a much longer sentence that needs many more tokens than the first",
        "mid length text",
    ];
    let batched = minilm().embed(&texts).unwrap();
    let single = minilm().with_batch_size(1).embed(&texts).unwrap();
    for (a, b) in batched.iter().zip(&single) {
        assert!(cosine(a, b) > 0.99999);
    }
}

/// More texts than are tokenized at once (2,048): each vector still lands at its own text.
#[test]
fn texts_past_one_encoding_window_keep_their_order() {
    let texts: Vec<String> = (0..2_100)
        .map(|i| match i % 3 {
            0 => format!("note {i}"),
            1 => format!("the lighthouse keeper wrote entry {i} in the log at dawn"),
            _ => format!("tide table {i}"),
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let model = minilm();
    let all = model.embed(&refs).unwrap();
    assert_eq!(all.len(), texts.len());
    for i in [0, 1, 2, 2_046, 2_047, 2_048, 2_049, 2_099] {
        let alone = model.embed(&[refs[i]]).unwrap();
        assert!(cosine(&all[i], &alone[0]) > 0.99999, "text {i}");
    }
}

#[test]
fn token_spans_cover_the_text_without_special_tokens() {
    let embedder = minilm();
    let text = "Tides rise twice daily. Fresnel's lens, 1822!";
    let spans = embedder.token_spans(text);
    assert_eq!(
        spans.len() + 2,
        embedder.token_ids(text).unwrap().len(),
        "[CLS] and [SEP] excluded"
    );
    let pieces: Vec<&str> = spans.iter().map(|r| &text[r.clone()]).collect();
    assert_eq!(&pieces[..4], &["Tides", "rise", "twice", "daily"]);
    // A section far longer than the model's window is measured whole, not truncated.
    let long = "word ".repeat(2000);
    assert_eq!(embedder.token_spans(&long).len(), 2000);
}

#[test]
fn a_directory_without_a_model_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let err = BertEmbedder::load(dir.path(), &Device::Cpu).unwrap_err();
    assert!(
        matches!(&err, Error::MissingFile { path, .. } if path.ends_with("config.json")),
        "{err}"
    );
    std::fs::write(dir.path().join("config.json"), "{ not json").unwrap();
    std::fs::write(dir.path().join("model.safetensors"), b"").unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), b"{}").unwrap();
    let err = BertEmbedder::load(dir.path(), &Device::Cpu).unwrap_err();
    assert!(
        matches!(&err, Error::BadFile { path, .. } if path.ends_with("config.json")),
        "{err}"
    );
}

#[test]
fn maxsim_prefers_the_passage_that_answers() {
    let reranker = MaxSimReranker::new(Arc::new(minilm()));
    let scores = reranker
        .score(
            "who invented the fresnel lens",
            &[
                "Augustin-Jean Fresnel invented the lens that bears his name in 1822.",
                "Zebras graze on the savanna.",
            ],
        )
        .unwrap();
    assert!(scores[0] > scores[1] + 0.1, "{scores:?}");
}

/// No cross-encoder weights ship in any registry, so this builds a small one with random weights in
/// the `BertForSequenceClassification` layout and checks the loader reads it and scores pairs (with
/// segment ids, so swapping query and passage changes the score).
#[test]
fn a_cross_encoder_directory_loads_and_scores_pairs() {
    use candle_core::{DType, Tensor};
    let dir = tempfile::tempdir().unwrap();
    let (hidden, layers, inter, vocab) = (32usize, 2usize, 64usize, 30522usize);
    let config = serde_json::json!({
        "vocab_size": vocab, "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": 2,
        "intermediate_size": inter, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "max_position_embeddings": 128, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert", "id2label": {"0": "LABEL_0"}
    });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    std::fs::copy(
        minilm_dir().join("tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .unwrap();
    let mut tensors = std::collections::HashMap::new();
    let mut add = |name: String, shape: &[usize]| {
        let t = Tensor::randn(0f32, 0.2, shape, &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap();
        tensors.insert(name, t);
    };
    add(
        "bert.embeddings.word_embeddings.weight".into(),
        &[vocab, hidden],
    );
    add(
        "bert.embeddings.position_embeddings.weight".into(),
        &[128, hidden],
    );
    add(
        "bert.embeddings.token_type_embeddings.weight".into(),
        &[2, hidden],
    );
    for norm in ["bert.embeddings.LayerNorm".to_string()]
        .into_iter()
        .chain((0..layers).flat_map(|i| {
            [
                format!("bert.encoder.layer.{i}.attention.output.LayerNorm"),
                format!("bert.encoder.layer.{i}.output.LayerNorm"),
            ]
        }))
    {
        add(format!("{norm}.weight"), &[hidden]);
        add(format!("{norm}.bias"), &[hidden]);
    }
    for i in 0..layers {
        let p = format!("bert.encoder.layer.{i}");
        for (name, out, inp) in [
            ("attention.self.query", hidden, hidden),
            ("attention.self.key", hidden, hidden),
            ("attention.self.value", hidden, hidden),
            ("attention.output.dense", hidden, hidden),
            ("intermediate.dense", inter, hidden),
            ("output.dense", hidden, inter),
        ] {
            add(format!("{p}.{name}.weight"), &[out, inp]);
            add(format!("{p}.{name}.bias"), &[out]);
        }
    }
    add("bert.pooler.dense.weight".into(), &[hidden, hidden]);
    add("bert.pooler.dense.bias".into(), &[hidden]);
    add("classifier.weight".into(), &[1, hidden]);
    add("classifier.bias".into(), &[1]);
    candle_core::safetensors::save(&tensors, dir.path().join("model.safetensors")).unwrap();

    let reranker = CrossEncoderReranker::load(dir.path(), &Device::Cpu).unwrap();
    let a = reranker
        .score("what is a tide", &["the sea rises and falls", "bread"])
        .unwrap();
    let again = reranker
        .score("what is a tide", &["the sea rises and falls", "bread"])
        .unwrap();
    let swapped = reranker
        .score("the sea rises and falls", &["what is a tide"])
        .unwrap();
    assert_eq!(a.len(), 2);
    assert!(a.iter().all(|s| s.is_finite()));
    assert_eq!(a, again, "deterministic");
    assert_ne!(a[0], a[1]);
    assert_ne!(
        a[0], swapped[0],
        "segment ids distinguish query from passage"
    );
}
