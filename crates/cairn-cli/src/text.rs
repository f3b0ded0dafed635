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

/// A duration as a person says it: `40 seconds`, `12 minutes`, `3 hours`, `2 days`.
pub fn age(secs: u64) -> String {
    let (n, unit) = match secs {
        0..120 => (secs, "second"),
        120..7_200 => (secs / 60, "minute"),
        7_200..172_800 => (secs / 3_600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The line said when a shared collection's offline copy answered instead of its store.
pub fn offline_copy_note(copy: &cairn_engine::FromOfflineCopy) -> String {
    format!(
        "(from this computer's offline copy of '{}', as the store had it {} ago: the store could \
         not be used: {})",
        copy.collection,
        age(copy.age_secs),
        copy.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_a_person_says_them() {
        assert_eq!(age(1), "1 second");
        assert_eq!(age(119), "119 seconds");
        assert_eq!(age(120), "2 minutes");
        assert_eq!(age(3_599), "59 minutes");
        assert_eq!(age(7_200), "2 hours");
        assert_eq!(age(200_000), "2 days");
    }
}
