//! Citation marks in a model's answer: `[1]`, `[2, 3]`. Read by the output check and the figure
//! check alike.

/// The `[n]`, `[n, m]` citation numbers in a text, in order (repeats kept).
pub fn citations(sentence: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (open, _) in sentence.match_indices('[') {
        if let Some(close) = sentence[open..].find(']') {
            let inside = &sentence[open + 1..open + close];
            if !inside.trim().is_empty()
                && inside
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ',' || c == ' ')
            {
                out.extend(
                    inside
                        .split(',')
                        .filter_map(|s| s.trim().parse::<usize>().ok()),
                );
            }
        }
    }
    out
}

/// `sentence` without its `[n]` citations.
pub(crate) fn strip_citations(sentence: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for c in sentence.chars() {
        match c {
            '[' => skip = true,
            ']' => skip = false,
            _ if !skip => out.push(c),
            _ => {}
        }
    }
    out
}
