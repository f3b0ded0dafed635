//! Sentence-aligned chunking in token windows with overlap.

use std::ops::{ControlFlow, Range};

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::document::{Document, SECTION_SEPARATOR, Splitting};

/// Splits text into tokens. In production this is the embedding model's tokenizer, so that a window of
/// `max_tokens` is exactly what the model sees.
pub trait Tokenize {
    /// Byte ranges of the tokens of `text`, in order, without special tokens.
    fn token_spans(&self, text: &str) -> Vec<Range<usize>>;
}

/// Counts whitespace-separated words as tokens. Useful where no model is at hand and in tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct WhitespaceTokens;

impl Tokenize for WhitespaceTokens {
    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    spans.push(s..i);
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            spans.push(s..text.len());
        }
        spans
    }
}

/// Window size and overlap, in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChunkerConfig {
    /// Largest number of tokens in one chunk.
    pub max_tokens: usize,
    /// Tokens that a chunk repeats from the end of the one before it.
    pub overlap_tokens: usize,
}

impl Default for ChunkerConfig {
    /// 256-token windows with 20% overlap.
    fn default() -> Self {
        ChunkerConfig {
            max_tokens: 256,
            overlap_tokens: 51,
        }
    }
}

/// One passage of a document, ready to embed and cite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Position of the chunk within its document, from 0.
    pub ordinal: u32,
    /// 1-based page, for paged formats.
    pub page: Option<u32>,
    /// Headings above the passage, outermost first.
    pub heading_path: Vec<String>,
    /// Start of the passage in [`Document::full_text`], in characters.
    pub char_start: u32,
    /// End (exclusive) of the passage in [`Document::full_text`], in characters.
    pub char_end: u32,
    /// Number of tokens in the passage.
    pub token_count: u32,
    /// The passage, exactly as it stands in the document text.
    pub text: String,
}

/// Cuts documents into chunks. See the crate documentation for an example.
#[derive(Debug, Clone)]
pub struct Chunker {
    config: ChunkerConfig,
    /// Text of a section gathered before its pieces are tokenized and packed into windows.
    block_bytes: usize,
}

/// A unit that chunk boundaries respect: a sentence, a line, or a piece of an over-long one.
#[derive(Debug, Clone)]
struct Piece {
    bytes: Range<usize>,
    tokens: usize,
}

/// Text of one section tokenized and windowed at a time: a section of any size (a 200 MB text file
/// is one) is chunked a block at a time, so the units and token spans held at once stay small.
const BLOCK_BYTES: usize = 1 << 20;

impl Chunker {
    /// A chunker with the given window. A zero window is treated as one token, and an overlap of the
    /// whole window or more as one token less than the window, so chunking always makes progress.
    pub fn new(config: ChunkerConfig) -> Chunker {
        let max_tokens = config.max_tokens.max(1);
        let overlap_tokens = config.overlap_tokens.min(max_tokens - 1);
        Chunker {
            config: ChunkerConfig {
                max_tokens,
                overlap_tokens,
            },
            block_bytes: BLOCK_BYTES,
        }
    }

    /// The effective window.
    pub fn config(&self) -> ChunkerConfig {
        self.config
    }

    /// Cuts every section of `doc` into chunks. Chunks never span two sections, so each has one page
    /// and one heading path.
    pub fn chunk(&self, doc: &Document, tokenizer: &dyn Tokenize) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        let _ = self.chunk_each(doc, tokenizer, &mut |chunk| {
            chunks.push(chunk);
            ControlFlow::Continue(())
        });
        chunks
    }

    /// Cuts `doc` into the chunks [`Chunker::chunk`] returns, handing each to `emit` as soon as it
    /// is cut, and stops early when `emit` breaks. Sections are tokenized a block (about 1 MB of
    /// text) at a time, so what this holds beyond the document does not grow with its size.
    pub fn chunk_each(
        &self,
        doc: &Document,
        tokenizer: &dyn Tokenize,
        emit: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut ordinal = 0u32;
        let mut section_char_start = 0usize;
        for section in &doc.sections {
            let text = section.text.as_str();
            let mut offsets = CharOffsets::new(text);
            let mut units = units(text, section.splitting).peekable();
            // Pieces not yet in a finished window; the first may be the overlap of the last one.
            let mut pieces: Vec<Piece> = Vec::new();
            loop {
                let mut block = Vec::new();
                for unit in units.by_ref() {
                    let full = unit.end
                        - block.first().map_or(unit.start, |b: &Range<usize>| b.start)
                        >= self.block_bytes;
                    block.push(unit);
                    if full {
                        break;
                    }
                }
                let last = units.peek().is_none();
                pieces.extend(self.pieces(text, &block, tokenizer));
                let (windows, consumed) = self.windows(&pieces, last);
                for window in windows {
                    let raw = &text[window.bytes.clone()];
                    let trimmed_start = window.bytes.start + (raw.len() - raw.trim_start().len());
                    let trimmed_end = window.bytes.end - (raw.len() - raw.trim_end().len());
                    if trimmed_start >= trimmed_end {
                        continue;
                    }
                    let char_start = section_char_start + offsets.char_index(trimmed_start);
                    let char_end = section_char_start + offsets.char_index(trimmed_end);
                    emit(Chunk {
                        ordinal,
                        page: section.page,
                        heading_path: section.heading_path.clone(),
                        char_start: char_start as u32,
                        char_end: char_end as u32,
                        token_count: window.tokens as u32,
                        text: text[trimmed_start..trimmed_end].to_string(),
                    })?;
                    ordinal += 1;
                }
                pieces.drain(..consumed);
                if last {
                    break;
                }
            }
            section_char_start += text.chars().count() + SECTION_SEPARATOR.chars().count();
        }
        ControlFlow::Continue(())
    }

    /// Splits `units` of a section's `text` into pieces no larger than the window, each with its
    /// token count.
    fn pieces(&self, text: &str, units: &[Range<usize>], tokenizer: &dyn Tokenize) -> Vec<Piece> {
        let spans = segmented_token_spans(text, units, tokenizer);
        let mut pieces = Vec::with_capacity(units.len());
        let mut next_token = 0;
        for unit in units.iter().cloned() {
            let first = next_token;
            while next_token < spans.len() && spans[next_token].start < unit.end {
                next_token += 1;
            }
            let unit_tokens = &spans[first..next_token];
            if unit_tokens.len() <= self.config.max_tokens {
                pieces.push(Piece {
                    bytes: unit,
                    tokens: unit_tokens.len(),
                });
                continue;
            }
            // A unit longer than a window (a run-on sentence, a minified line) is cut at token
            // boundaries: the only place left that does not split a token.
            let groups: Vec<&[Range<usize>]> = unit_tokens.chunks(self.config.max_tokens).collect();
            let mut start = unit.start;
            for (i, group) in groups.iter().enumerate() {
                let end = groups.get(i + 1).map_or(unit.end, |next| next[0].start);
                pieces.push(Piece {
                    bytes: start..end,
                    tokens: group.len(),
                });
                start = end;
            }
        }
        pieces
    }

    /// Packs pieces into windows of at most `max_tokens`, each new window repeating up to
    /// `overlap_tokens` from the end of the previous one. Unless these are the `last` pieces of
    /// their section, a window that reaches the end is not cut, for more pieces may join it.
    /// Returns the windows and how many leading pieces no later window needs.
    fn windows(&self, pieces: &[Piece], last: bool) -> (Vec<Piece>, usize) {
        let mut windows = Vec::new();
        let mut first = 0;
        while first < pieces.len() {
            let mut end = first;
            let mut tokens = 0;
            while end < pieces.len()
                && (end == first || tokens + pieces[end].tokens <= self.config.max_tokens)
            {
                tokens += pieces[end].tokens;
                end += 1;
            }
            if end == pieces.len() && !last {
                break;
            }
            windows.push(Piece {
                bytes: pieces[first].bytes.start..pieces[end - 1].bytes.end,
                tokens,
            });
            if end == pieces.len() {
                return (windows, end);
            }
            // Step back over whole pieces while they fit in the overlap, but always move forward.
            let mut next = end;
            let mut overlap = 0;
            while next > first + 1
                && overlap + pieces[next - 1].tokens <= self.config.overlap_tokens
            {
                overlap += pieces[next - 1].tokens;
                next -= 1;
            }
            first = next;
        }
        (windows, first)
    }
}

/// The units of a section that chunk boundaries respect, as byte ranges in order.
fn units(text: &str, splitting: Splitting) -> Box<dyn Iterator<Item = Range<usize>> + '_> {
    match splitting {
        Splitting::Sentences => Box::new(
            text.split_sentence_bound_indices()
                .map(|(start, s)| start..start + s.len()),
        ),
        Splitting::Lines => Box::new(text.split_inclusive('\n').scan(0, |start, line| {
            let range = *start..*start + line.len();
            *start = range.end;
            Some(range)
        })),
    }
}

/// Bytes of text handed to the tokenizer at once. A tokenizer's working memory is many times the text's
/// size; segmenting keeps a 200 MB text file from needing gigabytes.
const TOKENIZE_SEGMENT_BYTES: usize = 64 * 1024;

/// Token spans of `text`, tokenised in segments of whole units of at most
/// [`TOKENIZE_SEGMENT_BYTES`] (a single larger unit is its own segment).
fn segmented_token_spans(
    text: &str,
    units: &[Range<usize>],
    tokenizer: &dyn Tokenize,
) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut first = 0;
    while first < units.len() {
        let begin = units[first].start;
        let mut last = first + 1;
        while last < units.len() && units[last].end - begin <= TOKENIZE_SEGMENT_BYTES {
            last += 1;
        }
        let end = units[last - 1].end;
        spans.extend(
            tokenizer
                .token_spans(&text[begin..end])
                .into_iter()
                .map(|r| r.start + begin..r.end + begin),
        );
        first = last;
    }
    spans
}

/// Converts byte offsets to character offsets, moving a cursor rather than recounting from the start.
struct CharOffsets<'a> {
    text: &'a str,
    byte: usize,
    char: usize,
}

impl<'a> CharOffsets<'a> {
    fn new(text: &'a str) -> Self {
        CharOffsets {
            text,
            byte: 0,
            char: 0,
        }
    }

    fn char_index(&mut self, byte: usize) -> usize {
        if byte >= self.byte {
            self.char += self.text[self.byte..byte].chars().count();
        } else {
            self.char -= self.text[byte..self.byte].chars().count();
        }
        self.byte = byte;
        self.char
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Document, Section};

    fn chunk(
        sections: Vec<Section>,
        max_tokens: usize,
        overlap_tokens: usize,
    ) -> (Document, Vec<Chunk>) {
        let doc = Document::from_sections(sections);
        let chunks = Chunker::new(ChunkerConfig {
            max_tokens,
            overlap_tokens,
        })
        .chunk(&doc, &WhitespaceTokens);
        (doc, chunks)
    }

    /// The character span of every chunk must select exactly its text from the document.
    fn assert_spans_exact(doc: &Document, chunks: &[Chunk]) {
        let full: Vec<char> = doc.full_text().chars().collect();
        for c in chunks {
            let span: String = full[c.char_start as usize..c.char_end as usize]
                .iter()
                .collect();
            assert_eq!(span, c.text, "chunk {} span", c.ordinal);
        }
    }

    #[test]
    fn windows_respect_size_overlap_and_sentences() {
        // Ten sentences of three words each.
        let text: String = (0..10).map(|i| format!("Sentence number {i}. ")).collect();
        for (max, overlap, want_texts) in [
            (
                6,
                0,
                vec![
                    "Sentence number 0. Sentence number 1.",
                    "Sentence number 2. Sentence number 3.",
                ],
            ),
            (
                6,
                3,
                vec![
                    "Sentence number 0. Sentence number 1.",
                    "Sentence number 1. Sentence number 2.",
                ],
            ),
            (
                9,
                3,
                vec![
                    "Sentence number 0. Sentence number 1. Sentence number 2.",
                    "Sentence number 2. Sentence number 3. Sentence number 4.",
                ],
            ),
        ] {
            let (doc, chunks) = chunk(vec![Section::new(None, vec![], text.clone())], max, overlap);
            let got: Vec<&str> = chunks.iter().take(2).map(|c| c.text.as_str()).collect();
            assert_eq!(got, want_texts, "max {max} overlap {overlap}");
            assert!(chunks.iter().all(|c| c.token_count as usize <= max));
            assert!(chunks.last().unwrap().text.ends_with("Sentence number 9."));
            assert_spans_exact(&doc, &chunks);
        }
    }

    #[test]
    fn an_over_long_sentence_is_cut_at_token_boundaries() {
        let words: Vec<String> = (0..25).map(|i| format!("w{i}")).collect();
        let (doc, chunks) = chunk(vec![Section::new(None, vec![], words.join(" "))], 10, 0);
        let counts: Vec<u32> = chunks.iter().map(|c| c.token_count).collect();
        assert_eq!(counts, vec![10, 10, 5]);
        assert!(chunks[1].text.starts_with("w10 ") && chunks[1].text.ends_with(" w19"));
        assert_spans_exact(&doc, &chunks);
    }

    #[test]
    fn chunks_keep_page_heading_and_exact_spans_across_sections() {
        let (doc, chunks) = chunk(
            vec![
                Section::new(Some(1), vec!["Ch 1".into()], "Über alles. Ça va."),
                Section::new(
                    Some(2),
                    vec!["Ch 1".into(), "Part b".into()],
                    "Naïve café. Done.",
                ),
            ],
            4,
            0,
        );
        assert_eq!(chunks.len(), 2);
        assert_eq!((chunks[0].page, chunks[1].page), (Some(1), Some(2)));
        assert_eq!(
            chunks[1].heading_path,
            vec!["Ch 1".to_string(), "Part b".to_string()]
        );
        assert_eq!(chunks[1].ordinal, 1);
        assert_spans_exact(&doc, &chunks);
    }

    #[test]
    fn code_splits_on_lines() {
        let mut section = Section::new(None, vec![], "fn a() {}\nfn b() {}\nfn c() {}\n");
        section.splitting = Splitting::Lines;
        // Three whitespace tokens a line: two lines fill a six-token window.
        let (_, chunks) = chunk(vec![section], 6, 0);
        assert_eq!(chunks[0].text, "fn a() {}\nfn b() {}");
        assert_eq!(chunks[1].text, "fn c() {}");
    }

    #[test]
    fn a_section_larger_than_a_tokenizer_segment_chunks_the_same() {
        let sentence = "Tides rise and fall twice a day along the coast. ";
        let text = sentence.repeat(TOKENIZE_SEGMENT_BYTES * 3 / sentence.len());
        let (doc, chunks) = chunk(vec![Section::new(None, vec![], text)], 50, 10);
        assert!(
            chunks
                .iter()
                .all(|c| c.token_count <= 50 && c.token_count >= 40)
        );
        let total_words = doc.full_text().split_whitespace().count() as u32;
        let covered: u32 = chunks.iter().map(|c| c.token_count).sum();
        assert!(covered >= total_words, "every token is in some chunk");
        assert_spans_exact(&doc, &chunks);
    }

    #[test]
    fn a_section_chunked_in_blocks_gives_the_chunks_of_one_pass() {
        let sentence = "Gulls follow the ferry out past the breakwater at dawn. ";
        let mut text = String::new();
        for i in 0..4000 {
            text.push_str(&format!("{i} {sentence}"));
            if i % 7 == 0 {
                // A sentence longer than a window, which is cut at token boundaries.
                text.push_str(&"lantern ".repeat(60));
                text.push_str(". ");
            }
        }
        let doc = Document::from_sections(vec![
            Section::new(Some(1), vec!["A".into()], text.clone()),
            Section::new(Some(2), vec![], text),
        ]);
        let config = ChunkerConfig {
            max_tokens: 40,
            overlap_tokens: 9,
        };
        let one_pass = Chunker {
            block_bytes: usize::MAX,
            ..Chunker::new(config)
        }
        .chunk(&doc, &WhitespaceTokens);
        let blocks = Chunker {
            block_bytes: 1000,
            ..Chunker::new(config)
        };
        let mut streamed = Vec::new();
        let flow = blocks.chunk_each(&doc, &WhitespaceTokens, &mut |c| {
            streamed.push(c);
            ControlFlow::Continue(())
        });
        assert_eq!(flow, ControlFlow::Continue(()));
        assert!(one_pass.len() > 500, "{}", one_pass.len());
        assert_eq!(streamed, one_pass);
        assert_spans_exact(&doc, &streamed);

        let mut taken = 0;
        let flow = blocks.chunk_each(&doc, &WhitespaceTokens, &mut |_| {
            taken += 1;
            if taken == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(
            (flow, taken),
            (ControlFlow::Break(()), 3),
            "emit stops the chunking"
        );
    }

    #[test]
    fn degenerate_windows_still_make_progress() {
        let (_, chunks) = chunk(vec![Section::new(None, vec![], "a. b. c.")], 0, 5);
        assert_eq!(chunks.len(), 3);
    }
}
