//! Choosing the next token from logits: greedy, or temperature with top-k and top-p, seeded.

use serde::{Deserialize, Serialize};

/// How the next token is chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sampling {
    /// The most likely token, always.
    Greedy,
    /// A random draw from the softmax at `temperature`, limited to the `top_k` most likely tokens
    /// and to the smallest set whose probability reaches `top_p`; the same seed gives the same reply.
    Random {
        /// Softmax temperature (> 0).
        temperature: f32,
        /// Keep only this many most likely tokens (0: all).
        top_k: usize,
        /// Keep the smallest set of tokens whose probability reaches this (1.0: all).
        top_p: f32,
        /// Seed of the random generator.
        seed: u64,
    },
}

/// Draws tokens according to a [`Sampling`].
#[derive(Debug)]
pub struct Sampler {
    sampling: Sampling,
    state: u64,
}

impl Sampler {
    /// A sampler; random sampling starts from its seed.
    pub fn new(sampling: Sampling) -> Self {
        let state = match &sampling {
            Sampling::Random { seed, .. } => *seed,
            Sampling::Greedy => 0,
        };
        Self { sampling, state }
    }

    /// The next token for `logits`.
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        match self.sampling.clone() {
            Sampling::Greedy => argmax(logits),
            Sampling::Random {
                temperature,
                top_k,
                top_p,
                ..
            } => {
                if temperature <= 0.0 || !temperature.is_finite() {
                    return argmax(logits);
                }
                let mut order: Vec<u32> = (0..logits.len() as u32).collect();
                let keep = if top_k == 0 {
                    logits.len()
                } else {
                    top_k.min(logits.len())
                };
                let by_logit =
                    |a: &u32, b: &u32| logits[*b as usize].total_cmp(&logits[*a as usize]);
                if keep < order.len() {
                    order.select_nth_unstable_by(keep - 1, by_logit);
                    order.truncate(keep);
                }
                order.sort_unstable_by(by_logit);
                let max = logits[order[0] as usize];
                let mut probs: Vec<f32> = order
                    .iter()
                    .map(|&i| ((logits[i as usize] - max) / temperature).exp())
                    .collect();
                let total: f32 = probs.iter().sum();
                probs.iter_mut().for_each(|p| *p /= total);
                let mut cumulative = 0f32;
                let mut cut = probs.len();
                for (i, p) in probs.iter().enumerate() {
                    cumulative += p;
                    if cumulative >= top_p {
                        cut = i + 1;
                        break;
                    }
                }
                let total: f32 = probs[..cut].iter().sum();
                let mut r = self.next_f32() * total;
                for (i, p) in probs[..cut].iter().enumerate() {
                    r -= p;
                    if r <= 0.0 {
                        return order[i];
                    }
                }
                order[cut - 1]
            }
        }
    }

    /// splitmix64: small, fast, and the same on every platform.
    fn next_f32(&mut self) -> f32 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Makes recently generated tokens less likely: positive logits are divided by `penalty`, negative
/// ones multiplied, once per distinct token.
pub fn apply_repeat_penalty(logits: &mut [f32], penalty: f32, recent: &[u32]) {
    if penalty == 1.0 {
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for &t in recent {
        if seen.insert(t)
            && let Some(l) = logits.get_mut(t as usize)
        {
            *l = if *l >= 0.0 {
                *l / penalty
            } else {
                *l * penalty
            };
        }
    }
}

fn argmax(logits: &[f32]) -> u32 {
    logits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_largest_and_top_k_one_is_greedy() {
        let logits = [0.1, 2.0, -1.0, 1.9];
        assert_eq!(Sampler::new(Sampling::Greedy).sample(&logits), 1);
        let mut s = Sampler::new(Sampling::Random {
            temperature: 5.0,
            top_k: 1,
            top_p: 1.0,
            seed: 3,
        });
        assert!((0..50).all(|_| s.sample(&logits) == 1));
    }

    #[test]
    fn the_same_seed_draws_the_same_tokens_and_another_seed_differs() {
        let logits: Vec<f32> = (0..100).map(|i| (i % 7) as f32 * 0.3).collect();
        let draw = |seed| {
            let mut s = Sampler::new(Sampling::Random {
                temperature: 1.0,
                top_k: 0,
                top_p: 1.0,
                seed,
            });
            (0..40).map(|_| s.sample(&logits)).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn top_p_keeps_only_the_nucleus() {
        // One token holds nearly all the mass: top_p 0.5 must always pick it.
        let mut logits = vec![0.0f32; 50];
        logits[7] = 10.0;
        let mut s = Sampler::new(Sampling::Random {
            temperature: 1.0,
            top_k: 0,
            top_p: 0.5,
            seed: 9,
        });
        assert!((0..100).all(|_| s.sample(&logits) == 7));
    }

    #[test]
    fn repeat_penalty_lowers_recent_tokens() {
        let mut logits = vec![2.0, -2.0, 1.0];
        apply_repeat_penalty(&mut logits, 2.0, &[0, 1, 0]);
        assert_eq!(logits, vec![1.0, -4.0, 1.0]);
    }
}
