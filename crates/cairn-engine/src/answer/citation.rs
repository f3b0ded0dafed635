//! Passages as an answer cites them: numbered as the model saw them, read back from the `[n]` in
//! its text (or, when it cited nothing, matched by the words they share), and the forms a thread
//! message and the answer cache keep.

use std::collections::HashSet;

use cairn_index::Hit;
use cairn_store::CitationRecord;
use serde::{Deserialize, Serialize};

/// A passage an answer cites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    /// The number in the answer: `[n]`.
    pub n: usize,
    /// The document.
    pub doc_path: String,
    /// Its page, for paged documents.
    pub page: Option<u32>,
    /// The chunk's id in the index.
    pub chunk_id: String,
    /// Heading path.
    pub heading: String,
    /// The passage.
    pub text: String,
    /// Retrieval score.
    pub score: f32,
    /// `model` when the answer cites it as `[n]`; `overlap` when the model cited nothing and the
    /// passage sharing most words with the answer is given as its source; `quote` when a fixed
    /// answer quotes it.
    pub cited_by: &'static str,
    /// Tokens of the context window it took (the chat model's tokens for the local model,
    /// estimated at 4 characters a token for a cloud one); 0 when it was not given to a model.
    pub tokens: usize,
}

impl Citation {
    /// Retrieved passage `hit`, numbered `n`.
    pub(crate) fn of_hit(n: usize, hit: &Hit, cited_by: &'static str) -> Citation {
        Citation {
            n,
            doc_path: hit.passage.doc_path.clone(),
            page: hit.passage.page,
            chunk_id: hit.passage.chunk_id.clone(),
            heading: hit.passage.heading.clone(),
            text: hit.passage.text.clone(),
            score: hit.score,
            cited_by,
            tokens: 0,
        }
    }

    /// Retrieved passages numbered from 1, best first.
    pub(crate) fn numbered(hits: &[Hit]) -> Vec<Citation> {
        hits.iter()
            .enumerate()
            .map(|(i, h)| Citation::of_hit(i + 1, h, "model"))
            .collect()
    }

    /// The document's file name.
    pub(crate) fn file_name(&self) -> String {
        std::path::Path::new(&self.doc_path)
            .file_name()
            .map_or(self.doc_path.clone(), |n| n.to_string_lossy().into_owned())
    }

    /// `file.pdf, p. 3` or `notes.md, Heading > Sub`.
    pub(crate) fn label(&self) -> String {
        let name = self.file_name();
        match (self.page, self.heading.is_empty()) {
            (Some(p), _) => format!("{name}, p. {p}"),
            (None, false) => format!("{name}, {}", self.heading),
            (None, true) => name,
        }
    }
}

/// A cited passage, as the answer cache and the review queue keep it (fields as on [`Citation`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedCitation {
    n: usize,
    doc_path: String,
    page: Option<u32>,
    chunk_id: String,
    heading: String,
    text: String,
    score: f32,
    cited_by: String,
    tokens: usize,
}

impl From<&Citation> for CachedCitation {
    fn from(c: &Citation) -> Self {
        CachedCitation {
            n: c.n,
            doc_path: c.doc_path.clone(),
            page: c.page,
            chunk_id: c.chunk_id.clone(),
            heading: c.heading.clone(),
            text: c.text.clone(),
            score: c.score,
            cited_by: c.cited_by.into(),
            tokens: c.tokens,
        }
    }
}

impl From<CachedCitation> for Citation {
    fn from(c: CachedCitation) -> Self {
        Citation {
            n: c.n,
            doc_path: c.doc_path,
            page: c.page,
            chunk_id: c.chunk_id,
            heading: c.heading,
            text: c.text,
            score: c.score,
            cited_by: if c.cited_by == "overlap" {
                "overlap"
            } else {
                "model"
            },
            tokens: c.tokens,
        }
    }
}

/// Citations as a thread message stores them.
pub(crate) fn citation_records(citations: &[Citation]) -> Vec<CitationRecord> {
    citations
        .iter()
        .map(|c| CitationRecord {
            n: c.n as i64,
            chunk_id: c.chunk_id.clone(),
            doc_path: c.doc_path.clone(),
            page: c.page.map(i64::from),
            heading: Some(c.heading.clone()).filter(|h| !h.is_empty()),
            text: c.text.clone(),
            score: Some(f64::from(c.score)),
        })
        .collect()
}

/// The citations in `answer`: each valid `[n]` (also `[1, 2]` and `[1][2]`), in order of first use.
/// When the model cited nothing, the passages supporting its clauses are given as its sources,
/// marked `overlap`.
pub(crate) fn cite(answer: &str, passages: &[Citation]) -> Vec<Citation> {
    let mut cited: Vec<usize> = Vec::new();
    for n in cairn_guard::citations(answer) {
        if (1..=passages.len()).contains(&n) && !cited.contains(&n) {
            cited.push(n);
        }
    }
    if cited.is_empty() {
        return overlap_sources(answer, passages);
    }
    cited.into_iter().map(|n| passages[n - 1].clone()).collect()
}

/// For an answer that cites nothing: each clause's best-supporting passage (weighted shared words,
/// numbers counting triple), marked `overlap`, in order of first support.
fn overlap_sources(answer: &str, passages: &[Citation]) -> Vec<Citation> {
    fn words(text: &str) -> HashSet<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3 || w.chars().any(|c| c.is_ascii_digit()))
            .map(str::to_lowercase)
            .collect()
    }
    let passage_words: Vec<_> = passages.iter().map(|p| words(&p.text)).collect();
    let mut chosen: Vec<usize> = Vec::new();
    for clause in answer.split(['.', ',', ';', ':', '!', '?', '\n']) {
        let clause_words = words(clause);
        let best = passage_words
            .iter()
            .enumerate()
            .map(|(i, pw)| {
                let score: usize = clause_words
                    .intersection(pw)
                    .map(|w| {
                        if w.chars().any(|c| c.is_ascii_digit()) {
                            3
                        } else {
                            1
                        }
                    })
                    .sum();
                (i, score)
            })
            .filter(|(_, score)| *score >= 3)
            .max_by_key(|(i, score)| (*score, std::cmp::Reverse(*i)));
        if let Some((i, _)) = best
            && !chosen.contains(&i)
        {
            chosen.push(i);
        }
    }
    chosen
        .into_iter()
        .map(|i| Citation {
            cited_by: "overlap",
            ..passages[i].clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(n: usize, text: &str) -> Citation {
        Citation {
            n,
            doc_path: format!("/docs/{n}.md"),
            page: None,
            chunk_id: format!("c{n}"),
            heading: String::new(),
            text: text.into(),
            score: 1.0,
            cited_by: "model",
            tokens: 0,
        }
    }

    #[test]
    fn citations_are_read_in_every_common_form_and_invalid_numbers_dropped() {
        let ps = vec![passage(1, "a"), passage(2, "b"), passage(3, "c")];
        let ns = |a: &str| cite(a, &ps).iter().map(|c| c.n).collect::<Vec<_>>();
        assert_eq!(ns("It was 1870 [2]. Also [1, 3]."), vec![2, 1, 3]);
        assert_eq!(ns("See [3][1] and [3]."), vec![3, 1]);
        assert_eq!(ns("Nothing valid [7] [x] [0]"), Vec::<usize>::new());
    }

    #[test]
    fn an_uncited_answer_gets_the_overlapping_passage_marked_as_such() {
        let ps = vec![
            passage(
                1,
                "Skerrow Point lighthouse is still an active aid to navigation.",
            ),
            passage(2, "The Fresnel lens was made in 1870 in Paris."),
            passage(3, "Tides follow the moon."),
        ];
        let c = cite(
            "The Fresnel lens was made in 1870, and Skerrow Point lighthouse is still an active aid.",
            &ps,
        );
        let got: Vec<_> = c.iter().map(|c| (c.n, c.cited_by)).collect();
        assert_eq!(got, vec![(2, "overlap"), (1, "overlap")]);
        assert!(cite("Unrelated words entirely.", &ps).is_empty());
    }
}
