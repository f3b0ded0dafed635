//! Figures an answer states that no passage holds. A small model's most damaging error is a
//! confident number, time or code from its own memory ("closes at 17:30", "U+20AC") beside a
//! citation: the sentence around it shares enough words with a passage to pass the grounding
//! score, but the figure is what the person came for. Every token of the answer with a digit in it
//! must occur in the passages, as written or, for a whole number up to a hundred, spelt out.

/// The figures of `answer` found in none of `passages`, each once, in the order written.
pub fn unsupported_figures(answer: &str, passages: &[&str]) -> Vec<String> {
    let haystack = normalise(&passages.join("\n"));
    let mut missing: Vec<String> = Vec::new();
    let tokens: Vec<&str> = answer.split_whitespace().collect();
    for (i, raw) in tokens.iter().enumerate() {
        if is_list_marker(raw, tokens.get(i + 1).copied()) {
            continue;
        }
        let Some(figure) = figure(raw) else {
            continue;
        };
        if !held(&haystack, &figure) && !missing.contains(&figure) {
            missing.push(figure);
        }
    }
    missing
}

/// The figure in a whitespace-separated token: its citations removed, trimmed of the punctuation
/// around it, lowercased, thousands separators dropped; `None` when it has no digit.
fn figure(token: &str) -> Option<String> {
    let bare = crate::citations::strip_citations(token);
    let trimmed = bare.trim_matches(|c: char| !c.is_alphanumeric());
    if !trimmed.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(normalise(trimmed))
}

/// A numbered list's "1." or "2)" before an item, not a figure.
fn is_list_marker(token: &str, next: Option<&str>) -> bool {
    let Some(number) = token.strip_suffix('.').or_else(|| token.strip_suffix(')')) else {
        return false;
    };
    number.len() <= 2
        && number.chars().all(|c| c.is_ascii_digit())
        && next.is_some_and(|n| {
            n.chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c == '*')
        })
}

/// Lowercased, with the commas between digits ("1,000") removed.
fn normalise(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = c == ','
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if !between_digits {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Whether `figure` occurs in `haystack` with no letter or digit either side: as written; as its
/// number alone when a unit is glued to it ("30cm", "1870s"); or spelt out ("five", "sixty").
fn held(haystack: &str, figure: &str) -> bool {
    if contains_whole(haystack, figure) {
        return true;
    }
    let digits: String = figure
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let unit_glued = !digits.is_empty()
        && digits.len() < figure.len()
        && figure[digits.len()..].chars().all(char::is_alphabetic);
    let number = if unit_glued { digits.as_str() } else { figure };
    if unit_glued && contains_whole(haystack, number) {
        return true;
    }
    number
        .parse::<u32>()
        .ok()
        .and_then(spelt)
        .is_some_and(|word| contains_whole(haystack, &word))
}

/// Whether `word` occurs in `text` with no letter or digit either side (a whole word, a whole
/// code: `EX-7` is not in `EX-70`).
pub fn contains_whole(text: &str, word: &str) -> bool {
    !word.is_empty()
        && text.match_indices(word).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
}

/// A whole number up to a hundred in words ("forty-two"); `None` above.
fn spelt(n: u32) -> Option<String> {
    const ONES: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    match n {
        0..=19 => Some(ONES[n as usize].to_string()),
        20..=99 if n.is_multiple_of(10) => Some(TENS[(n / 10) as usize].to_string()),
        20..=99 => Some(format!(
            "{}-{}",
            TENS[(n / 10) as usize],
            ONES[(n % 10) as usize]
        )),
        100 => Some("hundred".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSAGES: [&str; 2] = [
        "The bar serves cullen pie every day from noon. Ferries leave at 09:15 and 14,500 people visit.",
        "Claims must be made within sixty days. Use form EX-7 for dinners over 75 GBP; 2.3 percent of users.",
    ];

    #[test]
    fn figures_the_passages_hold_pass_in_any_of_their_spellings() {
        let answer = "Ferries leave at 09:15 [1], and 14500 people visit. Claim within 60 days \
                      using form EX-7 [2] for dinners over 75GBP; it affects 2.3% of users.";
        assert!(
            unsupported_figures(answer, &PASSAGES).is_empty(),
            "{:?}",
            unsupported_figures(answer, &PASSAGES)
        );
    }

    #[test]
    fn a_figure_from_the_models_memory_is_named() {
        let answer = "The Harbour Bar closes at 17:30 [1]. The euro sign is U+20AC. Use EX-9 [2].";
        assert_eq!(
            unsupported_figures(answer, &PASSAGES),
            ["17:30", "u+20ac", "ex-9"]
        );
        // A figure inside a longer one is not held: 1450 is not 14,500.
        assert_eq!(
            unsupported_figures("About 1450 visit.", &PASSAGES),
            ["1450"]
        );
    }

    #[test]
    fn list_markers_and_citations_are_not_figures() {
        let answer = "1. Ferries leave at 09:15 [1].\n2) **Claims** take sixty days [2].";
        assert!(unsupported_figures(answer, &PASSAGES).is_empty());
        assert_eq!(spelt(42).as_deref(), Some("forty-two"));
        assert_eq!(spelt(101), None);
    }
}
