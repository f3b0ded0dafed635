//! The chat model on real weights: SmolLM2-135M-Instruct Q4_1 (fetched by `scripts/fetch-models`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cairn_models::llm::{Backend, ChatMessage, ChatModel, GenerateParams, Sampling, StopReason};
use candle_core::Device;
use serde::Deserialize;

fn gguf() -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    ));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-models",
        path.display()
    );
    path
}

fn model(backend: Backend) -> ChatModel {
    ChatModel::load(&gguf(), &Device::Cpu, backend).unwrap()
}

/// The tests here run one at a time: each generation uses every core, and the cancellation test
/// measures a latency that parallel generations on a 2-core machine would swamp.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn greedy(max_tokens: usize) -> GenerateParams {
    GenerateParams {
        sampling: Sampling::Greedy,
        max_tokens,
        ..GenerateParams::default()
    }
}

fn reply(
    m: &mut ChatModel,
    question: &str,
    params: &GenerateParams,
) -> (String, Vec<String>, StopReason) {
    let ids = m
        .encode_chat(&[ChatMessage::new("user", question)])
        .unwrap();
    let mut pieces = Vec::new();
    let g = m
        .generate(&ids, params, &AtomicBool::new(false), &mut |p| {
            pieces.push(p.to_string())
        })
        .unwrap();
    (g.text, pieces, g.stop)
}

#[derive(Deserialize)]
struct TemplateFixture {
    cases: Vec<TemplateCase>,
}

#[derive(Deserialize)]
struct TemplateCase {
    messages: Vec<ChatMessage>,
    add_generation_prompt: bool,
    rendered: String,
}

/// Reference renderings by Python's jinja2 from the GGUF's `tokenizer.chat_template`.
#[test]
fn chat_template_from_the_gguf_renders_like_jinja2() {
    let _serial = serial();
    let fixture: TemplateFixture =
        serde_json::from_str(include_str!("fixtures/smollm2-chat-template.json")).unwrap();
    let m = model(Backend::Cpu);
    for case in &fixture.cases {
        let rendered = m
            .tokenizer()
            .apply_chat_template(&case.messages, case.add_generation_prompt)
            .unwrap();
        assert_eq!(rendered, case.rendered);
    }
}

/// The CPU runtime against candle's quantized llama on the same file (both quantize activations to
/// 8 bits, in blocks of their own): the next-token distributions agree closely and pick the same
/// token, or one candle ranks within [`TIE`] of its own pick.
/// Logits closer than this are a tie: which of two such tokens comes first depends on rounding.
const TIE: f32 = 0.25;

#[test]
fn cpu_runtime_agrees_with_candle() {
    let _serial = serial();
    let mut ours = model(Backend::Cpu);
    let mut reference = model(Backend::Candle);
    for question in [
        "What is the capital of France?",
        "hi there",
        "Explain how a Fresnel lens works.",
    ] {
        let ids = ours
            .encode_chat(&[ChatMessage::new("user", question)])
            .unwrap();
        let a = ours.logits(&ids).unwrap();
        let b = reference.logits(&ids).unwrap();
        let argmax = |v: &[f32]| {
            v.iter()
                .enumerate()
                .max_by(|x, y| x.1.total_cmp(y.1))
                .unwrap()
                .0
        };
        assert_eq!(argmax(&a), argmax(&b), "{question}");
        let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cosine = dot / (norm(&a) * norm(&b));
        assert!(cosine > 0.995, "{question}: cosine {cosine}");
        // And one decode step through the quantized kernels agrees too.
        let next = argmax(&a) as u32;
        let mut longer = ids.clone();
        longer.push(next);
        let (a, b) = (
            ours.logits(&longer).unwrap(),
            reference.logits(&longer).unwrap(),
        );
        let (ours_top, theirs_top) = (argmax(&a), argmax(&b));
        assert!(
            ours_top == theirs_top || b[theirs_top] - b[ours_top] < TIE,
            "{question}, second token: {ours_top} where candle picks {theirs_top} by {}",
            b[theirs_top] - b[ours_top]
        );
    }
    // A question whose greedy reply names the city within 24 tokens whatever the kernels'
    // rounding ("What is the capital of France?" wanders through a French phrase first, and where
    // it names Paris depends on a near-tie).
    let (answer, _, _) = reply(&mut ours, "Name the capital of France.", &greedy(24));
    assert!(answer.contains("Paris"), "{answer}");
}

#[test]
fn a_seed_makes_sampling_repeatable_and_streaming_adds_up() {
    let _serial = serial();
    let mut m = model(Backend::Cpu);
    let params = GenerateParams {
        sampling: Sampling::Random {
            temperature: 0.9,
            top_k: 40,
            top_p: 0.95,
            seed: 11,
        },
        max_tokens: 30,
        ..GenerateParams::default()
    };
    let (a, pieces, _) = reply(&mut m, "Tell me about lighthouses.", &params);
    let (b, _, _) = reply(&mut m, "Tell me about lighthouses.", &params);
    assert_eq!(a, b);
    assert_eq!(pieces.concat(), a);
    assert!(pieces.len() > 5, "not streamed: {pieces:?}");
    let other = GenerateParams {
        sampling: Sampling::Random {
            temperature: 0.9,
            top_k: 40,
            top_p: 0.95,
            seed: 12,
        },
        ..params
    };
    let (c, _, _) = reply(&mut m, "Tell me about lighthouses.", &other);
    assert_ne!(a, c);
}

#[test]
fn stop_strings_and_max_tokens_end_the_reply() {
    let _serial = serial();
    let mut m = model(Backend::Cpu);
    let (text, _, stop) = reply(&mut m, "Count from one to twenty in words.", &greedy(5));
    assert_eq!(stop, StopReason::MaxTokens);
    assert!(!text.is_empty());
    let (full, _, _) = reply(&mut m, "Count from one to twenty in words.", &greedy(40));
    // Three characters a third of the way in (the reply may be one long word).
    let cut: String = full
        .chars()
        .skip(full.chars().count() / 3)
        .take(3)
        .collect();
    assert_eq!(cut.chars().count(), 3, "{full:?}");
    let params = GenerateParams {
        stop: vec![cut.clone()],
        ..greedy(40)
    };
    let (text, pieces, stop) = reply(&mut m, "Count from one to twenty in words.", &params);
    assert_eq!(stop, StopReason::StopString);
    assert!(
        !text.contains(&cut),
        "{text:?} holds the stop string {cut:?}"
    );
    assert_eq!(pieces.concat(), text);
}

#[test]
fn cancelling_stops_generation_within_100_ms() {
    let _serial = serial();
    let mut m = model(Backend::Cpu);
    let ids = m
        .encode_chat(&[ChatMessage::new(
            "user",
            "Write a long story about the sea.",
        )])
        .unwrap();
    let cancel = AtomicBool::new(false);
    let mut cancelled_at = None;
    let mut n = 0;
    let g = m
        .generate(&ids, &greedy(10_000), &cancel, &mut |_| {
            n += 1;
            if n == 10 {
                cancel.store(true, Ordering::Relaxed);
                cancelled_at = Some(Instant::now());
            }
        })
        .unwrap();
    let latency = cancelled_at.unwrap().elapsed();
    assert_eq!(g.stop, StopReason::Cancelled);
    assert!(latency < Duration::from_millis(100), "took {latency:?}");
}

#[test]
fn a_follow_up_reuses_the_cached_prefix() {
    let _serial = serial();
    let mut m = model(Backend::Cpu);
    let first = vec![ChatMessage::new("user", "Name a colour.")];
    let ids = m.encode_chat(&first).unwrap();
    let g = m
        .generate(&ids, &greedy(8), &AtomicBool::new(false), &mut |_| {})
        .unwrap();
    let mut second = first.clone();
    second.push(ChatMessage::new("assistant", g.text.clone()));
    second.push(ChatMessage::new("user", "And another?"));
    let ids2 = m.encode_chat(&second).unwrap();
    let g2 = m
        .generate(&ids2, &greedy(8), &AtomicBool::new(false), &mut |_| {})
        .unwrap();
    assert!(
        g2.reused_tokens >= ids.len() - 1,
        "reused {} of {}",
        g2.reused_tokens,
        ids.len()
    );
    // And the reply is the same as from a cold cache.
    let mut cold = model(Backend::Cpu);
    let g3 = cold
        .generate(&ids2, &greedy(8), &AtomicBool::new(false), &mut |_| {})
        .unwrap();
    assert_eq!(g2.text, g3.text);
}

#[test]
fn bad_prompts_are_errors_not_panics() {
    let _serial = serial();
    let mut m = model(Backend::Cpu);
    assert!(
        m.generate(&[], &greedy(4), &AtomicBool::new(false), &mut |_| {})
            .is_err()
    );
    let too_long = vec![42u32; m.context_length() + 5];
    assert!(
        m.generate(&too_long, &greedy(4), &AtomicBool::new(false), &mut |_| {})
            .is_err()
    );
    let outside = vec![u32::MAX];
    assert!(
        m.generate(&outside, &greedy(4), &AtomicBool::new(false), &mut |_| {})
            .is_err()
    );
    // Control characters and odd Unicode are just text.
    let (text, _, _) = reply(&mut m, "\u{0}\u{7}\u{202e}héllo\u{FFFF}", &greedy(4));
    assert!(text.len() < 200);
}

#[test]
fn a_gguf_that_is_not_one_is_a_clear_error() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.gguf");
    std::fs::write(&path, b"GGUF but not really").unwrap();
    let err = ChatModel::load(&path, &Device::Cpu, Backend::Auto)
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.gguf"), "{err}");
    let err = ChatModel::load(&dir.path().join("absent.gguf"), &Device::Cpu, Backend::Auto)
        .unwrap_err()
        .to_string();
    assert!(err.contains("fetch-models"), "{err}");
}

#[test]
fn streaming_through_a_channel_delivers_the_whole_reply_as_it_is_made() {
    let _serial = serial();
    let mut m = model(Backend::Cpu);
    let ids = m
        .encode_chat(&[ChatMessage::new("user", "Name three colours.")])
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        m.generate_to_channel(&ids, &greedy(20), &AtomicBool::new(false), &tx)
            .unwrap()
            .text
    });
    // The receiver sees pieces before the writer is done, and the channel closes when it is.
    let first = rx.recv().unwrap();
    let mut pieces = vec![first];
    pieces.extend(rx.iter());
    let text = writer.join().unwrap();
    assert_eq!(pieces.concat(), text);
    assert!(pieces.len() > 3, "{pieces:?}");
}
