//! `cairn keys` and a cloud answer through the real binary: the key goes into the OS keychain (a
//! real Secret Service: run under `scripts/with-keychain`), comes out only as the request's
//! `Authorization` header, and `ask --json` reports the route, tier, provider, model, tokens and
//! cost. The provider is a server on loopback speaking OpenAI's wire format.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use cairn_engine::test_support::server::{Behaviour, Format, WireServer};
use serde_json::Value;

const KEY: &str = "sk-cli-test-5f1e9a7c3b";

fn cairn(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("CAIRN_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cairn runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every file under `dir`, as bytes.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in walk(dir) {
        bytes.extend(std::fs::read(entry).unwrap_or_default());
    }
    bytes
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `bytes` with every `from` replaced by `to` (same length).
fn swap(mut bytes: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    for i in 0..bytes.len().saturating_sub(from.len()) {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
        }
    }
    bytes
}

#[test]
fn keys_live_in_the_keychain_and_ask_json_reports_the_cloud_route() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(WireServer::start(
        Format::OpenAi,
        Behaviour::Answer {
            pieces: vec!["The Fresnel lens was made in 1870 [1].".into()],
            usage: Some((240, 12)),
            delay: std::time::Duration::ZERO,
        },
    ));
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("config.toml"),
        format!(
            "[router]\nsecondary = \"none\"\n\n[budget]\nday = {{ cost = 5.0 }}\nmonth = {{ cost = 50.0 }}\n\n[[providers]]\nname = \"acme-cli\"\nkind = \"openai\"\nbase_url = \"{}\"\n\
             models = [{{ id = \"acme-large\", tier = \"large\", input_per_mtok = 2.0, output_per_mtok = 8.0 }}, \
             {{ id = \"acme-mini\", tier = \"mid\", input_per_mtok = 0.5, output_per_mtok = 1.0 }}]\n",
            server.base_url()
        ),
    )
    .unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/nature/lighthouse-skerrow-point.md");
    ok(cairn(data.path(), &["add", corpus.to_str().unwrap()], None));

    assert_eq!(
        ok(cairn(data.path(), &["keys", "list"], None)),
        "acme-cli\tno key\n"
    );
    ok(cairn(
        data.path(),
        &["keys", "set", "acme-cli"],
        Some(&format!("{KEY}\n")),
    ));
    assert_eq!(
        ok(cairn(data.path(), &["keys", "list"], None)),
        "acme-cli\tkey stored\n"
    );

    let question = "When was the Fresnel lens of Skerrow Point lighthouse made?";
    let out = ok(cairn(
        data.path(),
        &["ask", "--json", "--policy", "quality_first", question],
        None,
    ));
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["route"], "factual");
    assert_eq!(answer["tier"], "primary", "{answer:#}");
    assert_eq!(answer["provider"], "acme-cli");
    assert!(["acme-large", "acme-mini"].contains(&answer["model"].as_str().unwrap()));
    assert_eq!(
        (answer["tokens_in"].as_u64(), answer["tokens_out"].as_u64()),
        (Some(240), Some(12))
    );
    let price = if answer["model"] == "acme-large" {
        (2.0, 8.0)
    } else {
        (0.5, 1.0)
    };
    let cost = (240.0 * price.0 + 12.0 * price.1) / 1e6;
    assert!(
        (answer["cost"].as_f64().unwrap() - cost).abs() < 1e-12,
        "{answer:#}"
    );
    assert_eq!(answer["model_route"]["policy"], "quality_first");

    // The key reached the provider only as its header, and is in no file Cairn wrote.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let written = all_bytes(data.path());
    assert!(!written.windows(KEY.len()).any(|w| w == KEY.as_bytes()));

    // The question's trace, through the binary.
    let id = answer["trace_id"].as_i64().unwrap();
    let trace: Value = serde_json::from_str(&ok(cairn(
        data.path(),
        &["trace", &id.to_string(), "--json"],
        None,
    )))
    .unwrap();
    assert_eq!(trace["answer"]["provider"], "acme-cli");
    assert!(!trace["candidates"].as_array().unwrap().is_empty());
    let listed = ok(cairn(data.path(), &["traces", "--last", "5"], None));
    assert!(listed.starts_with(&format!("#{id} ")), "{listed}");
    assert!(
        listed.contains("answered · factual · primary · acme-cli/"),
        "{listed}"
    );

    // Feedback, exported as an evaluation set; the figures count it.
    ok(cairn(
        data.path(),
        &[
            "feedback",
            &id.to_string(),
            "down",
            "--correction",
            "It was made in 1870.",
        ],
        None,
    ));
    let exported = ok(cairn(data.path(), &["export", "feedback"], None));
    let line: Value = serde_json::from_str(exported.lines().next().unwrap()).unwrap();
    assert_eq!(line["question"], question);
    assert_eq!(
        (line["feedback"].as_str(), line["correction"].as_str()),
        (Some("down"), Some("It was made in 1870."))
    );
    assert!(!line["passages"].as_array().unwrap().is_empty());

    let audit: Value =
        serde_json::from_str(&ok(cairn(data.path(), &["audit", "list", "--json"], None))).unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1);
    assert_eq!(audit[0]["provider"], "acme-cli");
    assert!(audit[0]["chars"].as_u64().unwrap() > 0);
    let verify = cairn(data.path(), &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("intact (1 entries)"));

    let stats: Value =
        serde_json::from_str(&ok(cairn(data.path(), &["stats", "--json"], None))).unwrap();
    assert!((stats["today"]["cost"].as_f64().unwrap() - cost).abs() < 1e-12);
    assert_eq!(stats["by_model"][0]["calls"], 1);
    assert_eq!(stats["figures"]["questions"], 1);
    assert_eq!(stats["figures"]["cloud_share"], 1.0);
    assert_eq!(stats["figures"]["thumbs_up_rate"], 0.0);
    let text = ok(cairn(data.path(), &["stats"], None));
    assert!(text.contains("acme-cli/"), "{text}");

    // Someone edits the database file by hand (the provider's name in every table, bytes for
    // bytes): the chain no longer verifies, and says where.
    let db = data.path().join("cairn.sqlite");
    let wal = data.path().join("cairn.sqlite-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "checkpointed on exit"
    );
    let (from, to) = (b"acme-cli", b"evil-cli");
    let original = std::fs::read(&db).unwrap();
    let bytes = swap(original.clone(), from, to);
    assert_ne!(bytes, original);
    std::fs::write(&db, &bytes).unwrap();
    let verify = cairn(data.path(), &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(1));
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(said.contains("tampered with at entry 1"), "{said}");
    // Put back, it verifies again.
    std::fs::write(&db, &original).unwrap();
    assert_eq!(
        cairn(data.path(), &["audit", "verify"], None).status.code(),
        Some(0)
    );

    // Without its key the provider is not asked; the chain ends in the deterministic answer.
    ok(cairn(data.path(), &["keys", "rm", "acme-cli"], None));
    assert_eq!(
        ok(cairn(data.path(), &["keys", "list"], None)),
        "acme-cli\tno key\n"
    );
    let answer: Value = serde_json::from_str(&ok(cairn(
        data.path(),
        &["ask", "--json", "--policy", "quality_first", question],
        None,
    )))
    .unwrap();
    assert_eq!(answer["tier"], "deterministic");
    assert_eq!(answer["fallbacks"][0]["code"], "no_key");
    assert_eq!(server.requests().len(), 1);
}
