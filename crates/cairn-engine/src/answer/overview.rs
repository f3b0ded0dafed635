//! An overview of a document too long for one prompt ("summarise the lease", "what is this report
//! about?"): the document is cut into as many consecutive parts as the answering model's window
//! has room for passages, and each part is represented by its most typical passage — the one
//! closest to the mean of the part's passage vectors, which the index already holds. The answering
//! model then writes the overview from those passages, in document order, citing each part.
//!
//! Every passage is weighed, none is read by a model twice, and no model reads the parts one by
//! one: on two cores a small model's notes on 30 pages take minutes, and what they add to an
//! overview is what the typical passages already say. A request for every item of a kind ("list
//! every date") still needs each part read, and goes the notes' way (`document.rs`).

use cairn_index::ChunkRow;

/// Weight of the request's own meaning beside a passage's typicality of its part, so that
/// "summarise what the lease says about repairs" leans each part's choice towards repairs.
const REQUEST_WEIGHT: f32 = 0.3;

/// Words that ask for an overview rather than for items found throughout.
const OVERVIEW_WORDS: [&str; 14] = [
    "summar",
    "overview",
    "gist",
    "tl;dr",
    "tldr",
    "main points",
    "key points",
    "main ideas",
    "key ideas",
    "outline",
    "recap",
    "in short",
    "in brief",
    "what is it about",
];

/// Whether `request` asks for an overview of a document ("summarise", "the gist of", "what is …
/// about").
pub(crate) fn asks_for_overview(request: &str) -> bool {
    let lower = request.to_lowercase();
    OVERVIEW_WORDS.iter().any(|w| lower.contains(w))
        || (lower.starts_with("what is") || lower.starts_with("what's"))
            && lower.trim_end_matches(['?', '.', ' ']).ends_with(" about")
}

/// The passages of `rows` (in document order, `counts` their tokens) that stand for the whole in
/// `room` tokens: one per part, the parts consecutive and of about equal length, each the passage
/// closest to its part's mean vector (leaning towards `request`); then, while room is left, the
/// next most typical ones. Returned as indices into `rows`, in document order.
pub(crate) fn typical_passages(
    rows: &[ChunkRow],
    counts: &[usize],
    room: usize,
    request: &[f32],
) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    if rows.is_empty() || total == 0 {
        return Vec::new();
    }
    if total <= room {
        return (0..rows.len()).collect();
    }
    let average = total.div_ceil(rows.len()).max(1);
    let parts = (room / average).clamp(1, rows.len());
    // Consecutive parts of about equal tokens.
    let mut bounds = Vec::with_capacity(parts);
    let (mut start, mut sum) = (0, 0);
    for (i, count) in counts.iter().enumerate() {
        sum += count;
        let due = total * (bounds.len() + 1) / parts;
        if sum >= due && bounds.len() + 1 < parts {
            bounds.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < rows.len() {
        bounds.push(start..rows.len());
    }
    // Each passage's score within its part, and the parts' candidates best first.
    let mut candidates: Vec<Vec<(usize, f32)>> = bounds
        .iter()
        .map(|range| {
            let mean = mean_vector(rows[range.clone()].iter().map(|r| r.vector.as_slice()));
            let mut scored: Vec<(usize, f32)> = range
                .clone()
                .map(|i| {
                    let typical = dot(&rows[i].vector, &mean);
                    (i, typical + REQUEST_WEIGHT * dot(&rows[i].vector, request))
                })
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1));
            scored
        })
        .collect();
    // Rounds: each part's best passage that still fits, then each part's next best, and so on.
    let mut chosen: Vec<usize> = Vec::new();
    let mut used = 0;
    loop {
        let mut added = false;
        for part in &mut candidates {
            if let Some(pos) = part.iter().position(|&(i, _)| used + counts[i] <= room) {
                let (i, _) = part.remove(pos);
                used += counts[i];
                chosen.push(i);
                added = true;
            }
        }
        if !added {
            break;
        }
    }
    chosen.sort_unstable();
    chosen
}

fn mean_vector<'a>(vectors: impl Iterator<Item = &'a [f32]>) -> Vec<f32> {
    let mut mean: Vec<f32> = Vec::new();
    let mut n = 0;
    for v in vectors {
        if mean.is_empty() {
            mean = vec![0.0; v.len()];
        }
        mean.iter_mut().zip(v).for_each(|(m, x)| *m += x);
        n += 1;
    }
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0 && norm > 0.0 {
        mean.iter_mut().for_each(|m| *m /= norm);
    }
    mean
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_index::Passage;

    fn row(ordinal: u32, vector: [f32; 2]) -> ChunkRow {
        ChunkRow {
            passage: Passage {
                chunk_id: format!("1:{ordinal}"),
                doc_id: 1,
                doc_path: "/lease.md".into(),
                ordinal,
                page: None,
                heading: String::new(),
                char_start: 0,
                char_end: 0,
                text: format!("passage {ordinal}"),
            },
            vector: vector.to_vec(),
        }
    }

    #[test]
    fn overview_requests_are_told_from_requests_for_items() {
        assert!(asks_for_overview("Summarise quickfix.txt"));
        assert!(asks_for_overview("Give me the gist of the lease"));
        assert!(asks_for_overview("What is the onboarding guide about?"));
        assert!(!asks_for_overview("List every deadline in the lease"));
        assert!(!asks_for_overview("What does the lease say about pets?"));
    }

    #[test]
    fn each_part_gives_its_most_typical_passage_in_document_order() {
        // Two topics, three passages each; the middle one of each part is its most typical.
        let rows = [
            row(0, [1.0, 0.0]),
            row(1, [0.9, 0.436]),
            row(2, [0.6, 0.8]),
            row(3, [0.0, 1.0]),
            row(4, [0.436, 0.9]),
            row(5, [0.8, 0.6]),
        ];
        let counts = [100; 6];
        let picked = typical_passages(&rows, &counts, 250, &[0.0, 0.0]);
        assert_eq!(picked, [1, 4]);
        // Room for everything: everything, in order.
        assert_eq!(
            typical_passages(&rows, &counts, 600, &[0.0, 0.0]),
            [0, 1, 2, 3, 4, 5]
        );
        // Never more than the room.
        let picked = typical_passages(&rows, &counts, 450, &[0.0, 0.0]);
        assert_eq!(picked.len(), 4);
    }

    #[test]
    fn a_passage_too_long_for_the_room_gives_way_to_one_that_fits() {
        let rows = [row(0, [1.0, 0.0]), row(1, [0.9, 0.436]), row(2, [1.0, 0.0])];
        let counts = [100, 900, 100];
        let picked = typical_passages(&rows, &counts, 250, &[0.0, 0.0]);
        assert!(picked.iter().map(|&i| counts[i]).sum::<usize>() <= 250);
        assert!(!picked.contains(&1));
    }
}
