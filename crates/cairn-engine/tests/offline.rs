//! Offline-only opens no network socket: the process's file descriptors are watched while a
//! question is answered with providers configured, and the same watch sees the socket a cloud
//! policy opens. Its own test binary, so no other test's sockets are counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use cairn_engine::{AskRequest, CancelToken, Config, Policy, Provenance, Tier};
use cairn_providers::test_support::server::{Behaviour, Format, WireServer};

mod support;

/// Sockets this process holds open now.
fn sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// Runs `work` while a thread samples the socket count every millisecond; returns the most seen.
async fn most_sockets_during<F: std::future::Future>(work: F) -> (usize, F::Output) {
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(sockets()));
    let watcher = {
        let (stop, most) = (stop.clone(), most.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                most.fetch_max(sockets(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let out = work.await;
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    (most.load(Ordering::Relaxed), out)
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_only_opens_no_socket_even_with_providers_configured() {
    // The server's listening socket exists before the baseline is taken.
    let server = WireServer::start(
        Format::OpenAi,
        Behaviour::SlowFirstByte {
            wait: Duration::from_millis(300),
            then: Box::new(Behaviour::answer(&["The lens was made in 1870 [1]."])),
        },
    )
    .await;
    let config = Config::parse(&format!(
        "[budget]\nday = {{ cost = 1.0 }}\nmonth = {{ cost = 10.0 }}\n\n\
         [[providers]]\nname = \"acme\"\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n\
         models = [{{ id = \"acme-large\", tier = \"large\" }}, {{ id = \"acme-mini\", tier = \"mid\" }}]\n",
        server.base_url()
    ))
    .unwrap();
    assert_eq!(config.router.policy, Policy::OfflineOnly, "the default");
    let data = tempfile::tempdir().unwrap();
    let library = support::fixture_library(data.path(), config).await;
    let question = "When was the Fresnel lens of Skerrow Point lighthouse made?";

    let baseline = sockets();
    let (most, answer) = most_sockets_during(library.ask(
        &AskRequest::new(question),
        Arc::new(|_| {}),
        &CancelToken::new(),
    ))
    .await;
    let answer = answer.unwrap();
    assert_eq!(most, baseline, "offline-only opened a socket");
    assert!(!library.providers_constructed());
    assert!(matches!(
        answer.provenance,
        Provenance::Local | Provenance::Fixed
    ));
    assert_ne!(answer.tier, Tier::Secondary);
    assert!(server.requests().is_empty());

    // The watch can fail: a cloud policy for one question opens a connection it sees.
    let request = AskRequest {
        policy: Some(Policy::QualityFirst),
        ..AskRequest::new(question)
    };
    let (most, answer) =
        most_sockets_during(library.ask(&request, Arc::new(|_| {}), &CancelToken::new())).await;
    let answer = answer.unwrap();
    assert_eq!(answer.provenance.label(), "acme");
    assert!(most > baseline, "{most} sockets seen, {baseline} before");
    assert_eq!(server.requests().len(), 1);
}
