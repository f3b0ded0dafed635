//! The Models section, headless: the same `App` the window drives, over a real data directory,
//! downloading from a loopback server that speaks Hugging Face's resolve protocol, with the
//! `model_download` events collected instead of sent to a window.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_app::api::*;
use cairn_app::{App, AppPaths, Events};
use cairn_engine::hub_test_support::fixture::{catalog_entry, tiny_gguf};
use cairn_engine::hub_test_support::server::HubServer;

const REPO: &str = "acme/Tiny-GGUF";
const FILE: &str = "tiny-q4_k_m.gguf";

/// Collects the download events.
#[derive(Default)]
struct Recorder(Mutex<Vec<DownloadUpdate>>);

impl Events for Recorder {
    fn ingest(&self, _: &IngestUpdate) {}

    fn model_download(&self, update: &DownloadUpdate) {
        self.0.lock().unwrap().push(update.clone());
    }
}

impl Recorder {
    /// Waits for the download's last event.
    async fn end(&self) -> DownloadUpdate {
        let started = Instant::now();
        loop {
            let last = self.0.lock().unwrap().last().cloned();
            if let Some(last) = last.filter(|u| u.state != DownloadState::Downloading) {
                return last;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no end");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    app: App,
    events: Arc<Recorder>,
    server: HubServer,
    content: Vec<u8>,
}

/// An app whose library's catalog is one tiny model on a loopback server (`models.catalog`,
/// `models.hub_endpoint` in its config.toml).
async fn fixture() -> Fixture {
    let server = HubServer::start().await;
    let content = tiny_gguf("llama", 2_000_000);
    server.put(REPO, "main", FILE, content.clone());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(&catalog, catalog_entry("tiny", REPO, FILE, &content)).unwrap();
    std::fs::write(
        data.join("config.toml"),
        format!(
            "# my settings\n[models]\nhub_endpoint = \"{}\"\ncatalog = \"{}\"\n",
            server.endpoint(),
            catalog.display()
        ),
    )
    .unwrap();
    let paths = AppPaths {
        settings_file: dir.path().join("config/app.toml"),
        default_data_dir: data.clone(),
        data_dir_override: None,
        bundled_models: None,
    };
    let events = Arc::new(Recorder::default());
    let app = App::open(paths, events.clone()).await;
    Fixture {
        _dir: dir,
        data,
        app,
        events,
        server,
        content,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catalog_model_downloads_with_progress_cancels_resumes_and_is_chosen() {
    let f = fixture().await;
    let view = f.app.models_view().await.unwrap();
    assert_eq!(view.catalog.len(), 1);
    assert_eq!(view.catalog[0].id, "tiny");
    assert!(!view.catalog[0].installed);
    assert!(view.installed.is_empty() && view.download.is_none());
    assert!(
        f.server.requests().is_empty(),
        "the section opened no connection"
    );

    // Cancelled part-way: the part is kept and shown.
    f.server.pace(Duration::from_millis(25));
    let started = f
        .app
        .download_model(ModelRequest { id: "tiny".into() })
        .await
        .unwrap();
    assert_eq!(started.state, DownloadState::Downloading);
    let busy = f
        .app
        .download_model(ModelRequest { id: "tiny".into() })
        .await
        .unwrap_err();
    assert_eq!(busy.code, "busy");
    let part = f.data.join("models").join(format!("{FILE}.part"));
    let waited = Instant::now();
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(waited.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f.app.cancel_download().await.unwrap();
    let end = f.events.end().await;
    assert_eq!(end.state, DownloadState::Cancelled);
    assert!(end.done > 0 && end.done < 2_000_000, "{}", end.done);
    let view = f.app.models_view().await.unwrap();
    assert!(view.download.is_none());
    assert!(view.catalog[0].partial_bytes > 0);

    // Again: it resumes and finishes, with progress on the way.
    f.events.clear();
    f.server.pace(Duration::from_millis(2));
    f.app
        .download_model(ModelRequest { id: "tiny".into() })
        .await
        .unwrap();
    let end = f.events.end().await;
    assert_eq!(end.state, DownloadState::Done, "{:?}", end.error);
    assert_eq!((end.done, end.total), (2_000_000, 2_000_000));
    let resumed = f.server.last_range();
    assert!(
        resumed.is_some_and(|r| r.starts_with("bytes=")),
        "resumed from the part"
    );
    assert_eq!(
        std::fs::read(f.data.join("models").join(FILE)).unwrap(),
        f.content
    );
    let view = f.app.models_view().await.unwrap();
    assert!(view.catalog[0].installed);
    assert_eq!(view.installed.len(), 1);
    assert!(view.installed[0].downloaded);

    // Chosen: config.toml names it (its comment kept) and the reopened library uses it.
    let view = f
        .app
        .use_model(ModelNameRequest {
            name: "tiny".into(),
        })
        .await
        .unwrap();
    assert!(view.installed[0].in_use);
    let config = std::fs::read_to_string(f.data.join("config.toml")).unwrap();
    assert!(config.starts_with("# my settings"), "{config}");
    assert!(config.contains(FILE), "{config}");
    // It answers questions: the strong model About lists (models.strong_chat).
    let about = f.app.about().await.unwrap();
    let strong = about
        .models
        .iter()
        .find(|m| m.role == "strong_chat")
        .unwrap();
    assert!(
        strong.path.as_deref().unwrap().ends_with(FILE),
        "{strong:?}"
    );

    let view = f
        .app
        .remove_model(ModelNameRequest {
            name: "tiny".into(),
        })
        .await
        .unwrap();
    assert!(view.installed.is_empty());
    assert!(!f.data.join("models").join(FILE).exists());
    assert!(
        !std::fs::read_to_string(f.data.join("config.toml"))
            .unwrap()
            .contains(FILE)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_on_disk_is_added_in_place_and_a_broken_download_says_why() {
    let f = fixture().await;
    let mine = tempfile::tempdir().unwrap();
    let file = mine.path().join("mine.gguf");
    std::fs::write(&file, tiny_gguf("qwen3", 500)).unwrap();
    let view = f
        .app
        .add_model_file(ModelFileRequest {
            path: file.display().to_string(),
            name: Some("Mine".into()),
        })
        .await
        .unwrap();
    assert_eq!(view.installed[0].name, "Mine");
    assert_eq!(view.installed[0].source, "local");
    assert!(!view.installed[0].downloaded);
    let relative = f
        .app
        .add_model_file(ModelFileRequest {
            path: "mine.gguf".into(),
            name: None,
        })
        .await
        .unwrap_err();
    assert_eq!(relative.code, "invalid_input");
    let view = f
        .app
        .remove_model(ModelNameRequest {
            name: "Mine".into(),
        })
        .await
        .unwrap();
    assert!(view.installed.is_empty());
    assert!(file.exists(), "a file Cairn did not download stays");

    // A file the server does not have: the download ends failed, with the stable code.
    f.server.put(REPO, "main", "other.gguf", vec![1, 2, 3]);
    let catalog = f.data.join("../catalog.toml");
    std::fs::write(
        &catalog,
        catalog_entry("tiny", REPO, "missing.gguf", &f.content),
    )
    .unwrap();
    f.app
        .download_model(ModelRequest { id: "tiny".into() })
        .await
        .unwrap();
    let end = f.events.end().await;
    assert_eq!(end.state, DownloadState::Failed);
    assert_eq!(end.error.unwrap().code, "not_found");
    let unknown = f
        .app
        .download_model(ModelRequest { id: "nope".into() })
        .await
        .unwrap_err();
    assert_eq!(unknown.code, "unknown_model");
}
