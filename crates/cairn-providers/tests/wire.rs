//! Providers against real HTTP on loopback: each wire format, and each way a provider fails.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use cairn_guard::{Egress, Guard, Outbound};
use cairn_providers::test_support::server::{Behaviour, Format, WireServer};
use cairn_providers::{
    BreakerConfig, KeySource, Keychain, ModelConfig, ModelTier, Params, Provider, ProviderConfig,
    ProviderError, ProviderKind, RetryConfig, TimeoutStage, Timeouts,
};

fn egress() -> Egress {
    Guard::default()
        .prepare(&Outbound {
            system: "Answer from the passages.".into(),
            history: Vec::new(),
            passages: vec!["The lens was made in 1870 for Ana Sousa.".into()],
            question: "When was the lens made?".into(),
        })
        .unwrap()
        .0
}

fn config(server: &WireServer, kind: ProviderKind) -> ProviderConfig {
    ProviderConfig {
        name: "test".into(),
        kind,
        base_url: Some(server.base_url()),
        key: Some(KeySource::None),
        models: vec![ModelConfig {
            id: "model-mid".into(),
            tier: ModelTier::Mid,
            input_per_mtok: 1.0,
            output_per_mtok: 2.0,
        }],
        timeouts: Timeouts {
            connect_secs: 2.0,
            first_token_secs: 2.0,
            total_secs: 10.0,
        },
        retry: RetryConfig {
            max_retries: 2,
            base_ms: 50,
            max_backoff_ms: 2_000,
        },
        breaker: BreakerConfig {
            failures: 10,
            cooldown_secs: 60.0,
        },
        requests_per_minute: 0,
        stream_usage: true,
    }
}

const PARAMS: Params = Params {
    max_tokens: 100,
    temperature: 0.0,
};

async fn ask(provider: &Provider) -> (Result<cairn_providers::Completion, ProviderError>, String) {
    let mut seen = String::new();
    let result = provider
        .complete(
            "model-mid",
            &egress(),
            &PARAMS,
            &mut |piece| seen.push_str(piece),
            &AtomicBool::new(false),
        )
        .await;
    (result, seen)
}

#[tokio::test]
async fn openai_streams_pieces_in_order_and_reads_usage() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::answer(&["It was ", "made in ", "1870 [1]", ". Ça va: ünïcödé ✓"]),
    )
    .await;
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    let (result, seen) = ask(&provider).await;
    let done = result.unwrap();
    assert_eq!(done.text, "It was made in 1870 [1]. Ça va: ünïcödé ✓");
    assert_eq!(seen, done.text, "every piece was streamed, once, in order");
    assert_eq!(
        (done.usage.input_tokens, done.usage.output_tokens),
        (100, 4)
    );
    assert!(!done.usage.estimated);
    assert_eq!(done.attempts, 1);
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    let body = request.json();
    assert_eq!(body["model"], "model-mid");
    assert_eq!(body["stream_options"]["include_usage"], true);
    // Only guarded text left: the name in the passage is a placeholder.
    assert!(!request.body.contains("Ana Sousa"), "{}", request.body);
    assert!(request.body.contains("<PERSON_1>"), "{}", request.body);
    assert!(
        request.header("authorization").is_none(),
        "no key configured, none sent"
    );
}

#[tokio::test]
async fn anthropic_streams_and_reads_usage_from_its_events() {
    let server =
        WireServer::start(Format::Anthropic, Behaviour::answer(&["In ", "1870", "."])).await;
    let provider = Provider::new(
        config(&server, ProviderKind::Anthropic),
        Keychain::default(),
    )
    .unwrap();
    let (result, seen) = ask(&provider).await;
    let done = result.unwrap();
    assert_eq!(done.text, "In 1870.");
    assert_eq!(seen, "In 1870.");
    assert_eq!(
        (done.usage.input_tokens, done.usage.output_tokens),
        (100, 3)
    );
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.json()["system"], "Answer from the passages.");
}

#[tokio::test]
async fn a_429_is_retried_after_the_time_it_asks_for() {
    let server = WireServer::start(Format::OpenAi, Behaviour::answer(&["fine"])).await;
    server.script([Behaviour::Status {
        code: 429,
        retry_after: Some("1".into()),
    }]);
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    let started = Instant::now();
    let (result, _) = ask(&provider).await;
    let done = result.unwrap();
    assert_eq!(done.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}, not the 1 s asked",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_reported() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::Status {
            code: 503,
            retry_after: None,
        },
    )
    .await;
    server.script([Behaviour::Status {
        code: 500,
        retry_after: None,
    }]);
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    let (result, _) = ask(&provider).await;
    match result.unwrap_err() {
        ProviderError::Server {
            status, message, ..
        } => {
            assert_eq!(status, 503);
            assert!(message.contains("test server"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 3, "one attempt and two retries");

    // A 500 that recovers.
    let server = WireServer::start(Format::Anthropic, Behaviour::answer(&["ok"])).await;
    server.script([Behaviour::Status {
        code: 500,
        retry_after: None,
    }]);
    let provider = Provider::new(
        config(&server, ProviderKind::Anthropic),
        Keychain::default(),
    )
    .unwrap();
    assert_eq!(ask(&provider).await.0.unwrap().attempts, 2);
}

#[tokio::test]
async fn a_refusal_is_not_retried() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::Status {
            code: 401,
            retry_after: None,
        },
    )
    .await;
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    assert!(matches!(
        ask(&provider).await.0.unwrap_err(),
        ProviderError::Rejected { status: 401, .. }
    ));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_slow_first_byte_times_out() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::SlowFirstByte {
            wait: Duration::from_secs(5),
            then: Box::new(Behaviour::answer(&["late"])),
        },
    )
    .await;
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    let started = Instant::now();
    let (result, seen) = ask(&provider).await;
    assert!(matches!(
        result.unwrap_err(),
        ProviderError::Timeout {
            stage: TimeoutStage::FirstToken,
            ..
        }
    ));
    assert!(seen.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stream_cut_mid_answer_is_reported_with_what_arrived_and_not_retried() {
    for format in [Format::OpenAi, Format::Anthropic] {
        let server = WireServer::start(
            format,
            Behaviour::CutAfter {
                pieces: vec!["The lens ".into(), "was made ".into(), "in".into()],
            },
        )
        .await;
        let kind = match format {
            Format::OpenAi => ProviderKind::OpenaiCompatible,
            Format::Anthropic => ProviderKind::Anthropic,
        };
        let provider = Provider::new(config(&server, kind), Keychain::default()).unwrap();
        let (result, seen) = ask(&provider).await;
        assert_eq!(seen, "The lens was made in");
        assert!(
            matches!(
                result.unwrap_err(),
                ProviderError::StreamBroken { chars: 20, .. }
            ),
            "{format:?}"
        );
        assert_eq!(
            server.requests().len(),
            1,
            "a half-shown answer is never sent again"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_an_error_not_a_guess() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::Malformed {
            pieces: vec!["Part".into()],
        },
    )
    .await;
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    let err = ask(&provider).await.0.unwrap_err();
    assert_eq!(err.code(), "malformed", "{err}");
}

#[tokio::test]
async fn a_missing_usage_block_is_estimated_and_says_so() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::Answer {
            pieces: vec!["twelve chars".into()],
            usage: None,
            delay: Duration::ZERO,
        },
    )
    .await;
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    let done = ask(&provider).await.0.unwrap();
    assert!(done.usage.estimated);
    assert_eq!(done.usage.output_tokens, 3);
    assert!(done.usage.input_tokens > 10);
}

#[tokio::test]
async fn repeated_failures_pause_the_provider_without_calling_it() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::Status {
            code: 500,
            retry_after: None,
        },
    )
    .await;
    let mut cfg = config(&server, ProviderKind::OpenaiCompatible);
    cfg.retry.max_retries = 0;
    cfg.breaker = BreakerConfig {
        failures: 2,
        cooldown_secs: 60.0,
    };
    let provider = Provider::new(cfg, Keychain::default()).unwrap();
    for _ in 0..2 {
        assert_eq!(ask(&provider).await.0.unwrap_err().code(), "server_error");
    }
    assert!(provider.is_paused());
    let started = Instant::now();
    let err = ask(&provider).await.0.unwrap_err();
    assert_eq!(err.code(), "circuit_open", "{err}");
    assert!(started.elapsed() < Duration::from_millis(50));
    assert_eq!(
        server.requests().len(),
        2,
        "a paused provider is not called"
    );
}

#[tokio::test]
async fn the_rate_limit_holds_requests_back_locally() {
    let server = WireServer::start(Format::OpenAi, Behaviour::answer(&["ok"])).await;
    let mut cfg = config(&server, ProviderKind::OpenaiCompatible);
    cfg.requests_per_minute = 1;
    cfg.timeouts.total_secs = 1.0;
    let provider = Provider::new(cfg, Keychain::default()).unwrap();
    assert!(ask(&provider).await.0.is_ok());
    let err = ask(&provider).await.0.unwrap_err();
    assert_eq!(err.code(), "rate_limited", "{err}");
    assert_eq!(server.requests().len(), 1, "the second request never left");
}

#[tokio::test]
async fn cancelling_keeps_what_arrived() {
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::Answer {
            pieces: (0..50).map(|i| format!("w{i} ")).collect(),
            usage: Some((10, 50)),
            delay: Duration::from_millis(20),
        },
    )
    .await;
    let provider = Provider::new(
        config(&server, ProviderKind::OpenaiCompatible),
        Keychain::default(),
    )
    .unwrap();
    let cancel = AtomicBool::new(false);
    let mut pieces = 0;
    let done = provider
        .complete(
            "model-mid",
            &egress(),
            &PARAMS,
            &mut |_| {
                pieces += 1;
                if pieces == 3 {
                    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            },
            &cancel,
        )
        .await
        .unwrap();
    assert!(done.truncated);
    assert!(done.text.starts_with("w0 w1 w2"), "{}", done.text);
    assert!(done.text.len() < 40);
}

#[tokio::test]
async fn an_unreachable_server_is_a_network_error() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let cfg = ProviderConfig {
        base_url: Some(format!("http://127.0.0.1:{port}/v1")),
        ..config(
            &WireServer::start(Format::OpenAi, Behaviour::answer(&["x"])).await,
            ProviderKind::OpenaiCompatible,
        )
    };
    let provider = Provider::new(cfg, Keychain::default()).unwrap();
    assert_eq!(ask(&provider).await.0.unwrap_err().code(), "network");
}
