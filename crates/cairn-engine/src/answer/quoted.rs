//! The quoted answer: when the output check finds that what a model wrote is not supported by its
//! passages, the sentences of those passages that bear most on the question are shown in its
//! place, each quoted with its citation under a line saying they are quoted. Only when no sentence
//! comes near the question does the answer decline. Small models often write an answer their
//! passages do not carry; the passages themselves usually do.

use cairn_guard::sentences;
use cairn_models::{BertEmbedder, Embedder};

use crate::answer::citation::Citation;

/// Most sentences quoted.
const MOST: usize = 3;
/// Fewest words in a sentence worth quoting: shorter ones are headings and fragments.
const FEWEST_WORDS: usize = 5;
/// Most sentences weighed (the passages' first ones), so a long passage cannot make it slow.
const MOST_WEIGHED: usize = 96;

/// A sentence of one of the passages, and how near it is to the question.
#[derive(Debug, Clone)]
pub(crate) struct Quote {
    /// Index of its passage in the passages given.
    passage: usize,
    /// Position among all the sentences weighed, for keeping the passages' order.
    order: usize,
    /// The sentence, its whitespace collapsed.
    sentence: String,
    /// Cosine similarity to the question.
    score: f32,
}

/// Up to [`MOST`] sentences of `passages` whose similarity to `question` reaches `floor`, in the
/// order the passages hold them; none when no sentence reaches it (or the embedder fails: then
/// nothing is quoted rather than something unweighed).
pub(crate) fn supporting_sentences(
    embedder: &BertEmbedder,
    question: &str,
    passages: &[Citation],
    floor: f32,
) -> Vec<Quote> {
    let mut weighed: Vec<Quote> = Vec::new();
    for (passage, citation) in passages.iter().enumerate() {
        for sentence in sentences(&citation.text) {
            let words: Vec<&str> = sentence.split_whitespace().collect();
            if words.len() >= FEWEST_WORDS && weighed.len() < MOST_WEIGHED {
                weighed.push(Quote {
                    passage,
                    order: weighed.len(),
                    sentence: words.join(" "),
                    score: 0.0,
                });
            }
        }
    }
    if weighed.is_empty() {
        return Vec::new();
    }
    let mut texts = vec![question];
    texts.extend(weighed.iter().map(|q| q.sentence.as_str()));
    let Ok(vectors) = embedder.embed(&texts) else {
        return Vec::new();
    };
    // The embedder's vectors are unit length: their dot product is the cosine.
    let (q, rest) = vectors.split_first().expect("the question's vector");
    for (quote, v) in weighed.iter_mut().zip(rest) {
        quote.score = q.iter().zip(v).map(|(a, b)| a * b).sum();
    }
    weighed.retain(|quote| quote.score >= floor);
    weighed.sort_by(|a, b| b.score.total_cmp(&a.score));
    weighed.truncate(MOST);
    weighed.sort_by_key(|quote| quote.order);
    weighed
}

/// The quotes as blockquotes, each followed by its citation, and the passages they come from,
/// numbered from 1 in the order first quoted (each passage once).
pub(crate) fn render(quotes: &[Quote], passages: &[Citation]) -> (String, Vec<Citation>) {
    let mut cited: Vec<(usize, Citation)> = Vec::new();
    let mut lines = Vec::new();
    for quote in quotes {
        let n = match cited.iter().position(|(p, _)| *p == quote.passage) {
            Some(i) => i + 1,
            None => {
                let mut citation = passages[quote.passage].clone();
                citation.n = cited.len() + 1;
                citation.cited_by = "quote";
                cited.push((quote.passage, citation));
                cited.len()
            }
        };
        lines.push(format!("> “{}” [{n}]", quote.sentence));
    }
    (
        lines.join("\n\n"),
        cited.into_iter().map(|(_, c)| c).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(text: &str) -> Citation {
        Citation {
            n: 7,
            doc_path: "notes.md".into(),
            page: None,
            chunk_id: text.len().to_string(),
            heading: String::new(),
            text: text.into(),
            score: 0.5,
            cited_by: "model",
            tokens: 0,
        }
    }

    fn quote(passage: usize, order: usize, sentence: &str) -> Quote {
        Quote {
            passage,
            order,
            sentence: sentence.into(),
            score: 0.9,
        }
    }

    #[test]
    fn each_passage_is_cited_once_and_numbered_as_first_quoted() {
        let passages = [passage("A first one."), passage("A second one.")];
        let quotes = [
            quote(1, 0, "The lens was made in 1870."),
            quote(0, 1, "It was lit in 1871."),
            quote(1, 2, "It was moved in 1902."),
        ];
        let (text, cited) = render(&quotes, &passages);
        assert_eq!(
            text,
            "> “The lens was made in 1870.” [1]\n\n> “It was lit in 1871.” [2]\n\n> “It was moved in 1902.” [1]"
        );
        assert_eq!(cited.len(), 2);
        assert_eq!((cited[0].n, cited[0].text.as_str()), (1, "A second one."));
        assert_eq!((cited[1].n, cited[1].cited_by), (2, "quote"));
    }
}
