//! Conversations: a thread keeps its messages and their citations, in order, and leaves whole.

use cairn_store::{CitationRecord, NewMessage, Store, Tier};

#[test]
fn a_thread_keeps_its_messages_and_citations_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.sqlite")).unwrap();
    let thread = store
        .create_thread("When was the lighthouse built?", "default")
        .unwrap();
    store
        .add_message(
            thread.id,
            &NewMessage {
                role: "user".into(),
                content: "When?".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let cite = CitationRecord {
        n: 1,
        chunk_id: "c1".into(),
        doc_path: "/a.md".into(),
        page: Some(2),
        heading: None,
        text: "Built in 1870.".into(),
        score: Some(0.8),
    };
    store
        .add_message(
            thread.id,
            &NewMessage {
                role: "assistant".into(),
                content: "In 1870 [1].".into(),
                tier: Some(Tier::Primary),
                citations: vec![cite.clone()],
                ..Default::default()
            },
        )
        .unwrap();
    let messages = store.messages(thread.id).unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].role, "user");
    assert_eq!(messages[1].citations, vec![cite]);
    assert_eq!(store.threads().unwrap()[0].id, thread.id);
    // A bad role is refused by the schema, and nothing is half-written.
    let bad = NewMessage {
        role: "system".into(),
        content: "x".into(),
        ..Default::default()
    };
    assert!(store.add_message(thread.id, &bad).is_err());
    assert_eq!(store.messages(thread.id).unwrap().len(), 2);
    assert!(store.delete_thread(thread.id).unwrap());
    assert!(store.messages(thread.id).unwrap().is_empty());
}
