//! The library's chat models: a catalog model pulled from a loopback server that speaks Hugging
//! Face's resolve protocol, a GGUF file registered in place, one chosen, both removed.

use std::path::Path;
use std::sync::Mutex;

use cairn_catalog::test_support::fixture::{catalog_entry, tiny_gguf};
use cairn_catalog::test_support::server::{Fault, HubServer};
use cairn_engine::{CancelToken, Config, Library};

const REPO: &str = "acme/Tiny-GGUF";
const FILE: &str = "tiny-q4_k_m.gguf";

/// A library whose catalog is one tiny model on `server`.
async fn library(data: &Path, server: &HubServer, content: &[u8]) -> Library {
    let catalog = data.join("catalog.toml");
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(&catalog, catalog_entry("tiny", REPO, FILE, content)).unwrap();
    let config = format!(
        "[models]\nhub_endpoint = \"{}\"\ncatalog = \"{}\"\n",
        server.endpoint(),
        catalog.display()
    );
    std::fs::write(data.join("config.toml"), config).unwrap();
    Library::open_with_config_file(data).await.unwrap()
}

#[tokio::test]
async fn a_pulled_model_is_verified_recorded_chosen_and_removed_with_its_file() {
    let server = HubServer::start().await;
    let content = tiny_gguf("llama", 400_000);
    server.put(REPO, "main", FILE, content.clone());
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), &server, &content).await;

    let view = library.catalog().unwrap();
    assert_eq!(view.endpoint, server.endpoint());
    assert_eq!(view.models.len(), 1);
    assert!(!view.models[0].installed);
    assert!(view.machine.total_memory > 0);
    assert!(server.requests().is_empty(), "listing opened no connection");

    // A first attempt breaks off: the part is kept and shows in the catalog.
    server.fail_next(Fault::DropAfter(100_000));
    let error = library
        .pull_model("tiny", &|_| {}, &CancelToken::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "connection", "{error}");
    assert_eq!(library.catalog().unwrap().models[0].partial_bytes, 100_000);

    let reports = Mutex::new(Vec::new());
    let pulled = library
        .pull_model(
            "tiny",
            &|p| reports.lock().unwrap().push(p.done),
            &CancelToken::new(),
        )
        .await
        .unwrap();
    let path = data.path().join("models").join(FILE);
    assert_eq!(pulled.record.path, path.display().to_string());
    assert_eq!(pulled.record.source, "tiny");
    assert_eq!(pulled.record.architecture, "llama");
    assert_eq!(
        pulled.record.sha256.as_deref(),
        Some(HubServer::sha256(&content).as_str())
    );
    assert_eq!(reports.lock().unwrap().last(), Some(&400_000));
    assert_eq!(
        server.last_range().as_deref(),
        Some("bytes=100000-"),
        "the second pull resumed"
    );
    let listed = library.catalog().unwrap();
    assert!(listed.models[0].installed);
    assert_eq!(listed.models[0].partial_bytes, 0);

    // Pulled again: nothing to fetch.
    let before = server.requests().len();
    library
        .pull_model("tiny", &|_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(server.requests().len(), before);

    library.use_model("tiny").unwrap();
    let reopened = Library::open_with_config_file(data.path()).await.unwrap();
    // It answers every question: the strong model's setting (models.local_answers = "strong").
    assert_eq!(
        reopened.config().models.strong_chat.as_deref(),
        Some(path.as_path())
    );
    assert_eq!(reopened.config().models.chat, None);
    assert!(reopened.installed_models().unwrap()[0].in_use);

    let removed = reopened.remove_model("tiny").unwrap();
    assert!(removed.was_in_use);
    assert_eq!(removed.deleted, Some(path.display().to_string()));
    assert!(!path.exists(), "a downloaded file goes with its model");
    let after = Library::open_with_config_file(data.path()).await.unwrap();
    assert_eq!(
        after.config().models.strong_chat,
        None,
        "the default answers again"
    );
    assert!(after.installed_models().unwrap().is_empty());
}

#[tokio::test]
async fn a_file_on_disk_is_registered_in_place_and_kept_when_removed() {
    let server = HubServer::start().await;
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), &server, b"unused").await;
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("My-Model.Q4_K_M.gguf");
    std::fs::write(&file, tiny_gguf("qwen3", 1000)).unwrap();

    let added = library.add_model_file(&file, None).unwrap();
    assert_eq!(added.record.name, "My-Model.Q4_K_M");
    assert_eq!(added.record.source, "local");
    assert_eq!(added.record.architecture, "qwen3");
    assert_eq!(
        added.record.path,
        file.canonicalize().unwrap().display().to_string()
    );
    assert!(added.present && !added.in_use);
    assert_eq!(library.add_model_file(&file, None).unwrap(), added, "once");
    assert!(!data.path().join("models").exists(), "nothing was copied");

    // A name taken by the catalog is not given to a file.
    let clash = elsewhere.path().join("tiny.gguf");
    std::fs::write(&clash, tiny_gguf("llama", 100)).unwrap();
    assert_eq!(
        library.add_model_file(&clash, None).unwrap().record.name,
        "tiny-2"
    );
    assert_eq!(
        library
            .add_model_file(&clash, Some("tiny"))
            .unwrap()
            .record
            .name,
        "tiny-2",
        "a file already registered keeps its name"
    );

    let text = elsewhere.path().join("notes.gguf");
    std::fs::write(&text, "not a model").unwrap();
    assert_eq!(
        library.add_model_file(&text, None).unwrap_err().code(),
        "not_gguf"
    );

    let removed = library.remove_model("My-Model.Q4_K_M").unwrap();
    assert_eq!(removed.deleted, None);
    assert!(file.exists(), "a file Cairn did not download stays");
    assert_eq!(
        library.remove_model("My-Model.Q4_K_M").unwrap_err().code(),
        "no_such_model"
    );
    assert_eq!(
        library.use_model("nobody").unwrap_err().code(),
        "no_such_model"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_endpoint_beyond_this_machine_must_be_https() {
    let data = tempfile::tempdir().unwrap();
    let error = Config::parse("[models]\nhub_endpoint = \"http://example.org\"\n").unwrap_err();
    assert!(error.contains("models.hub_endpoint"), "{error}");
    let library = Library::open(data.path(), Config::default()).await.unwrap();
    assert_eq!(
        library.catalog().unwrap().endpoint,
        "https://huggingface.co"
    );
    assert_eq!(library.catalog().unwrap().models.len(), 10);
}
