//! A GGUF the runtime cannot run fails to load with an error that names the file and the reason:
//! truncated, a tensor of the wrong shape, a quantization or an architecture Cairn does not run,
//! more memory than the machine has. Each file is a small random-weight model, damaged.

use std::path::{Path, PathBuf};

use cairn_models::llm::{Backend, ChatModel};
use cairn_models::test_support::write_random_gguf;
use candle_core::Device;
use candle_core::quantized::gguf_file::{self, Content, Value};

fn random(dir: &Path) -> PathBuf {
    let path = dir.join("model.gguf");
    write_random_gguf("random-qwen3", &path).unwrap();
    path
}

fn load_error(path: &Path) -> String {
    match ChatModel::load(path, &Device::Cpu, Backend::Cpu) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

/// `path` written again with metadata `key` set to `value`.
fn with_metadata(path: &Path, key: &str, value: Value) -> PathBuf {
    let mut file = std::fs::File::open(path).unwrap();
    let content = Content::read(&mut file).unwrap();
    let mut metadata = content.metadata.clone();
    metadata.insert(key.to_string(), value);
    let tensors: Vec<(String, _)> = content
        .tensor_infos
        .keys()
        .map(|name| {
            (
                name.clone(),
                content.tensor(&mut file, name, &Device::Cpu).unwrap(),
            )
        })
        .collect();
    let out = path.with_file_name(format!("{}.gguf", key.replace('.', "-")));
    let metadata: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensors: Vec<(&str, _)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
    gguf_file::write(
        &mut std::fs::File::create(&out).unwrap(),
        &metadata,
        &tensors,
    )
    .unwrap();
    out
}

#[test]
fn a_truncated_file_says_where_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = random(dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 4096)
        .unwrap();
    let err = load_error(&path);
    assert!(
        err.contains("model.gguf") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn an_unknown_architecture_is_named_with_the_ones_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = with_metadata(
        &random(dir.path()),
        "general.architecture",
        Value::String("mamba".into()),
    );
    let err = load_error(&path);
    assert!(err.contains("'mamba'"), "{err}");
    assert!(
        err.contains("llama, mistral, qwen2, qwen3, gemma3, phi3"),
        "{err}"
    );
}

#[test]
fn a_tensor_of_the_wrong_shape_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // The file says the hidden size is 128; its tensors are 256 wide.
    let path = with_metadata(
        &random(dir.path()),
        "qwen3.embedding_length",
        Value::U32(128),
    );
    let err = load_error(&path);
    assert!(
        err.contains("where the model's shape needs") && err.contains("blk.0"),
        "{err}"
    );
}

#[test]
fn an_unknown_quantization_is_named_with_the_ones_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = random(dir.path());
    // Patch the type of the first tensor of the file's table to ggml type 23 (IQ4_XS).
    let mut bytes = std::fs::read(&path).unwrap();
    let name = b"token_embd.weight";
    let at = bytes
        .windows(name.len())
        .position(|w| w == name)
        .expect("the tensor's name in the header");
    let dims_at = at + name.len();
    let n_dims = u32::from_le_bytes(bytes[dims_at..dims_at + 4].try_into().unwrap()) as usize;
    let type_at = dims_at + 4 + 8 * n_dims;
    bytes[type_at..type_at + 4].copy_from_slice(&23u32.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let err = load_error(&path);
    assert!(err.contains("ggml type 23"), "{err}");
    assert!(err.contains("Q4_K") && err.contains("BF16"), "{err}");
}

#[test]
fn a_model_larger_than_the_memory_says_how_much_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let path = random(dir.path());
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "memory_probe", "--nocapture"])
        .env("CAIRN_MEMORY_AVAILABLE", "100000")
        .env("CAIRN_PROBE_MODEL", &path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("model.gguf")
            && text.contains("MB of memory for its weights and 0.1 MB are available"),
        "{text}"
    );
}

/// Not a test by itself: the test above runs it in a process of its own, with the memory figure it
/// sets, and reads what it prints.
#[test]
fn memory_probe() {
    if let Some(path) = std::env::var_os("CAIRN_PROBE_MODEL") {
        println!("{}", load_error(Path::new(&path)));
    }
}
