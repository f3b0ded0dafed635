//! The curated catalog (`catalog.toml`, compiled in): which chat models can be downloaded, how
//! much memory each needs, and which suits this machine.

use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, Result};

/// The tokens of context the memory estimate provides for.
pub const CONTEXT_TOKENS: u64 = 4096;

/// Memory beyond the weights and the KV cache: the runtime's work buffers (a batch's activations,
/// the logits over the vocabulary), the tokenizer and the app itself.
pub const OVERHEAD_BYTES: u64 = 512 * 1024 * 1024;

/// The share of the machine's memory a recommended model may need, in percent: the rest is left to
/// the system, the embedding model and the person's other programs.
pub const RECOMMEND_PERCENT: u64 = 60;

/// One model of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A stable id, e.g. `qwen3-4b`: what `cairn models pull` takes.
    pub id: String,
    /// The name a person reads, e.g. `Qwen3 4B`.
    pub name: String,
    /// The parameter count as published, e.g. `4B`.
    pub parameters: String,
    /// The Hugging Face repository, e.g. `unsloth/Qwen3-4B-GGUF`.
    pub repo: String,
    /// The revision to download (a branch or a commit).
    #[serde(default = "main")]
    pub revision: String,
    /// The GGUF file in the repository (Q4_K_M).
    pub file: String,
    /// The file's size in bytes.
    pub bytes: u64,
    /// The file's SHA-256, where one is published.
    pub sha256: Option<String>,
    /// The licence: its SPDX id where it has one, else its name.
    pub licence: String,
    /// What it is good at, in one line.
    pub good_at: String,
    /// `general.architecture` in the GGUF, e.g. `llama`, `qwen3`.
    pub architecture: String,
    /// Transformer layers.
    pub layers: u64,
    /// Key-value attention heads.
    pub kv_heads: u64,
    /// The dimension of one head.
    pub head_dim: u64,
}

fn main() -> String {
    "main".to_string()
}

impl Entry {
    /// The KV cache for [`CONTEXT_TOKENS`] tokens at 16 bits a value: keys and values, per layer
    /// and key-value head.
    pub fn kv_cache_bytes(&self) -> u64 {
        2 * self.layers * self.kv_heads * self.head_dim * CONTEXT_TOKENS * 2
    }

    /// The memory the model needs to answer: the file (memory-mapped whole), the KV cache for
    /// [`CONTEXT_TOKENS`] tokens and [`OVERHEAD_BYTES`].
    pub fn ram_bytes(&self) -> u64 {
        self.bytes + self.kv_cache_bytes() + OVERHEAD_BYTES
    }

    /// Whether the model fits comfortably in `total_ram` bytes of memory (see
    /// [`RECOMMEND_PERCENT`]).
    pub fn fits(&self, total_ram: u64) -> bool {
        self.ram_bytes().saturating_mul(100) <= total_ram.saturating_mul(RECOMMEND_PERCENT)
    }
}

/// The catalog: its entries, smallest memory need first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    entries: Vec<Entry>,
}

impl Catalog {
    /// The catalog compiled into Cairn.
    pub fn builtin() -> Catalog {
        Catalog::parse(include_str!("../catalog.toml")).expect("catalog.toml is checked by a test")
    }

    /// The catalog in the TOML file at `path` (the format of the built-in `catalog.toml`): a list
    /// of one's own, e.g. for a mirror.
    pub fn load(path: &std::path::Path) -> Result<Catalog> {
        let invalid = |reason: String| CatalogError::InvalidCatalog {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
        Catalog::parse(&text).map_err(invalid)
    }

    /// A catalog from TOML text (`[[model]]` tables).
    pub fn parse(text: &str) -> std::result::Result<Catalog, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            model: Vec<Entry>,
        }
        let mut entries = toml::from_str::<File>(text)
            .map_err(|e| e.to_string())?
            .model;
        for (i, e) in entries.iter().enumerate() {
            if entries[..i].iter().any(|o| o.id == e.id) {
                return Err(format!("the id {} is used twice", e.id));
            }
            if let Some(hash) = &e.sha256
                && !is_sha256(hash)
            {
                return Err(format!("{}: sha256 is not 64 lowercase hex digits", e.id));
            }
            if !e.file.ends_with(".gguf") || e.file.contains('/') || e.bytes == 0 {
                return Err(format!("{}: the file must be one .gguf of some size", e.id));
            }
        }
        entries.sort_by_key(Entry::ram_bytes);
        Ok(Catalog { entries })
    }

    /// Every entry, smallest memory need first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Result<&Entry> {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| CatalogError::UnknownModel(id.to_string()))
    }

    /// The largest model that fits comfortably in `total_ram` bytes (see [`Entry::fits`]); none
    /// when not even the smallest does.
    pub fn recommended(&self, total_ram: u64) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.fits(total_ram))
    }
}

/// Whether `text` is a SHA-256 as Hugging Face writes it: 64 lowercase hex digits.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn the_builtin_catalog_reads_and_has_the_ten_models() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.entries().len(), 10);
        assert!(
            catalog
                .entries()
                .iter()
                .all(|e| e.file.contains("Q4_K_M") || e.file.contains("q4_k_m"))
        );
        assert!(catalog.entries().iter().all(|e| e.sha256.is_some()));
    }

    #[test]
    fn memory_is_the_file_plus_a_4k_kv_cache_plus_overhead() {
        let catalog = Catalog::builtin();
        let qwen = catalog.get("qwen2.5-1.5b-instruct").unwrap();
        // 28 layers x 2 KV heads x 128 x 4096 tokens x 2 (K, V) x 2 bytes = 112 MiB.
        assert_eq!(qwen.kv_cache_bytes(), 112 * 1024 * 1024);
        assert_eq!(
            qwen.ram_bytes(),
            1_117_320_736 + 112 * 1024 * 1024 + 512 * 1024 * 1024
        );
    }

    #[test]
    fn the_recommendation_is_the_largest_model_within_60_percent_of_memory() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.recommended(GIB), None);
        assert_eq!(catalog.recommended(4 * GIB).unwrap().id, "qwen3-1.7b");
        assert_eq!(catalog.recommended(8 * GIB).unwrap().id, "qwen3-4b");
        assert_eq!(
            catalog.recommended(16 * GIB).unwrap().id,
            "qwen2.5-7b-instruct"
        );
        let eight = catalog.recommended(8 * GIB).unwrap();
        assert!(eight.ram_bytes() * 100 <= 8 * GIB * 60);
    }

    #[test]
    fn a_catalog_with_a_bad_hash_or_a_repeated_id_is_refused() {
        let entry = |id: &str, sha: &str| {
            format!(
                "[[model]]\nid = \"{id}\"\nname = \"N\"\nparameters = \"1B\"\nrepo = \"a/b\"\n\
                 file = \"m.gguf\"\nbytes = 10\nsha256 = \"{sha}\"\nlicence = \"MIT\"\n\
                 good_at = \"x\"\narchitecture = \"llama\"\nlayers = 1\nkv_heads = 1\nhead_dim = 1\n"
            )
        };
        let good = "a".repeat(64);
        assert!(Catalog::parse(&entry("x", &good)).is_ok());
        assert!(Catalog::parse(&entry("x", "ABC")).is_err());
        assert!(Catalog::parse(&(entry("x", &good) + &entry("x", &good))).is_err());
    }
}
