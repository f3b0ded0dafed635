//! The review queue: an answer that fails the output checks waits for a person, held back or shown
//! with a warning; approving, editing or rejecting it rewrites its thread once. Real weights,
//! LanceDB and SQLite.

use cairn_engine::{
    AnswerEvent, AskRequest, CancelToken, Config, Library, Provenance, ReviewAction, ReviewMode,
    Tier,
};

mod support;

use support::{collect, fixture_library};

const QUESTION: &str = "When was the Fresnel lens of Skerrow Point lighthouse made?";

/// A config under which no sentence is ever supported: every generated answer fails the checks.
fn strict(mode: ReviewMode) -> Config {
    let mut config = Config::default();
    config.guard.output.sentence_support = 2.0;
    config.review.mode = mode;
    config
}

async fn ask(library: &Library, question: &str) -> (cairn_engine::Answer, Vec<AnswerEvent>) {
    let (on_event, events) = collect();
    let answer = library
        .ask(&AskRequest::new(question), on_event, &CancelToken::new())
        .await
        .unwrap();
    let events = events.lock().unwrap().clone();
    (answer, events)
}

fn shown(library: &Library, thread: i64) -> cairn_store::MessageRecord {
    library
        .thread_messages(thread)
        .unwrap()
        .pop()
        .expect("the answer")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_answer_waits_and_a_decision_rewrites_its_thread_once() {
    let data = tempfile::tempdir().unwrap();
    let library = fixture_library(data.path(), strict(ReviewMode::Hold)).await;

    // Held: the person sees the fixed answer, the model's answer waits in the queue.
    let (answer, events) = ask(&library, QUESTION).await;
    assert_eq!(answer.tier, Tier::Deterministic, "{}", answer.answer);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AnswerEvent::Retracted { .. }))
    );
    let note = answer.review.clone().expect("queued");
    assert_eq!(note.mode, ReviewMode::Hold);
    assert!(!note.original.is_empty());
    assert_ne!(note.original, answer.answer);
    assert!(answer.answer.contains("waiting for a person"));
    // In its place, the passages' own sentences that bear on the question, each cited once.
    assert!(
        answer
            .answer
            .starts_with("I could not write an answer that these passages support"),
        "{}",
        answer.answer
    );
    assert!(answer.answer.contains("> “"), "{}", answer.answer);
    assert!(
        answer.answer.contains("1870"),
        "the lens's year: {}",
        answer.answer
    );
    assert!(!answer.citations.is_empty());
    for (i, c) in answer.citations.iter().enumerate() {
        assert_eq!((c.n, c.cited_by), (i + 1, "quote"));
        assert!(answer.answer.contains(&format!("[{}]", c.n)));
    }
    assert!(
        answer.route_reason.contains("quoted instead"),
        "{}",
        answer.route_reason
    );
    let pending = library.reviews(false).unwrap();
    assert_eq!(pending.len(), 1);
    let item = &pending[0];
    assert_eq!(Some(item.id), note.id);
    assert_eq!(item.trace_id, answer.trace_id, "linked to its trace");
    assert_eq!(
        (item.status.as_str(), item.mode.as_str()),
        ("pending", "hold")
    );
    assert_eq!(item.answer, note.original);
    assert_eq!(item.question, QUESTION);
    assert!(item.made_by.starts_with("local "));
    let trace = library.trace(answer.trace_id.unwrap()).unwrap().unwrap().1;
    assert_eq!(trace["answer"]["review"]["id"], item.id);
    assert_eq!(
        trace["answer"]["review"]["original"],
        note.original.as_str()
    );
    assert_eq!(trace["cache"]["store"], "waiting for review");
    assert_eq!(shown(&library, answer.thread_id).content, answer.answer);

    // Approved and kept: the thread now shows the model's answer; the same question is served it.
    let approved = library
        .review(item.id, &ReviewAction::Approve, true)
        .unwrap();
    assert_eq!(approved.status, "approved");
    assert!(approved.cached_as.is_some());
    let message = shown(&library, answer.thread_id);
    assert_eq!(message.content, note.original);
    assert_eq!(message.citations.len(), note.citations.len());
    let (again, _) = ask(&library, QUESTION).await;
    assert_eq!(again.provenance, Provenance::Cache);
    assert_eq!(again.answer, note.original);
    assert_eq!(again.cache.unwrap().trace_id, answer.trace_id);

    // Taken once.
    let twice = library
        .review(item.id, &ReviewAction::Reject, false)
        .unwrap_err();
    assert_eq!(twice.code(), "already_decided");
    assert_eq!(shown(&library, answer.thread_id).content, note.original);

    // Edited: the person's words replace what was shown; not kept unless asked.
    let (other, _) = ask(&library, "How tall is the Skerrow Point lighthouse tower?").await;
    let id = other.review.unwrap().id.unwrap();
    let empty = library
        .review(id, &ReviewAction::Edit("  ".into()), false)
        .unwrap_err();
    assert_eq!(empty.code(), "invalid_input");
    let edited = library
        .review(
            id,
            &ReviewAction::Edit("It is 27 metres tall [1].".into()),
            false,
        )
        .unwrap();
    assert_eq!(
        (
            edited.status.as_str(),
            edited.final_text.as_deref(),
            edited.cached_as
        ),
        ("edited", Some("It is 27 metres tall [1]."), None)
    );
    let message = shown(&library, other.thread_id);
    assert_eq!(message.content, "It is 27 metres tall [1].");
    assert!(message.citations.iter().all(|c| c.n == 1));

    // Rejected: a held answer's thread keeps the fixed answer.
    let (third, _) = ask(&library, "What powers the light at Skerrow Point?").await;
    let id = third.review.unwrap().id.unwrap();
    library.review(id, &ReviewAction::Reject, false).unwrap();
    assert_eq!(shown(&library, third.thread_id).content, third.answer);

    assert!(library.reviews(false).unwrap().is_empty());
    let all = library.reviews(true).unwrap();
    assert_eq!(
        all.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["rejected", "edited", "approved"]
    );
    let missing = library
        .review(9999, &ReviewAction::Approve, false)
        .unwrap_err();
    assert_eq!(missing.code(), "no_such_review");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warned_answer_is_shown_at_once_and_withdrawn_if_rejected() {
    let data = tempfile::tempdir().unwrap();
    let library = fixture_library(data.path(), strict(ReviewMode::Warn)).await;
    let (answer, events) = ask(&library, QUESTION).await;
    assert_eq!(answer.tier, Tier::Primary);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AnswerEvent::Retracted { .. })),
        "shown, not withdrawn"
    );
    let note = answer.review.clone().expect("queued");
    assert_eq!(note.mode, ReviewMode::Warn);
    assert_eq!(note.original, answer.answer);
    assert_eq!(shown(&library, answer.thread_id).content, answer.answer);
    assert_ne!(
        ask(&library, QUESTION).await.0.provenance,
        Provenance::Cache,
        "an unreviewed answer is never kept"
    );

    library
        .review(note.id.unwrap(), &ReviewAction::Reject, false)
        .unwrap();
    let message = shown(&library, answer.thread_id);
    assert!(message.content.contains("withdrew"), "{}", message.content);
    assert!(message.citations.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_answer_declines_when_no_sentence_of_its_passages_comes_near_the_question() {
    let data = tempfile::tempdir().unwrap();
    let mut config = strict(ReviewMode::Hold);
    config.guard.output.quote_floor = 2.0;
    let library = fixture_library(data.path(), config).await;
    let (answer, _) = ask(&library, QUESTION).await;
    assert_eq!(answer.tier, Tier::Deterministic);
    assert!(
        answer
            .answer
            .starts_with("I found passages that may hold the answer"),
        "{}",
        answer.answer
    );
    assert!(answer.citations.is_empty());
    assert!(!answer.closest.is_empty(), "the closest sources are listed");
    assert!(answer.review.is_some());
}
