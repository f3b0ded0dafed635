//! Whether the retrieved passages bear on the question at all, before a model is asked: the best
//! passage is close in meaning, or a passage holds one of the question's distinctive terms word for
//! word. A form number, a product code or a person's name ("What is form EX-7 for?", "Who was
//! Josiah Cleeve?") is exactly what a sentence embedding blurs, and exactly what a passage that
//! answers the question repeats.

use cairn_guard::figures::contains_whole;
use cairn_index::Hit;

/// The gate's verdict.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Relevance {
    /// The best passage's cosine similarity to the question (0 when none has one).
    pub(crate) best_similarity: f32,
    /// A distinctive term of the question found in a passage, when similarity alone fell short.
    pub(crate) matched_term: Option<String>,
    /// Whether the passages are worth a model's time.
    pub(crate) relevant: bool,
}

impl Relevance {
    /// Why the gate decided as it did, in a few words for the trace.
    pub(crate) fn reason(&self, min_score: f32) -> String {
        match (&self.matched_term, self.relevant) {
            (Some(term), true) => format!(
                "best passage similarity {:.2} is below {min_score:.2}, but a passage names {term:?}",
                self.best_similarity
            ),
            (None, true) => format!("best passage similarity {:.2}", self.best_similarity),
            (_, false) => format!(
                "best passage similarity {:.2} is below {min_score:.2} and no passage names a distinctive term of the question",
                self.best_similarity
            ),
        }
    }
}

/// Judges `hits` for `question`: relevant when the best dense similarity reaches `min_score`, or
/// when a passage contains one of [`distinctive_terms`] as a whole word (case-insensitively).
pub(crate) fn judge(question: &str, hits: &[Hit], min_score: f32) -> Relevance {
    let best = hits
        .iter()
        .filter_map(|h| h.dense_score)
        .fold(f32::NEG_INFINITY, f32::max)
        .max(0.0);
    if hits.is_empty() {
        return Relevance {
            best_similarity: 0.0,
            matched_term: None,
            relevant: false,
        };
    }
    if best >= min_score {
        return Relevance {
            best_similarity: best,
            matched_term: None,
            relevant: true,
        };
    }
    let matched_term = distinctive_terms(question).into_iter().find(|term| {
        hits.iter()
            .any(|h| contains_whole(&h.passage.text.to_lowercase(), &term.to_lowercase()))
    });
    Relevance {
        best_similarity: best,
        relevant: matched_term.is_some(),
        matched_term,
    }
}

/// The words of a question that name one thing: a token with a digit in it (`EX-7`, `SEC-101`,
/// `2019`), a run of capitalised words not at the start of the question (`Josiah Cleeve`), or one
/// such word. Words a question starts with, and capitalised function words, are not distinctive.
/// A name is matched whole: its first name alone could be anyone's.
pub(crate) fn distinctive_terms(question: &str) -> Vec<String> {
    let words: Vec<&str> = question
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '?' | '!' | '"' | '(' | ')'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    let mut terms = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, terms: &mut Vec<String>| {
        if !run.is_empty() {
            terms.push(run.join(" "));
            run.clear();
        }
    };
    for (i, word) in words.iter().enumerate() {
        let coded = word.chars().any(|c| c.is_ascii_digit()) && word.chars().count() >= 2;
        let named = i > 0
            && word.chars().next().is_some_and(char::is_uppercase)
            && word.chars().count() >= 3
            && !COMMON.contains(&word.to_lowercase().as_str());
        if coded {
            flush(&mut run, &mut terms);
            terms.push(word.to_string());
        } else if named {
            run.push(word);
        } else {
            flush(&mut run, &mut terms);
        }
    }
    flush(&mut run, &mut terms);
    terms
}

/// Capitalised words that say nothing about which thing is meant.
const COMMON: [&str; 24] = [
    "the", "and", "what", "which", "who", "when", "where", "why", "how", "does", "did", "can",
    "could", "should", "would", "will", "are", "was", "were", "is", "for", "with", "about", "this",
];

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_index::Passage;

    fn hit(text: &str, similarity: f32) -> Hit {
        Hit {
            passage: Passage {
                chunk_id: "1:0".into(),
                doc_id: 1,
                doc_path: "/d.md".into(),
                ordinal: 0,
                page: None,
                heading: String::new(),
                char_start: 0,
                char_end: text.len() as u32,
                text: text.into(),
            },
            score: similarity,
            dense_score: Some(similarity),
            bm25_score: None,
            fused_score: None,
            rerank_score: None,
        }
    }

    #[test]
    fn codes_and_names_are_distinctive_and_question_words_are_not() {
        assert_eq!(distinctive_terms("What is form EX-7 for?"), ["EX-7"]);
        assert_eq!(
            distinctive_terms("Who was Josiah Cleeve?"),
            ["Josiah Cleeve"]
        );
        assert!(distinctive_terms("What does the lease say?").is_empty());
        assert_eq!(
            distinctive_terms("When did the Tartakower line appear in 1920?"),
            ["Tartakower", "1920"]
        );
    }

    #[test]
    fn a_close_passage_passes_on_similarity_alone() {
        let r = judge("anything", &[hit("text", 0.5)], 0.3);
        assert!(r.relevant && r.matched_term.is_none());
    }

    #[test]
    fn a_distant_passage_passes_only_when_it_names_the_term() {
        let naming = [hit("Use form EX-7 before any client dinner.", 0.2)];
        let r = judge("What is form EX-7 for?", &naming, 0.3);
        assert!(r.relevant);
        assert_eq!(r.matched_term.as_deref(), Some("EX-7"));
        // EX-70 is another form: a whole-word match only.
        let other = [hit("Use form EX-70 before any client dinner.", 0.2)];
        assert!(!judge("What is form EX-7 for?", &other, 0.3).relevant);
        assert!(!judge("What is form EX-7 for?", &[], 0.3).relevant);
        let r = judge(
            "Who was Mabel Orrin?",
            &[hit("Josiah Cleeve built it.", 0.1)],
            0.3,
        );
        assert!(!r.relevant);
        assert!(r.reason(0.3).contains("no passage names"));
    }
}
