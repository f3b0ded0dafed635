//! Watched folders: each is watched once per collection, and leaves with its collection.

use cairn_store::{CollectionRecord, Store};

#[test]
fn folders_are_watched_once_per_collection_and_leave_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
    assert!(store.watch_folder("notes", "/home/me/notes").unwrap());
    assert!(!store.watch_folder("notes", "/home/me/notes").unwrap());
    assert!(store.watch_folder("work", "/home/me/notes").unwrap());
    let all: Vec<(String, String)> = store
        .watched_folders(None)
        .unwrap()
        .into_iter()
        .map(|w| (w.collection, w.path))
        .collect();
    assert_eq!(
        all,
        [
            ("notes".to_string(), "/home/me/notes".to_string()),
            ("work".to_string(), "/home/me/notes".to_string())
        ]
    );
    assert_eq!(store.watched_folders(Some("work")).unwrap().len(), 1);

    assert!(store.unwatch_folder("work", "/home/me/notes").unwrap());
    assert!(!store.unwatch_folder("work", "/home/me/notes").unwrap());

    store
        .create_collection(&CollectionRecord::new("notes", "m", "f", 4))
        .unwrap();
    store.delete_collection("notes").unwrap();
    assert!(store.watched_folders(None).unwrap().is_empty());
}
