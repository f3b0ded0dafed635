//! The chat model's tokenizer and chat template, built from the GGUF file's own metadata.
//!
//! A GGUF carries no `tokenizer.json`; it carries `tokenizer.ggml.*`: the token strings, their types,
//! BPE merges (for `gpt2`-style vocabularies) or scores (for SentencePiece `llama` vocabularies), the
//! special ids, and the pre-tokenizer name. This module builds a `tokenizers` pipeline from them
//! around [`GgufVocab`] (the vocabulary and llama.cpp's merge rules, held compactly), choosing the
//! pre-tokenizer llama.cpp uses for that name, and renders `tokenizer.chat_template` (Jinja) with
//! minijinja.

use candle_core::quantized::gguf_file::{Content, Value};
use serde::Serialize;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::normalizers::{NormalizerWrapper, Prepend, Replace};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, TokenizerImpl};

use super::vocab::GgufVocab;
use crate::{Error, Result};

/// Hugging Face's tokenizer pipeline over a GGUF vocabulary.
type Pipeline = TokenizerImpl<
    GgufVocab,
    NormalizerWrapper,
    PreTokenizerWrapper,
    PostProcessorWrapper,
    DecoderWrapper,
>;

/// llama.cpp's token type for control tokens (`<|im_end|>`, `</s>`).
const TOKEN_TYPE_CONTROL: i32 = 3;
/// llama.cpp's token type for user-defined tokens, matched verbatim in text.
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// The GPT-2 split, as llama.cpp writes it.
const GPT2_SPLIT: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
/// The Qwen 2 split: Llama 3's, but digits one at a time.
const QWEN2_SPLIT: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// The Llama 3 split.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// One turn of a conversation, as the chat template sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A message with `role`.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// The tokenizer of a GGUF chat model, its special tokens and its chat template.
#[derive(Debug)]
pub struct GgufTokenizer {
    /// Matches every special token verbatim: for rendered templates.
    inner: Pipeline,
    /// Matches user-defined tokens only, never a control token (`<|im_start|>`): for what a person
    /// or a document wrote, as llama.cpp does without special parsing.
    plain: Pipeline,
    bos: Option<u32>,
    eos: u32,
    add_bos: bool,
    /// Ids that end a reply: EOS, end-of-turn and every control token.
    stop_ids: Vec<u32>,
    template: Option<String>,
    vocab_size: usize,
}

impl GgufTokenizer {
    /// Builds the tokenizer from a GGUF file's metadata.
    pub fn from_gguf(content: &Content) -> Result<Self> {
        let md = &content.metadata;
        let get = |key: &str| {
            md.get(key)
                .ok_or_else(|| tok_err(format!("GGUF metadata lacks {key}")))
        };
        let model = get("tokenizer.ggml.model")?
            .to_string()
            .map_err(tok_err)?
            .clone();
        let tokens: Vec<&str> = string_list(get("tokenizer.ggml.tokens")?)?;
        let types: Vec<i32> = match md.get("tokenizer.ggml.token_type") {
            Some(v) => v
                .to_vec()
                .map_err(tok_err)?
                .iter()
                .map(|v| v.to_i32().unwrap_or(1))
                .collect(),
            None => vec![1; tokens.len()],
        };
        let id = |key: &str| md.get(key).and_then(|v| v.to_u32().ok());
        let eos = id("tokenizer.ggml.eos_token_id")
            .ok_or_else(|| tok_err("GGUF metadata lacks an EOS id"))?;
        let bos = id("tokenizer.ggml.bos_token_id");
        let add_bos = md
            .get("tokenizer.ggml.add_bos_token")
            .and_then(|v| v.to_bool().ok())
            .unwrap_or(model == "llama");
        let mut inner = match model.as_str() {
            "gpt2" => {
                let merges = string_list(get("tokenizer.ggml.merges")?)?;
                let pre = md
                    .get("tokenizer.ggml.pre")
                    .and_then(|v| v.to_string().ok().cloned())
                    .unwrap_or_default();
                let vocab = GgufVocab::bpe(&tokens, &merges, takes_whole_words(&pre));
                let mut t = Pipeline::new(vocab);
                t.with_pre_tokenizer(Some(gpt2_pre_tokenizer(&pre)?));
                t.with_decoder(Some(ByteLevelDecoder::default()));
                t
            }
            "llama" => {
                let scores: Vec<f32> = match md.get("tokenizer.ggml.scores") {
                    Some(v) => v
                        .to_vec()
                        .map_err(tok_err)?
                        .iter()
                        .map(|v| v.to_f32().unwrap_or(0.0))
                        .collect(),
                    None => vec![0.0; tokens.len()],
                };
                let unknown = id("tokenizer.ggml.unknown_token_id");
                let mut t = Pipeline::new(GgufVocab::sentencepiece(&tokens, scores, unknown));
                // A space before the text, unless the model says not (Gemma's).
                let space_prefix = md
                    .get("tokenizer.ggml.add_space_prefix")
                    .and_then(|v| v.to_bool().ok())
                    .unwrap_or(true);
                let mut normalizers: Vec<NormalizerWrapper> = Vec::new();
                if space_prefix {
                    normalizers.push(Prepend::new("▁".into()).into());
                }
                normalizers.push(Replace::new(" ", "▁").map_err(tok_err)?.into());
                t.with_normalizer(Some(tokenizers::normalizers::Sequence::new(normalizers)))
                    .map_err(tok_err)?;
                let mut decoders: Vec<DecoderWrapper> = vec![
                    Replace::new("▁", " ").map_err(tok_err)?.into(),
                    ByteFallback::new().into(),
                    Fuse::new().into(),
                ];
                if space_prefix {
                    decoders.push(Strip::new(' ', 1, 0).into());
                }
                t.with_decoder(Some(DecoderSequence::new(decoders)));
                t
            }
            other => {
                return Err(tok_err(format!(
                    "tokenizer model '{other}' is not supported (gpt2 and llama are)"
                )));
            }
        };

        let added = |kinds: &[i32]| -> Vec<AddedToken> {
            tokens
                .iter()
                .zip(&types)
                .filter(|(_, ty)| kinds.contains(ty))
                .map(|(t, ty)| AddedToken::from(t.to_string(), *ty == TOKEN_TYPE_CONTROL))
                .collect()
        };
        let mut plain = inner.clone();
        plain
            .add_special_tokens(added(&[TOKEN_TYPE_USER_DEFINED]))
            .map_err(tok_err)?;
        inner
            .add_special_tokens(added(&[TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED]))
            .map_err(tok_err)?;

        let mut stop_ids: Vec<u32> = types
            .iter()
            .enumerate()
            .filter(|(i, ty)| **ty == TOKEN_TYPE_CONTROL && Some(*i as u32) != bos)
            .map(|(i, _)| i as u32)
            .collect();
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"] {
            if let Some(i) = id(key) {
                stop_ids.push(i);
            }
        }
        stop_ids.sort_unstable();
        stop_ids.dedup();
        // A BOS that is also a control token may start a new turn (`<|im_start|>`): generating it ends
        // the reply too.
        if let Some(b) = bos
            && types.get(b as usize) == Some(&TOKEN_TYPE_CONTROL)
            && b != eos
            && model == "gpt2"
        {
            stop_ids.push(b);
        }
        let template = md
            .get("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok().cloned());
        Ok(Self {
            inner,
            plain,
            bos,
            eos,
            add_bos,
            stop_ids,
            template,
            vocab_size: tokens.len(),
        })
    }

    /// Token ids of `text`. Special-token strings in it (`<|im_start|>`) become their ids when
    /// `parse_special` is on (for rendered templates), and ordinary text otherwise (for anything a
    /// person or a document wrote). Adds BOS when the model asks for it and `add_bos` is on.
    pub fn encode(&self, text: &str, add_bos: bool, parse_special: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        if add_bos && self.add_bos {
            ids.extend(self.bos);
        }
        let pipeline = if parse_special {
            &self.inner
        } else {
            &self.plain
        };
        let enc = pipeline.encode_fast(text, false).map_err(tok_err)?;
        ids.extend_from_slice(enc.get_ids());
        Ok(ids)
    }

    /// The text of `ids`; special tokens are left out when `skip_special` is on.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        self.inner.decode(ids, skip_special).map_err(tok_err)
    }

    /// Whether `id` ends a reply.
    pub fn is_stop(&self, id: u32) -> bool {
        self.stop_ids.contains(&id)
    }

    /// The ids that end a reply.
    pub fn stop_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    /// The end-of-sequence id.
    pub fn eos(&self) -> u32 {
        self.eos
    }

    /// Number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The GGUF's chat template, if it has one.
    pub fn chat_template(&self) -> Option<&str> {
        self.template.as_deref()
    }

    /// How prompts for this model are written: its chat template, or plain text for a model that
    /// has none (a base model, which knows no turn markers).
    pub fn prompt_format(&self) -> PromptFormat {
        if self.template.is_some() {
            PromptFormat::ChatTemplate
        } else {
            PromptFormat::Plain
        }
    }

    /// Renders `messages` with the model's chat template, ending with the assistant's turn opener
    /// when `add_generation_prompt` is on; a model without a template gets a plain completion
    /// prompt ([`plain_prompt`]).
    pub fn apply_chat_template(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String> {
        let Some(template) = self.template.as_deref() else {
            return Ok(plain_prompt(messages, add_generation_prompt));
        };
        let bos = self.bos.map(|b| self.token_text(b)).unwrap_or_default();
        let eos = self.token_text(self.eos);
        render_chat_template(template, messages, add_generation_prompt, &bos, &eos)
    }

    fn token_text(&self, id: u32) -> String {
        self.inner.id_to_token(id).unwrap_or_default()
    }
}

/// How a model's prompts are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptFormat {
    /// The chat template the GGUF carries.
    ChatTemplate,
    /// Plain text, for a model without a template ([`plain_prompt`]).
    Plain,
}

impl PromptFormat {
    /// `chat_template` or `plain`.
    pub fn label(self) -> &'static str {
        match self {
            PromptFormat::ChatTemplate => "chat_template",
            PromptFormat::Plain => "plain",
        }
    }

    /// Strings that end a reply in this format, besides the model's stop tokens: a base model
    /// writes the next question itself when nothing stops it.
    pub fn stop_strings(self) -> &'static [&'static str] {
        match self {
            PromptFormat::ChatTemplate => &[],
            PromptFormat::Plain => &[PLAIN_QUESTION, "\n\n\n"],
        }
    }
}

/// What opens a question in a plain prompt.
const PLAIN_QUESTION: &str = "\nQuestion:";

/// A completion prompt for a model without a chat template: the system text, the earlier turns
/// (`Question:` and `Answer:`), the last message, and `Answer:` to continue from.
pub fn plain_prompt(messages: &[ChatMessage], add_generation_prompt: bool) -> String {
    let mut out = String::new();
    for m in messages {
        match m.role.as_str() {
            "assistant" => out.push_str(&format!("Answer: {}\n\n", m.content.trim())),
            "user" => out.push_str(&format!("{}\n\n", m.content.trim())),
            _ => out.push_str(&format!("{}\n\n", m.content.trim())),
        }
    }
    if add_generation_prompt {
        out.push_str("Answer:");
    }
    out
}

/// Renders a Hugging Face chat template (Jinja) with minijinja.
pub fn render_chat_template(
    template: &str,
    messages: &[ChatMessage],
    add_generation_prompt: bool,
    bos_token: &str,
    eos_token: &str,
) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |msg: String| -> std::result::Result<String, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                msg,
            ))
        },
    );
    env.add_template("chat", template)
        .map_err(|e| tok_err(format!("chat template: {e}")))?;
    let tmpl = env
        .get_template("chat")
        .map_err(|e| tok_err(format!("chat template: {e}")))?;
    tmpl.render(minijinja::context! {
        messages => messages,
        add_generation_prompt => add_generation_prompt,
        bos_token => bos_token,
        eos_token => eos_token,
    })
    .map_err(|e| tok_err(format!("chat template: {e}")))
}

/// Whether llama.cpp takes a word that is a token whole, before any merge, for a
/// `tokenizer.ggml.pre` name (its Llama 3 vocabularies: `ignore_merges`).
fn takes_whole_words(pre: &str) -> bool {
    matches!(pre, "llama3" | "llama-v3" | "llama-bpe" | "falcon3")
}

/// The pre-tokenizer llama.cpp uses for a `tokenizer.ggml.pre` name.
fn gpt2_pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper> {
    let byte_level = |regex: bool| PreTokenizerWrapper::from(ByteLevel::new(false, false, regex));
    let split = |pattern: &str| -> Result<PreTokenizerWrapper> {
        Ok(Split::new(
            SplitPattern::Regex(pattern.into()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(tok_err)?
        .into())
    };
    Ok(match pre {
        // Digits one by one, then the GPT-2 split (SmolLM, StarCoder and kin).
        "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva-7b" => {
            Sequence::new(vec![
                Digits::new(true).into(),
                split(GPT2_SPLIT)?,
                byte_level(false),
            ])
            .into()
        }
        "llama3" | "llama-bpe" | "llama-v3" | "smaug-bpe" | "falcon3" | "dbrx" => {
            Sequence::new(vec![split(LLAMA3_SPLIT)?, byte_level(false)]).into()
        }
        "qwen2" | "deepseek-r1-qwen" | "stablelm2" => {
            Sequence::new(vec![split(QWEN2_SPLIT)?, byte_level(false)]).into()
        }
        "" | "default" | "gpt-2" | "gpt2" | "phi-2" => {
            Sequence::new(vec![split(GPT2_SPLIT)?, byte_level(false)]).into()
        }
        other => {
            tracing::warn!(
                "pre-tokenizer '{other}' is not one Cairn knows; splitting text as GPT-2 does"
            );
            Sequence::new(vec![split(GPT2_SPLIT)?, byte_level(false)]).into()
        }
    })
}

/// The strings of a metadata array, borrowed: a vocabulary's are copied once, into its buffer.
fn string_list(value: &Value) -> Result<Vec<&str>> {
    value
        .to_vec()
        .map_err(tok_err)?
        .iter()
        .map(|v| v.to_string().map(String::as_str).map_err(tok_err))
        .collect()
}

fn tok_err(e: impl std::fmt::Display) -> Error {
    Error::Tokenizer(e.to_string())
}
