//! The app's operations, headless: the same `App` the window drives, over a real data directory
//! (SQLite, LanceDB), real model weights and a real settings file, with the events collected
//! instead of sent to a window.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_app::api::*;
use cairn_app::{App, AppPaths};

mod support;
use support::Recorder;

/// A fresh app over temporary folders.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    app: App,
    events: Arc<Recorder>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let paths = AppPaths {
        settings_file: root.join("config/app.toml"),
        default_data_dir: root.join("data"),
        data_dir_override: None,
        bundled_models: None,
    };
    let events = Arc::new(Recorder::default());
    let app = App::open(paths, events.clone()).await;
    Fixture {
        _dir: dir,
        root,
        app,
        events,
    }
}

fn corpus(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus")
        .join(relative)
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

const LIGHTHOUSE: &str = "nature/lighthouse-skerrow-point.md";

/// Copies sample documents and a damaged PDF into `folder`; returns their paths.
fn documents(folder: &Path) -> Vec<String> {
    std::fs::create_dir_all(folder).unwrap();
    let mut paths = Vec::new();
    for name in [LIGHTHOUSE, "nature/tides.md", "tech/bloom-filters.md"] {
        let to = folder.join(Path::new(name).file_name().unwrap());
        std::fs::copy(corpus(name), &to).unwrap();
        paths.push(to.display().to_string());
    }
    let broken = folder.join("broken.pdf");
    std::fs::write(&broken, b"%PDF-1.7\n\x01\x02 this is not a PDF body at all").unwrap();
    paths.push(broken.display().to_string());
    paths
}

/// A question about the default collection, in a new thread.
fn new_question(request_id: u32, question: &str) -> AskArgs {
    AskArgs {
        request_id,
        question: question.into(),
        collection: "default".into(),
        thread: None,
        document: None,
    }
}

fn add(folder: &Path) -> AddRequest {
    AddRequest {
        paths: vec![folder.display().to_string()],
        collection: "default".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_folder_is_indexed_with_progress_and_a_failed_file_says_why() {
    let f = fixture().await;
    let folder = f.root.join("docs");
    let files = documents(&folder);
    let ticket = f.app.add_paths(add(&folder)).await.unwrap();
    assert_eq!(ticket.ahead, 0);
    let end = f.events.end_of(ticket.job).await;
    assert_eq!(end.state, JobState::Finished, "{:?}", end.error);
    assert_eq!((end.total, end.done, end.failed), (4, 4, 1));

    let updates = f.events.updates(ticket.job);
    assert_eq!(updates[0].state, JobState::Queued);
    assert_eq!(updates[0].paths, [folder.display().to_string()]);
    assert!(updates.iter().any(|u| u.state == JobState::Running));
    // Every file is named queued first, and each reaches its outcome, in order.
    let changes: Vec<&FileUpdate> = updates.iter().flat_map(|u| &u.files).collect();
    for file in &files {
        let states: Vec<FileState> = changes
            .iter()
            .filter(|c| c.path == *file)
            .map(|c| c.state)
            .collect();
        assert_eq!(
            states.first(),
            Some(&FileState::Queued),
            "{file}: {states:?}"
        );
        let last = *states.last().unwrap();
        if file.ends_with("broken.pdf") {
            assert_eq!(last, FileState::Failed);
        } else {
            assert_eq!(last, FileState::Indexed, "{file}: {states:?}");
            assert!(states.contains(&FileState::Embedding), "{file}: {states:?}");
        }
    }
    let failure = changes
        .iter()
        .find(|c| c.state == FileState::Failed)
        .unwrap();
    assert!(failure.code.is_some() && !failure.reason.as_deref().unwrap().is_empty());

    // The library view agrees, and keeps the reason.
    let view = f.app.library_view().await.unwrap();
    assert_eq!(view.documents.len(), 4);
    assert!(view.ingest.is_none(), "no job is running");
    let broken = view
        .documents
        .iter()
        .find(|d| d.name == "broken.pdf")
        .unwrap();
    assert_eq!(broken.state, DocumentState::Failed);
    assert!(
        broken
            .error_message
            .as_deref()
            .is_some_and(|m| !m.is_empty())
    );
    let collection = &view.collections[0];
    assert_eq!((collection.indexed, collection.failed), (3, 1));
    assert!(collection.chunks >= 3);
    assert_eq!(collection.embedder, "all-MiniLM-L6-v2");

    // Adding the same folder again reads nothing: every file is unchanged, the failure fails again.
    let again = f.app.add_paths(add(&folder)).await.unwrap();
    let end = f.events.end_of(again.job).await;
    let changes: Vec<FileUpdate> = f
        .events
        .updates(again.job)
        .into_iter()
        .flat_map(|u| u.files)
        .collect();
    assert_eq!(
        changes
            .iter()
            .filter(|c| c.state == FileState::Unchanged)
            .count(),
        3
    );
    assert_eq!(end.failed, 1);

    // Re-indexing reads an unchanged file again; removing takes it out of the library.
    let lighthouse = files[0].clone();
    let reindex = f
        .app
        .reindex_documents(DocumentsRequest {
            collection: "default".into(),
            paths: vec![lighthouse.clone()],
        })
        .await
        .unwrap();
    f.events.end_of(reindex.job).await;
    let indexed_again = f
        .events
        .updates(reindex.job)
        .into_iter()
        .flat_map(|u| u.files)
        .any(|c| c.path == lighthouse && c.state == FileState::Indexed);
    assert!(indexed_again, "re-index read the unchanged file again");
    let removed = f
        .app
        .remove_documents(DocumentsRequest {
            collection: "default".into(),
            paths: vec![lighthouse.clone()],
        })
        .await
        .unwrap();
    assert_eq!(removed.removed, [lighthouse]);
    assert!(removed.chunks > 0);
    assert_eq!(f.app.library_view().await.unwrap().documents.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_wait_their_turn_and_cancel_stops_them_all() {
    let f = fixture().await;
    let one = f.root.join("one");
    let two = f.root.join("two");
    documents(&one);
    documents(&two);
    let first = f.app.add_paths(add(&one)).await.unwrap();
    let second = f.app.add_paths(add(&two)).await.unwrap();
    assert_eq!(second.ahead, 1, "the second job waits for the first");
    // Settings cannot change under a running job.
    let settings = f.app.settings().await.unwrap();
    let busy = f.app.save_settings(settings).await.unwrap_err();
    assert_eq!(busy.code, "busy");
    f.app.cancel_ingest().await.unwrap();
    let end_first = f.events.end_of(first.job).await;
    let end_second = f.events.end_of(second.job).await;
    assert!(
        matches!(end_first.state, JobState::Cancelled | JobState::Finished),
        "{:?}",
        end_first.state
    );
    assert_eq!(end_second.state, JobState::Cancelled);
    assert_eq!(end_second.done, 0, "the waiting job never ran");
    // Nothing is left half-done: a new job runs, and the files the first one never reached are
    // indexed by it.
    let retry = f.app.add_paths(add(&one)).await.unwrap();
    let end = f.events.end_of(retry.job).await;
    assert_eq!(end.state, JobState::Finished);
    let view = f.app.library_view().await.unwrap();
    assert!(
        view.documents
            .iter()
            .filter(|d| d.path.starts_with(&one.display().to_string()))
            .all(|d| matches!(d.state, DocumentState::Indexed | DocumentState::Failed))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_waits_for_another_writer_of_the_library_and_says_who_it_is() {
    let f = fixture().await;
    let one = f.root.join("one");
    documents(&one);
    // Another writer: here the test itself, as `cairn add` in a terminal would hold it.
    let held =
        cairn_engine::WriteLock::try_acquire(&f.root.join("data"), "adding files to 'notes'")
            .unwrap()
            .expect("the app holds the lock only while it writes");
    let job = f.app.add_paths(add(&one)).await.unwrap();
    let started = Instant::now();
    let waiting = loop {
        if let Some(u) = f
            .events
            .updates(job.job)
            .into_iter()
            .find(|u| u.waiting_for.is_some())
        {
            break u;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the job never said it waits"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let who = waiting.waiting_for.unwrap();
    assert!(
        who.contains(&format!("(process {})", std::process::id()))
            && who.contains("adding files to 'notes'"),
        "{who}"
    );
    assert_eq!(
        waiting.done, 0,
        "nothing is written while another writer holds the library"
    );
    // The status a window opening now reads says it too.
    let status = f.app.library_view().await.unwrap().ingest.unwrap();
    assert_eq!(status.waiting_for.as_deref(), Some(who.as_str()));
    // An operation the window waits on is refused at once, saying who writes.
    let refused = f
        .app
        .create_collection(CollectionRequest {
            name: "later".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, "busy");
    assert!(
        refused.message.contains("adding files to 'notes'"),
        "{}",
        refused.message
    );
    drop(held);
    let end = f.events.end_of(job.job).await;
    assert_eq!(end.state, JobState::Finished, "{:?}", end.error);
    assert_eq!(end.waiting_for, None);
    assert!(end.done > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_streams_with_citations_into_a_thread_and_can_be_stopped() {
    let f = fixture().await;
    let folder = f.root.join("docs");
    documents(&folder);
    let ticket = f.app.add_paths(add(&folder)).await.unwrap();
    f.events.end_of(ticket.job).await;

    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let answer = f
        .app
        .ask(
            new_question(
                1,
                "When was the Fresnel lens of Skerrow Point lighthouse made?",
            ),
            Arc::new(move |e| sink.lock().unwrap().push(e)),
        )
        .await
        .unwrap();
    // Its trace, a verdict on it, and the dashboards counting both.
    let trace_id = answer.trace_id.expect("every answer has a trace");
    let trace = f.app.trace(TraceRequest { trace_id }).await.unwrap();
    assert_eq!(trace.data["route"]["route"], "factual");
    assert!(!trace.data["candidates"].as_array().unwrap().is_empty());
    assert_eq!(trace.data["answer"]["provider"], "local");
    let missing = f
        .app
        .trace(TraceRequest { trace_id: 999 })
        .await
        .unwrap_err();
    assert_eq!(missing.code, "no_such_trace");
    f.app
        .feedback(FeedbackRequest {
            trace_id,
            up: true,
            correction: None,
        })
        .await
        .unwrap();
    let stats = f.app.stats(StatsRequest { days: 7 }).await.unwrap();
    assert_eq!((stats.questions, stats.rated), (1, 1));
    assert_eq!(stats.thumbs_up_rate, Some(1.0));
    assert_eq!(stats.local_share, Some(1.0));
    assert!(
        stats
            .latency
            .iter()
            .any(|l| l.stage == "total" && l.p50 > 0.0)
    );
    assert_eq!(stats.by_day.len(), 1);

    let events = events.lock().unwrap().clone();
    assert!(matches!(events[0], ChatEvent::Route { ref route, .. } if route == "factual"));
    assert!(matches!(&events[1], ChatEvent::Sources { passages } if !passages.is_empty()));
    let pieces: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        pieces.len() > 3,
        "the answer streamed in pieces: {pieces:?}"
    );
    assert_eq!(answer.tier, "primary");
    assert!(answer.on_device);
    // The strong local model answers by default (models.local_answers).
    assert!(
        answer.model.contains("qwen2.5-coder-1.5b"),
        "{}",
        answer.model
    );
    assert!(
        answer
            .citations
            .iter()
            .any(|c| c.doc_path.ends_with("lighthouse-skerrow-point.md") && !c.text.is_empty()),
        "{:?}",
        answer.citations
    );

    // The exchange is in its thread.
    let threads = f.app.threads().await.unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].id, answer.thread_id);
    let messages = f
        .app
        .thread_messages(ThreadRequest {
            thread: answer.thread_id,
        })
        .await
        .unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].content, answer.answer);
    assert_eq!(messages[1].citations.len(), answer.citations.len());

    // Stop: the request named stops, and what was written stays, marked as cut short.
    let app = Arc::new(f.app);
    let first_text = Arc::new(tokio::sync::Notify::new());
    let notify = first_text.clone();
    let asking = {
        let app = app.clone();
        tokio::spawn(async move {
            app.ask(
                new_question(2, "hello there, how are you today?"),
                Arc::new(move |e| {
                    if matches!(e, ChatEvent::Text { .. }) {
                        notify.notify_one();
                    }
                }),
            )
            .await
        })
    };
    tokio::time::timeout(Duration::from_secs(60), first_text.notified())
        .await
        .expect("the small-talk answer started");
    app.stop_answer(StopRequest { request_id: 2 })
        .await
        .unwrap();
    let stopped = asking.await.unwrap().unwrap();
    assert!(stopped.truncated, "a stopped answer is marked as cut short");

    // Deleting the thread forgets it; deleting it twice says so.
    app.delete_thread(ThreadRequest {
        thread: answer.thread_id,
    })
    .await
    .unwrap();
    let again = app
        .delete_thread(ThreadRequest {
            thread: answer.thread_id,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code, "invalid_input");
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_are_saved_into_config_toml_and_applied() {
    let f = fixture().await;
    let data = f.root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("config.toml"),
        "# tuned by hand\n[ingest]\ntimeout_secs = 30.0\n",
    )
    .unwrap();
    // The library was opened before the file existed: reopen to read it.
    let f = Fixture {
        app: App::open(
            AppPaths {
                settings_file: f.root.join("config/app.toml"),
                default_data_dir: data.clone(),
                data_dir_override: None,
                bundled_models: None,
            },
            f.events.clone(),
        )
        .await,
        ..f
    };
    let mut settings = f.app.settings().await.unwrap();
    assert_eq!(settings.data_dir, data.display().to_string());
    assert_eq!(settings.privacy, PrivacyMode::OfflineOnly);
    settings.retrieval.k = 7;
    settings.chunking.max_tokens = 200;
    let saved = f.app.save_settings(settings.clone()).await.unwrap();
    assert_eq!(saved.settings.retrieval.k, 7);
    let text = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(text.starts_with("# tuned by hand\n"), "{text}");
    assert!(text.contains("timeout_secs = 30.0"), "{text}");
    assert!(
        text.contains("k = 7") && text.contains("max_tokens = 200"),
        "{text}"
    );
    // The reopened library uses them.
    assert_eq!(f.app.settings().await.unwrap().chunking.max_tokens, 200);

    // A model that is not one is refused, and nothing is written.
    let bogus = f.root.join("not-a-model.gguf");
    std::fs::write(&bogus, b"GGUF but not really").unwrap();
    let mut wrong = saved.settings.clone();
    wrong.models.chat = Some(bogus.display().to_string());
    let err = f.app.save_settings(wrong).await.unwrap_err();
    assert!(err.message.contains("GGUF"), "{}", err.message);
    assert_eq!(
        std::fs::read_to_string(data.join("config.toml")).unwrap(),
        text
    );
    let check = f
        .app
        .check_model(ModelCheckRequest {
            path: bogus.display().to_string(),
            role: ModelRole::Chat,
        })
        .await
        .unwrap_err();
    assert_eq!(check.code, err.code);

    // The answering model is checked like the fast one: a file that is not one is refused.
    let mut wrong = saved.settings.clone();
    wrong.models.strong_chat = Some(bogus.display().to_string());
    let err = f.app.save_settings(wrong).await.unwrap_err();
    assert!(err.message.contains("GGUF"), "{}", err.message);
    assert_eq!(
        std::fs::read_to_string(data.join("config.toml")).unwrap(),
        text
    );

    // The answering model, which model answers, and condensed passages are written and read back.
    assert_eq!(saved.settings.models.strong_chat, None);
    assert_eq!(saved.settings.models.local_answers, LocalAnswers::Strong);
    assert!(saved.settings.answers.condense);
    let strong = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        .canonicalize()
        .unwrap()
        .display()
        .to_string();
    let mut settings = saved.settings.clone();
    settings.models.strong_chat = Some(strong.clone());
    settings.models.local_answers = LocalAnswers::Fast;
    settings.answers.condense = false;
    let saved = f.app.save_settings(settings).await.unwrap();
    let text = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(text.starts_with("# tuned by hand\n"), "{text}");
    assert!(text.contains("local_answers = \"fast\""), "{text}");
    assert!(text.contains("condense = false"), "{text}");
    assert!(text.contains("strong_chat = "), "{text}");
    for shown in [saved.settings, f.app.settings().await.unwrap()] {
        assert_eq!(shown.models.strong_chat.as_deref(), Some(strong.as_str()));
        assert_eq!(shown.models.local_answers, LocalAnswers::Fast);
        assert!(!shown.answers.condense);
    }
    // Back to the bundled answering model: its key goes.
    let mut settings = f.app.settings().await.unwrap();
    settings.models.strong_chat = None;
    settings.models.local_answers = LocalAnswers::Tiers;
    let saved = f.app.save_settings(settings).await.unwrap();
    assert_eq!(saved.settings.models.strong_chat, None);
    assert_eq!(saved.settings.models.local_answers, LocalAnswers::Tiers);
    let text = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(!text.contains("strong_chat"), "{text}");
    assert!(text.contains("local_answers = \"tiers\""), "{text}");

    // A prompt version is switched, then rolled back, each in one save.
    let mut settings = f.app.settings().await.unwrap();
    let grounded = |s: &Settings| {
        s.prompts
            .iter()
            .find(|p| p.name == "grounded")
            .cloned()
            .unwrap()
    };
    assert_eq!(grounded(&settings).active, "1.0.0");
    assert!(grounded(&settings).versions.contains(&"1.1.0".to_string()));
    settings
        .prompts
        .iter_mut()
        .find(|p| p.name == "grounded")
        .unwrap()
        .active = "1.1.0".into();
    let saved = f.app.save_settings(settings).await.unwrap();
    assert_eq!(grounded(&saved.settings).active, "1.1.0");
    assert_eq!(grounded(&saved.settings).previous.as_deref(), Some("1.0.0"));
    let text = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(text.contains("[prompts]\ngrounded = \"1.1.0\""), "{text}");
    let mut back = saved.settings.clone();
    let p = back
        .prompts
        .iter_mut()
        .find(|p| p.name == "grounded")
        .unwrap();
    p.active = p.previous.clone().unwrap();
    let saved = f.app.save_settings(back).await.unwrap();
    assert_eq!(grounded(&saved.settings).active, "1.0.0");
    let mut wrong = saved.settings.clone();
    wrong.prompts[0].active = "0.0.1".into();
    assert_eq!(
        f.app.save_settings(wrong).await.unwrap_err().code,
        "invalid_input"
    );

    // Another data folder opens another library, remembered in the app's own settings file.
    let elsewhere = f.root.join("elsewhere");
    let moved = f
        .app
        .set_data_dir(DataDirRequest {
            path: elsewhere.display().to_string(),
        })
        .await
        .unwrap();
    assert_eq!(moved.data_dir, elsewhere.display().to_string());
    assert_eq!(
        moved.retrieval.k, 10,
        "the new library has its own settings"
    );
    assert!(elsewhere.join("cairn.sqlite").is_file());
    let app_file = std::fs::read_to_string(f.root.join("config/app.toml")).unwrap();
    assert!(app_file.contains("elsewhere"), "{app_file}");
    let relative = f
        .app
        .set_data_dir(DataDirRequest {
            path: "relative/dir".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(relative.code, "invalid_input");
}

#[tokio::test(flavor = "multi_thread")]
async fn collections_about_and_errors() {
    let f = fixture().await;
    f.app
        .create_collection(CollectionRequest {
            name: "work".into(),
        })
        .await
        .unwrap();
    let duplicate = f
        .app
        .create_collection(CollectionRequest {
            name: "work".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.code, "invalid_input");
    let bad = f
        .app
        .create_collection(CollectionRequest {
            name: "no spaces".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, "invalid_collection");
    let view = f.app.library_view().await.unwrap();
    assert_eq!(view.collections.len(), 1);
    assert_eq!(view.collections[0].name, "work");
    f.app
        .delete_collection(CollectionRequest {
            name: "work".into(),
        })
        .await
        .unwrap();
    assert!(f.app.library_view().await.unwrap().collections.is_empty());
    let gone = f
        .app
        .delete_collection(CollectionRequest {
            name: "work".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code, "no_such_collection");

    let relative = f
        .app
        .add_paths(AddRequest {
            paths: vec!["docs/notes.md".into()],
            collection: "default".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(relative.code, "invalid_input");
    let nothing = f
        .app
        .add_paths(AddRequest {
            paths: vec!["  ".into()],
            collection: "default".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(nothing.code, "invalid_input");
    let empty = f
        .app
        .ask(new_question(9, "   "), Arc::new(|_| {}))
        .await
        .unwrap_err();
    assert_eq!(empty.code, "invalid_input");

    let about = f.app.about().await.unwrap();
    assert!(about.offline);
    assert_eq!(about.version, env!("CARGO_PKG_VERSION"));
    let roles: Vec<&str> = about.models.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["chat", "strong_chat", "embedding"]);
    for model in &about.models {
        assert_eq!(model.licence.as_deref(), Some("Apache-2.0"));
        assert!(model.problem.is_none(), "{:?}", model.problem);
        assert!(Path::new(model.path.as_deref().unwrap()).exists());
        assert!(model.source.starts_with("PyPI "), "{}", model.source);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_whose_library_cannot_open_still_opens_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("config.toml"), "[search]\nkk = 5\n").unwrap();
    let app = App::open(
        AppPaths {
            settings_file: dir.path().join("app.toml"),
            default_data_dir: data,
            data_dir_override: None,
            bundled_models: None,
        },
        Arc::new(Recorder::default()),
    )
    .await;
    let err = app.library_view().await.unwrap_err();
    assert_eq!(err.code, "config");
    assert!(err.message.contains("kk"), "{}", err.message);
    let err = app
        .add_paths(AddRequest {
            paths: vec!["/tmp".into()],
            collection: "default".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, "config");
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_keys_policy_and_budgets_are_set_from_the_settings_screen() {
    // Needs a Secret Service: scripts/test runs the tests under scripts/with-keychain.
    let f = fixture().await;
    let app = &f.app;
    assert!(app.providers().await.unwrap().is_empty());

    // A cloud mode needs a provider first.
    let mut settings = app.settings().await.unwrap();
    assert_eq!(settings.privacy, PrivacyMode::OfflineOnly);
    settings.privacy = PrivacyMode::CostAware;
    let refused = app.save_settings(settings.clone()).await.unwrap_err();
    assert_eq!(refused.code, "invalid_input");

    let provider = ProviderView {
        name: "acme-app".into(),
        kind: "anthropic".into(),
        base_url: None,
        models: vec![ProviderModelView {
            id: "claude-test".into(),
            tier: "large".into(),
            input_per_mtok: 3.0,
            output_per_mtok: 15.0,
        }],
        needs_key: true,
        has_key: false,
    };
    let bad = ProviderView {
        kind: "telepathy".into(),
        ..provider.clone()
    };
    assert!(
        app.save_provider(bad)
            .await
            .unwrap_err()
            .message
            .contains("telepathy")
    );
    let listed = app.save_provider(provider.clone()).await.unwrap();
    assert_eq!(listed, vec![provider.clone()]);

    let key = "sk-ant-app-test-91d2c";
    let listed = app
        .set_key(KeyRequest {
            provider: "acme-app".into(),
            key: key.into(),
        })
        .await
        .unwrap();
    assert!(listed[0].has_key);
    assert!(
        !format!(
            "{:?}",
            KeyRequest {
                provider: "p".into(),
                key: key.into()
            }
        )
        .contains(key)
    );

    // A cloud mode starts only under day and month caps the person sets.
    settings.privacy = PrivacyMode::Hybrid;
    settings.budget.day_usd = Some(2.5);
    let uncapped = app.save_settings(settings.clone()).await.unwrap_err();
    assert_eq!(uncapped.code, "invalid_input");
    assert!(uncapped.message.contains("month"), "{}", uncapped.message);
    settings.budget.month_usd = Some(20.0);
    let saved = app.save_settings(settings).await.unwrap();
    assert_eq!(saved.settings.privacy, PrivacyMode::Hybrid);
    assert_eq!(saved.settings.budget.day_usd, Some(2.5));
    let config = std::fs::read_to_string(f.root.join("data/config.toml")).unwrap();
    assert!(
        config.contains("[[providers]]") && config.contains("name = \"acme-app\""),
        "{config}"
    );
    assert!(config.contains("policy = \"hybrid\""), "{config}");
    assert!(!config.contains(key), "the key is only in the keychain");
    assert!(!app.about().await.unwrap().offline);

    let spend = app.spend().await.unwrap();
    assert_eq!(spend.today_usd, 0.0);
    assert_eq!(spend.budget.day_usd, Some(2.5));

    // The last provider cannot go while a cloud mode uses it; with offline-only it can, key and all.
    let request = ProviderRequest {
        provider: "acme-app".into(),
    };
    assert!(app.remove_provider(request.clone()).await.is_err());
    let mut settings = app.settings().await.unwrap();
    settings.privacy = PrivacyMode::OfflineOnly;
    app.save_settings(settings).await.unwrap();
    assert!(app.remove_provider(request).await.unwrap().is_empty());
    let keychain = cairn_keychain::Keychain::default();
    assert!(!keychain.has("acme-app").unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flagged_answer_waits_for_review_and_settings_choose_how_it_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    // No sentence is ever supported: every generated answer fails the checks.
    std::fs::write(
        data.join("config.toml"),
        "[guard.output]\nsentence_support = 2.0\n",
    )
    .unwrap();
    let events = Arc::new(Recorder::default());
    let app = App::open(
        AppPaths {
            settings_file: root.join("config/app.toml"),
            default_data_dir: data.clone(),
            data_dir_override: None,
            bundled_models: None,
        },
        events.clone(),
    )
    .await;
    let folder = root.join("docs");
    documents(&folder);
    let ticket = app.add_paths(add(&folder)).await.unwrap();
    events.end_of(ticket.job).await;

    // Shown with a warning instead of held, and the cache off: written into config.toml.
    let mut settings = app.settings().await.unwrap();
    assert!(settings.answers.hold_for_review && settings.answers.cache);
    settings.answers.hold_for_review = false;
    settings.answers.cache = false;
    app.save_settings(settings).await.unwrap();
    let text = std::fs::read_to_string(data.join("config.toml")).unwrap();
    assert!(text.contains("mode = \"warn\""), "{text}");
    assert!(text.contains("enabled = false"), "{text}");

    let answer = app
        .ask(
            new_question(
                1,
                "When was the Fresnel lens of Skerrow Point lighthouse made?",
            ),
            Arc::new(|_| {}),
        )
        .await
        .unwrap();
    let note = answer.review.clone().expect("queued");
    assert_eq!(note.mode, "warn");
    assert_eq!(answer.tier, "primary", "shown as written");

    let pending = app.reviews(ReviewsRequest { all: false }).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(Some(pending[0].id), note.id);
    assert_eq!(pending[0].answer, answer.answer);
    let edited = app
        .decide_review(ReviewDecision {
            id: pending[0].id,
            verdict: ReviewVerdict::Edit,
            text: Some("Made in 1870 [1].".into()),
            keep: false,
        })
        .await
        .unwrap();
    assert_eq!(edited.status, "edited");
    let messages = app
        .thread_messages(ThreadRequest {
            thread: answer.thread_id,
        })
        .await
        .unwrap();
    assert_eq!(messages.last().unwrap().content, "Made in 1870 [1].");
    let again = app
        .decide_review(ReviewDecision {
            id: pending[0].id,
            verdict: ReviewVerdict::Approve,
            text: None,
            keep: false,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code, "already_decided");
    assert!(
        app.reviews(ReviewsRequest { all: false })
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_api_switch_serves_the_library_with_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("config.toml"), "[api]\nport = 0\n").unwrap();
    let app = App::open(
        AppPaths {
            settings_file: root.join("config/app.toml"),
            default_data_dir: data,
            data_dir_override: None,
            bundled_models: None,
        },
        Arc::new(Recorder::default()),
    )
    .await;
    let off = app.api_status().await.unwrap();
    assert!(!off.running && off.base_url.is_none() && off.token.is_none());
    app.create_collection(CollectionRequest {
        name: "work".into(),
    })
    .await
    .unwrap();
    let tools = app.tools_view().await.unwrap();
    assert!(
        tools.collections.iter().all(|c| !c.shared),
        "nothing is shared before a server is turned on: {tools:?}"
    );
    assert!(tools.http_url.is_none() && !tools.redact && tools.recent_calls.is_empty());
    let pasted: serde_json::Value = serde_json::from_str(&tools.stdio_config).unwrap();
    assert_eq!(
        pasted["mcpServers"]["cairn"]["args"],
        serde_json::json!(["--data-dir", root.join("data"), "mcp"])
    );

    let on = app.set_api(ApiSwitch { on: true }).await.unwrap();
    assert!(on.running);
    // Turning the server on shares the default collection with other tools (here when it is
    // made), and only it; /mcp is served beside /v1.
    let shared = |t: &ToolsView| -> Vec<String> {
        t.collections
            .iter()
            .filter(|c| c.shared)
            .map(|c| c.name.clone())
            .collect()
    };
    assert!(shared(&app.tools_view().await.unwrap()).is_empty());
    app.create_collection(CollectionRequest {
        name: "default".into(),
    })
    .await
    .unwrap();
    let tools = app.tools_view().await.unwrap();
    assert_eq!(shared(&tools), ["default"]);
    assert_eq!(
        tools.http_url.as_deref(),
        Some(
            on.base_url
                .as_deref()
                .unwrap()
                .replace("/v1", "/mcp")
                .as_str()
        )
    );
    let tools = app
        .share_with_tools(ToolShareRequest {
            collection: "work".into(),
            shared: true,
        })
        .await
        .unwrap();
    assert_eq!(shared(&tools), ["default", "work"]);
    let unknown = app
        .share_with_tools(ToolShareRequest {
            collection: "nowhere".into(),
            shared: true,
        })
        .await
        .unwrap_err();
    assert!(unknown.message.contains("nowhere"), "{unknown:?}");
    // Redaction is written to the config file; the local API that was on stays on.
    let tools = app
        .set_tools_redact(ToolRedactRequest { redact: true })
        .await
        .unwrap();
    assert!(tools.redact && tools.http_url.is_some());
    let config = std::fs::read_to_string(root.join("data/config.toml")).unwrap();
    assert!(
        config.contains("[mcp]") && config.contains("redact = true"),
        "{config}"
    );
    let on = app.api_status().await.unwrap();
    assert!(on.running);
    // A collection the person stopped sharing stays private when the server is turned on again.
    app.share_with_tools(ToolShareRequest {
        collection: "default".into(),
        shared: false,
    })
    .await
    .unwrap();
    app.set_api(ApiSwitch { on: false }).await.unwrap();
    let on = app.set_api(ApiSwitch { on: true }).await.unwrap();
    assert_eq!(shared(&app.tools_view().await.unwrap()), ["work"]);
    let base = on.base_url.clone().unwrap();
    let token = on.token.clone().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert_eq!(
        app.set_api(ApiSwitch { on: true }).await.unwrap(),
        on,
        "on once"
    );

    let host = base
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    let get = |token: String| {
        let host = host.clone();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(&host).await?;
            s.write_all(
                format!(
                    "GET /v1/models HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
            let mut response = String::new();
            s.read_to_string(&mut response).await?;
            Ok::<String, std::io::Error>(response)
        }
    };
    let response = get(token.clone()).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"cairn\""), "{response}");
    let refused = get("cairn-wrong".into()).await.unwrap();
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");

    let off = app.set_api(ApiSwitch { on: false }).await.unwrap();
    assert!(!off.running);
    assert!(get(token).await.is_err(), "nothing listens once it is off");
}

/// Waits until `check` holds for the library view.
async fn until_view(app: &App, what: &str, check: impl Fn(&LibraryView) -> bool) -> LibraryView {
    let started = Instant::now();
    loop {
        let view = app.library_view().await.unwrap();
        if check(&view) {
            return view;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what}: {:?}",
            view.documents
                .iter()
                .map(|d| (&d.name, d.state))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn has(view: &LibraryView, name: &str) -> bool {
    view.documents
        .iter()
        .any(|d| d.name == name && d.state == DocumentState::Indexed)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_added_is_kept_in_sync_and_failed_files_can_be_retried() {
    let f = fixture().await;
    let folder = f.root.join("docs");
    documents(&folder);
    let folder = folder.canonicalize().unwrap();
    let ticket = f.app.add_paths(add(&folder)).await.unwrap();
    assert_eq!(f.events.end_of(ticket.job).await.kind, JobKind::Add);

    // The folder added is watched.
    let view = f.app.library_view().await.unwrap();
    assert_eq!(
        view.watched,
        [WatchedFolderView {
            collection: "default".into(),
            path: folder.display().to_string(),
            watching: true,
            problem: None,
        }]
    );

    // A file written there is indexed, a file deleted there is removed, by sync jobs.
    std::fs::write(
        folder.join("owls.md"),
        "# Owls\n\nBarn owls hunt by sound alone.",
    )
    .unwrap();
    until_view(&f.app, "owls.md indexed", |v| has(v, "owls.md")).await;
    std::fs::remove_file(folder.join("tides.md")).unwrap();
    until_view(&f.app, "tides.md removed", |v| {
        !v.documents.iter().any(|d| d.name == "tides.md")
    })
    .await;
    let sync = f
        .events
        .0
        .lock()
        .unwrap()
        .iter()
        .find(|u| u.kind == JobKind::Sync)
        .cloned()
        .expect("a sync job");
    assert_eq!(
        sync.paths,
        [folder.display().to_string()],
        "named by its folder"
    );

    // Every failed file, read again on request (the PDF is still broken, and says so again
    // rather than as quarantined).
    let retry = f
        .app
        .retry_failed(DocumentsRequest {
            collection: "default".into(),
            paths: Vec::new(),
        })
        .await
        .unwrap();
    let end = f.events.end_of(retry.job).await;
    assert_eq!((end.kind, end.state), (JobKind::Retry, JobState::Finished));
    let failures: Vec<FileUpdate> = f
        .events
        .updates(retry.job)
        .into_iter()
        .flat_map(|u| u.files)
        .filter(|u| u.state == FileState::Failed)
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].path.ends_with("broken.pdf"));
    assert_ne!(failures[0].code.as_deref(), Some("quarantined"));

    // Closed, changed, opened again: the start-up sync finds the change.
    let paths = AppPaths {
        settings_file: f.root.join("config/app.toml"),
        default_data_dir: f.root.join("data"),
        data_dir_override: None,
        bundled_models: None,
    };
    drop(f.app);
    std::fs::write(
        folder.join("late.md"),
        "# Late\n\nWritten while the app was closed.",
    )
    .unwrap();
    let events = Arc::new(Recorder::default());
    let app = App::open(paths, events.clone()).await;
    until_view(&app, "late.md indexed on start-up", |v| has(v, "late.md")).await;

    // Unwatched: the folder's documents stay, and changes are no longer followed.
    app.unwatch_folder(WatchRequest {
        collection: "default".into(),
        path: folder.display().to_string(),
    })
    .await
    .unwrap();
    let view = app.library_view().await.unwrap();
    assert!(view.watched.is_empty());
    assert!(has(&view, "late.md"));
    std::fs::write(
        folder.join("after.md"),
        "# After\n\nWritten after syncing stopped.",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let view = app.library_view().await.unwrap();
    assert!(view.ingest.is_none());
    assert!(!view.documents.iter().any(|d| d.name == "after.md"));
    let again = app
        .unwatch_folder(WatchRequest {
            collection: "default".into(),
            path: folder.display().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code, "invalid_input");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cited_pdf_page_is_drawn_with_its_passage_highlighted() {
    let f = fixture().await;
    let folder = f.root.join("pdfs");
    std::fs::create_dir_all(&folder).unwrap();
    let pdf = folder.join("three-pages.pdf");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../cairn-ingest/tests/fixtures/three-pages.pdf"),
        &pdf,
    )
    .unwrap();
    let notes = folder.join("notes.md");
    std::fs::write(&notes, "# Notes\n\nThe lamp is lit at dusk.\n").unwrap();
    let ticket = f.app.add_paths(add(&folder)).await.unwrap();
    let end = f.events.end_of(ticket.job).await;
    assert_eq!((end.done, end.failed), (2, 0), "{:?}", end.error);

    let page = |doc_path: &Path, page: u32, passage: &str| PageRequest {
        doc_path: doc_path.display().to_string(),
        page,
        passage: passage.into(),
        width: 700,
    };
    let drawn = f
        .app
        .cited_page(page(&pdf, 2, "Fresnel lenses focus the beam."))
        .await
        .unwrap();
    assert!(drawn.data_url.starts_with("data:image/png;base64,iVBOR"));
    assert_eq!((drawn.width, drawn.page_count), (700, 3));
    assert!(drawn.height > drawn.width, "a portrait page");
    let line = drawn
        .highlights
        .first()
        .expect("the passage is highlighted");
    assert!(line.right > line.left && line.bottom > line.top && line.bottom <= drawn.height);
    // Not on page 1: the page is drawn, nothing is highlighted.
    let other = f
        .app
        .cited_page(page(&pdf, 1, "Fresnel lenses focus the beam."))
        .await
        .unwrap();
    assert!(other.highlights.is_empty());

    for (request, code) in [
        (page(&pdf, 9, "x"), "corrupt"),
        (page(&notes, 1, "lamp"), "invalid_input"),
        (page(&f.root.join("elsewhere.pdf"), 1, "x"), "invalid_input"),
    ] {
        let err = f.app.cited_page(request.clone()).await.unwrap_err();
        assert_eq!(err.code, code, "{request:?}: {err:?}");
        assert!(!err.message.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watched_folder_on_a_disk_that_goes_away_keeps_its_documents_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(
        root.join("data/config.toml"),
        "[watch]\nunavailable_retry_secs = 1\n",
    )
    .unwrap();
    let events = Arc::new(Recorder::default());
    let app = App::open(
        AppPaths {
            settings_file: root.join("config/app.toml"),
            default_data_dir: root.join("data"),
            data_dir_override: None,
            bundled_models: None,
        },
        events.clone(),
    )
    .await;
    let folder = root.join("usb");
    documents(&folder);
    let folder = folder.canonicalize().unwrap();
    let ticket = app.add_paths(add(&folder)).await.unwrap();
    events.end_of(ticket.job).await;
    let indexed = until_view(&app, "indexed", |v| has(v, "tides.md")).await;
    let count = indexed.documents.len();
    let searchable = |v: &LibraryView| {
        v.documents
            .iter()
            .filter(|d| d.state == DocumentState::Indexed)
            .count()
    };
    let indexed_count = searchable(&indexed);

    // Unplugged: shown as not there, and nothing is removed.
    let away = root.join("elsewhere");
    std::fs::rename(&folder, &away).unwrap();
    let view = until_view(&app, "shown as not there", |v| {
        v.watched[0]
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("not there"))
    })
    .await;
    assert!(!view.watched[0].watching);
    assert_eq!(view.documents.len(), count, "its documents are kept");
    assert_eq!(searchable(&view), indexed_count, "and still searchable");

    // Plugged in again, with a file added meanwhile: watched again and reconciled.
    std::fs::rename(&away, &folder).unwrap();
    std::fs::write(
        folder.join("owls.md"),
        "# Owls\n\nBarn owls hunt by sound alone.",
    )
    .unwrap();
    let view = until_view(&app, "back and reconciled", |v| has(v, "owls.md")).await;
    assert!(view.watched[0].watching, "{:?}", view.watched);
    assert_eq!(view.watched[0].problem, None);
    assert_eq!(view.documents.len(), count + 1);
}
