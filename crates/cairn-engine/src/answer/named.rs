//! Which document a question is about, when it says: a file name ("summarise onboarding.pdf"), or
//! the words of one ("summarise the expenses policy" for `harbourline-expenses-policy.md`).

use std::path::Path;

use cairn_store::DocumentRecord;

/// What a question says about which document it means.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Named {
    /// These documents, best match first (several when the words fit more than one equally).
    Found(Vec<DocumentRecord>),
    /// It names a file no document has.
    Missing(String),
    /// It names none.
    Unnamed,
}

/// Extensions a file name in a question may end with.
const EXTENSIONS: [&str; 14] = [
    "pdf", "docx", "doc", "md", "markdown", "txt", "html", "htm", "epub", "rtf", "odt", "csv",
    "json", "xml",
];

/// Words of a file name that do not tell one document from another.
const GENERIC: [&str; 12] = [
    "the", "and", "for", "final", "draft", "copy", "new", "old", "doc", "file", "notes", "v1",
];

/// The document `question` names among `documents`.
pub(crate) fn named_document(question: &str, documents: &[DocumentRecord]) -> Named {
    let lower = question.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | '?' | '!' | '"' | '\'' | '(' | ')')
        })
        .map(|w| w.trim_end_matches(['.', ':']))
        .filter(|w| !w.is_empty())
        .collect();
    // A file name, written out.
    for word in &words {
        let Some((stem, ext)) = word.rsplit_once('.') else {
            continue;
        };
        if stem.is_empty() || !EXTENSIONS.contains(&ext) {
            continue;
        }
        let exact: Vec<DocumentRecord> = documents
            .iter()
            .filter(|d| file_name(d) == *word)
            .cloned()
            .collect();
        if !exact.is_empty() {
            return Named::Found(exact);
        }
        let stem_match: Vec<DocumentRecord> = documents
            .iter()
            .filter(|d| file_stem(d) == stem)
            .cloned()
            .collect();
        if !stem_match.is_empty() {
            return Named::Found(stem_match);
        }
        return Named::Missing(word.to_string());
    }
    // The words of a file name: most of them in the question, and at least two (or one long one
    // that is the whole name).
    let asked = |w: &str| {
        words
            .iter()
            .any(|q| *q == w || q.strip_suffix('s') == Some(w) || w.strip_suffix('s') == Some(q))
    };
    let mut scored: Vec<(f32, usize, &DocumentRecord)> = documents
        .iter()
        .filter_map(|d| {
            let stem = file_stem(d);
            let name_words: Vec<&str> = stem
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() >= 3 && !GENERIC.contains(w))
                .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
                .collect();
            let matched = name_words.iter().filter(|w| asked(w)).count();
            let enough = matched >= 2 || (matched == 1 && name_words.len() == 1 && stem.len() >= 5);
            (enough && matched * 2 >= name_words.len())
                .then(|| (matched as f32 / name_words.len() as f32, matched, d))
        })
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.total_cmp(&a.0)));
    match scored.first() {
        None => Named::Unnamed,
        Some(&(share, matched, _)) => Named::Found(
            scored
                .iter()
                .take_while(|(s, m, _)| *m == matched && *s == share)
                .map(|(_, _, d)| (*d).clone())
                .collect(),
        ),
    }
}

/// Whether the question writes out a file name (`minutes.pdf`).
pub(crate) fn names_a_file(question: &str) -> bool {
    question.split_whitespace().any(|w| {
        w.trim_end_matches(['.', ',', ';', ':', '?', '!', '"', '\'', ')'])
            .rsplit_once('.')
            .is_some_and(|(stem, ext)| {
                !stem.is_empty() && EXTENSIONS.contains(&ext.to_lowercase().as_str())
            })
    })
}

/// The document's file name, lower-cased.
pub(crate) fn file_name(document: &DocumentRecord) -> String {
    Path::new(&document.path)
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().to_lowercase())
}

fn file_stem(document: &DocumentRecord) -> String {
    Path::new(&document.path)
        .file_stem()
        .map_or_else(String::new, |n| n.to_string_lossy().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_store::DocState;

    fn doc(id: i64, path: &str) -> DocumentRecord {
        DocumentRecord {
            id,
            collection: "default".into(),
            path: path.into(),
            kind: None,
            state: DocState::Indexed,
            content_hash: None,
            size_bytes: None,
            chunk_count: 1,
            page_count: None,
            error_code: None,
            error_message: None,
            warnings: Vec::new(),
            indexed_at: None,
            stamp: None,
        }
    }

    fn ids(named: Named) -> Vec<i64> {
        match named {
            Named::Found(docs) => docs.iter().map(|d| d.id).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_name_or_the_words_of_one_name_a_document() {
        let docs = [
            doc(1, "/lib/work/harbourline-expenses-policy.md"),
            doc(2, "/lib/work/Onboarding.pdf"),
            doc(3, "/lib/history/marrowby-ashcombe-canal.txt"),
            doc(4, "/lib/home/lease-2022.pdf"),
            doc(5, "/lib/home/lease-2023.pdf"),
        ];
        assert_eq!(ids(named_document("Summarise onboarding.pdf.", &docs)), [2]);
        assert_eq!(ids(named_document("summarise the onboarding", &docs)), [2]);
        assert_eq!(
            ids(named_document(
                "What does the expenses policy say about taxis?",
                &docs
            )),
            [1]
        );
        assert_eq!(
            ids(named_document(
                "list every date in the Ashcombe canal history",
                &docs
            )),
            [3]
        );
        // Two leases fit equally: both, for retrieval to choose between.
        assert_eq!(ids(named_document("summarise my lease", &docs)), [4, 5]);
        assert_eq!(
            named_document("summarise budget-2024.xlsx.pdf", &docs),
            Named::Missing("budget-2024.xlsx.pdf".into())
        );
        assert_eq!(
            named_document("What is the refund policy?", &docs),
            Named::Unnamed
        );
        assert!(names_a_file("Summarise Onboarding.PDF."));
        assert!(!names_a_file("What does section 4.2 say?"));
    }
}
