//! Fusing a dense and a BM25 ranking into one.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// How dense and BM25 rankings combine. Weights are config; see BENCHMARKS.md for the measured effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Fusion {
    /// Reciprocal-rank fusion (Cormack et al., 2009): `Σ weight / (k + rank)`. Ignores score scales.
    Rrf {
        /// Rank offset; 60 in the original paper.
        k: f32,
        /// Weight of the dense ranking.
        dense_weight: f32,
        /// Weight of the BM25 ranking.
        bm25_weight: f32,
    },
    /// Convex combination of normalised scores (TM2C2 in Bruch et al., 2023, "An Analysis of Fusion
    /// Functions for Hybrid Retrieval"): each score is divided by the best score of its list, with
    /// zero as the theoretical minimum, then `dense_weight · dense + bm25_weight · bm25`.
    Weighted {
        /// Weight of the normalised cosine similarity.
        dense_weight: f32,
        /// Weight of the normalised BM25 score.
        bm25_weight: f32,
    },
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::Weighted {
            dense_weight: 0.6,
            bm25_weight: 0.4,
        }
    }
}

/// A fused score and the two it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedScore {
    /// The fused score; higher is better.
    pub fused: f32,
    /// Cosine similarity, where known.
    pub dense: Option<f32>,
    /// BM25 score, when the item was in the BM25 list.
    pub bm25: Option<f32>,
}

/// Fuses two rankings. `dense` holds cosine similarities and `bm25` BM25 scores, each best first.
/// An item may appear in either or both; `dense` may also hold similarities of items that only BM25
/// retrieved (they take no dense rank: they were not in the dense top list). Returns items best first;
/// ties keep the order in which items were first seen.
pub fn fuse<K: Eq + Hash + Clone>(
    dense: &[(K, f32)],
    bm25: &[(K, f32)],
    fusion: Fusion,
) -> Vec<(K, FusedScore)> {
    let mut order: Vec<K> = Vec::new();
    let mut scores: HashMap<K, FusedScore> = HashMap::new();
    for (key, s) in dense {
        scores.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            FusedScore {
                fused: 0.0,
                dense: Some(*s),
                bm25: None,
            }
        });
    }
    for (key, s) in bm25 {
        let entry = scores.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            FusedScore {
                fused: 0.0,
                dense: None,
                bm25: None,
            }
        });
        entry.bm25 = Some(*s);
    }
    match fusion {
        Fusion::Rrf {
            k,
            dense_weight,
            bm25_weight,
        } => {
            for (rank, (key, _)) in dense.iter().enumerate() {
                scores.get_mut(key).expect("seen").fused += dense_weight / (k + rank as f32 + 1.0);
            }
            for (rank, (key, _)) in bm25.iter().enumerate() {
                scores.get_mut(key).expect("seen").fused += bm25_weight / (k + rank as f32 + 1.0);
            }
        }
        Fusion::Weighted {
            dense_weight,
            bm25_weight,
        } => {
            let max_dense = scores
                .values()
                .filter_map(|s| s.dense)
                .fold(0.0f32, f32::max);
            let max_bm25 = bm25.iter().map(|(_, s)| *s).fold(0.0f32, f32::max);
            for s in scores.values_mut() {
                let d = normalise(s.dense, max_dense);
                let b = normalise(s.bm25, max_bm25);
                s.fused = dense_weight * d + bm25_weight * b;
            }
        }
    }
    let mut fused: Vec<(usize, K, FusedScore)> = order
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let s = scores[&k];
            (i, k, s)
        })
        .collect();
    fused.sort_by(|a, b| b.2.fused.total_cmp(&a.2.fused).then(a.0.cmp(&b.0)));
    fused.into_iter().map(|(_, k, s)| (k, s)).collect()
}

fn normalise(score: Option<f32>, max: f32) -> f32 {
    match score {
        Some(s) if max > 0.0 => (s.max(0.0) / max).min(1.0),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(fused: &[(&'static str, FusedScore)]) -> Vec<&'static str> {
        fused.iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn fusion_orders_as_expected() {
        let dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)];
        let bm25 = [("c", 12.0), ("d", 6.0), ("a", 3.0)];
        let rrf = |dw, bw| Fusion::Rrf {
            k: 60.0,
            dense_weight: dw,
            bm25_weight: bw,
        };
        let weighted = |dw, bw| Fusion::Weighted {
            dense_weight: dw,
            bm25_weight: bw,
        };
        for (fusion, want) in [
            // In both lists, near the top of each: a and c lead.
            (rrf(1.0, 1.0), vec!["a", "c", "b", "d"]),
            // Dense only: dense order, BM25-only items last.
            (rrf(1.0, 0.0), vec!["a", "b", "c", "d"]),
            (rrf(0.0, 1.0), vec!["c", "d", "a", "b"]),
            // c: 0.5·0.778 + 0.5·1.0 beats a: 0.5·1.0 + 0.5·0.25.
            (weighted(0.5, 0.5), vec!["c", "a", "b", "d"]),
            (weighted(1.0, 0.0), vec!["a", "b", "c", "d"]),
        ] {
            assert_eq!(keys(&fuse(&dense, &bm25, fusion)), want, "{fusion:?}");
        }
    }

    #[test]
    fn scores_of_both_lists_are_kept() {
        let fused = fuse(&[("a", 0.5)], &[("a", 2.0), ("b", 1.0)], Fusion::default());
        assert_eq!(fused[0].1.dense, Some(0.5));
        assert_eq!(fused[0].1.bm25, Some(2.0));
        assert_eq!(fused[1].1.dense, None);
    }

    #[test]
    fn empty_and_degenerate_lists_do_not_divide_by_zero() {
        let fused = fuse::<&str>(&[], &[], Fusion::default());
        assert!(fused.is_empty());
        let fused = fuse(&[("a", -0.2)], &[("a", 0.0)], Fusion::default());
        assert_eq!(fused[0].1.fused, 0.0);
    }
}
