//! Finding a passage in a page's text, for highlighting it: word by word, so the line breaks,
//! hyphenation and spacing a passage lost on its way through chunking do not matter.

/// The span of `page` (in chars, end exclusive) that holds `passage`. Every word of the passage
/// in order where it is there whole; else from where its first words are to where its last
/// words are (a passage cut mid-word at either end still lands). `None` when neither end is found.
pub(crate) fn find_passage(page: &str, passage: &str) -> Option<(usize, usize)> {
    let page_words = words(page);
    let wanted: Vec<String> = words(passage).into_iter().map(|w| w.text).collect();
    if wanted.is_empty() || page_words.is_empty() {
        return None;
    }
    let texts: Vec<&str> = page_words.iter().map(|w| w.text.as_str()).collect();
    let span = |first: usize, last: usize| (page_words[first].start, page_words[last].end);
    if let Some(at) = find(&texts, &wanted, 0) {
        return Some(span(at, at + wanted.len() - 1));
    }
    // A passage cut mid-word: its first and last words may be fragments; leave them out.
    let inner = if wanted.len() > 2 {
        &wanted[1..wanted.len() - 1]
    } else {
        &wanted[..]
    };
    let anchor = inner.len().min(ANCHOR_WORDS);
    let (head, tail) = (&inner[..anchor], &inner[inner.len() - anchor..]);
    let start = find(&texts, head, 0);
    let end = find(&texts, tail, start.unwrap_or(0)).map(|at| at + tail.len() - 1);
    match (start, end) {
        (Some(s), Some(e)) if e >= s => Some(span(s, e)),
        (Some(s), _) => Some(span(s, (s + wanted.len() - 1).min(page_words.len() - 1))),
        (None, Some(e)) => Some(span(e.saturating_sub(wanted.len() - 1), e)),
        _ => None,
    }
}

/// Words matched at each end of a passage that is not on the page whole.
const ANCHOR_WORDS: usize = 6;

struct Word {
    text: String,
    start: usize,
    end: usize,
}

/// Runs of letters and digits, lower-cased, with their char span.
fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current: Option<Word> = None;
    for (i, c) in text.chars().enumerate() {
        if c.is_alphanumeric() {
            let word = current.get_or_insert_with(|| Word {
                text: String::new(),
                start: i,
                end: i,
            });
            word.text.extend(c.to_lowercase());
            word.end = i + 1;
        } else if let Some(word) = current.take() {
            out.push(word);
        }
    }
    out.extend(current);
    out
}

fn find(haystack: &[&str], needle: &[String], from: usize) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    (from..=haystack.len() - needle.len())
        .find(|&i| needle.iter().zip(&haystack[i..]).all(|(a, b)| a == b))
}

#[cfg(test)]
mod tests {
    use super::find_passage;

    fn found(page: &str, passage: &str) -> Option<String> {
        find_passage(page, passage).map(|(s, e)| page.chars().skip(s).take(e - s).collect())
    }

    #[test]
    fn a_whole_passage_is_found_across_line_breaks_and_case() {
        let page = "Intro.\r\nThe Quick brown\r\nfox jumps. Next one.";
        assert_eq!(
            found(page, "the quick brown fox jumps").as_deref(),
            Some("The Quick brown\r\nfox jumps")
        );
    }

    #[test]
    fn a_passage_cut_mid_word_is_found_by_its_ends() {
        let page = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu";
        let passage = "ta gamma delta epsilon zeta eta theta iota kappa lamb";
        assert_eq!(
            found(page, passage).as_deref(),
            Some("gamma delta epsilon zeta eta theta iota kappa")
        );
    }

    #[test]
    fn text_that_is_not_there_is_not_found() {
        assert_eq!(found("one two three", "four five six seven"), None);
        assert_eq!(found("one two three", "  ... "), None);
    }
}
