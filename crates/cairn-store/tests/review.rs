//! The review queue: a decision is taken once and rewrites the message the person saw.

use cairn_store::{CitationRecord, Decision, Error, NewMessage, NewReview, Store};

#[test]
fn a_decision_is_taken_once_and_rewrites_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.sqlite")).unwrap();
    let thread = store.create_thread("q", "default").unwrap();
    let shown = store
        .add_message(
            thread.id,
            &NewMessage {
                role: "assistant".into(),
                content: "This answer is waiting for review.".into(),
                ..NewMessage::default()
            },
        )
        .unwrap();
    let new = |question: &str| NewReview {
        thread_id: Some(thread.id),
        message_id: Some(shown),
        collection: "default".into(),
        question: question.into(),
        reason: "not grounded".into(),
        mode: "hold".into(),
        answer: "{}".into(),
        sources: "[]".into(),
    };
    let first = store.review_add(&new("first")).unwrap();
    let second = store.review_add(&new("second")).unwrap();
    assert_eq!(store.reviews(Some("pending")).unwrap().len(), 2);

    let cited = CitationRecord {
        n: 1,
        chunk_id: "7:0".into(),
        doc_path: "/a.md".into(),
        page: None,
        heading: None,
        text: "The lens was made in 1870.".into(),
        score: Some(0.8),
    };
    let decided = store
        .review_decide(
            first,
            &Decision::Edit {
                text: "Made in 1870 [1].".into(),
                citations: vec![cited.clone()],
            },
        )
        .unwrap();
    assert_eq!(decided.status, "edited");
    let messages = store.messages(thread.id).unwrap();
    assert_eq!(messages[0].content, "Made in 1870 [1].");
    assert_eq!(messages[0].citations, vec![cited]);

    // Taken once: a second decision on it is refused and changes nothing.
    let again = store.review_decide(first, &Decision::Reject { text: None });
    assert!(matches!(again, Err(Error::AlreadyDecided { ref status, .. }) if status == "edited"));
    assert_eq!(
        store.messages(thread.id).unwrap()[0].content,
        "Made in 1870 [1]."
    );
    assert!(matches!(
        store.review_decide(99, &Decision::Reject { text: None }),
        Err(Error::NoSuchReview(99))
    ));

    store
        .review_decide(
            second,
            &Decision::Reject {
                text: Some("Rejected.".into()),
            },
        )
        .unwrap();
    let all = store.reviews(None).unwrap();
    assert_eq!(
        all.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["rejected", "edited"]
    );
    assert_eq!(all[0].final_text, None);
    assert!(store.reviews(Some("pending")).unwrap().is_empty());
}
