//! candle's quantized llama behind [`Decoder`]: the GPU path for llama-layout models.

use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::{MAX_SEQ_LEN, ModelWeights};

use super::arch::TransformerConfig;
use super::decoder::Decoder;
use crate::Result;
use crate::error::bad_file;

/// A llama-layout GGUF run by candle on any device.
pub struct CandleLlama {
    model: ModelWeights,
    device: Device,
    config: TransformerConfig,
    cached: usize,
}

impl CandleLlama {
    /// Loads the model onto `device`.
    pub fn load(
        path: &Path,
        content: Content,
        file: &mut std::fs::File,
        device: &Device,
    ) -> Result<Self> {
        let mut config = TransformerConfig::from_gguf(path, &content)?;
        if !matches!(config.architecture.as_str(), "llama" | "mistral") {
            return Err(bad_file(
                path,
                format!(
                    "architecture '{}' runs on the CPU runtime only; on a GPU Cairn runs llama and mistral",
                    config.architecture
                ),
            ));
        }
        // candle's rotary table stops at MAX_SEQ_LEN.
        config.context_length = config.context_length.min(MAX_SEQ_LEN);
        let model =
            ModelWeights::from_gguf(content, file, device).map_err(|e| bad_file(path, e))?;
        Ok(Self {
            model,
            device: device.clone(),
            config,
            cached: 0,
        })
    }
}

impl Decoder for CandleLlama {
    fn config(&self) -> &TransformerConfig {
        &self.config
    }

    fn cached_len(&self) -> usize {
        self.cached
    }

    fn truncate(&mut self, len: usize) {
        // candle's cache can only be dropped whole.
        if len < self.cached {
            self.model.clear_kv_cache();
            self.cached = 0;
        }
    }

    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>> {
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let logits = self.model.forward(&input, self.cached)?;
        self.cached += tokens.len();
        Ok(logits
            .squeeze(0)?
            .to_dtype(candle_core::DType::F32)?
            .to_vec1::<f32>()?)
    }
}
