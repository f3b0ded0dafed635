//! The interface every decoder implements ([`Decoder`]): the part of a chat model that runs
//! tensors, whatever runs them.

use std::sync::atomic::{AtomicBool, Ordering};

use super::arch::TransformerConfig;
use crate::Result;

/// A causal language model with a KV cache: the part of a chat model that runs tensors.
pub trait Decoder: Send {
    /// The model's shape.
    fn config(&self) -> &TransformerConfig;
    /// Positions held in the KV cache.
    fn cached_len(&self) -> usize;
    /// Keeps the first `len` cached positions (or fewer, if the decoder cannot cut partway; it
    /// reports what it kept through [`Decoder::cached_len`]).
    fn truncate(&mut self, len: usize);
    /// Runs `tokens` after the cached positions and returns the logits of the last one.
    fn forward(&mut self, tokens: &[u32]) -> Result<Vec<f32>>;
    /// [`Decoder::forward`] that gives up (`None`, cache as before the call) when `cancel` is set.
    fn forward_cancellable(
        &mut self,
        tokens: &[u32],
        cancel: &AtomicBool,
    ) -> Result<Option<Vec<f32>>> {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        self.forward(tokens).map(Some)
    }
}
