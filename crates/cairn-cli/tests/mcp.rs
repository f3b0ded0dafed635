//! `cairn mcp` as another AI tool uses it: the official MCP Python SDK's client launches the real
//! binary over stdio, lists and calls the tools, reads the resources and is refused where it
//! should be; every call lands in the audit log with the client's name.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod support;

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir").arg(data).env_remove("CAIRN_DATA_DIR");
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the Python client with `args`; what it saw.
fn client(args: &[&std::ffi::OsStr]) -> Value {
    let python = std::env::var("CAIRN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/mcp/mcp_client.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(args)
        .env_remove("CAIRN_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{python} {script:?} failed (scripts/setup installs the `mcp` package into \
         ~/.cache/cairn/venv and sets CAIRN_PYTHON):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The client against `cairn mcp` over stdio, with `extra` arguments for the server.
fn over_stdio(data: &Path, extra: &[&str]) -> Value {
    let mut args = vec![env!("CARGO_BIN_EXE_cairn").as_ref(), data.as_os_str()];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    client(&args)
}

#[test]
fn other_ai_tools_read_only_shared_collections_through_the_official_client() {
    let data = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/nature");
    let invoice = docs.path().join("invoice.md");
    std::fs::write(
        &invoice,
        "# Invoice\n\nThe invoice contact e-mail is ana.lima@example.org, for questions about it.",
    )
    .unwrap();
    let secret = docs.path().join("secret.md");
    std::fs::write(
        &secret,
        "# Tides\n\nA private note about tides and the harbour.",
    )
    .unwrap();
    ok(cairn(data.path())
        .arg("add")
        .arg(corpus.join("lighthouse-skerrow-point.md"))
        .arg(corpus.join("tides.md"))
        .arg(&invoice));
    ok(cairn(data.path())
        .args(["add", "--collection", "private"])
        .arg(&secret));

    // Turning the server on shares the default collection, and only it.
    let seen = over_stdio(data.path(), &[]);
    assert_eq!(seen["server"], "cairn");
    assert_eq!(
        seen["tools"],
        serde_json::json!(["ask", "get_document", "list_collections", "search"])
    );
    let passages = seen["search"]["passages"].as_array().unwrap();
    assert!(!passages.is_empty() && passages.len() <= 3, "{seen:#}");
    assert!(
        passages[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("lighthouse-skerrow-point.md"),
        "{seen:#}"
    );
    assert!(passages[0]["score"].is_number() && passages[0]["heading"].is_string());
    let names: Vec<&str> = seen["collections"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default"], "private stays private");
    let document = &seen["document"];
    assert_eq!(document["passages"].as_array().unwrap().len(), 1);
    assert!(document["total"].as_u64().unwrap() >= 1);
    assert_eq!(
        document["next_offset"].as_u64().is_some(),
        document["total"].as_u64().unwrap() > 1
    );
    // Bad calls: JSON-RPC errors a person can act on.
    assert!(
        seen["unknown_tool"]["message"]
            .as_str()
            .unwrap()
            .contains("the tools are search, ask"),
        "{seen:#}"
    );
    assert!(
        seen["huge_k"]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 20"),
        "{seen:#}"
    );
    assert!(
        seen["wrong_type"]["message"]
            .as_str()
            .unwrap()
            .contains("schema"),
        "{seen:#}"
    );
    assert!(
        seen["not_shared"]["message"]
            .as_str()
            .unwrap()
            .contains("cairn mcp share private"),
        "{seen:#}"
    );
    for refused in ["unknown_tool", "huge_k", "wrong_type", "not_shared"] {
        assert_eq!(seen[refused]["code"], -32602, "{refused}: {seen:#}");
    }
    assert_eq!(
        seen["resources"],
        serde_json::json!(["cairn://collections/default"])
    );
    assert_eq!(seen["resource"]["name"], "default");
    // Without redaction the address is there; the answer is cited and made on this device.
    assert!(
        seen["private_email"]
            .to_string()
            .contains("ana.lima@example.org")
    );
    let ask = &seen["ask"];
    assert!(!ask["answer"].as_str().unwrap().is_empty(), "{ask:#}");
    assert_eq!(ask["made_on_this_device"], true);

    // With --redact, what is returned holds placeholders, not the address.
    let redacted = over_stdio(data.path(), &["--redact"]);
    let shown = redacted["private_email"].to_string();
    assert!(
        !shown.contains("ana.lima@example.org") && shown.contains("<EMAIL_"),
        "{shown}"
    );

    // Every call is on the audit log with the client's name; the log still verifies.
    let status: Value =
        serde_json::from_str(&ok(cairn(data.path()).args(["mcp", "status", "--json"]))).unwrap();
    assert_eq!(status["shared"], serde_json::json!(["default"]));
    let calls = status["recent_calls"].as_array().unwrap();
    assert!(calls.len() >= 10, "{status:#}");
    assert!(
        calls
            .iter()
            .all(|c| c["provider"] == "mcp:cairn-test-client")
    );
    assert!(calls.iter().any(|c| c["model"] == "ask"));
    assert!(
        calls
            .iter()
            .any(|c| c["redacted"]["EMAIL"].as_u64() >= Some(1))
    );
    assert!(
        status["client_config"]["mcpServers"]["cairn"]["args"]
            .to_string()
            .contains("mcp")
    );
    ok(cairn(data.path()).args(["audit", "verify"]));

    // The same over Streamable HTTP at the local API's /mcp, behind its token.
    let served = support::serve(data.path());
    let url = served.base.replace("/v1", "/mcp");
    let http = client(&[url.as_ref(), served.token.as_ref()]);
    assert!(
        http["wrong_token"].as_str().unwrap().starts_with("refused"),
        "{http:#}"
    );
    assert_eq!(http["server"], "cairn");
    assert_eq!(http["tools"], seen["tools"]);
    assert_eq!(http["search"]["passages"][0]["file"], passages[0]["file"]);
    assert_eq!(http["not_shared"]["code"], -32602);
    assert!(!http["ask"]["answer"].as_str().unwrap().is_empty());
    // A client that disconnected in the middle of an answer did not stop the server.
    assert_eq!(http["disconnected_mid_call"], true, "{http:#}");
    assert_eq!(http["after_disconnect"], seen["collections"]);
    drop(served);

    // Shared by hand, the private collection can be searched.
    ok(cairn(data.path()).args(["mcp", "share", "private"]));
    let status: Value =
        serde_json::from_str(&ok(cairn(data.path()).args(["mcp", "status", "--json"]))).unwrap();
    assert_eq!(status["shared"], serde_json::json!(["default", "private"]));
}
