//! Watched folders on real file-system events (inotify here): files created, edited, renamed and
//! deleted in a temporary folder reach the index through `FolderWatcher::next` and
//! `Library::sync`; a burst is gathered into few passes. Real LanceDB, SQLite and model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_engine::{
    AddReport, CancelToken, ChangeBatch, Config, FolderWatcher, Library, WatchedFolder,
};

const DEBOUNCE: Duration = Duration::from_millis(300);

/// How long a change may take to reach the index before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// The collection's documents, as paths relative to `root`, with their content hashes.
fn documents(library: &Library, root: &Path) -> BTreeMap<String, Option<String>> {
    library
        .documents(Some("notes"))
        .unwrap()
        .into_iter()
        .map(|d| {
            let rel = Path::new(&d.path)
                .strip_prefix(root)
                .unwrap_or_else(|_| panic!("{} is outside the folder", d.path))
                .display()
                .to_string();
            (rel, d.error_code.or(d.content_hash.map(|_| "ok".into())))
        })
        .collect()
}

fn names(docs: &BTreeMap<String, Option<String>>) -> Vec<&str> {
    docs.keys().map(String::as_str).collect()
}

async fn search(library: &Library, query: &str) -> Vec<cairn_engine::Hit> {
    let request = cairn_engine::SearchRequest {
        collection: "notes".into(),
        ..cairn_engine::SearchRequest::new(query)
    };
    library.search(&request).await.unwrap()
}

/// One watch pass: waits for the next batch, syncs it.
async fn pass(library: &Library, watcher: &FolderWatcher) -> (Vec<ChangeBatch>, AddReport) {
    let cancel = CancelToken::new();
    let batches = tokio::time::timeout(DEADLINE, watcher.next(DEBOUNCE, &cancel))
        .await
        .expect("a change arrives")
        .expect("not cancelled");
    let mut report = AddReport::default();
    for batch in &batches {
        let r = library
            .sync(&batch.paths, &batch.collection, &|_| {}, &cancel)
            .await
            .unwrap();
        report.outcomes.extend(r.outcomes);
    }
    (batches, report)
}

/// Runs passes until the documents are `want`; returns how many passes it took.
async fn settle(library: &Library, watcher: &FolderWatcher, root: &Path, want: &[&str]) -> usize {
    let started = Instant::now();
    let mut passes = 0;
    loop {
        if names(&documents(library, root)) == want {
            return passes;
        }
        let (_, report) = pass(library, watcher).await;
        passes += 1;
        assert_eq!(report.failed(), 0, "{report:?}");
        assert!(
            started.elapsed() < DEADLINE,
            "documents are {:?}, want {want:?}",
            documents(library, root)
        );
    }
}

async fn watched(config: Config) -> (tempfile::TempDir, PathBuf, Library, FolderWatcher) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("notes");
    std::fs::create_dir_all(&root).unwrap();
    let root = root.canonicalize().unwrap();
    let library = Library::open(&tmp.path().join("data"), config)
        .await
        .unwrap();
    assert!(library.watch_folder("notes", &root).unwrap());
    assert!(
        !library.watch_folder("notes", &root).unwrap(),
        "watched once"
    );
    let watcher = library.folder_watcher().unwrap();
    for folder in library.watched(None).unwrap() {
        watcher.watch(folder).unwrap();
    }
    (tmp, root, library, watcher)
}

#[tokio::test(flavor = "multi_thread")]
async fn created_edited_renamed_and_deleted_files_follow_the_folder() {
    let (_tmp, root, library, watcher) = watched(Config::default()).await;
    assert_eq!(
        watcher.folders(),
        [WatchedFolder {
            collection: "notes".into(),
            path: root.clone()
        }]
    );

    // Created.
    write(
        &root,
        "tides.md",
        "# Tides\n\nSpring tides follow the new and full moon.",
    );
    settle(&library, &watcher, &root, &["tides.md"]).await;

    // Edited: the file is indexed again, and the new words are what search finds.
    write(
        &root,
        "tides.md",
        "# Tides\n\nNeap tides come at the quarter moons.",
    );
    let started = Instant::now();
    loop {
        let (_, report) = pass(&library, &watcher).await;
        let replaced = report.outcomes.iter().any(|o| {
            matches!(
                o.status,
                cairn_engine::FileStatus::Indexed { replaced: true, .. }
            )
        });
        if replaced {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "{report:?}");
    }
    let hits = search(&library, "neap tides quarter moons").await;
    assert!(hits[0].passage.text.contains("Neap"), "{hits:?}");

    // Renamed: the old name leaves, the new one arrives.
    std::fs::rename(root.join("tides.md"), root.join("moon-tides.md")).unwrap();
    settle(&library, &watcher, &root, &["moon-tides.md"]).await;

    // A folder with a file in it; then the folder renamed, then deleted.
    write(
        &root,
        "ships/logbook.md",
        "# Logbook\n\nWind from the west.",
    );
    settle(
        &library,
        &watcher,
        &root,
        &["moon-tides.md", "ships/logbook.md"],
    )
    .await;
    std::fs::rename(root.join("ships"), root.join("boats")).unwrap();
    settle(
        &library,
        &watcher,
        &root,
        &["boats/logbook.md", "moon-tides.md"],
    )
    .await;
    std::fs::remove_dir_all(root.join("boats")).unwrap();
    settle(&library, &watcher, &root, &["moon-tides.md"]).await;

    // Hidden files, editor leftovers and unsupported files are passed over; the one document
    // written with them is the only change.
    write(&root, ".draft.md", "# Draft");
    write(&root, "moon-tides.md~", "# Backup");
    write(&root, ".moon-tides.md.swp", "swap");
    write(&root, "picture.xyz", "not a document");
    write(
        &root,
        "currents.md",
        "# Currents\n\nThe Gulf Stream carries warm water north.",
    );
    let (batches, report) = pass(&library, &watcher).await;
    let changed: Vec<&Path> = batches
        .iter()
        .flat_map(|b| &b.paths)
        .map(|p| p.as_path())
        .collect();
    assert!(
        changed.contains(&root.join("currents.md").as_path())
            && !changed.iter().any(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with('.') || name.ends_with('~')
            }),
        "{changed:?}"
    );
    assert_eq!((report.indexed(), report.failed()), (1, 0), "{report:?}");
    settle(&library, &watcher, &root, &["currents.md", "moon-tides.md"]).await;

    // Deleted.
    std::fs::remove_file(root.join("moon-tides.md")).unwrap();
    settle(&library, &watcher, &root, &["currents.md"]).await;

    // Unwatched: changes are no longer reported.
    assert!(library.unwatch_folder("notes", &root).unwrap());
    assert!(watcher.unwatch("notes", &root));
    write(&root, "late.md", "# Late\n\nWritten after the watch ended.");
    let cancel = CancelToken::new();
    let quiet = tokio::time::timeout(Duration::from_secs(2), watcher.next(DEBOUNCE, &cancel)).await;
    assert!(
        quiet.is_err(),
        "no change reported for an unwatched folder: {quiet:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_ten_thousand_changes_is_gathered_into_few_passes() {
    let (_tmp, root, library, watcher) = watched(Config::default()).await;
    // 500 files, each written 20 times: 10,000 writes as fast as the disk takes them.
    const FILES: usize = 500;
    const WRITES: usize = 20;
    let writer = {
        let root = root.clone();
        std::thread::spawn(move || {
            for round in 0..WRITES {
                for i in 0..FILES {
                    std::fs::write(
                        root.join(format!("note-{i:03}.md")),
                        format!("# Note {i}\n\nRevision {round} of note number {i}."),
                    )
                    .unwrap();
                }
            }
        })
    };
    let started = Instant::now();
    let mut passes = 0;
    let mut events = 0;
    loop {
        let (batches, report) = pass(&library, &watcher).await;
        passes += 1;
        events += batches.iter().map(|b| b.events).sum::<usize>();
        assert_eq!(report.failed(), 0, "{report:?}");
        assert!(batches.iter().all(|b| b.paths.len() <= FILES));
        let docs = documents(&library, &root);
        if writer.is_finished() && docs.len() == FILES {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{passes} passes, {} docs",
            docs.len()
        );
    }
    writer.join().unwrap();
    eprintln!(
        "{} writes: {events} events, {passes} passes, settled after {:.1} s",
        FILES * WRITES,
        started.elapsed().as_secs_f64()
    );
    assert!(events >= FILES * WRITES, "every write was seen: {events}");
    assert!(passes <= 6, "10,000 changes took {passes} passes");

    // The last revision of every file is what the index holds.
    let last = format!("Revision {} of note number 417.", WRITES - 1);
    let hits = search(&library, &last).await;
    assert!(hits[0].passage.text.contains(&last), "{hits:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn more_changes_than_a_pass_takes_reconcile_the_folder_whole() {
    let mut config = Config::default();
    config.watch.max_paths = 20;
    let (_tmp, root, library, watcher) = watched(config).await;
    for i in 0..60 {
        write(
            &root,
            &format!("memo-{i:02}.txt"),
            &format!("Memo number {i}."),
        );
    }
    let (batches, report) = pass(&library, &watcher).await;
    assert_eq!(batches.len(), 1);
    assert!(batches[0].rescan);
    assert_eq!(batches[0].paths, std::slice::from_ref(&root));
    assert_eq!(report.indexed(), 60, "{report:?}");

    // Deleting a whole folder's worth: the reconcile removes them.
    for i in 0..60 {
        std::fs::remove_file(root.join(format!("memo-{i:02}.txt"))).unwrap();
    }
    settle(&library, &watcher, &root, &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_that_cannot_be_watched_says_why_and_waiting_can_be_cancelled() {
    let (tmp, _root, library, watcher) = watched(Config::default()).await;
    let err = watcher
        .watch(WatchedFolder {
            collection: "notes".into(),
            path: tmp.path().join("no-such-folder"),
        })
        .unwrap_err();
    assert_eq!(err.code(), "watch");
    assert!(err.to_string().contains("no such folder"), "{err}");
    let err = library
        .watch_folder("notes", &tmp.path().join("no-such-folder"))
        .unwrap_err();
    assert!(err.to_string().contains("not a folder"), "{err}");

    let cancel = CancelToken::new();
    let waiting = watcher.next(DEBOUNCE, &cancel);
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        canceller.cancel();
    });
    let ended = tokio::time::timeout(Duration::from_secs(5), waiting).await;
    assert_eq!(ended.expect("cancel ends the wait"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn links_out_of_a_watched_folder_are_not_followed() {
    let (tmp, root, library, _watcher) = watched(Config::default()).await;
    let outside = tmp.path().join("home");
    write(
        &outside,
        ".aws/credentials.md",
        "aws_secret_access_key = hunter2",
    );
    write(&outside, "private/diary.md", "# Diary\n\nSecret thoughts.");
    write(&root, "readme.md", "# Readme\n\nHow the project is built.");
    std::os::unix::fs::symlink(outside.join(".aws/credentials.md"), root.join("creds.md")).unwrap();
    std::os::unix::fs::symlink(outside.join("private"), root.join("private")).unwrap();
    let cancel = CancelToken::new();
    // The folder reconciled whole, and the links as the watcher reports them when made.
    for paths in [
        vec![root.clone()],
        vec![
            root.join("creds.md"),
            root.join("private"),
            root.join("private/diary.md"),
        ],
    ] {
        let report = library
            .sync(&paths, "notes", &|_| {}, &cancel)
            .await
            .unwrap();
        assert_eq!(report.failed(), 0, "{report:?}");
    }
    assert_eq!(names(&documents(&library, &root)), ["readme.md"]);
    assert!(
        search(&library, "secret access key diary thoughts")
            .await
            .iter()
            .all(|h| {
                !h.passage.text.contains("hunter2") && !h.passage.text.contains("Secret thoughts")
            })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watched_folder_that_is_not_there_is_unavailable_and_keeps_its_documents() {
    let (tmp, root, library, _watcher) = watched(Config::default()).await;
    write(
        &root,
        "a.md",
        "# Tides\n\nSpring tides follow the full moon.",
    );
    write(
        &root,
        "sub/b.md",
        "# Currents\n\nThe Gulf Stream runs north.",
    );
    let cancel = CancelToken::new();
    let first = library
        .sync(std::slice::from_ref(&root), "notes", &|_| {}, &cancel)
        .await
        .unwrap();
    assert_eq!(first.indexed(), 2, "{first:?}");

    // The disk is unmounted: the folder, and every path the watcher reports under it, are gone.
    let away = tmp.path().join("unmounted");
    std::fs::rename(&root, &away).unwrap();
    for paths in [
        vec![root.clone()],
        vec![root.join("a.md"), root.join("sub")],
    ] {
        let report = library
            .sync(&paths, "notes", &|_| {}, &cancel)
            .await
            .unwrap();
        assert_eq!(
            report.removed(),
            0,
            "nothing is taken for deleted: {report:?}"
        );
        let unavailable: Vec<_> = report
            .outcomes
            .iter()
            .filter(|o| matches!(&o.status, cairn_engine::FileStatus::Failed { code, .. } if code == "unavailable"))
            .collect();
        assert_eq!(unavailable.len(), 1, "{report:?}");
        assert_eq!(unavailable[0].path, root.display().to_string());
    }
    assert_eq!(names(&documents(&library, &root)), ["a.md", "sub/b.md"]);
    assert!(
        search(&library, "spring tides full moon").await[0]
            .passage
            .text
            .contains("Spring")
    );

    // Mounted again: the next sync finds everything unchanged, and a deletion counts again.
    std::fs::rename(&away, &root).unwrap();
    std::fs::remove_file(root.join("sub/b.md")).unwrap();
    let back = library
        .sync(std::slice::from_ref(&root), "notes", &|_| {}, &cancel)
        .await
        .unwrap();
    assert_eq!(
        (back.unchanged(), back.removed(), back.failed()),
        (1, 1, 0),
        "{back:?}"
    );
}
