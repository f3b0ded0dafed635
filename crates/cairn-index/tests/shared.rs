//! Shared collections on a real S3-protocol server on loopback (moto's server mode behind a proxy
//! that throttles and drops connections when told: `tests/s3_server.py`), with small synthetic
//! vectors. Needs `moto[server]` in `$CAIRN_PYTHON`'s environment (`scripts/setup` installs it).

#[path = "support/s3.rs"]
mod s3;

use std::collections::HashSet;
use std::time::Duration;

use s3::S3Server;

use cairn_index::{
    ChunkRow, CollectionIndex, EmbedderStamp, Error, Index, IndexSettings, ObjectStore,
    OfflineCopy, Passage, SearchParams, StoreCredentials,
};

const DIM: usize = 8;

/// A store at `uri` on the server.
fn store_at(server: &S3Server, uri: &str) -> ObjectStore {
    ObjectStore::new(uri, Some(&server.endpoint()), None).unwrap()
}

fn credentials() -> StoreCredentials {
    StoreCredentials {
        access_key_id: "cairn-test".into(),
        secret_access_key: "cairn-test-secret".into(),
        session_token: None,
    }
}

fn stamp() -> EmbedderStamp {
    EmbedderStamp {
        id: "toy".into(),
        fingerprint: "sha256:0001".into(),
        dimension: DIM,
    }
}

fn vector(axis: usize) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[axis % DIM] = 1.0;
    v
}

fn row(doc_id: i64, ordinal: u32, text: &str, axis: usize) -> ChunkRow {
    ChunkRow {
        passage: Passage {
            chunk_id: format!("{doc_id}:{ordinal}"),
            doc_id,
            doc_path: format!("/team/{doc_id}.md"),
            ordinal,
            page: None,
            heading: String::new(),
            char_start: 0,
            char_end: text.len() as u32,
            text: text.into(),
        },
        vector: vector(axis),
    }
}

/// Ten rows of one document.
fn document(doc_id: i64) -> Vec<ChunkRow> {
    (0..10)
        .map(|i| {
            row(
                doc_id,
                i,
                &format!("passage {i} of document {doc_id}"),
                i as usize,
            )
        })
        .collect()
}

async fn open(store: &ObjectStore) -> CollectionIndex {
    Index::open_shared(store, &credentials())
        .await
        .unwrap()
        .collection("team", &stamp())
        .await
        .unwrap()
}

async fn chunk_ids(collection: &CollectionIndex) -> Vec<String> {
    let mut ids = Vec::new();
    for doc in collection.rows_per_document().await.unwrap().keys() {
        for row in collection.document_rows(*doc).await.unwrap() {
            ids.push(row.passage.chunk_id);
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_collection_is_filled_and_searched_from_two_machines_like_a_local_one() {
    let server = S3Server::start("library");
    let store = store_at(&server, "s3://library/team-a");
    let alice = open(&store).await;
    alice
        .add(&[
            row(1, 0, "Lighthouses guide ships along rocky coasts.", 0),
            row(2, 0, "Tides follow the moon and the sun.", 3),
            row(3, 0, "Sourdough bread needs a lively starter.", 5),
        ])
        .await
        .unwrap();
    alice.optimize(&IndexSettings::default()).await.unwrap();

    // Another machine, another connection: it sees the same collection and searches it.
    let index = Index::open_shared(&store, &credentials()).await.unwrap();
    assert_eq!(index.collections().await.unwrap(), vec!["team".to_string()]);
    assert_eq!(index.stamp("team").await.unwrap(), Some(stamp()));
    let bob = index.collection("team", &stamp()).await.unwrap();
    assert_eq!(bob.count(None).await.unwrap(), 3);
    let hits = bob
        .hybrid("tides and the moon", &vector(3), &SearchParams::default())
        .await
        .unwrap();
    assert_eq!(hits[0].passage.doc_id, 2, "{hits:?}");
    let words = bob.bm25("sourdough", 5).await.unwrap();
    assert_eq!(words.len(), 1);
    assert_eq!(words[0].passage.doc_id, 3);

    // Bob's additions reach Alice within her freshness interval.
    bob.add(&document(4)).await.unwrap();
    tokio::time::sleep(store_fresh_within() + Duration::from_millis(200)).await;
    assert_eq!(alice.count(None).await.unwrap(), 13);
}

fn store_fresh_within() -> Duration {
    cairn_index::DEFAULT_FRESH_WITHIN
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_adding_at_once_lose_and_double_nothing_when_their_commits_conflict() {
    let mut server = S3Server::start("library");
    let store = store_at(&server, "s3://library/team");
    let alice = open(&store).await;
    let bob = open(&store).await;
    let write = |writer: CollectionIndex, first: i64| async move {
        for doc in first..first + 6 {
            writer.add(&document(doc)).await.unwrap();
        }
    };
    // Two writers racing commit the same version now and then: the store refuses the second
    // (412 to its conditional put) and that writer commits again on top of the first. Race until
    // that has happened at least once.
    let mut rounds = 0;
    while server.stats().conflicts == 0 {
        assert!(
            rounds < 10,
            "ten rounds of racing writers and not one conflict"
        );
        let base = 1000 * rounds;
        tokio::join!(
            write(alice.clone(), base + 100),
            write(bob.clone(), base + 200)
        );
        rounds += 1;
    }

    let reader = open(&store).await;
    let ids = chunk_ids(&reader).await;
    let expected = 120 * rounds as usize;
    assert_eq!(ids.len(), expected, "every row of both writers, once");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        expected,
        "no row twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_a_dropped_upload_are_retried_and_lose_nothing() {
    let mut server = S3Server::start("library");
    let store = store_at(&server, "s3://library/team");
    let team = open(&store).await;
    team.add(&document(1)).await.unwrap();

    assert_eq!(server.command("slowdown 3"), "ok");
    team.add(&document(2)).await.unwrap();
    assert_eq!(server.stats().slowdowns, 3);

    assert_eq!(server.command("drop 1"), "ok");
    team.add(&document(3)).await.unwrap();
    assert_eq!(server.stats().drops, 1);

    let reader = open(&store).await;
    let ids = chunk_ids(&reader).await;
    assert_eq!(ids.len(), 30);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_whole_commits_while_a_writer_adds() {
    let server = S3Server::start("library");
    let store = store_at(&server, "s3://library/team");
    let writer = open(&store).await;
    let reader = open(&store.clone().fresh_within(Duration::ZERO)).await;
    let writing = tokio::spawn(async move {
        for doc in 0..8 {
            writer.add(&document(doc)).await.unwrap();
        }
    });
    let mut seen = Vec::new();
    while !writing.is_finished() {
        seen.push(reader.count(None).await.unwrap());
    }
    writing.await.unwrap();
    seen.push(reader.count(None).await.unwrap());
    assert!(
        seen.iter().all(|n| n % 10 == 0),
        "a count inside a commit: {seen:?}"
    );
    assert_eq!(*seen.last().unwrap(), 80);
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "versions go forward: {seen:?}"
    );
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_fails_with_an_error_not_a_hang() {
    // A port nothing listens on: the first request fails; no retry loop runs for minutes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let store = ObjectStore::new(
        "s3://library/team",
        Some(&format!("http://127.0.0.1:{port}")),
        None,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let result = async {
        Index::open_shared(&store, &credentials())
            .await?
            .collections()
            .await
    }
    .await;
    assert!(result.is_err(), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_copy_reads_without_the_store_and_catches_up_when_it_is_back() {
    let mut server = S3Server::start("library");
    let store = store_at(&server, "s3://library/team-offline");
    let writer = open(&store).await;
    writer.add(&document(1)).await.unwrap();
    writer.optimize(&IndexSettings::default()).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let copy = OfflineCopy::at(dir.path().join("team"));
    assert!(copy.state().unwrap().is_none());
    assert!(copy.collection("team", &stamp()).await.unwrap().is_none());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let told = seen.clone();
    let first = copy
        .catch_up_showing(
            &store,
            &credentials(),
            "team",
            std::sync::Arc::new(move |p| told.lock().unwrap().push(p)),
        )
        .await
        .unwrap();
    assert!(first.fetched > 0 && first.fetched_bytes > 0, "{first:?}");
    // Progress: the whole first, then once a file, up to all of it.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), first.fetched + 1, "{seen:?}");
    assert_eq!((seen[0].files_done, seen[0].bytes_done), (0, 0));
    let last = seen.iter().max_by_key(|p| p.files_done).unwrap();
    assert_eq!(
        (last.files_done, last.bytes_done),
        (first.fetched, first.fetched_bytes)
    );
    assert!(seen.iter().all(|p| p.files == first.fetched));
    assert_eq!(first.state.files, first.fetched, "{first:?}");
    assert_eq!(first.state.uri, "s3://library/team-offline");
    // Nothing new in the store: nothing is fetched again (files are written once).
    let again = copy.catch_up(&store, &credentials(), "team").await.unwrap();
    assert_eq!(again.fetched, 0, "{again:?}");

    // A second document arrives after the copy caught up; then the network goes.
    writer.add(&document(2)).await.unwrap();
    server.go_offline();
    let stale = copy.state().unwrap().unwrap();
    let local = copy.collection("team", &stamp()).await.unwrap().unwrap();
    assert!(local.is_read_only());
    let mut ids = chunk_ids(&local).await;
    ids.sort();
    assert_eq!(ids.len(), 10, "the copy is as the store was: {ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("1:")), "{ids:?}");
    let hits = local
        .hybrid("passage 3", &vector(3), &SearchParams::default())
        .await
        .unwrap();
    assert_eq!(hits[0].passage.chunk_id, "1:3", "{hits:?}");
    assert!(matches!(
        local.add(&document(3)).await,
        Err(Error::ReadOnly(_))
    ));

    // A catch-up without the network fails within seconds and leaves the copy as it was.
    let started = std::time::Instant::now();
    let failed = copy.catch_up(&store, &credentials(), "team").await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(copy.state().unwrap().unwrap(), stale);
    assert_eq!(chunk_ids(&local).await.len(), 10);

    // The network is back: the copy catches up to the second document.
    server.go_online();
    let caught = copy.catch_up(&store, &credentials(), "team").await.unwrap();
    assert!(caught.fetched > 0, "{caught:?}");
    assert!(caught.state.synced_at_ms >= stale.synced_at_ms);
    let local = copy.collection("team", &stamp()).await.unwrap().unwrap();
    let ids: HashSet<String> = chunk_ids(&local).await.into_iter().collect();
    assert_eq!(ids.len(), 20, "{ids:?}");

    copy.remove().unwrap();
    assert!(!dir.path().join("team").exists());
}
