//! Models: one record a name and a path, downloaded ones told from those registered in place.

use cairn_store::{LOCAL_SOURCE, ModelRecord, Store};

fn record(name: &str, path: &str, source: &str) -> ModelRecord {
    ModelRecord {
        name: name.into(),
        path: path.into(),
        source: source.into(),
        bytes: 1234,
        sha256: Some("ab".repeat(32)),
        architecture: "llama".into(),
        added_at: 1_700_000_000,
    }
}

#[test]
fn models_are_kept_by_name_and_path_and_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
    let pulled = record("qwen3-4b", "/data/models/Qwen3-4B-Q4_K_M.gguf", "qwen3-4b");
    let local = record("mine", "/home/me/mine.gguf", LOCAL_SOURCE);
    store.put_model(&pulled).unwrap();
    store.put_model(&local).unwrap();
    assert_eq!(store.models().unwrap(), [local.clone(), pulled.clone()]);
    assert!(pulled.downloaded() && !local.downloaded());
    assert_eq!(store.model("mine").unwrap(), Some(local.clone()));
    assert_eq!(
        store.model_at("/data/models/Qwen3-4B-Q4_K_M.gguf").unwrap(),
        Some(pulled.clone())
    );

    // The same file under another name replaces its record.
    let renamed = record("ours", "/home/me/mine.gguf", LOCAL_SOURCE);
    store.put_model(&renamed).unwrap();
    assert_eq!(store.model("mine").unwrap(), None);
    assert_eq!(store.models().unwrap().len(), 2);

    assert!(store.remove_model("ours").unwrap());
    assert!(!store.remove_model("ours").unwrap());
    assert_eq!(store.models().unwrap(), [pulled]);
}
