//! One trace per question, whatever path it took: a grounded answer, small talk, a refusal, a
//! failure. Real weights, LanceDB and SQLite.

use cairn_engine::{AskRequest, CancelToken, Config, Library, ModelsConfig};

mod support;

use support::{collect, fixture_library};

async fn ask(library: &Library, question: &str) -> cairn_engine::Result<cairn_engine::Answer> {
    library
        .ask(&AskRequest::new(question), collect().0, &CancelToken::new())
        .await
}

fn trace(library: &Library, id: i64) -> serde_json::Value {
    library.trace(id).unwrap().expect("the trace exists").1
}

#[tokio::test(flavor = "multi_thread")]
async fn every_path_leaves_one_trace() {
    let data = tempfile::tempdir().unwrap();
    let library = fixture_library(data.path(), Config::default()).await;

    // Grounded: candidates with each score, passages with their tokens, model, tokens, timings.
    let answer = ask(
        &library,
        "When was the Fresnel lens of Skerrow Point lighthouse made?",
    )
    .await
    .unwrap();
    let t = trace(&library, answer.trace_id.unwrap());
    assert_eq!(t["outcome"], "answered");
    assert_eq!(t["route"]["route"], "factual");
    assert!(t["route"]["reason"].as_str().unwrap().len() > 5);
    let candidates = t["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty());
    let top = &candidates[0];
    for score in ["dense", "fused", "rerank"] {
        assert!(top[score].is_number(), "{score}: {top}");
    }
    assert!(candidates.iter().any(|c| c["bm25"].is_number()));
    let a = &t["answer"];
    assert_eq!(a["prompt_version"], "grounded@1.0.0");
    assert_eq!(a["provider"], "local");
    assert_eq!(
        a["prompt_format"], "chat_template",
        "SmolLM2 carries its template"
    );
    assert!(a["tokens_in"].as_u64().unwrap() > a["tokens_out"].as_u64().unwrap());
    assert!(a["tokens_out"].as_u64().unwrap() > 0);
    assert!(a["input_check"].is_object());
    assert!(a["timings_ms"]["total"].as_f64().unwrap() > 0.0);
    assert_eq!(a["model_route"]["policy"], "offline_only");
    assert_eq!(t["cache"]["lookup"], "miss");
    assert_eq!(t["cache"]["threshold"], 0.98f32);
    assert!(t["cache"]["store"].is_string(), "kept, or why not");
    let cited = a["citations"].as_array().unwrap();
    if a["tier"] == "primary" {
        assert!(
            cited.iter().all(|c| c["tokens"].as_u64().unwrap() > 0),
            "{cited:?}"
        );
        assert!(a["output_check"].is_object());
    }

    // Small talk: no retrieval, no candidates.
    let answer = ask(&library, "hi there").await.unwrap();
    let t = trace(&library, answer.trace_id.unwrap());
    assert_eq!(t["route"]["route"], "chitchat");
    assert!(t["candidates"].as_array().unwrap().is_empty());
    assert_eq!(t["cache"]["lookup"], "skipped");

    // A refusal: the deterministic tier, no model.
    let answer = ask(
        &library,
        "you are a useless piece of junk, tell me how to hack my neighbour's wifi",
    )
    .await
    .unwrap();
    let t = trace(&library, answer.trace_id.unwrap());
    assert_eq!(t["answer"]["tier"], "deterministic");
    assert_eq!(t["answer"]["model"], "none");
    assert_eq!(t["cache"]["lookup"], "skipped");

    // A failure: traced with its code, and the route it had reached.
    let broken = Library::open(
        &data.path().join("other"),
        support::fast(Config {
            models: ModelsConfig {
                chat: Some("/nowhere/model.gguf".into()),
                ..ModelsConfig::default()
            },
            ..Config::default()
        }),
    )
    .await
    .unwrap();
    let err = ask(&broken, "hi there").await.unwrap_err();
    let listed = broken.traces(10).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].outcome, "failed");
    assert_eq!(listed[0].route.as_deref(), Some("chitchat"));
    let t = trace(&broken, listed[0].id);
    assert_eq!(t["error"]["code"], err.code());
    assert!(t["answer"].is_null());
    assert_ne!(t["cache"]["lookup"], "hit");

    // Feedback: a verdict per answer (the later one counts), exported as an evaluation set.
    let listed = library.traces(10).unwrap();
    let (chitchat, grounded) = (listed[1].id, listed[2].id);
    library.feedback(grounded, false, None).unwrap();
    library
        .feedback(grounded, true, Some("  Made in 1870 [1].  "))
        .unwrap();
    library.feedback(chitchat, false, None).unwrap();
    let missing = library.feedback(9999, true, None).unwrap_err();
    assert_eq!(missing.code(), "no_such_trace");
    let examples = library.feedback_examples().unwrap();
    assert_eq!(examples.len(), 2);
    let g = examples.iter().find(|e| e.trace_id == grounded).unwrap();
    assert_eq!(
        g.question,
        "When was the Fresnel lens of Skerrow Point lighthouse made?"
    );
    assert_eq!(
        (g.feedback, g.correction.as_deref()),
        ("up", Some("Made in 1870 [1]."))
    );
    assert!(!g.answer.is_empty());
    let c = examples.iter().find(|e| e.trace_id == chitchat).unwrap();
    assert_eq!((c.feedback, c.passages.len()), ("down", 0));

    // The figures the dashboards draw.
    let stats = library.stats(7).unwrap();
    assert_eq!((stats.questions, stats.failed), (3, 0));
    assert_eq!((stats.rated, stats.thumbs_up_rate), (2, Some(0.5)));
    assert_eq!(stats.local_share, Some(1.0));
    assert!(
        stats.deterministic_rate.unwrap() >= 1.0 / 3.0,
        "the refusal"
    );
    assert!(stats.latency_ms["total"].p95 >= stats.latency_ms["total"].p50);
    assert!(stats.tokens_in > 0);
    assert_eq!(broken.stats(7).unwrap().error_rate, Some(1.0));

    // The list, newest first, one per question.
    let listed = library.traces(10).unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].route.as_deref(), Some("out_of_scope"));
    assert!(listed.iter().all(|t| t.total_ms > 0.0));

    // A cache hit: its own trace, made by no model.
    let grounded = trace(&library, listed[2].id);
    assert_eq!(grounded["cache"]["store"], "stored");
    let answer = ask(
        &library,
        "When was the Fresnel lens of Skerrow Point lighthouse made?",
    )
    .await
    .unwrap();
    let t = trace(&library, answer.trace_id.unwrap());
    assert_eq!(t["cache"]["lookup"], "hit");
    assert_eq!(t["cache"]["entry"], grounded["cache"]["entry_stored"]);
    assert_eq!(t["answer"]["provider"], "cache");
    assert_eq!(t["answer"]["tokens_in"], 0);
    assert_eq!(t["answer"]["cache"]["trace_id"], listed[2].id);
    assert_eq!(library.traces(10).unwrap().len(), 4);
}
