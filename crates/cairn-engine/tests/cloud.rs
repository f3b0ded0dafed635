//! Cloud answers and the fallback chain, over real HTTP on loopback: a server speaking OpenAI's and
//! Anthropic's wire formats misbehaves on command (slow first byte, 429, 500, malformed JSON, a
//! stream cut mid-answer, no usage block) and every tier of the chain is driven through it. Real
//! LanceDB, SQLite and weights behind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_engine::{
    AnswerEvent, AskRequest, CancelToken, Config, Library, Policy, Provenance, Target, Tier,
};
use cairn_providers::test_support::server::{Behaviour, Format, WireServer};

mod support;

use support::{collect, fixture_library, streamed};

const QUESTION: &str =
    "When was the Fresnel lens of Skerrow Point lighthouse made? Reply to ana@example.org.";

/// A provider `acme` on `server` with a mid and a large model, quick timeouts, one retry.
fn config(server: &WireServer, kind: &str, secondary: &str, extra: &str) -> Config {
    Config::parse(&format!(
        r#"
[router]
policy = "quality_first"
secondary = "{secondary}"
{extra}
[[providers]]
name = "acme"
kind = "{kind}"
base_url = "{url}"
key = "none"
models = [
  {{ id = "acme-large", tier = "large", input_per_mtok = 3.0, output_per_mtok = 15.0 }},
  {{ id = "acme-mini", tier = "mid", input_per_mtok = 0.5, output_per_mtok = 2.0 }},
]
timeouts = {{ connect_secs = 2, first_token_secs = 1, total_secs = 8 }}
retry = {{ max_retries = 1, base_ms = 10, max_backoff_ms = 3000 }}
breaker = {{ failures = 100, cooldown_secs = 1 }}

# Every question here is the same: each must reach the provider.
[cache]
enabled = false
{caps}"#,
        url = server.base_url(),
        // A cloud model is asked only under day and month caps; high ones, unless the test sets its own.
        caps = if extra.contains("[budget]") {
            ""
        } else {
            "\n[budget]\nday = { cost = 100.0 }\nmonth = { cost = 1000.0 }\n"
        },
    ))
    .unwrap()
}

fn good_answer() -> Behaviour {
    Behaviour::Answer {
        pieces: [
            "The first-order Fresnel lens ",
            "was made in 1870 [1]",
            " (for <EMAIL_1>).",
        ]
        .map(String::from)
        .to_vec(),
        usage: Some((100, 30)),
        delay: Duration::from_millis(5),
    }
}

async fn ask(library: &Library) -> (cairn_engine::Answer, Vec<AnswerEvent>) {
    let (on_event, events) = collect();
    let answer = library
        .ask(&AskRequest::new(QUESTION), on_event, &CancelToken::new())
        .await
        .unwrap();
    let events = events.lock().unwrap().clone();
    (answer, events)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cloud_answer_is_redacted_streamed_restored_cited_and_costed() {
    for (kind, format) in [("openai", Format::OpenAi), ("anthropic", Format::Anthropic)] {
        let server = WireServer::start(format, good_answer()).await;
        let data = tempfile::tempdir().unwrap();
        let library = fixture_library(data.path(), config(&server, kind, "none", "")).await;
        let (answer, events) = ask(&library).await;

        assert_eq!(answer.tier, Tier::Primary, "{kind}: {answer:#?}");
        assert_eq!(answer.provenance.label(), "acme");
        let route = answer.model_route.clone().unwrap();
        assert_eq!(route.policy, Policy::QualityFirst);
        assert_eq!(
            route.target,
            Target::Cloud {
                provider: "acme".into(),
                model: answer.model.clone()
            }
        );
        assert!(route.reason.contains("quality_first"), "{}", route.reason);
        // What left: no address, a placeholder instead, the passages delimited.
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let sent = &requests[0].body;
        assert!(!sent.contains("ana@example.org"), "{sent}");
        assert!(sent.contains("<EMAIL_1>"));
        assert!(sent.contains("<passage n=\\\"1\\\">"), "{sent}");
        assert!(answer.redacted >= 1);
        // What came back: restored, streamed once, cited, priced from the reported usage.
        assert!(
            answer.answer.contains("(for ana@example.org)"),
            "{}",
            answer.answer
        );
        assert_eq!(streamed(&events), answer.answer);
        assert!(
            answer
                .citations
                .iter()
                .any(|c| c.text.contains("1870")
                    && c.doc_path.ends_with("lighthouse-skerrow-point.md")),
            "{:#?}",
            answer.citations
        );
        assert_eq!((answer.tokens_in, answer.tokens_out), (100, 30));
        let price = if answer.model == "acme-large" {
            (3.0, 15.0)
        } else {
            (0.5, 2.0)
        };
        let cost = (100.0 * price.0 + 30.0 * price.1) / 1e6;
        assert!(
            (answer.cost - cost).abs() < 1e-12,
            "{} vs {cost}",
            answer.cost
        );
        // The audit log has the request: where, how much, what was redacted; never the text.
        let audit = library.audit(10).unwrap();
        assert_eq!(audit.len(), 1);
        assert_eq!(
            (audit[0].provider.as_str(), audit[0].model.as_str()),
            ("acme", answer.model.as_str())
        );
        assert_eq!(
            audit[0].redacted.get("EMAIL"),
            Some(&1),
            "{:?}",
            audit[0].redacted
        );
        assert!(audit[0].chars as usize >= QUESTION.len() - "ana@example.org".len());
        let logged = serde_json::to_string(&audit).unwrap();
        assert!(
            !logged.contains("ana@example.org") && !logged.contains("Fresnel"),
            "{logged}"
        );
        assert_eq!(library.verify_audit().unwrap().broken, None);
        let traced = library.trace(answer.trace_id.unwrap()).unwrap().unwrap();
        assert_eq!(traced.0.provider.as_ref().map(|p| p.label()), Some("acme"));
        assert_eq!((traced.0.tokens_in, traced.0.tokens_out), (100, 30));
        assert!((traced.0.cost - cost).abs() < 1e-12);
        let stored = library.thread_messages(answer.thread_id).unwrap();
        let saved = stored.last().unwrap();
        assert_eq!(saved.provider.as_ref().map(|p| p.label()), Some("acme"));
        assert_eq!(saved.cost, Some(answer.cost));
        let spend = library.spend().unwrap();
        assert!((spend.today.cost - cost).abs() < 1e-12);
        assert_eq!(spend.by_model.len(), 1);
        assert_eq!(spend.by_model[0].calls, 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failure_moves_down_the_chain_and_a_retry_after_is_honoured() {
    let server = WireServer::start(Format::OpenAi, good_answer()).await;
    let data = tempfile::tempdir().unwrap();
    let library =
        fixture_library(data.path(), config(&server, "openai", "acme/acme-mini", "")).await;

    let slow = Behaviour::SlowFirstByte {
        wait: Duration::from_secs(3),
        then: Box::new(good_answer()),
    };
    let status = |code| Behaviour::Status {
        code,
        retry_after: None,
    };
    let cases: Vec<(&str, Vec<Behaviour>)> = vec![
        ("timeout", vec![slow]),
        ("server_error", vec![status(500), status(503)]),
        ("rate_limited", vec![status(429), status(429)]),
        (
            "malformed",
            vec![Behaviour::Malformed { pieces: Vec::new() }],
        ),
        (
            "stream_broken",
            vec![Behaviour::CutAfter {
                pieces: vec!["PARTIAL-ZEBRA the lens ".into()],
            }],
        ),
    ];
    for (code, failures) in cases {
        let before = server.requests().len();
        server.script(failures);
        let (answer, events) = ask(&library).await;
        assert_eq!(answer.fallbacks.len(), 1, "{code}: {:#?}", answer.fallbacks);
        assert_eq!(answer.fallbacks[0].code, code, "{:#?}", answer.fallbacks);
        assert_eq!(answer.fallbacks[0].tier, Tier::Primary);
        assert_eq!(answer.tier, Tier::Secondary, "{code}: {}", answer.answer);
        assert_eq!(
            (answer.provenance.label(), answer.model.as_str()),
            ("acme", "acme-mini")
        );
        // The secondary was given only the single most relevant passage.
        let requests = server.requests();
        let last = &requests.last().unwrap().body;
        assert_eq!(last.matches("<passage n=").count(), 1, "{code}: {last}");
        assert!(requests.len() > before + 1);
        // No half answer is shown twice: what streamed before the break is withdrawn, and only
        // then does the secondary's answer stream.
        let retracted = events
            .iter()
            .position(|e| matches!(e, AnswerEvent::Retracted { .. }));
        if code == "stream_broken" {
            let at = retracted.expect("the partial answer is withdrawn");
            assert!(streamed(&events[..at]).contains("PARTIAL-ZEBRA"));
            assert_eq!(streamed(&events[at..]), answer.answer);
            assert!(!answer.answer.contains("PARTIAL-ZEBRA"));
        } else {
            assert_eq!(
                retracted, None,
                "{code}: nothing streamed, nothing to withdraw"
            );
            assert_eq!(streamed(&events), answer.answer);
        }
    }

    // 429 with Retry-After: waited for, then the same tier answers.
    server.script([Behaviour::Status {
        code: 429,
        retry_after: Some("1".into()),
    }]);
    let started = Instant::now();
    let (answer, _) = ask(&library).await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(answer.tier, Tier::Primary);
    assert!(answer.fallbacks.is_empty());

    // No usage block: the tokens are estimated, and still priced.
    server.script([Behaviour::Answer {
        pieces: vec!["The lens was made in 1870 [1].".into()],
        usage: None,
        delay: Duration::ZERO,
    }]);
    let (answer, _) = ask(&library).await;
    assert_eq!(answer.tier, Tier::Primary);
    assert!(
        answer.tokens_in > 100 && answer.tokens_out > 0,
        "{answer:#?}"
    );
    assert!(answer.cost > 0.0);

    // Both cloud steps fail: the deterministic answer quotes the best passage.
    server.script([status(500), status(500), status(500), status(500)]);
    let (answer, events) = ask(&library).await;
    assert_eq!(answer.tier, Tier::Deterministic);
    assert_eq!(answer.fallbacks.len(), 2);
    assert_eq!(answer.fallbacks[1].tier, Tier::Secondary);
    assert_eq!(answer.prompt_version, "fallback@1.0.0");
    assert_eq!(answer.citations.len(), 1);
    assert!(
        answer
            .answer
            .contains(answer.citations[0].text.trim().lines().next().unwrap())
    );
    assert!(answer.answer.contains("No model could answer just now"));
    assert_eq!(streamed(&events), answer.answer);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_model_is_the_secondary_when_the_cloud_breaks_mid_answer() {
    let server = WireServer::start(Format::Anthropic, good_answer()).await;
    let data = tempfile::tempdir().unwrap();
    let library = fixture_library(data.path(), config(&server, "anthropic", "local", "")).await;
    server.script([Behaviour::CutAfter {
        pieces: vec!["PARTIAL-ZEBRA ".into()],
    }]);
    let (answer, events) = ask(&library).await;
    assert_eq!(answer.fallbacks[0].code, "stream_broken");
    assert_eq!(
        answer.provenance,
        if answer.tier == Tier::Deterministic {
            Provenance::Fixed
        } else {
            Provenance::Local
        }
    );
    assert_ne!(answer.tier, Tier::Primary);
    assert!(answer.passages_used <= 1, "the secondary gets one passage");
    let at = events
        .iter()
        .position(|e| matches!(e, AnswerEvent::Retracted { .. }))
        .unwrap();
    assert!(!streamed(&events[at..]).contains("PARTIAL-ZEBRA"));
    assert_eq!(server.requests().len(), 1, "a broken stream is not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_parallel_questions_spend_no_more_than_a_budget_for_ten() {
    // Every call may cost (and does cost) exactly $1: 10,000 reply tokens at $100 a million.
    let answer = Behaviour::Answer {
        pieces: vec!["The lens was made in 1870 [1].".into()],
        usage: Some((0, 10_000)),
        delay: Duration::from_millis(200),
    };
    let server = WireServer::start(Format::OpenAi, answer).await;
    let data = tempfile::tempdir().unwrap();
    let mut config = config(
        &server,
        "openai",
        "none",
        "cloud_max_tokens = 10000\n[budget]\nday = { cost = 10.0 }\nmonth = { cost = 1000.0 }\n",
    );
    for m in &mut config.providers[0].models {
        m.input_per_mtok = 0.0;
        m.output_per_mtok = 100.0;
    }
    config.providers[0].timeouts.first_token_secs = 30.0;
    config.providers[0].timeouts.total_secs = 60.0;
    let library = Arc::new(fixture_library(data.path(), config).await);

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let library = library.clone();
        tasks.spawn(async move {
            library
                .ask(
                    &AskRequest::new(QUESTION),
                    Arc::new(|_| {}),
                    &CancelToken::new(),
                )
                .await
                .unwrap()
        });
    }
    let answers = tasks.join_all().await;
    let refused = answers
        .iter()
        .filter(|a| a.fallbacks.first().is_some_and(|f| f.code == "budget"))
        .count();
    assert_eq!(server.requests().len(), 10, "ten calls fit the budget");
    assert_eq!(refused, 10);
    let spend = library.spend().unwrap();
    assert!(spend.today.cost <= 10.0 + 1e-9, "{}", spend.today.cost);
    assert!((spend.today.cost - 10.0).abs() < 1e-9);
    // Ten requests left, appended concurrently: ten entries, one unbroken chain.
    let verdict = library.verify_audit().unwrap();
    assert_eq!((verdict.entries, verdict.broken), (10, None));
    let paid: f64 = answers.iter().map(|a| a.cost).sum();
    assert!((paid - 10.0).abs() < 1e-9, "{paid}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_cloud_model_is_asked_without_day_and_month_caps() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::answer(&["The lens was made in 1870 [1]."]),
    )
    .await;
    for extra in ["[budget]\n", "[budget]\nday = { cost = 5.0 }\n"] {
        let data = tempfile::tempdir().unwrap();
        let config = config(&server, "openai", "none", extra);
        let library = fixture_library(data.path(), config).await;
        let answer = library
            .ask(
                &AskRequest::new(QUESTION),
                Arc::new(|_| {}),
                &CancelToken::new(),
            )
            .await
            .unwrap();
        let refused = &answer.fallbacks[0];
        assert_eq!(refused.code, "budget", "{:?}", answer.fallbacks);
        assert!(
            refused.reason.contains("spending cap"),
            "{}",
            refused.reason
        );
        assert_ne!(answer.tier, Tier::Primary);
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}
