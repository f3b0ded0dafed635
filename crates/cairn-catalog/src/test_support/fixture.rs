//! Small models for tests: a GGUF file that is a header and padding, and a catalog naming it.

use crate::test_support::server::HubServer;

/// A GGUF (version 3) of `len` bytes or a little more: a header naming `architecture` and
/// `general.name`, then zeros. Its header reads; no runtime could load it.
pub fn tiny_gguf(architecture: &str, len: usize) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend(0u64.to_le_bytes()); // tensors
    out.extend(2u64.to_le_bytes()); // metadata entries
    for (key, value) in [
        ("general.name", "Tiny"),
        ("general.architecture", architecture),
    ] {
        out.extend((key.len() as u64).to_le_bytes());
        out.extend(key.as_bytes());
        out.extend(8u32.to_le_bytes()); // a string
        out.extend((value.len() as u64).to_le_bytes());
        out.extend(value.as_bytes());
    }
    let fill = len.saturating_sub(out.len());
    out.extend(std::iter::repeat_n(0u8, fill));
    out
}

/// One `[[model]]` table for a catalog file: `content` as `file` of `repo`, with its size and
/// SHA-256, and the attention shape of a small llama.
pub fn catalog_entry(id: &str, repo: &str, file: &str, content: &[u8]) -> String {
    format!(
        "[[model]]\nid = \"{id}\"\nname = \"Tiny {id}\"\nparameters = \"0.01B\"\nrepo = \"{repo}\"\n\
         file = \"{file}\"\nbytes = {}\nsha256 = \"{}\"\nlicence = \"MIT\"\n\
         good_at = \"Tests\"\narchitecture = \"llama\"\nlayers = 2\nkv_heads = 1\nhead_dim = 8\n\n",
        content.len(),
        HubServer::sha256(content)
    )
}
