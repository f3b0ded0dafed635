//! Text shortened for one line of a terminal listing.

/// `text` on one line, its runs of whitespace made single spaces, cut after `max_chars`
/// characters with an ellipsis.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}
