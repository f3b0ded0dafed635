//! On-device models for Cairn, run with candle.
//!
//! * [`BertEmbedder`] turns text into sentence vectors with any BERT-family sentence model directory
//!   (`config.json`, `model.safetensors`, `tokenizer.json`): mean pooling over the attention mask, then
//!   L2 normalisation, in length-sorted batches. It also exposes its tokenizer to the chunker
//!   ([`cairn_ingest::Tokenize`]), so chunk windows are measured in the tokens the model sees. On the
//!   CPU its matrix products run in 8-bit integers where the CPU has VNNI ([`Precision`]).
//! * [`Reranker`] rescores retrieved passages against a query: [`MaxSimReranker`] (late interaction
//!   over the embedder's token vectors, needs no extra weights) and [`CrossEncoderReranker`] (a BERT
//!   cross-encoder directory a user supplies).
//! * [`llm::ChatModel`] runs any llama-family GGUF chat model: tokenizer and chat template from the
//!   file's metadata, a quantized CPU runtime (or candle's model on a GPU), sampling and streaming.
//! * [`select_device`] is the one place that picks CPU, CUDA or Metal.
//!
//! ```no_run
//! use cairn_models::{BertEmbedder, Embedder};
//!
//! let embedder = BertEmbedder::load("models/all-MiniLM-L6-v2".as_ref(), &cairn_models::select_device()).unwrap();
//! let vectors = embedder.embed(&["A lighthouse guides ships."]).unwrap();
//! assert_eq!(vectors[0].len(), embedder.info().dimension);
//! ```
#![deny(missing_docs)]

mod bert;
mod device;
mod embedder;
mod error;
mod int8;
pub mod llm;
mod matrix;
mod rerank;
/// Random-weight GGUF models for tests of architectures no registry carries weights of.
#[cfg(feature = "test-support")]
pub mod test_support;
mod vnni_limit;

pub use device::select_device;
pub use embedder::{BertEmbedder, Embedder, EmbedderInfo};
pub use error::{Error, Result};
pub use int8::Precision;
pub use rerank::{CrossEncoderReranker, MaxSimReranker, Reranker};
