//! Other AI tools: which collections they may read, the first start of a server for them, and
//! their calls in the audit log.

use std::collections::BTreeMap;

use cairn_store::{CollectionRecord, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
    (dir, store)
}

fn create(store: &Store, name: &str) {
    store
        .create_collection(&CollectionRecord::new(name, "minilm", "f00d", 384))
        .unwrap();
}

#[test]
fn a_new_collection_is_private_and_sharing_is_by_name() {
    let (_dir, store) = store();
    create(&store, "default");
    create(&store, "work");
    assert!(store.tool_collections().unwrap().is_empty());
    assert!(store.share_with_tools("work", true).unwrap());
    assert!(!store.share_with_tools("nowhere", true).unwrap());
    assert_eq!(store.tool_collections().unwrap(), ["work"]);
}

#[test]
fn only_the_first_start_shares_the_default_collection() {
    let (_dir, store) = store();
    create(&store, "default");
    create(&store, "work");
    assert!(store.start_tool_server("default").unwrap());
    assert_eq!(store.tool_collections().unwrap(), ["default"]);
    // Stopped by the person, it stays private through later starts.
    store.share_with_tools("default", false).unwrap();
    assert!(!store.start_tool_server("default").unwrap());
    assert!(store.tool_collections().unwrap().is_empty());
}

#[test]
fn a_default_collection_made_after_the_first_start_is_shared_and_no_other() {
    let (_dir, store) = store();
    assert!(store.start_tool_server("default").unwrap());
    create(&store, "work");
    create(&store, "default");
    assert_eq!(store.tool_collections().unwrap(), ["default"]);
}

#[test]
fn the_calls_of_other_tools_are_read_apart_from_other_egress() {
    let (_dir, store) = store();
    let none = BTreeMap::new();
    for i in 0..30 {
        store.append_audit("openai", "gpt", i, &none).unwrap();
        if i % 10 == 0 {
            store
                .append_audit("mcp:Claude Desktop", "search", i, &none)
                .unwrap();
        }
    }
    let calls = store.audit_entries_of("mcp:", 2).unwrap();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.provider == "mcp:Claude Desktop"));
    assert_eq!(
        (calls[0].chars, calls[1].chars),
        (10, 20),
        "the last two, oldest first"
    );
    assert_eq!(store.audit_entries_of("mcp:", 100).unwrap().len(), 3);
    assert_eq!(store.audit_entries(100).unwrap().len(), 33);
}
