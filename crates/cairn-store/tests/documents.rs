//! Collections and documents: the ingest journal, failures, schema versions and re-embedding.

use cairn_store::{
    CollectionRecord, DocState, Error, FileStamp, IndexedDocument, SharedLocation, Store,
};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
    store
        .create_collection(&CollectionRecord::new("c", "m", "f", 4))
        .unwrap();
    (dir, store)
}

fn indexed(id: i64, hash: &str) -> IndexedDocument {
    IndexedDocument {
        id,
        kind: "text".into(),
        content_hash: hash.into(),
        size_bytes: 10,
        chunk_count: 2,
        page_count: None,
        warnings: vec![],
        stamp: None,
    }
}

#[test]
fn the_journal_moves_through_writing_to_indexed() {
    let (_dir, store) = store();
    let id = store.ensure_document("c", "/a.txt").unwrap();
    assert_eq!(
        store.ensure_document("c", "/a.txt").unwrap(),
        id,
        "ensure is idempotent"
    );
    store.begin_writes(&[(id, "h1")]).unwrap();
    assert_eq!(
        store
            .documents_in_state("c", DocState::Writing)
            .unwrap()
            .len(),
        1
    );
    store.finish_writes(&[indexed(id, "h1")]).unwrap();
    let doc = store.document("c", "/a.txt").unwrap().unwrap();
    assert_eq!(
        (doc.state, doc.content_hash.as_deref(), doc.chunk_count),
        (DocState::Indexed, Some("h1"), 2)
    );
    assert!(
        store
            .documents_in_state("c", DocState::Writing)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_failure_never_demotes_an_indexed_document() {
    let (_dir, store) = store();
    let a = store.ensure_document("c", "/a.txt").unwrap();
    let b = store.ensure_document("c", "/b.txt").unwrap();
    store.finish_writes(&[indexed(a, "h")]).unwrap();
    store.record_failure(a, "corrupt", "bad", None).unwrap();
    store
        .record_failure(b, "corrupt", "bad", Some("sha256:bb"))
        .unwrap();
    let a = store.document_by_id(a).unwrap().unwrap();
    assert_eq!(
        (a.state, a.error_code.as_deref()),
        (DocState::Indexed, Some("corrupt"))
    );
    assert_eq!(
        store.document_by_id(b).unwrap().unwrap().state,
        DocState::Failed
    );
}

#[test]
fn reopening_keeps_data_and_refuses_a_newer_schema() {
    let (dir, store) = store();
    store.ensure_document("c", "/a.txt").unwrap();
    drop(store);
    let path = dir.path().join("db.sqlite");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.documents(None).unwrap().len(), 1);
    // A newer Cairn wrote the file: its schema version is past any this build knows.
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    drop(store);
    assert!(matches!(
        Store::open(&path),
        Err(Error::TooNew { found: 999, .. })
    ));
}

#[test]
fn replacing_the_embedder_marks_every_document_for_reindexing() {
    let (_dir, store) = store();
    let a = store.ensure_document("c", "/a.txt").unwrap();
    store.finish_writes(&[indexed(a, "h")]).unwrap();
    store
        .replace_embedder(&CollectionRecord::new("c", "other", "g", 8))
        .unwrap();
    assert_eq!(store.collection("c").unwrap().unwrap().embedder_id, "other");
    // `writing`: its rows are deleted and the file read again by the next start and add, however
    // far the re-index got.
    let doc = store.document_by_id(a).unwrap().unwrap();
    assert_eq!(doc.state, DocState::Writing);
    assert_eq!(doc.content_hash, None);
    assert_eq!(
        store
            .documents_in_state("c", DocState::Writing)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_parse_mark_left_by_two_stopped_runs_in_a_row_quarantines_that_content() {
    let (_dir, store) = store();
    // Read to the end: the mark goes.
    let done = store.begin_parse("c", "/d/fine.pdf", "sha256:f").unwrap();
    store.end_parse(done).unwrap();
    // An indexed document whose new content was being read, and a new one.
    let old = store.begin_parse("c", "/d/old.pdf", "sha256:o1").unwrap();
    store.begin_writes(&[(old, "sha256:o1")]).unwrap();
    store.finish_writes(&[indexed(old, "sha256:o1")]).unwrap();
    let stop = |store: &Store| {
        store.begin_parse("c", "/d/old.pdf", "sha256:o2").unwrap();
        store.begin_parse("c", "/d/new.pdf", "sha256:n").unwrap();
        store
            .quarantine_interrupted_parses("c", "interrupted", "stopped while reading")
            .unwrap()
    };

    // Stopped once: a kill stops good files too, so both are read again.
    assert!(stop(&store).is_empty());
    assert!(store.quarantined("c").unwrap().is_empty());
    // Stopped again on the same content: quarantined.
    let stopped = stop(&store);
    assert_eq!(
        stopped,
        vec!["/d/new.pdf".to_string(), "/d/old.pdf".to_string()]
    );
    let q = store.quarantined("c").unwrap();
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(q["/d/new.pdf"].0, "sha256:n");
    assert_eq!(
        q["/d/old.pdf"].0, "sha256:o2",
        "the content being read, not the indexed one"
    );
    assert_eq!(q["/d/new.pdf"].1, "interrupted");
    let old = store.document("c", "/d/old.pdf").unwrap().unwrap();
    assert_eq!(old.state, DocState::Indexed, "what was indexed stays");
    let new = store.document("c", "/d/new.pdf").unwrap().unwrap();
    assert_eq!(new.state, DocState::Failed);
    assert!(
        store
            .quarantine_interrupted_parses("c", "interrupted", "x")
            .unwrap()
            .is_empty(),
        "each mark is taken once"
    );

    // A stop, then a read to the end, then a stop: the strikes start over.
    let id = store.begin_parse("c", "/d/other.pdf", "sha256:x").unwrap();
    store.quarantine_interrupted_parses("c", "i", "m").unwrap();
    store.begin_parse("c", "/d/other.pdf", "sha256:x").unwrap();
    store.end_parse(id).unwrap();
    store.begin_parse("c", "/d/other.pdf", "sha256:x").unwrap();
    assert!(
        store
            .quarantine_interrupted_parses("c", "i", "m")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_file_stamp_is_kept_with_its_content_and_refreshed_only_for_the_same_size() {
    let (_dir, store) = store();
    let id = store.ensure_document("c", "/a.txt").unwrap();
    store.begin_writes(&[(id, "h1")]).unwrap();
    let stamp = FileStamp {
        size: 10,
        modified_ns: 1_700_000_000_000_000_000,
        inode: 42,
    };
    store
        .finish_writes(&[IndexedDocument {
            stamp: Some(stamp),
            ..indexed(id, "h1")
        }])
        .unwrap();
    let doc = store.document_by_id(id).unwrap().unwrap();
    assert_eq!(doc.stamp, Some(stamp));
    // Touched: the same content under a new time is recorded.
    let touched = FileStamp {
        modified_ns: stamp.modified_ns + 5,
        ..stamp
    };
    store.set_file_stamp("c", "/a.txt", touched).unwrap();
    assert_eq!(
        store.document_by_id(id).unwrap().unwrap().stamp,
        Some(touched)
    );
    // A stamp of another size cannot describe the indexed content: it is not recorded.
    let other = FileStamp {
        size: 11,
        ..touched
    };
    store.set_file_stamp("c", "/a.txt", other).unwrap();
    assert_eq!(
        store.document_by_id(id).unwrap().unwrap().stamp,
        Some(touched)
    );
}

#[test]
fn a_shared_collection_keeps_its_location_and_draws_document_ids_no_other_library_would() {
    let (dir, store) = store();
    let mut shared = CollectionRecord::new("team", "m", "f", 4);
    shared.shared = Some(SharedLocation {
        uri: "s3://library/team".into(),
        endpoint: Some("https://minio.example.org".into()),
        region: None,
    });
    store.create_collection(&shared).unwrap();
    drop(store);
    let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
    assert_eq!(
        store.collection("team").unwrap().unwrap().shared,
        shared.shared
    );
    assert_eq!(store.collection("c").unwrap().unwrap().shared, None);

    // Local ids count up from 1; shared ones are drawn from 62 bits.
    assert_eq!(store.ensure_document("c", "/a.txt").unwrap(), 1);
    let ids: Vec<i64> = (0..50)
        .map(|i| store.ensure_document("team", &format!("/{i}.txt")).unwrap())
        .collect();
    assert!(ids.iter().all(|&id| id > 0), "{ids:?}");
    assert!(
        ids.iter().filter(|&&id| id > 1 << 40).count() >= 49,
        "{ids:?}"
    );
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 50);
    // The same path keeps its id.
    assert_eq!(store.ensure_document("team", "/0.txt").unwrap(), ids[0]);
}
