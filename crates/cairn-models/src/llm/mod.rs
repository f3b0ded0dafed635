//! The on-device chat model: a GGUF of one of the architectures in [`arch`] (Llama, Mistral, Qwen 2
//! and 3, Gemma 3, Phi 3), its tokenizer and chat template from the file's own metadata, and
//! generation with sampling, stop tokens, streaming and cancellation.
//!
//! Two decoders implement [`Decoder`]: [`CpuTransformer`], this crate's CPU runtime (the file's
//! quantized blocks as they are, SIMD kernels, batched prefill), and candle's quantized llama (GPUs
//! through the `cuda` and `metal` features, for llama-layout models).

pub mod arch;
mod candle_llama;
mod decoder;
mod pool;
pub mod quant;
mod runtime;
mod sample;
mod tokenizer;
mod vocab;
mod weights;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::Device;
use candle_core::quantized::gguf_file::Content;
use serde::{Deserialize, Serialize};

pub use arch::TransformerConfig;
pub use candle_llama::CandleLlama;
pub use decoder::Decoder;
pub use runtime::CpuTransformer;
pub use sample::{Sampler, Sampling};
pub use tokenizer::{ChatMessage, GgufTokenizer, PromptFormat, plain_prompt, render_chat_template};

use crate::error::bad_file;
use crate::{Error, Result};

/// Prompt tokens run per forward pass while prefilling (the CPU runtime also checks for a cancel
/// between layers, so a cancel lands within one layer's time).
const PREFILL_CHUNK: usize = 1024;

/// Prompt tokens re-run even when the cache holds them (see [`ChatModel::generate`]).
const REPLAY: usize = 8;

/// How a reply is generated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateParams {
    /// Greedy or random sampling.
    pub sampling: Sampling,
    /// Logits of recently generated tokens are divided by this (1.0: off).
    pub repeat_penalty: f32,
    /// How many recent tokens the penalty looks at.
    pub repeat_last_n: usize,
    /// Most tokens in the reply.
    pub max_tokens: usize,
    /// Strings that end the reply (not included in it), besides the model's stop tokens.
    pub stop: Vec<String>,
    /// Generate `max_tokens` even past the model's end-of-turn tokens (for measuring speed).
    pub ignore_stop_tokens: bool,
}

impl Default for GenerateParams {
    fn default() -> Self {
        Self {
            sampling: Sampling::Greedy,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            max_tokens: 512,
            stop: Vec::new(),
            ignore_stop_tokens: false,
        }
    }
}

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn.
    EndOfTurn,
    /// A stop string appeared.
    StopString,
    /// `max_tokens` were generated.
    MaxTokens,
    /// The context window is full.
    ContextFull,
    /// The caller cancelled.
    Cancelled,
}

/// A finished reply and how it was made.
#[derive(Clone, Debug, Serialize)]
pub struct Generation {
    /// The reply's text.
    pub text: String,
    /// Prompt tokens.
    pub tokens_in: usize,
    /// Generated tokens.
    pub tokens_out: usize,
    /// Why it ended.
    pub stop: StopReason,
    /// Prompt tokens whose KV cache was reused from the previous call.
    pub reused_tokens: usize,
    /// Milliseconds from the call to the first token.
    pub ttft_ms: f64,
    /// Milliseconds spent generating after the first token.
    pub decode_ms: f64,
}

/// What a chat model is, for the record.
#[derive(Clone, Debug, Serialize)]
pub struct ChatModelInfo {
    /// The GGUF file.
    pub path: PathBuf,
    /// File name without extension.
    pub name: String,
    /// Size of the file in bytes (with the name, what identifies it in a record; hashing 100 MB on
    /// every load would cost more than the load).
    pub file_bytes: u64,
    /// Which decoder runs it.
    pub backend: &'static str,
    /// Where it runs: `CPU`, `CUDA` or `Metal`.
    pub device: &'static str,
    /// Why it runs on the CPU although a GPU was asked for, when the GPU could not load it.
    pub device_note: Option<String>,
    /// The model's shape.
    pub config: TransformerConfig,
}

/// A loaded chat model: tokenizer, decoder and the prompt its KV cache holds.
pub struct ChatModel {
    tokenizer: GgufTokenizer,
    decoder: Box<dyn Decoder>,
    cached_ids: Vec<u32>,
    info: ChatModelInfo,
}

impl std::fmt::Debug for ChatModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatModel")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Which decoder runs a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// This crate's CPU runtime on the CPU, candle on a GPU.
    Auto,
    /// This crate's CPU runtime.
    Cpu,
    /// candle's quantized llama on the given device.
    Candle,
}

impl ChatModel {
    /// Loads a GGUF chat model; `device` is where candle runs it when it is a GPU.
    pub fn load(path: &Path, device: &Device, backend: Backend) -> Result<Self> {
        let mut file = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::MissingFile {
                path: path.to_path_buf(),
                hint: "run scripts/fetch-models, or point models.chat at a GGUF chat model",
            },
            _ => bad_file(path, e),
        })?;
        let content = Content::read(&mut file).map_err(|e| unreadable(path, e))?;
        let use_cpu = match backend {
            Backend::Cpu => true,
            Backend::Candle => false,
            Backend::Auto => device.is_cpu(),
        };
        // The tokenizer comes after the weights: an architecture or a file Cairn cannot run is
        // the first thing to say.
        let tokenizer =
            |content: &Content| GgufTokenizer::from_gguf(content).map_err(|e| bad_file(path, e));
        let cpu = |file: &mut std::fs::File, content: &Content| -> Result<Box<dyn Decoder>> {
            Ok(Box::new(CpuTransformer::load(path, content, file)?))
        };
        let mut device_note = None;
        let (decoder, tokenizer, name, device_name): (
            Box<dyn Decoder>,
            GgufTokenizer,
            &'static str,
            &'static str,
        ) = if use_cpu {
            (
                cpu(&mut file, &content)?,
                tokenizer(&content)?,
                "cairn-cpu",
                "CPU",
            )
        } else {
            let gpu = if device.is_cuda() { "CUDA" } else { "Metal" };
            let words = tokenizer(&content)?;
            match CandleLlama::load(path, content, &mut file, device) {
                Ok(decoder) => (Box::new(decoder), words, "candle", gpu),
                Err(e) if backend == Backend::Auto => {
                    // The GPU path could not take it: the CPU runtime runs every architecture.
                    let note =
                        format!("the {gpu} device could not load it ({e}); it runs on the CPU");
                    tracing::warn!("{}: {note}", path.display());
                    device_note = Some(note);
                    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0))
                        .map_err(|e| bad_file(path, e))?;
                    let content = Content::read(&mut file).map_err(|e| unreadable(path, e))?;
                    (cpu(&mut file, &content)?, words, "cairn-cpu", "CPU")
                }
                Err(e) => return Err(e),
            }
        };
        let info = ChatModelInfo {
            path: path.to_path_buf(),
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            backend: name,
            device: device_name,
            device_note,
            config: decoder.config().clone(),
        };
        Ok(Self {
            tokenizer,
            decoder,
            cached_ids: Vec::new(),
            info,
        })
    }

    /// The tokenizer and chat template.
    pub fn tokenizer(&self) -> &GgufTokenizer {
        &self.tokenizer
    }

    /// What this model is.
    pub fn info(&self) -> &ChatModelInfo {
        &self.info
    }

    /// Tokens the model can attend to.
    pub fn context_length(&self) -> usize {
        self.info.config.context_length
    }

    /// Renders `messages` with the chat template and tokenizes the result.
    pub fn encode_chat(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
        let prompt = self.tokenizer.apply_chat_template(messages, true)?;
        self.tokenizer.encode(&prompt, true, true)
    }

    /// Generates a reply to `prompt` (token ids), calling `on_text` with each new piece of text as
    /// it is decoded. `cancel` is checked between tokens and between prefill chunks.
    pub fn generate(
        &mut self,
        prompt: &[u32],
        params: &GenerateParams,
        cancel: &AtomicBool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation> {
        let start = Instant::now();
        if prompt.is_empty() {
            return Err(Error::Tokenizer("the prompt is empty".into()));
        }
        let context = self.context_length();
        if prompt.len() >= context {
            return Err(Error::Tokenizer(format!(
                "the prompt has {} tokens; the model's context holds {context}",
                prompt.len()
            )));
        }
        // Reuse the cache for the prompt's common prefix with the last call (follow-up turns). The
        // last REPLAY tokens always run again, so the prompt's final logits come from the same
        // (batched) kernels whether or not the cache was warm: the same request gives the same reply.
        let mut keep = self
            .cached_ids
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count();
        keep = keep.min(prompt.len().saturating_sub(REPLAY));
        self.decoder.truncate(keep);
        let keep = self.decoder.cached_len();
        self.cached_ids.truncate(keep);
        let mut logits = Vec::new();
        for chunk in prompt[keep..].chunks(PREFILL_CHUNK) {
            match self.decoder.forward_cancellable(chunk, cancel)? {
                Some(l) => {
                    logits = l;
                    self.cached_ids.extend_from_slice(chunk);
                }
                None => {
                    self.cached_ids.truncate(self.decoder.cached_len());
                    return Ok(self.finish(
                        String::new(),
                        prompt.len(),
                        0,
                        StopReason::Cancelled,
                        keep,
                        start,
                        None,
                    ));
                }
            }
        }

        let mut sampler = Sampler::new(params.sampling.clone());
        let mut generated: Vec<u32> = Vec::new();
        let mut emitted = 0usize;
        let mut text = String::new();
        let mut first_token_at = None;
        let hold_back = params.stop.iter().map(|s| s.len()).max().unwrap_or(0);
        let stop = loop {
            if cancel.load(Ordering::Relaxed) {
                break StopReason::Cancelled;
            }
            if generated.len() >= params.max_tokens {
                break StopReason::MaxTokens;
            }
            let recent_from = generated.len().saturating_sub(params.repeat_last_n);
            sample::apply_repeat_penalty(
                &mut logits,
                params.repeat_penalty,
                &generated[recent_from..],
            );
            let next = sampler.sample(&logits);
            first_token_at.get_or_insert_with(Instant::now);
            if self.tokenizer.is_stop(next) && !params.ignore_stop_tokens {
                break StopReason::EndOfTurn;
            }
            generated.push(next);
            text = self.tokenizer.decode(&generated, true)?;
            if let Some(at) = params
                .stop
                .iter()
                .filter_map(|s| text.find(s.as_str()))
                .min()
            {
                text.truncate(at);
                if at > emitted {
                    on_text(&text[emitted..]);
                    emitted = at;
                }
                break StopReason::StopString;
            }
            // Emit what is settled: no half-decoded character, nothing that may start a stop string.
            if !text.ends_with('\u{FFFD}') {
                let mut upto = text.len().saturating_sub(hold_back);
                while !text.is_char_boundary(upto) {
                    upto -= 1;
                }
                if upto > emitted {
                    on_text(&text[emitted..upto]);
                    emitted = upto;
                }
            }
            if self.cached_ids.len() + 1 >= context {
                break StopReason::ContextFull;
            }
            logits = self.run(&[next])?;
        };
        if stop != StopReason::StopString && text.len() > emitted && !text.ends_with('\u{FFFD}') {
            on_text(&text[emitted..]);
        }
        Ok(self.finish(
            text,
            prompt.len(),
            generated.len(),
            stop,
            keep,
            start,
            first_token_at,
        ))
    }

    /// The next-token logits after `prompt`, from a cold cache.
    pub fn logits(&mut self, prompt: &[u32]) -> Result<Vec<f32>> {
        self.decoder.truncate(0);
        self.cached_ids.clear();
        if self.decoder.cached_len() != 0 {
            return Err(Error::Tokenizer("the decoder kept its cache".into()));
        }
        self.run(prompt)
    }

    /// Like [`ChatModel::generate`], sending each piece of text through `tx`.
    pub fn generate_to_channel(
        &mut self,
        prompt: &[u32],
        params: &GenerateParams,
        cancel: &AtomicBool,
        tx: &std::sync::mpsc::Sender<String>,
    ) -> Result<Generation> {
        self.generate(prompt, params, cancel, &mut |piece| {
            // A receiver that hung up stops nothing here; the caller cancels through `cancel`.
            let _ = tx.send(piece.to_string());
        })
    }

    fn run(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let logits = self.decoder.forward(tokens)?;
        self.cached_ids.extend_from_slice(tokens);
        Ok(logits)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        text: String,
        tokens_in: usize,
        tokens_out: usize,
        stop: StopReason,
        reused: usize,
        start: Instant,
        first: Option<Instant>,
    ) -> Generation {
        let now = Instant::now();
        let first = first.unwrap_or(now);
        Generation {
            text,
            tokens_in,
            tokens_out,
            stop,
            reused_tokens: reused,
            ttft_ms: (first - start).as_secs_f64() * 1e3,
            decode_ms: (now - first).as_secs_f64() * 1e3,
        }
    }
}

/// The error for a file candle cannot read as GGUF: a tensor type it does not know is named as a
/// quantization Cairn does not run; anything else is not a GGUF file.
fn unreadable(path: &Path, e: candle_core::Error) -> Error {
    let message = e.to_string();
    match message.strip_prefix("unknown dtype for tensor ") {
        Some(id) => bad_file(
            path,
            format!(
                "it uses a quantization Cairn does not run (ggml type {id}); Cairn runs {}",
                quant::Format::ALL.map(quant::Format::name).join(", ")
            ),
        ),
        None => bad_file(path, format!("not a GGUF file: {message}")),
    }
}
