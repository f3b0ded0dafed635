//! The CPU runtime against llama.cpp, the reference, on real weights of each architecture: the
//! same token ids for the same prompt, the same first 32 greedy tokens (up to a near-tie taken the
//! other way, after which the texts part), and the same top token at
//! ≥ 99% of the positions of a 512-token text run token by token, and the same top token after a
//! batched prefill. The fixtures are written by `scripts/make-runtime-fixture.py`; the weights come
//! from `scripts/fetch-models` (the `test` group).
//!
//! A position agrees when the runtime's top token is llama.cpp's, or when llama.cpp's two best
//! tokens are within [`TIE`] of each other and the runtime's top token is the second: llama.cpp's
//! own batched and token-by-token runs of the same text part at such near-ties (on
//! Qwen2.5-Coder-0.5B they give different top tokens at 2.3% of positions, all within 0.2), so
//! which of the two wins there is rounding, not correctness. The raw agreement is printed and held
//! too: at least llama.cpp's own between those two runs (in the fixture), less one point.

use std::path::{Path, PathBuf};

use cairn_models::llm::{CpuTransformer, Decoder, GgufTokenizer};
use candle_core::quantized::gguf_file::Content;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Fixture {
    model_sha256: String,
    prompts: Vec<Prompt>,
    text: Text,
}

#[derive(Deserialize)]
struct Prompt {
    text: String,
    ids: Vec<u32>,
    greedy: Vec<u32>,
    greedy_second: Vec<u32>,
    greedy_margin: Vec<f32>,
}

#[derive(Deserialize)]
struct Text {
    ids: Vec<u32>,
    top1: Vec<u32>,
    top2: Vec<u32>,
    margin: Vec<f32>,
    llama_cpp_self_agreement: f64,
}

/// Logits closer than this are a tie (see the module doc).
const TIE: f32 = 0.25;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sha256(path: &Path) -> String {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).unwrap();
    format!("{:x}", hasher.finalize())
}

fn argmax(logits: &[f32]) -> u32 {
    logits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i as u32)
        .unwrap()
}

/// Checks the runtime on `model` (under the repository) against `fixture`.
fn agrees_with_llama_cpp(model: &str, fixture: &str) {
    let path = root().join(model);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-models (the test group)",
        path.display()
    );
    check(&path, fixture);
}

/// Checks the runtime on the random-weight model `name` (written afresh) against its fixture.
fn random_model_agrees_with_llama_cpp(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.gguf"));
    cairn_models::test_support::write_random_gguf(name, &path).unwrap();
    check(&path, &format!("runtime-{name}.json"));
}

fn check(path: &Path, fixture: &str) {
    let text = std::fs::read_to_string(
        root()
            .join("crates/cairn-models/tests/fixtures")
            .join(fixture),
    )
    .unwrap();
    let fixture: Fixture = serde_json::from_str(&text).unwrap();
    assert_eq!(
        sha256(path),
        fixture.model_sha256,
        "{} is not the file the fixture was made from",
        path.display()
    );

    let mut file = std::fs::File::open(path).unwrap();
    let content = Content::read(&mut file).unwrap();
    // Random-weight models have no vocabulary: their prompts are ids.
    let tokenizer = GgufTokenizer::from_gguf(&content).ok();
    let mut model = CpuTransformer::load(path, &content, &mut file).unwrap();
    let text = |ids: &[u32]| match &tokenizer {
        Some(t) => t.decode(ids, false).unwrap(),
        None => format!("{ids:?}"),
    };

    for prompt in &fixture.prompts {
        let ids = match &tokenizer {
            Some(t) if !prompt.text.is_empty() => t.encode(&prompt.text, true, true).unwrap(),
            _ => prompt.ids.clone(),
        };
        assert_eq!(ids, prompt.ids, "token ids of {:?}", prompt.text);
        model.truncate(0);
        let mut logits = model.forward(&ids).unwrap();
        let mut greedy = Vec::new();
        for step in 0..prompt.greedy.len() {
            let token = argmax(&logits);
            greedy.push(token);
            if token != prompt.greedy[step]
                && token == prompt.greedy_second[step]
                && prompt.greedy_margin[step] < TIE
            {
                // A near-tie taken the other way: the two texts part here, both correct.
                eprintln!(
                    "greedy step {step}: llama.cpp's runner-up, {} below its top",
                    prompt.greedy_margin[step]
                );
                greedy.pop();
                break;
            }
            logits = model.forward(&[token]).unwrap();
        }
        assert_eq!(
            greedy,
            prompt.greedy[..greedy.len()],
            "greedy tokens after {:?}:\n cairn     {:?}\n llama.cpp {:?}",
            prompt.text,
            text(&greedy),
            text(&prompt.greedy)
        );
    }

    // Token by token, every position's top token.
    let ids = &fixture.text.ids;
    model.truncate(0);
    let (mut exact, mut agree) = (0, 0);
    let mut disagreements = Vec::new();
    for (pos, id) in ids.iter().enumerate() {
        let top = argmax(&model.forward(&[*id]).unwrap());
        let (best, second, margin) = (
            fixture.text.top1[pos],
            fixture.text.top2[pos],
            fixture.text.margin[pos],
        );
        if top == best {
            exact += 1;
            agree += 1;
        } else if top == second && margin < TIE {
            agree += 1;
        } else {
            disagreements.push((pos, top, best, margin));
        }
    }
    let n = ids.len() as f64;
    let (share, raw) = (agree as f64 / n, exact as f64 / n);
    eprintln!(
        "{}: top-1 agreement {share:.4} ({raw:.4} exactly; llama.cpp with itself {:.4}) over {} positions",
        path.file_name().unwrap().to_string_lossy(),
        fixture.text.llama_cpp_self_agreement,
        ids.len()
    );
    // The exact share is noisy: llama.cpp itself changes its top token at the share of positions
    // `llama_cpp_self_agreement` misses, and the order of float sums alone moves it by about a
    // point (measured: two accumulators in the Q8 dot 0.971, four 0.963 on qwen2).
    let floor = fixture.text.llama_cpp_self_agreement - 0.02;
    assert!(
        share >= 0.99 && raw >= floor,
        "top-1 agreement {share:.4}, {raw:.4} exactly (at least {floor:.4} wanted), over {} positions; (position, cairn, llama.cpp, llama.cpp's margin): {disagreements:?}",
        ids.len()
    );

    // One batch: the last position's top token.
    model.truncate(0);
    let half = ids.len() / 2;
    let top = argmax(&model.forward(&ids[..half]).unwrap());
    assert!(
        top == fixture.text.top1[half - 1] || fixture.text.margin[half - 1] < TIE,
        "batched prefill: {top} vs llama.cpp's {}",
        fixture.text.top1[half - 1]
    );
}

#[test]
fn qwen2_q4_k_m_agrees_with_llama_cpp() {
    agrees_with_llama_cpp(
        "models/Qwen2.5-Coder-0.5B-Instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "runtime-qwen2.5-coder-0.5b.json",
    );
}

#[test]
fn gemma3_q4_k_m_agrees_with_llama_cpp() {
    agrees_with_llama_cpp(
        "models/Gemma-3-270M/gemma-3-270m-q4_k_m.gguf",
        "runtime-gemma-3-270m.json",
    );
}

#[test]
fn llama3_rope_scaling_on_k_quants_agrees_with_llama_cpp() {
    random_model_agrees_with_llama_cpp("random-llama3");
}

#[test]
fn qwen3_with_qk_norms_tied_and_legacy_quants_agrees_with_llama_cpp() {
    random_model_agrees_with_llama_cpp("random-qwen3");
}

#[test]
fn phi3_fused_matrices_and_long_rope_agree_with_llama_cpp() {
    random_model_agrees_with_llama_cpp("random-phi3");
}

#[test]
fn a_model_without_a_chat_template_gets_a_plain_prompt_and_one_with_its_own() {
    use cairn_models::llm::{Backend, ChatMessage, ChatModel, PromptFormat};
    let messages = [
        ChatMessage::new("system", "Be brief."),
        ChatMessage::new("user", "Question: What is two plus two?"),
    ];
    let gemma = ChatModel::load(
        &root().join("models/Gemma-3-270M/gemma-3-270m-q4_k_m.gguf"),
        &candle_core::Device::Cpu,
        Backend::Cpu,
    )
    .unwrap();
    assert_eq!(gemma.tokenizer().prompt_format(), PromptFormat::Plain);
    assert_eq!(
        gemma
            .tokenizer()
            .apply_chat_template(&messages, true)
            .unwrap(),
        "Be brief.\n\nQuestion: What is two plus two?\n\nAnswer:"
    );
    assert!(PromptFormat::Plain.stop_strings().contains(&"\nQuestion:"));

    let qwen = ChatModel::load(
        &root().join("models/Qwen2.5-Coder-0.5B-Instruct/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
        &candle_core::Device::Cpu,
        Backend::Cpu,
    )
    .unwrap();
    assert_eq!(qwen.tokenizer().prompt_format(), PromptFormat::ChatTemplate);
    let text = qwen
        .tokenizer()
        .apply_chat_template(&messages, true)
        .unwrap();
    assert!(
        text.starts_with("<|im_start|>system\nBe brief.<|im_end|>")
            && text.ends_with("<|im_start|>assistant\n"),
        "{text}"
    );
}
