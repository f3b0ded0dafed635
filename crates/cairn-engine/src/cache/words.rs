//! The word check: two questions close in meaning are still different questions when they differ in
//! a number, a negation, a pair of opposites, a name, the kind of thing asked for, or one swapped
//! word.

use std::collections::BTreeSet;

use crate::cache::lexicon::{FILLER, NEGATIONS, NUMBER_WORDS, OPPOSITES, PREFIXES, SYNONYMS};

/// Words, lower-cased, with contractions opened ("don't" → "do not", "what's" → "what is") and
/// possessives dropped ("Anna's" → "anna").
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text
        .to_lowercase()
        .replace(['’', '‘'], "'")
        .split_whitespace()
    {
        let opened = match raw.split_once('\'') {
            Some((stem, tail)) => {
                let tail = tail.trim_end_matches(|c: char| !c.is_alphanumeric());
                match (stem, tail) {
                    ("can" | "ca", "t") => "can not".to_string(),
                    ("won" | "wo", "t") => "will not".to_string(),
                    (_, "t") if stem.ends_with('n') => format!("{} not", &stem[..stem.len() - 1]),
                    (
                        "what" | "it" | "that" | "there" | "who" | "where" | "how" | "he" | "she"
                        | "here" | "when" | "why" | "which",
                        "s",
                    ) => format!("{stem} is"),
                    (_, "s") => stem.to_string(),
                    (_, "re") => format!("{stem} are"),
                    (_, "ll") => format!("{stem} will"),
                    (_, "ve") => format!("{stem} have"),
                    (_, "m") => format!("{stem} am"),
                    (_, "d") => format!("{stem} would"),
                    _ => format!("{stem} {tail}"),
                }
            }
            None => raw.replace("cannot", "can not"),
        };
        out.extend(
            opened
                .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '%' || c == '$'))
                .map(|w| w.trim_matches('.'))
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
    }
    out
}

/// The question as compared for the same words: lower case, contractions opened, punctuation and
/// spacing dropped.
pub fn normalise(question: &str) -> String {
    words(question)
        .into_iter()
        .filter(|w| !matches!(w.as_str(), "please" | "pls" | "plz"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A crude stem: enough that "enabled", "enables" and "enable" compare equal.
fn stem(word: &str) -> String {
    let mut w = word.to_string();
    for suffix in ["ing", "ed", "es", "s", "e"] {
        if w.len() > suffix.len() + 3 && w.ends_with(suffix) {
            w.truncate(w.len() - suffix.len());
            break;
        }
    }
    w
}

/// What kind of answer a question asks for, where the words say so plainly.
fn asks_for(words: &[String]) -> Option<&'static str> {
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        let kind = match (w.as_str(), next) {
            ("how", Some("many" | "much" | "long" | "often" | "old" | "far" | "big")) => {
                Some(match next {
                    Some("many") => "count",
                    Some("much") => "amount",
                    Some("long") => "duration",
                    Some("often") => "frequency",
                    Some("old") => "age",
                    _ => "size",
                })
            }
            ("when", _) => Some("time"),
            ("where", _) => Some("place"),
            ("who" | "whom" | "whose", _) => Some("person"),
            ("why", _) => Some("reason"),
            ("what", Some("time" | "year" | "date" | "day" | "month")) => Some("time"),
            _ => None,
        };
        if kind.is_some() {
            return kind;
        }
    }
    None
}

fn is_number(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&word)
}

/// Words written with a capital inside a sentence, an inner capital or a digit, lower-cased: the
/// names a question is about.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let word: String = raw.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
        let looks_named = word.chars().skip(1).any(char::is_uppercase)
            || (!sentence_start && word.chars().next().is_some_and(char::is_uppercase));
        if looks_named && word.len() > 1 && word != "I" {
            out.insert(word.to_lowercase());
        }
        sentence_start = raw.ends_with(['.', '?', '!', ':']);
    }
    out
}

fn synonyms(a: &str, b: &str) -> bool {
    SYNONYMS
        .iter()
        .any(|set| set.iter().any(|w| stem(w) == a) && set.iter().any(|w| stem(w) == b))
}

/// Why two questions, however close in meaning, must not share an answer; `None` when nothing in
/// their words forbids it.
pub fn conflict(a: &str, b: &str) -> Option<String> {
    let (wa, wb) = (words(a), words(b));
    // Numbers (digits, number words, ordinals) must be the same.
    let numbers =
        |w: &[String]| -> BTreeSet<String> { w.iter().filter(|x| is_number(x)).cloned().collect() };
    let (na, nb) = (numbers(&wa), numbers(&wb));
    if na != nb {
        return Some(format!(
            "the numbers differ ({} / {})",
            na.into_iter().collect::<Vec<_>>().join(" "),
            nb.into_iter().collect::<Vec<_>>().join(" ")
        ));
    }
    // A negation on one side only.
    let negations = |w: &[String]| w.iter().filter(|x| NEGATIONS.contains(&x.as_str())).count();
    if negations(&wa) % 2 != negations(&wb) % 2 {
        return Some("one of them is negated".into());
    }
    // The kind of answer asked for, where either says it plainly ("where" against "how").
    let (ka, kb) = (asks_for(&wa), asks_for(&wb));
    if ka != kb {
        return Some(format!(
            "one asks for a {}, the other for a {}",
            ka.unwrap_or("description"),
            kb.unwrap_or("description")
        ));
    }
    // Names.
    let (ca, cb) = (names(a), names(b));
    let (la, lb): (BTreeSet<String>, BTreeSet<String>) =
        (wa.iter().cloned().collect(), wb.iter().cloned().collect());
    let unmatched = ca
        .iter()
        .filter(|n| !lb.contains(*n))
        .chain(cb.iter().filter(|n| !la.contains(*n)))
        .next();
    if let Some(name) = unmatched {
        return Some(format!("\"{name}\" is named in only one of them"));
    }
    // Words on one side only, stemmed.
    let sa: BTreeSet<String> = wa.iter().map(|w| stem(w)).collect();
    let sb: BTreeSet<String> = wb.iter().map(|w| stem(w)).collect();
    let only_a: Vec<&String> = sa.difference(&sb).collect();
    let only_b: Vec<&String> = sb.difference(&sa).collect();
    for (x, y) in OPPOSITES {
        let (x, y) = (stem(x), stem(y));
        if (only_a.contains(&&x) && only_b.contains(&&y))
            || (only_a.contains(&&y) && only_b.contains(&&x))
        {
            return Some(format!("\"{x}\" and \"{y}\" are opposites"));
        }
    }
    for x in &only_a {
        for y in &only_b {
            let (short, long) = if x.len() < y.len() { (x, y) } else { (y, x) };
            if short.len() >= 3
                && PREFIXES
                    .iter()
                    .any(|p| long.strip_prefix(p) == Some(short.as_str()))
            {
                return Some(format!("\"{long}\" negates \"{short}\""));
            }
        }
    }
    // One content word swapped for another that is not its synonym: "reset my password" and
    // "reset my username" are close in meaning and ask different things.
    let content = |only: &[&String]| -> Vec<String> {
        only.iter()
            .filter(|w| !FILLER.iter().any(|f| stem(f) == ***w))
            .map(|w| (*w).clone())
            .collect()
    };
    let (xa, xb) = (content(&only_a), content(&only_b));
    let unpaired_a: Vec<&String> = xa
        .iter()
        .filter(|x| !xb.iter().any(|y| synonyms(x, y)))
        .collect();
    let unpaired_b: Vec<&String> = xb
        .iter()
        .filter(|y| !xa.iter().any(|x| synonyms(x, y)))
        .collect();
    if unpaired_a.len() == 1 && unpaired_b.len() == 1 {
        return Some(format!(
            "\"{}\" was swapped for \"{}\"",
            unpaired_a[0], unpaired_b[0]
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opposite_questions_conflict_and_rephrasings_do_not() {
        for (a, b) in [
            ("How do I enable sync?", "How do I disable sync?"),
            (
                "Which files are backed up?",
                "Which files aren't backed up?",
            ),
            (
                "What changed in version 2.1?",
                "What changed in version 2.2?",
            ),
            (
                "What is the refund policy in Germany?",
                "What is the refund policy in France?",
            ),
            (
                "When was the contract signed?",
                "Where was the contract signed?",
            ),
            ("How do I reset my password?", "How do I reset my username?"),
            (
                "How do I install the agent?",
                "How do I uninstall the agent?",
            ),
            ("what is the largest file", "what is the smallest file"),
            ("how many days of leave", "how much leave"),
        ] {
            assert!(conflict(a, b).is_some(), "{a} / {b}");
            assert!(conflict(b, a).is_some(), "{b} / {a}");
        }
        for (a, b) in [
            ("How do I enable dark mode?", "how do i enable dark mode"),
            (
                "What's the refund policy?",
                "What is the refund policy, please?",
            ),
            ("How can I delete a file?", "How do I remove a file?"),
            (
                "What does the contract say about notice?",
                "What does the agreement say about notice?",
            ),
        ] {
            assert_eq!(conflict(a, b), None, "{a} / {b}");
        }
        assert_eq!(
            normalise("What's  the PLAN?"),
            normalise("what is the plan")
        );
    }
}
