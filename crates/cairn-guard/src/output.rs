//! Output checks on a generated answer: grounding (is each sentence supported by the passages it
//! cites?), citation validity (do the cited numbers exist?), and a policy filter (banned terms).
//! Every outcome is returned; the caller decides what a failed check means (the engine falls to its
//! deterministic tier when an answer is not grounded).

use serde::{Deserialize, Serialize};

use crate::citations::{citations, strip_citations};

/// Embedding similarity of two texts (cosine, in -1..=1).
pub type Similarity<'a> = dyn Fn(&str, &str) -> f32 + 'a;

/// Output-check settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// A sentence is supported when its support score reaches this.
    pub sentence_support: f32,
    /// An answer is grounded when this fraction of its checked sentences is supported.
    pub grounding_threshold: f32,
    /// Terms (case-insensitive, whole words) an answer may not contain.
    pub banned_terms: Vec<String>,
    /// When an answer is not grounded, the passages' sentences whose similarity to the question
    /// reaches this are quoted in its place; below it for every sentence, the answer declines.
    pub quote_floor: f32,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            sentence_support: 0.45,
            grounding_threshold: 0.5,
            banned_terms: Vec::new(),
            quote_floor: 0.35,
        }
    }
}

/// One sentence's check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentenceCheck {
    /// The sentence.
    pub sentence: String,
    /// Passages it cites (or, citing none, the passage that supports it best).
    pub against: Vec<usize>,
    /// Lexical overlap with the best passage: the share of its content words found there.
    pub overlap: f32,
    /// Embedding similarity to the best passage, when a similarity function was given.
    pub similarity: Option<f32>,
    /// The support score: the mean of the two (or the overlap alone).
    pub score: f32,
    /// Whether it is supported.
    pub supported: bool,
}

/// Every output check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputReport {
    /// Per checked sentence (sentences with fewer than three content words are not checked).
    pub sentences: Vec<SentenceCheck>,
    /// Supported share of the checked sentences (1.0 when none needed checking).
    pub grounded_fraction: f32,
    /// Figures (numbers, times, codes) the answer states that no passage holds
    /// ([`crate::figures`]).
    pub unsupported_figures: Vec<String>,
    /// Whether the answer is grounded: enough of its sentences supported, and no figure of its
    /// own.
    pub grounded: bool,
    /// Citation numbers that name no passage.
    pub invalid_citations: Vec<usize>,
    /// Banned terms found.
    pub policy_hits: Vec<String>,
    /// All checks passed.
    pub passed: bool,
}

/// Checks `answer` against `passages` (numbered from 1). `similarity` gives the embedding similarity
/// of two texts, if available.
pub fn check_output(
    answer: &str,
    passages: &[&str],
    similarity: Option<&Similarity<'_>>,
    config: &OutputConfig,
) -> OutputReport {
    let passage_words: Vec<std::collections::HashSet<String>> = passages
        .iter()
        .map(|p| content_words(p).into_iter().collect())
        .collect();
    let mut sentences = Vec::new();
    let mut invalid = Vec::new();
    for sentence in self::sentences(answer) {
        let cited = citations(sentence);
        for n in &cited {
            if *n == 0 || *n > passages.len() {
                invalid.push(*n);
            }
        }
        let words = content_words(&strip_citations(sentence));
        if words.len() < 3 || passages.is_empty() {
            continue;
        }
        let valid: Vec<usize> = cited
            .iter()
            .copied()
            .filter(|n| (1..=passages.len()).contains(n))
            .collect();
        let candidates: Vec<usize> = if valid.is_empty() {
            (1..=passages.len()).collect()
        } else {
            valid
        };
        let overlap_of = |n: usize| {
            words
                .iter()
                .filter(|w| passage_words[n - 1].contains(*w))
                .count() as f32
                / words.len() as f32
        };
        let best = candidates
            .iter()
            .copied()
            .max_by(|a, b| overlap_of(*a).total_cmp(&overlap_of(*b)))
            .unwrap_or(1);
        let overlap = overlap_of(best);
        let sim = similarity.map(|f| {
            candidates
                .iter()
                .map(|n| f(sentence, passages[n - 1]))
                .fold(f32::MIN, f32::max)
        });
        let score = match sim {
            Some(s) => (overlap + s.max(0.0)) / 2.0,
            None => overlap,
        };
        sentences.push(SentenceCheck {
            sentence: sentence.trim().to_string(),
            against: if cited.is_empty() {
                vec![best]
            } else {
                candidates
            },
            overlap,
            similarity: sim,
            score,
            supported: score >= config.sentence_support,
        });
    }
    invalid.sort_unstable();
    invalid.dedup();
    let grounded_fraction = if sentences.is_empty() {
        1.0
    } else {
        sentences.iter().filter(|s| s.supported).count() as f32 / sentences.len() as f32
    };
    let unsupported_figures = if passages.is_empty() {
        Vec::new()
    } else {
        crate::figures::unsupported_figures(answer, passages)
    };
    // Given passages, "[1]" alone (or nothing at all) answers nothing.
    let says_something = passages.is_empty() || !content_words(&strip_citations(answer)).is_empty();
    let grounded = grounded_fraction >= config.grounding_threshold
        && unsupported_figures.is_empty()
        && says_something;
    let lower = answer.to_lowercase();
    let policy_hits: Vec<String> = config
        .banned_terms
        .iter()
        .filter(|t| {
            let t = t.to_lowercase();
            lower.match_indices(&t).any(|(i, _)| {
                let before = lower[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                let after = lower[i + t.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
                before && after
            })
        })
        .cloned()
        .collect();
    let passed = grounded && invalid.is_empty() && policy_hits.is_empty();
    OutputReport {
        sentences,
        grounded_fraction,
        unsupported_figures,
        grounded,
        invalid_citations: invalid,
        policy_hits,
        passed,
    }
}

/// The sentences of `text`, each with the citation that follows its full stop (`"… 1870. [1]"`).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let end_here = matches!(c, '.' | '!' | '?' | '\n')
            && bytes
                .get(i + 1)
                .is_none_or(|b| b.is_ascii_whitespace() || *b == b'[');
        if end_here {
            // Keep a citation that follows the full stop with its sentence: "... 1870. [1]"
            let mut end = i + c.len_utf8();
            let rest = &text[end..];
            let trimmed = rest.trim_start();
            if trimmed.starts_with('[')
                && let Some(close) = trimmed.find(']')
            {
                end += rest.len() - trimmed.len() + close + 1;
            }
            if end > start && !text[start..end].trim().is_empty() {
                out.push(&text[start..end]);
            }
            start = end;
        }
    }
    if start < text.len() && !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
}

const STOP: &[&str] = &[
    "the", "and", "for", "are", "was", "were", "that", "this", "with", "from", "have", "has",
    "had", "not", "but", "its", "it's", "they", "their", "there", "which", "what", "when", "where",
    "who", "will", "would", "can", "could", "been", "being", "also", "into", "than", "then",
    "these", "those", "such", "some", "any", "all", "each", "about", "over", "under", "very",
    "more", "most", "other", "only", "our", "your", "you", "his", "her", "she", "him",
];

fn content_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 || w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSAGES: [&str; 2] = [
        "The light itself is a first-order Fresnel lens made in 1870, a cage of brass holding 24 panels of prisms.",
        "Visitors climb 147 steps to reach the lantern room on Saturdays from May to September.",
    ];

    #[test]
    fn supported_sentences_pass_and_invented_ones_are_flagged() {
        let answer = "The Fresnel lens was made in 1870 from brass and prisms [1]. Visitors climb 147 steps [2]. \
                      The keeper's dog won three national swimming medals in Rio [1].";
        let r = check_output(answer, &PASSAGES, None, &OutputConfig::default());
        let supported: Vec<bool> = r.sentences.iter().map(|s| s.supported).collect();
        assert_eq!(supported, vec![true, true, false], "{r:#?}");
        assert!(r.grounded, "2 of 3 supported");
        let invented = check_output(
            "The keeper's dog won three swimming medals in Rio [1].",
            &PASSAGES,
            None,
            &OutputConfig::default(),
        );
        assert!(!invented.grounded && !invented.passed);
        // Well-worded, but its year is not the passage's.
        let misdated = check_output(
            "The Fresnel lens was made in 1871 from brass and prisms [1].",
            &PASSAGES,
            None,
            &OutputConfig::default(),
        );
        assert_eq!(misdated.unsupported_figures, ["1871"]);
        assert!(misdated.sentences[0].supported && !misdated.grounded);
        // A citation with no words is no answer.
        let bare = check_output("[1]", &PASSAGES, None, &OutputConfig::default());
        assert!(!bare.grounded);
        let short = check_output("In 1870 [1].", &PASSAGES, None, &OutputConfig::default());
        assert!(short.grounded);
    }

    #[test]
    fn citations_must_exist_and_banned_terms_are_caught() {
        let config = OutputConfig {
            banned_terms: vec!["medical advice".into()],
            ..OutputConfig::default()
        };
        let r = check_output(
            "The lens dates from 1870 [3]. This is not medical advice.",
            &PASSAGES,
            None,
            &config,
        );
        assert_eq!(r.invalid_citations, vec![3]);
        assert_eq!(r.policy_hits, vec!["medical advice".to_string()]);
        assert!(!r.passed);
    }

    #[test]
    fn a_similarity_function_joins_the_score() {
        let sim = |_: &str, _: &str| 1.0f32;
        let r = check_output(
            "The keeper's dog won three swimming medals [1].",
            &PASSAGES,
            Some(&sim),
            &OutputConfig::default(),
        );
        assert_eq!(r.sentences[0].similarity, Some(1.0));
        assert!(r.sentences[0].score >= 0.5);
    }
}
