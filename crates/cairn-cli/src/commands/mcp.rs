//! `cairn mcp`: the library served to other AI tools over the Model Context Protocol (stdio), and
//! which collections they may read.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_engine::{DEFAULT_COLLECTION, Library, TOOL_PROVIDER};

use crate::args::McpCommand;

/// Serves (no subcommand) or changes what is shared.
pub async fn mcp(
    library: Library,
    data_dir: &Path,
    command: Option<McpCommand>,
    redact: bool,
) -> anyhow::Result<ExitCode> {
    match command {
        None => serve(library, redact).await,
        Some(McpCommand::Share { collection }) => {
            library.share_with_tools(&collection, true)?;
            eprintln!("other AI tools may now read '{collection}'");
            Ok(ExitCode::SUCCESS)
        }
        Some(McpCommand::Unshare { collection }) => {
            library.share_with_tools(&collection, false)?;
            eprintln!("other AI tools may no longer read '{collection}'");
            Ok(ExitCode::SUCCESS)
        }
        Some(McpCommand::Status { json }) => status(&library, data_dir, json),
    }
}

/// Serves over stdin and stdout. Turning the server on shares the default collection when none is
/// shared yet; every other collection stays private until shared.
async fn serve(library: Library, redact: bool) -> anyhow::Result<ExitCode> {
    if library.share_default_with_tools()? {
        eprintln!(
            "cairn mcp: sharing the collection '{DEFAULT_COLLECTION}' with other tools \
             (`cairn mcp unshare {DEFAULT_COLLECTION}` stops it)"
        );
    }
    let redact = redact || library.config().mcp.redact;
    let library = Arc::new(library);
    cairn_engine::keep_models_lean(Arc::downgrade(&library));
    cairn_mcp::serve_stdio(library, cairn_mcp::Options { redact }).await?;
    Ok(ExitCode::SUCCESS)
}

fn status(library: &Library, data_dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let shared = library.tool_collections()?;
    let program = std::env::current_exe()?.display().to_string();
    let data = data_dir.display().to_string();
    let config = serde_json::json!({
        "mcpServers": { "cairn": { "command": program, "args": ["--data-dir", data, "mcp"] } }
    });
    let calls = library.tool_calls(20)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "shared": shared, "client_config": config, "recent_calls": calls,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "shared with other tools: {}",
        if shared.is_empty() {
            "none".to_string()
        } else {
            shared.join(", ")
        }
    );
    println!(
        "a client's configuration (Claude Desktop, Cursor):\n{}",
        serde_json::to_string_pretty(&config)?
    );
    for call in calls {
        println!(
            "{}  {}  {}  {} characters",
            call.at,
            call.provider.trim_start_matches(TOOL_PROVIDER),
            call.model,
            call.chars
        );
    }
    Ok(ExitCode::SUCCESS)
}
