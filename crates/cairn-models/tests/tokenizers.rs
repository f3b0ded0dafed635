//! Cairn's GGUF tokenizers against llama.cpp's own (`llama-tokenize`), on the vocabularies of the
//! real weights `scripts/fetch-models` brings: SmolLM2 (BPE, `smollm` pre-tokenizer), Qwen2.5-Coder
//! (BPE, `qwen2`) and Gemma 3 (SentencePiece). The reference ids come from
//! `scripts/make-token-fixture.py`; each fixture records the exact command and version.

use std::path::{Path, PathBuf};

use cairn_models::llm::GgufTokenizer;
use candle_core::quantized::gguf_file::Content;
use serde::Deserialize;

#[derive(Deserialize)]
struct TokenFixture {
    model_sha256: String,
    cases: Vec<TokenCase>,
}

#[derive(Deserialize)]
struct TokenCase {
    text: String,
    ids: Vec<u32>,
    ids_no_special: Vec<u32>,
}

fn tokenizer(relative: &str) -> GgufTokenizer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(relative);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-models",
        path.display()
    );
    let mut file = std::fs::File::open(&path).unwrap();
    let content = Content::read(&mut file).unwrap();
    GgufTokenizer::from_gguf(&content).unwrap()
}

fn fixture(name: &str) -> TokenFixture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}-tokens.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every case: the same ids as llama.cpp with special-token parsing on and off, and the ids
/// decode back to the text.
fn matches_llama_cpp(model: &str, name: &str, sha256: &str) {
    let tok = tokenizer(model);
    let fixture = fixture(name);
    assert_eq!(
        fixture.model_sha256, sha256,
        "the fixture is of another file"
    );
    assert!(fixture.cases.len() >= 30);
    for case in &fixture.cases {
        let ids = tok.encode(&case.text, false, true).unwrap();
        assert_eq!(ids, case.ids, "{name}, special parsing on: {:?}", case.text);
        assert_eq!(
            tok.encode(&case.text, false, false).unwrap(),
            case.ids_no_special,
            "{name}, special parsing off: {:?}",
            case.text
        );
        assert_eq!(
            tok.decode(&ids, false).unwrap(),
            case.text,
            "{name}, round trip: {:?}",
            case.text
        );
    }
}

#[test]
fn smollm2_bpe_matches_llama_cpp() {
    matches_llama_cpp(
        "SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf",
        "smollm2",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    );
}

#[test]
fn qwen2_bpe_matches_llama_cpp() {
    matches_llama_cpp(
        "Qwen2.5-Coder-0.5B-Instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "qwen2.5",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    );
}

#[test]
fn gemma3_sentencepiece_matches_llama_cpp() {
    matches_llama_cpp(
        "Gemma-3-270M/gemma-3-270m-q4_k_m.gguf",
        "gemma3",
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    );
}
