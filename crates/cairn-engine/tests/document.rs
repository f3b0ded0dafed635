//! Requests about one whole document, end to end: real weights (MiniLM, SmolLM2), real LanceDB,
//! real SQLite. A small context window makes an 800-word document too long for one prompt, so it
//! is read part by part.

use cairn_engine::{
    Answer, AnswerConfig, AnswerEvent, AskRequest, CancelToken, Citation, Config, Library, Tier,
    router::Route,
};

mod support;

use support::{collect, fixture_library, streamed};

/// A window of `context_tokens` (the fast model answers: `fixture_library`).
fn config(context_tokens: usize) -> Config {
    let mut config = Config::default();
    config.cache.enabled = false;
    config.answer = AnswerConfig {
        context_tokens,
        part_tokens: context_tokens,
        max_tokens: 160,
        ..AnswerConfig::default()
    };
    config
}

fn progress(events: &[AnswerEvent]) -> Vec<(usize, usize)> {
    events
        .iter()
        .filter_map(|e| match e {
            AnswerEvent::Progress { done, total, .. } => Some((*done, *total)),
            _ => None,
        })
        .collect()
}

async fn library(data: &std::path::Path, context_tokens: usize) -> Library {
    fixture_library(data, config(context_tokens)).await
}

/// `request` asked of `library`: the answer, and the events it sent.
async fn ask(library: &Library, request: &AskRequest) -> (Answer, Vec<AnswerEvent>) {
    let (on_event, events) = collect();
    let answer = library
        .ask(request, on_event, &CancelToken::new())
        .await
        .unwrap();
    let events = events.lock().unwrap().clone();
    (answer, events)
}

/// The passages the model was given (the first `Sources` event).
fn given(events: &[AnswerEvent]) -> Vec<Citation> {
    events
        .iter()
        .find_map(|e| match e {
            AnswerEvent::Sources { passages } => Some(passages.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The passages' places in their document (from their chunk ids), asserted to ascend.
fn in_document_order(given: &[Citation]) -> Vec<u32> {
    let ordinals: Vec<u32> = given
        .iter()
        .map(|p| p.chunk_id.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(ordinals.windows(2).all(|w| w[0] < w[1]), "{ordinals:?}");
    ordinals
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_document_is_read_part_by_part_with_progress_and_each_part_cited() {
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), 768).await;
    let (answer, events) = ask(
        &library,
        &AskRequest::new("List every number mentioned in tides.md"),
    )
    .await;
    assert_eq!(answer.route, Route::Document, "{}", answer.route_reason);
    let steps = progress(&events);
    let total = steps.first().map(|s| s.1).unwrap_or(0);
    assert!(total >= 2, "read in parts: {steps:?}");
    // Progress before each part, then once when done, counting up.
    assert_eq!(steps.len(), total + 1, "{steps:?}");
    assert!(steps.windows(2).all(|w| w[0].0 < w[1].0), "{steps:?}");
    assert_eq!(steps.last(), Some(&(total, total)));
    // Every progress event comes before the answer's sources and text.
    let first_text = events
        .iter()
        .position(|e| matches!(e, AnswerEvent::Sources { .. } | AnswerEvent::Text { .. }))
        .unwrap();
    let last_progress = events
        .iter()
        .rposition(|e| matches!(e, AnswerEvent::Progress { .. }))
        .unwrap();
    assert!(last_progress < first_text);
    assert_eq!(answer.tier, Tier::Primary, "{}", answer.answer);
    assert_eq!(answer.prompt_version, "document@1.0.0");
    // The parts the model was given are notes on parts of tides.md, and only of it.
    let sources = given(&events);
    assert!(!sources.is_empty());
    assert!(
        sources
            .iter()
            .all(|p| p.doc_path.ends_with("nature/tides.md"))
    );
    assert!(
        answer
            .citations
            .iter()
            .all(|c| c.doc_path.ends_with("nature/tides.md"))
    );
    assert_eq!(streamed(&events).trim(), answer.answer.trim());
    assert!(answer.trace_id.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overview_of_a_long_document_is_written_from_the_typical_passage_of_each_part() {
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), 768).await;
    let (answer, events) = ask(&library, &AskRequest::new("Summarise tides.md")).await;
    assert_eq!(answer.route, Route::Document, "{}", answer.route_reason);
    // Every passage weighed at once: one progress event, done.
    let steps = progress(&events);
    assert_eq!(steps.len(), 1, "{steps:?}");
    let (done, total) = steps[0];
    assert_eq!(done, total);
    assert!(answer.route_reason.contains("an overview of tides.md"));
    // Some passages of tides.md, not all of them, in the document's order.
    let given = given(&events);
    assert!(
        given.len() >= 2 && given.len() < total,
        "{} of {total}",
        given.len()
    );
    assert!(
        given
            .iter()
            .all(|p| p.doc_path.ends_with("nature/tides.md"))
    );
    let ordinals = in_document_order(&given);
    // They span the document: from its first half to its second.
    assert!(
        *ordinals.first().unwrap() < total as u32 / 2,
        "{ordinals:?}"
    );
    assert!(
        *ordinals.last().unwrap() >= total as u32 / 2,
        "{ordinals:?}"
    );
    assert_eq!(answer.tier, Tier::Primary, "{}", answer.answer);
    assert_eq!(streamed(&events).trim(), answer.answer.trim());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_document_is_read_in_one_prompt_in_document_order() {
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), 4096).await;
    let (answer, events) = ask(
        &library,
        &AskRequest::new("Summarise the bloom filters document"),
    )
    .await;
    assert_eq!(answer.route, Route::Document, "{}", answer.route_reason);
    assert!(progress(&events).is_empty(), "one prompt, no parts");
    let given = given(&events);
    assert!(given.len() >= 2, "{given:?}");
    assert!(
        given
            .iter()
            .all(|p| p.doc_path.ends_with("tech/bloom-filters.md"))
    );
    // In the document's order: ordinals ascend.
    in_document_order(&given);
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_while_reading_keeps_the_notes_so_far_marked_cut_short() {
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), 768).await;
    let cancel = CancelToken::new();
    let stopper = cancel.clone();
    // Stopped as the second part begins: the first part's notes are kept.
    let on_event: cairn_engine::OnAnswerEvent = std::sync::Arc::new(move |e| {
        if let AnswerEvent::Progress { done: 1, .. } = e {
            stopper.cancel();
        }
    });
    let answer = library
        .ask(
            &AskRequest::new("List every current named in ocean-currents.md"),
            on_event,
            &cancel,
        )
        .await
        .unwrap();
    assert_eq!(answer.route, Route::Document, "{}", answer.route_reason);
    assert!(answer.truncated, "{}", answer.answer);
    assert!(
        answer.answer.starts_with("Stopped after reading"),
        "{}",
        answer.answer
    );
    assert!(answer.route_reason.contains("stopped"));
    assert!(answer.trace_id.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_that_is_not_there_gets_a_clear_reply() {
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), 2048).await;
    let answer = library
        .ask(
            &AskRequest::new("Summarise tides-2019.pdf"),
            collect().0,
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(answer.tier, Tier::Deterministic);
    assert!(
        answer
            .answer
            .contains("There is no document called \"tides-2019.pdf\""),
        "{}",
        answer.answer
    );
    // The name that comes closest is offered.
    assert!(answer.answer.contains("tides.md"), "{}", answer.answer);
    assert!(answer.trace_id.is_some());

    // Picked in the window but since removed: the same.
    let picked = AskRequest {
        document: Some("/nowhere/minutes.md".into()),
        ..AskRequest::new("What was decided?")
    };
    let answer = library
        .ask(&picked, collect().0, &CancelToken::new())
        .await
        .unwrap();
    assert!(
        answer.answer.contains("There is no document called"),
        "{}",
        answer.answer
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_picked_document_answers_a_question_from_its_own_passages_only() {
    let data = tempfile::tempdir().unwrap();
    let library = library(data.path(), 2048).await;
    // The lighthouse document answers this best; the question is asked of the tides one.
    let picked = AskRequest {
        document: Some("tides.md".into()),
        ..AskRequest::new("When was the Fresnel lens of Skerrow Point lighthouse made?")
    };
    let (answer, events) = ask(&library, &picked).await;
    assert_ne!(answer.route, Route::Document);
    let given = given(&events);
    assert!(!given.is_empty());
    assert!(
        given
            .iter()
            .all(|p| p.doc_path.ends_with("nature/tides.md")),
        "{given:?}"
    );
    assert!(
        answer
            .citations
            .iter()
            .all(|c| c.doc_path.ends_with("nature/tides.md"))
    );
}
