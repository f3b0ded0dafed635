//! A question as typed, made safe to work with: control and invisible characters out, empty or
//! overlong refused with a reason a person understands.

use cairn_guard::injection;

use crate::error::{Error, Result};

/// The question without control characters (newlines and tabs kept), trimmed; empty or overlong is
/// an error a person understands.
pub(crate) fn clean_question(question: &str, max_chars: usize) -> Result<String> {
    let cleaned: String = question
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .filter(|c| !injection::is_invisible(*c))
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        return Err(Error::InvalidInput("the question is empty".into()));
    }
    let n = cleaned.chars().count();
    if n > max_chars {
        return Err(Error::InvalidInput(format!(
            "the question is {n} characters long; the limit is {max_chars} (answer.max_question_chars)"
        )));
    }
    Ok(cleaned)
}

/// A thread's title: its first question, cut at 80 characters.
pub(crate) fn title(question: &str) -> String {
    let mut t: String = question.chars().take(80).collect();
    if question.chars().count() > 80 {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_cleaned_and_bad_ones_refused_clearly() {
        assert_eq!(
            clean_question("  what\u{0}\u{7} is\u{202E} this?\n", 100).unwrap(),
            "what is this?"
        );
        assert!(
            clean_question(" \u{0} ", 100)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let long = "a".repeat(100_000);
        assert!(
            clean_question(&long, 4000)
                .unwrap_err()
                .to_string()
                .contains("100000 characters")
        );
    }
}
