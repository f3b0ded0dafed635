//! A GGUF vocabulary held compactly, and the two ways llama.cpp splits a word into its tokens: BPE
//! merges by rank for `gpt2` vocabularies, SentencePiece bigrams by score for `llama` ones.
//!
//! It is a `tokenizers::Model`, so the rest of the pipeline (normalizers, pre-tokenizers, special
//! tokens, decoders) stays Hugging Face's. What it replaces is the part that costs memory: the
//! `tokenizers` BPE keeps every token twice as its own `String` in two hash maps, plus a merge map,
//! and for a SentencePiece vocabulary a merge list derived from the scores. Gemma 3's 262,144
//! tokens came to 64 MB that way, over a quarter of its 270M model's file. Here every token's
//! text lies in one buffer, the index holds only ids, and merges are two sorted arrays.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hashbrown::HashTable;
use tokenizers::models::bpe::BpeTrainer;
use tokenizers::{Model, Token};

/// The vocabulary of a GGUF and how a word becomes its tokens; clones share it.
#[derive(Clone)]
pub struct GgufVocab {
    pieces: Arc<Pieces>,
    split: Arc<Split>,
}

/// Every token's text in one buffer, and an index from text to id.
struct Pieces {
    /// Token `i` is `text[starts[i]..starts[i + 1]]`.
    text: String,
    starts: Vec<u32>,
    /// Token ids by their text. Where two ids share a text, the first is found (as llama.cpp).
    index: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

enum Split {
    /// BPE: a word starts as characters; the adjacent pair of lowest rank merges first.
    Merges {
        /// `(left << 32) | right` of every merge, sorted; `ranks` and `merged` run beside it.
        pairs: Vec<u64>,
        ranks: Vec<u32>,
        merged: Vec<u32>,
        /// A word that is a token is that token, merges or not (llama.cpp's Llama 3 vocabularies).
        whole_words: bool,
    },
    /// SentencePiece: the adjacent pair whose joined text is the token of highest score merges first.
    Scores {
        scores: Vec<f32>,
        /// The `<0xAB>` token of each byte, for text no token covers.
        bytes: Box<[Option<u32>; 256]>,
        unknown: Option<u32>,
    },
}

impl Pieces {
    fn new(tokens: &[&str]) -> Pieces {
        let mut text = String::with_capacity(tokens.iter().map(|t| t.len()).sum());
        let mut starts = Vec::with_capacity(tokens.len() + 1);
        for t in tokens {
            starts.push(text.len() as u32);
            text.push_str(t);
        }
        starts.push(text.len() as u32);
        let hasher = hashbrown::DefaultHashBuilder::default();
        let mut index = HashTable::with_capacity(tokens.len());
        for id in 0..tokens.len() as u32 {
            let piece = piece_of(&text, &starts, id);
            let hash = hasher.hash_one(piece);
            if index
                .find(hash, |&other| piece_of(&text, &starts, other) == piece)
                .is_none()
            {
                index.insert_unique(hash, id, |&other| {
                    hasher.hash_one(piece_of(&text, &starts, other))
                });
            }
        }
        Pieces {
            text,
            starts,
            index,
            hasher,
        }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The text of token `id`.
    fn piece(&self, id: u32) -> &str {
        piece_of(&self.text, &self.starts, id)
    }

    /// The id of the token whose text is `piece`.
    fn id(&self, piece: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(piece);
        self.index
            .find(hash, |&id| self.piece(id) == piece)
            .copied()
    }

    /// The id of the token whose text is token `a`'s then token `b`'s.
    fn joined_id(&self, a: u32, b: u32) -> Option<u32> {
        let mut joined = String::with_capacity(self.piece(a).len() + self.piece(b).len());
        joined.push_str(self.piece(a));
        joined.push_str(self.piece(b));
        self.id(&joined)
    }
}

impl GgufVocab {
    /// A BPE vocabulary: `merges` are `"left right"`, in rank order. Merges naming a text that is
    /// not a token are left out, as they can never apply.
    pub fn bpe(tokens: &[&str], merges: &[&str], whole_words: bool) -> GgufVocab {
        let pieces = Pieces::new(tokens);
        let mut found: Vec<(u64, u32, u32)> = merges
            .iter()
            .enumerate()
            .filter_map(|(rank, m)| {
                let (a, b) = m.split_once(' ')?;
                let (a, b) = (pieces.id(a)?, pieces.id(b)?);
                let joined = pieces.joined_id(a, b)?;
                Some((u64::from(a) << 32 | u64::from(b), rank as u32, joined))
            })
            .collect();
        // The first rank of a pair listed twice is the one that applies.
        found.sort_unstable_by_key(|&(pair, rank, _)| (pair, rank));
        found.dedup_by_key(|&mut (pair, _, _)| pair);
        let split = Split::Merges {
            pairs: found.iter().map(|f| f.0).collect(),
            ranks: found.iter().map(|f| f.1).collect(),
            merged: found.iter().map(|f| f.2).collect(),
            whole_words,
        };
        GgufVocab {
            pieces: Arc::new(pieces),
            split: Arc::new(split),
        }
    }

    /// A SentencePiece vocabulary with one score per token (0 for a token the list leaves out).
    /// An unknown-token id outside the vocabulary is ignored.
    pub fn sentencepiece(tokens: &[&str], scores: Vec<f32>, unknown: Option<u32>) -> GgufVocab {
        let pieces = Pieces::new(tokens);
        let unknown = unknown.filter(|&id| (id as usize) < tokens.len());
        let mut bytes = Box::new([None; 256]);
        for (b, slot) in bytes.iter_mut().enumerate() {
            *slot = pieces.id(&format!("<0x{b:02X}>"));
        }
        let split = Split::Scores {
            scores,
            bytes,
            unknown,
        };
        GgufVocab {
            pieces: Arc::new(pieces),
            split: Arc::new(split),
        }
    }

    /// Token count.
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    fn id(&self, piece: &str) -> Option<u32> {
        self.pieces.id(piece)
    }

    /// `word`'s tokens by BPE merges, with their byte offsets in `word`.
    fn merge_by_rank(&self, word: &str, out: &mut Vec<Token>) {
        let Split::Merges {
            pairs,
            ranks,
            merged,
            whole_words,
        } = &*self.split
        else {
            unreachable!("a BPE vocabulary")
        };
        if *whole_words && let Some(id) = self.id(word) {
            out.push(self.token(id, 0, word.len()));
            return;
        }
        let merge_of = |a: u32, b: u32| -> Option<(u32, u32)> {
            let i = pairs
                .binary_search(&(u64::from(a) << 32 | u64::from(b)))
                .ok()?;
            Some((ranks[i], merged[i]))
        };
        let mut symbols = Symbols::chars(word, |c| self.id(c));
        // Lowest rank first; of equal ranks, the leftmost (as llama.cpp and Hugging Face). An
        // entry is (rank, left symbol, left id, right id, joined id); it is stale once either
        // side has merged since, which changes its id.
        symbols.merge_all(
            |symbols, left| {
                let right = symbols.next(left)?;
                let (a, b) = (symbols.id(left)?, symbols.id(right)?);
                let (rank, joined) = merge_of(a, b)?;
                Some(Reverse((rank, left, a, b, joined)))
            },
            |symbols, &Reverse((_, left, a, b, joined))| {
                let right = symbols.next(left)?;
                (symbols.id(left) == Some(a) && symbols.id(right) == Some(b))
                    .then_some((left, right, joined))
            },
        );
        // A character no token covers: its single bytes where they are tokens (llama.cpp).
        self.emit(&symbols, word, out, |b| {
            std::str::from_utf8(&[b]).ok().and_then(|s| self.id(s))
        });
    }

    /// `word`'s tokens by SentencePiece scores, with their byte offsets in `word`.
    fn merge_by_score(&self, word: &str, out: &mut Vec<Token>) {
        let Split::Scores {
            scores,
            bytes,
            unknown,
        } = &*self.split
        else {
            unreachable!("a SentencePiece vocabulary")
        };
        let mut symbols = Symbols::chars(word, |c| self.id(c));
        // An entry is stale once either side has merged since: the pair's length changed.
        symbols.merge_all(
            |symbols, left| {
                let right = symbols.next(left)?;
                let (start, end) = (symbols.span(left).0, symbols.span(right).1);
                let id = self.id(&word[start..end])?;
                Some(Bigram {
                    score: scores.get(id as usize).copied().unwrap_or(0.0),
                    left,
                    len: end - start,
                    id,
                })
            },
            |symbols, b| {
                let right = symbols.next(b.left)?;
                let (start, end) = (symbols.span(b.left).0, symbols.span(right).1);
                (end - start == b.len).then_some((b.left, right, b.id))
            },
        );
        // No token covers a character: its bytes as `<0xAB>` tokens.
        self.emit(&symbols, word, out, |b| bytes[b as usize].or(*unknown));
    }

    /// The merged symbols of `word` as tokens; a symbol no token is (one character) as the tokens
    /// `byte` gives its bytes, where it gives one.
    fn emit(
        &self,
        symbols: &Symbols,
        word: &str,
        out: &mut Vec<Token>,
        byte: impl Fn(u8) -> Option<u32>,
    ) {
        for s in symbols.alive() {
            let (start, end) = symbols.span(s);
            match symbols.id(s) {
                Some(id) => out.push(self.token(id, start, end)),
                None => out.extend(
                    word.as_bytes()[start..end]
                        .iter()
                        .filter_map(|&b| byte(b))
                        .map(|id| self.token(id, start, end)),
                ),
            }
        }
    }

    fn token(&self, id: u32, start: usize, end: usize) -> Token {
        Token::new(id, self.pieces.piece(id).to_string(), (start, end))
    }
}

fn piece_of<'a>(text: &'a str, starts: &[u32], id: u32) -> &'a str {
    &text[starts[id as usize] as usize..starts[id as usize + 1] as usize]
}

/// A SentencePiece candidate: the pair starting at symbol `left`, `len` bytes, joining into `id`.
struct Bigram {
    score: f32,
    left: usize,
    len: usize,
    id: u32,
}

impl Ord for Bigram {
    /// Highest score first; of equal scores, the leftmost (llama.cpp's `llm_bigram_spm`).
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.left.cmp(&self.left))
    }
}

impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Bigram {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Bigram {}

/// The pieces of a word while it merges: a list linked both ways over its characters, where a
/// merge grows the left piece over the right one and unlinks the right.
struct Symbols {
    /// Per symbol: byte span in the word, token id (`None` for a character no token is), links.
    start: Vec<usize>,
    end: Vec<usize>,
    id: Vec<Option<u32>>,
    prev: Vec<Option<usize>>,
    next: Vec<Option<usize>>,
    alive: Vec<bool>,
}

impl Symbols {
    fn chars(word: &str, id_of: impl Fn(&str) -> Option<u32>) -> Symbols {
        let n = word.chars().count();
        let mut s = Symbols {
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            id: Vec::with_capacity(n),
            prev: Vec::with_capacity(n),
            next: Vec::with_capacity(n),
            alive: vec![true; n],
        };
        for (i, (at, c)) in word.char_indices().enumerate() {
            let end = at + c.len_utf8();
            s.start.push(at);
            s.end.push(end);
            s.id.push(id_of(&word[at..end]));
            s.prev.push(i.checked_sub(1));
            s.next.push((i + 1 < n).then_some(i + 1));
        }
        s
    }

    fn len(&self) -> usize {
        self.start.len()
    }

    fn next(&self, i: usize) -> Option<usize> {
        self.next[i].filter(|_| self.alive[i])
    }

    fn prev(&self, i: usize) -> Option<usize> {
        self.prev[i].filter(|_| self.alive[i])
    }

    fn id(&self, i: usize) -> Option<u32> {
        self.id[i]
    }

    fn span(&self, i: usize) -> (usize, usize) {
        (self.start[i], self.end[i])
    }

    /// Joins `right` (the symbol after `left`) into `left`, which becomes token `id`.
    fn merge(&mut self, left: usize, right: usize, id: u32) {
        self.end[left] = self.end[right];
        self.id[left] = Some(id);
        self.alive[right] = false;
        self.next[left] = self.next[right];
        if let Some(after) = self.next[right] {
            self.prev[after] = Some(left);
        }
    }

    /// Merges until no candidate is left, the best first: `candidate(symbols, left)` is the pair
    /// starting at symbol `left` as a queue entry, and `current(symbols, entry)` the entry's
    /// `(left, right, joined id)` while it still holds (`None` once stale).
    fn merge_all<E: Ord>(
        &mut self,
        candidate: impl Fn(&Symbols, usize) -> Option<E>,
        current: impl Fn(&Symbols, &E) -> Option<(usize, usize, u32)>,
    ) {
        let mut queue: BinaryHeap<E> = (0..self.len()).filter_map(|l| candidate(self, l)).collect();
        while let Some(entry) = queue.pop() {
            let Some((left, right, id)) = current(self, &entry) else {
                continue;
            };
            self.merge(left, right, id);
            if let Some(prev) = self.prev(left) {
                queue.extend(candidate(self, prev));
            }
            queue.extend(candidate(self, left));
        }
    }

    fn alive(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&i| self.alive[i])
    }
}

impl Model for GgufVocab {
    type Trainer = BpeTrainer;

    fn tokenize(&self, sequence: &str) -> tokenizers::Result<Vec<Token>> {
        let mut out = Vec::new();
        if sequence.is_empty() {
            return Ok(out);
        }
        match *self.split {
            Split::Merges { .. } => self.merge_by_rank(sequence, &mut out),
            Split::Scores { .. } => self.merge_by_score(sequence, &mut out),
        }
        Ok(out)
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.id(token)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        ((id as usize) < self.len()).then(|| self.pieces.piece(id).to_string())
    }

    fn get_vocab(&self) -> HashMap<String, u32> {
        (0..self.len() as u32)
            .map(|id| (self.pieces.piece(id).to_string(), id))
            .collect()
    }

    fn get_vocab_size(&self) -> usize {
        self.len()
    }

    fn save(&self, _folder: &Path, _prefix: Option<&str>) -> tokenizers::Result<Vec<PathBuf>> {
        Err("a GGUF vocabulary is saved in its GGUF file".into())
    }

    fn get_trainer(&self) -> BpeTrainer {
        BpeTrainer::default()
    }
}

impl std::fmt::Debug for GgufVocab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match *self.split {
            Split::Merges { .. } => "BPE",
            Split::Scores { .. } => "SentencePiece",
        };
        write!(f, "GgufVocab({kind}, {} tokens)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(vocab: &GgufVocab, word: &str) -> Vec<u32> {
        vocab.tokenize(word).unwrap().iter().map(|t| t.id).collect()
    }

    #[test]
    fn bpe_merges_the_lowest_rank_first_and_the_leftmost_of_equal_ranks() {
        let tokens = ["a", "b", "c", "ab", "bc", "abc", "aa", "aaa"];
        // "b c" outranks "a b": "abc" splits as a + bc, then a + bc has no merge.
        let vocab = GgufVocab::bpe(&tokens, &["b c", "a b", "ab c"], false);
        assert_eq!(ids(&vocab, "abc"), vec![0, 4]);
        let vocab = GgufVocab::bpe(&tokens, &["a b", "ab c", "b c"], false);
        assert_eq!(ids(&vocab, "abc"), vec![5]);
        // Three a's: the left pair merges first.
        let vocab = GgufVocab::bpe(&tokens, &["a a"], false);
        let toks = vocab.tokenize("aaa").unwrap();
        assert_eq!(toks.iter().map(|t| t.id).collect::<Vec<_>>(), vec![6, 0]);
        assert_eq!(toks[0].offsets, (0, 2));
        assert_eq!(toks[1].offsets, (2, 3));
        // A word that is a token is taken whole where the vocabulary says so.
        let vocab = GgufVocab::bpe(&tokens, &["a a"], true);
        assert_eq!(ids(&vocab, "aaa"), vec![7]);
    }

    #[test]
    fn sentencepiece_merges_the_best_score_first_and_falls_back_to_bytes() {
        let bytes: Vec<String> = (0..=255u8).map(|b| format!("<0x{b:02X}>")).collect();
        let mut tokens = vec!["<unk>", "▁", "h", "i", "hi", "▁h", "▁hi"];
        tokens.extend(bytes.iter().map(String::as_str));
        let mut scores = vec![0.0, -1.0, -2.0, -2.0, -3.0, -1.5, -0.5];
        scores.resize(tokens.len(), 0.0);
        let vocab = GgufVocab::sentencepiece(&tokens, scores, Some(0));
        // ▁h (-1.5) beats hi (-3), then ▁h + i = ▁hi.
        assert_eq!(ids(&vocab, "▁hi"), vec![6]);
        // "é" is no token: its two UTF-8 bytes are.
        let toks = vocab.tokenize("hé").unwrap();
        let got: Vec<u32> = toks.iter().map(|t| t.id).collect();
        assert_eq!(got, vec![2, 7 + 0xC3, 7 + 0xA9]);
        assert_eq!(toks[1].offsets, (1, 3));
        assert_eq!(vocab.token_to_id("▁hi"), Some(6));
        assert_eq!(vocab.id_to_token(4).as_deref(), Some("hi"));
        assert_eq!(vocab.id_to_token(10_000), None);
    }

    #[test]
    fn an_unknown_id_outside_the_vocabulary_and_missing_scores_are_survived() {
        let vocab = GgufVocab::sentencepiece(&["a", "b", "ab"], vec![0.0], Some(99));
        assert_eq!(ids(&vocab, "abé"), vec![2]);
    }
}
