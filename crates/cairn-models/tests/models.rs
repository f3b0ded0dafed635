//! The embedder and rerankers on real weights (fetched by `scripts/fetch-models`).

use std::path::PathBuf;
use std::sync::Arc;

use cairn_ingest::Tokenize;
use cairn_models::{BertEmbedder, CrossEncoderReranker, Embedder, Error, MaxSimReranker, Reranker};
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
    let embedder = minilm();
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
