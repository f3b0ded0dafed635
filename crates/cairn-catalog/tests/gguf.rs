//! GGUF headers: a real layout is read to its architecture, anything else is refused with a reason.

use std::path::Path;

use cairn_catalog::read_header;

/// A GGUF header: version, no tensors, then `entries` as (key, type, value bytes).
fn gguf(version: u32, entries: &[(&str, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend(version.to_le_bytes());
    out.extend(0u64.to_le_bytes());
    out.extend((entries.len() as u64).to_le_bytes());
    for (key, kind, value) in entries {
        out.extend((key.len() as u64).to_le_bytes());
        out.extend(key.as_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(value);
    }
    out
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u64).to_le_bytes().to_vec();
    out.extend(s.as_bytes());
    out
}

fn write(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join("model.gguf");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_architecture_is_found_past_numbers_strings_and_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = {
        let mut v = 8u32.to_le_bytes().to_vec(); // an array of strings
        v.extend(2u64.to_le_bytes());
        v.extend(string("<s>"));
        v.extend(string("</s>"));
        v
    };
    let floats = {
        let mut v = 6u32.to_le_bytes().to_vec(); // an array of f32
        v.extend(3u64.to_le_bytes());
        v.extend([0u8; 12]);
        v
    };
    let path = write(
        dir.path(),
        &gguf(
            3,
            &[
                (
                    "general.quantization_version",
                    4,
                    2u32.to_le_bytes().to_vec(),
                ),
                ("general.name", 8, string("Tiny")),
                ("tokenizer.ggml.tokens", 9, tokens),
                ("tokenizer.ggml.scores", 9, floats),
                ("general.file_type", 10, 15u64.to_le_bytes().to_vec()),
                ("general.architecture", 8, string("qwen3")),
            ],
        ),
    );
    let info = read_header(&path).unwrap();
    assert_eq!((info.version, info.architecture.as_str()), (3, "qwen3"));
}

#[test]
fn other_files_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("text", b"hello, this is not a model".to_vec(), "GGUF"),
        ("old", gguf(1, &[]), "version 1"),
        ("short", b"GGUF\x03\x00".to_vec(), "cut short"),
        (
            "nameless",
            gguf(3, &[("general.name", 8, string("x"))]),
            "architecture",
        ),
        ("odd type", gguf(3, &[("x", 77, vec![])]), "value type 77"),
    ];
    for (what, bytes, reason) in cases {
        let error = read_header(&write(dir.path(), &bytes)).unwrap_err();
        assert_eq!(error.code(), "not_gguf", "{what}");
        assert!(error.to_string().contains(reason), "{what}: {error}");
    }
    let missing = read_header(&dir.path().join("absent.gguf")).unwrap_err();
    assert_eq!(missing.code(), "io");
}
