//! Passages cut to the sentences that bear on the question, before a local model reads them. A
//! small model's time to first token is its prompt (prefill on two cores runs at about a hundred
//! tokens a second), and a small model is also easily led off by the sentences around the one that
//! answers. Each sentence of each passage is weighed against the question with the embedder; a
//! passage keeps its best sentence, every sentence close to the best of all, and a sentence that
//! names a distinctive term of the question (a code, a name), each with its neighbours either side
//! — an answer often sits in the sentence after the one that names its topic. The gaps are marked
//! with an ellipsis. A short passage, or any passage when the embedder fails, goes in whole.

use cairn_guard::sentences;
use cairn_models::{BertEmbedder, Embedder};

use cairn_guard::figures::contains_whole;

use crate::answer::relevance::distinctive_terms;

/// A passage of at most this many sentences goes in whole.
const WHOLE_UP_TO: usize = 3;
/// The best passages (the first ones given) go in whole: retrieval and reranking chose them
/// passage by passage, which is surer than any one sentence's closeness to the question.
const WHOLE_FIRST: usize = 1;
/// A sentence within this cosine similarity of the best sentence of all the passages is kept,
/// whichever passage holds it.
const NEAR_BEST: f32 = 0.08;
/// Sentences kept either side of each chosen one.
const NEIGHBOURS: usize = 1;
/// Most sentences weighed in all; the passages past them go in whole, so a long one cannot make
/// the weighing slow.
const MOST_WEIGHED: usize = 160;
/// What stands for the sentences left out between two kept ones.
pub(crate) const GAP: &str = " … ";

/// One passage's sentences, as byte ranges of its text.
struct Sentences {
    spans: Vec<(usize, usize)>,
}

impl Sentences {
    /// Each line on its own (a list's items, a table's rows), and each line's sentences.
    fn of(text: &str) -> Sentences {
        let base = text.as_ptr() as usize;
        let spans = text
            .split('\n')
            .flat_map(sentences)
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                let start = s.as_ptr() as usize - base;
                (start, start + s.len())
            })
            .collect();
        Sentences { spans }
    }
}

/// `passages` cut for `question`, in the same order; each either whole or its kept sentences in
/// their own order, gaps marked with [`GAP`].
pub(crate) fn condense(embedder: &BertEmbedder, question: &str, passages: &[&str]) -> Vec<String> {
    let split: Vec<Sentences> = passages.iter().map(|p| Sentences::of(p)).collect();
    // Which passages are weighed, and their sentences' texts in one batch.
    let mut weighed: Vec<bool> = Vec::with_capacity(passages.len());
    let mut texts: Vec<&str> = vec![question];
    for (rank, (passage, sentences)) in passages.iter().zip(&split).enumerate() {
        let weigh = rank >= WHOLE_FIRST
            && sentences.spans.len() > WHOLE_UP_TO
            && texts.len() - 1 + sentences.spans.len() <= MOST_WEIGHED;
        if weigh {
            texts.extend(sentences.spans.iter().map(|&(a, b)| passage[a..b].trim()));
        }
        weighed.push(weigh);
    }
    if texts.len() == 1 {
        return passages.iter().map(|p| p.to_string()).collect();
    }
    let vectors = match embedder.embed(&texts) {
        Ok(vectors) => vectors,
        Err(e) => {
            tracing::warn!("passages go in whole: their sentences could not be weighed: {e}");
            return passages.iter().map(|p| p.to_string()).collect();
        }
    };
    // The embedder's vectors are unit length: their dot product is the cosine.
    let (q, rest) = vectors.split_first().expect("the question's vector");
    let terms: Vec<String> = distinctive_terms(question)
        .into_iter()
        .map(|t| t.to_lowercase())
        .collect();
    let mut scores: Vec<Vec<f32>> = Vec::with_capacity(passages.len());
    let mut next = rest.iter();
    for ((passage, sentences), weigh) in passages.iter().zip(&split).zip(&weighed) {
        if !weigh {
            scores.push(Vec::new());
            continue;
        }
        scores.push(
            sentences
                .spans
                .iter()
                .map(|&(a, b)| {
                    let v = next.next().expect("one vector a sentence");
                    let named = passage[a..b].to_lowercase();
                    if terms.iter().any(|t| contains_whole(&named, t)) {
                        // A sentence naming the question's code or name is kept whatever its
                        // meaning's distance.
                        1.0
                    } else {
                        q.iter().zip(v).map(|(x, y)| x * y).sum()
                    }
                })
                .collect(),
        );
    }
    let best = scores
        .iter()
        .flatten()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    passages
        .iter()
        .zip(&split)
        .zip(&scores)
        .map(|((passage, sentences), scores)| {
            if scores.is_empty() {
                return passage.to_string();
            }
            let top = scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            let mut keep = vec![false; scores.len()];
            for (i, score) in scores.iter().enumerate() {
                if i == top || *score >= best - NEAR_BEST {
                    let from = i.saturating_sub(NEIGHBOURS);
                    let to = (i + NEIGHBOURS).min(scores.len() - 1);
                    keep[from..=to].iter_mut().for_each(|k| *k = true);
                }
            }
            join_kept(passage, &sentences.spans, &keep)
        })
        .collect()
}

/// The kept sentences of `text`, each run of neighbours as the text has it and the runs joined by
/// [`GAP`] (also before the first and after the last when the passage goes on past them).
fn join_kept(text: &str, spans: &[(usize, usize)], keep: &[bool]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < spans.len() {
        if !keep[i] {
            i += 1;
            continue;
        }
        let start = spans[i].0;
        while i + 1 < spans.len() && keep[i + 1] {
            i += 1;
        }
        let end = spans[i].1;
        if start > 0 && spans[0].0 < start {
            out.push_str(GAP);
        }
        out.push_str(text[start..end].trim());
        i += 1;
    }
    if keep.last() == Some(&false) {
        out.push_str(GAP);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_kept_sentences_are_joined_by_a_gap() {
        let text = "One is here. Two is there. Three is near. Four is far. Five is last.";
        let spans = Sentences::of(text).spans;
        assert_eq!(spans.len(), 5);
        let kept = join_kept(text, &spans, &[false, true, true, false, true]);
        assert_eq!(kept, "… Two is there. Three is near. … Five is last.");
        let kept = join_kept(text, &spans, &[true, false, false, false, false]);
        assert_eq!(kept, "One is here. …");
        let all = join_kept(text, &spans, &[true; 5]);
        assert_eq!(all, text);
    }

    #[test]
    fn list_lines_are_sentences_of_their_own() {
        let text = "Ingredients:\n- 500 g flour\n- 350 g water\nMix them.";
        let spans = Sentences::of(text).spans;
        let lines: Vec<&str> = spans.iter().map(|&(a, b)| text[a..b].trim()).collect();
        assert_eq!(
            lines,
            [
                "Ingredients:",
                "- 500 g flour",
                "- 350 g water",
                "Mix them."
            ]
        );
    }
}
