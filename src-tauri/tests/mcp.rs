//! The app started by another AI tool as its MCP server (`cairn-desktop --data-dir DIR mcp`, the
//! command Settings › Other AI tools gives to paste), driven by the official MCP Python SDK's
//! client over stdin and stdout: it introduces itself and serves without opening a window.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[test]
fn the_app_serves_other_ai_tools_over_stdio_without_a_window() {
    let data = tempfile::tempdir().unwrap();
    let python = std::env::var("CAIRN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/mcp/mcp_client.py");
    let out = Command::new(python)
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_cairn-desktop"))
        .arg(data.path())
        .arg("--brief")
        .env_remove("CAIRN_DATA_DIR")
        // No display: a window could not open, so only the server can answer.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["server"], "cairn");
    assert_eq!(
        seen["tools"],
        serde_json::json!(["ask", "get_document", "list_collections", "search"])
    );
    // A new library has nothing in it, so nothing is shared yet.
    assert_eq!(seen["collections"]["collections"], serde_json::json!([]));
    // It served the library named on its command line, not the app's own.
    assert!(data.path().join("cairn.sqlite").is_file());
}
