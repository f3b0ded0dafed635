//! A panic inside an indexing job fails that job alone: the queue goes on with the next.
//! (A test binary of its own: the panic is armed for the whole process.)

use std::sync::Arc;

use cairn_app::api::*;
use cairn_app::{App, AppPaths};

mod support;
use support::Recorder;

#[tokio::test(flavor = "multi_thread")]
#[allow(unsafe_code)]
async fn a_panic_in_an_indexing_job_fails_it_and_the_next_job_runs() {
    // SAFETY: set before the app or any other thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("CAIRN_FAULT", "ingest.rows_appended:1:panic");
    }
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.md"), "Puffins nest in burrows on cliffs.").unwrap();
    std::fs::write(docs.join("b.md"), "Gannets dive from thirty metres.").unwrap();
    let events = Arc::new(Recorder::default());
    let app = App::open(
        AppPaths {
            settings_file: dir.path().join("config/app.toml"),
            default_data_dir: dir.path().join("data"),
            data_dir_override: None,
            bundled_models: None,
        },
        events.clone(),
    )
    .await;
    let add = |path: &std::path::Path| AddRequest {
        paths: vec![path.display().to_string()],
        collection: "default".into(),
    };
    let first = app.add_paths(add(&docs.join("a.md"))).await.unwrap();
    let second = app.add_paths(add(&docs.join("b.md"))).await.unwrap();
    let failed = events.end_of(first.job).await;
    assert_eq!(failed.state, JobState::Failed);
    let error = failed.error.expect("the failed job says why");
    assert!(error.message.contains("panic"), "{}", error.message);
    // The queue was not wedged: the next job ran (the fault fires once), indexed its file and
    // redid the one the panic left half-written.
    let next = events.end_of(second.job).await;
    assert_eq!(next.state, JobState::Finished, "{:?}", next.error);
    assert_eq!((next.done, next.failed), (2, 0));
    let docs = app.library_view().await.unwrap().documents;
    assert_eq!(docs.len(), 2);
    assert!(
        docs.iter().all(|d| d.state == DocumentState::Indexed),
        "{docs:?}"
    );
}
