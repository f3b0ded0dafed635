//! Other AI tools (the Model Context Protocol): which collections they may read, whether what
//! they are given is redacted, how a client is connected, and the calls they made. The same
//! server runs over Streamable HTTP at the local API's `/mcp` (behind its token) and, for
//! clients that launch their servers, over stdin and stdout when the app is started as
//! `cairn-desktop --data-dir DIR mcp` (see [`McpLaunch`]).

use std::ffi::OsString;
use std::path::PathBuf;

use cairn_engine::TOOL_PROVIDER;

use crate::api::{
    ApiError, ToolCallView, ToolCollectionView, ToolRedactRequest, ToolShareRequest, ToolsView,
};
use crate::{App, AppPaths};

/// How many calls the section lists.
const RECENT_CALLS: usize = 20;

impl App {
    /// What other tools may read, and what they asked.
    pub async fn tools_view(&self) -> Result<ToolsView, ApiError> {
        let library = self.library()?;
        let shared = library.tool_collections()?;
        let collections = library
            .collections()?
            .into_iter()
            .map(|c| ToolCollectionView {
                shared: shared.contains(&c.name),
                name: c.name,
            })
            .collect();
        let recent_calls = library
            .tool_calls(RECENT_CALLS)?
            .into_iter()
            .rev()
            .map(|e| ToolCallView {
                at: e.at,
                client: e.provider.trim_start_matches(TOOL_PROVIDER).to_string(),
                tool: e.model,
                chars: e.chars,
                redacted: e.redacted.values().sum(),
            })
            .collect();
        let http_url = self
            .api
            .lock()
            .await
            .as_ref()
            .map(|r| format!("http://{}/mcp", r.addr));
        Ok(ToolsView {
            collections,
            redact: library.config().mcp.redact,
            stdio_config: stdio_config(&library.data_dir().display().to_string()),
            http_url,
            recent_calls,
        })
    }

    /// Lets other tools read a collection, or stops them; it holds from their next call.
    pub async fn share_with_tools(&self, request: ToolShareRequest) -> Result<ToolsView, ApiError> {
        self.library()?
            .share_with_tools(&request.collection, request.shared)?;
        self.tools_view().await
    }

    /// Turns redaction of what other tools are given on or off (`[mcp] redact` in the library's
    /// config file). The library is reopened with it; a local API that was on is turned back on.
    pub async fn set_tools_redact(
        &self,
        request: ToolRedactRequest,
    ) -> Result<ToolsView, ApiError> {
        self.refuse_if_busy("change what other tools are given")?;
        let library = self.library()?;
        if library.config().mcp.redact != request.redact {
            let dir = library.data_dir().to_path_buf();
            drop(library);
            cairn_engine::config_file::update::<ApiError>(&dir.join("config.toml"), |config| {
                config.mcp.redact = request.redact;
                Ok(())
            })?;
            let serving = self.api.lock().await.is_some();
            self.reopen(dir).await?;
            if serving {
                self.set_api(crate::api::ApiSwitch { on: true }).await?;
            }
        }
        self.tools_view().await
    }
}

/// The configuration a client that launches its servers (Claude Desktop, Cursor) takes: this
/// program, started as the server on the library in `data_dir`.
fn stdio_config(data_dir: &str) -> String {
    // An AppImage runs from a temporary mount; the file the person started is in $APPIMAGE.
    let program = std::env::var_os("APPIMAGE")
        .map(PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "cairn-desktop".to_string());
    let config = serde_json::json!({
        "mcpServers": {
            "cairn": { "command": program, "args": ["--data-dir", data_dir, "mcp"] }
        }
    });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}

/// The app started by another tool as its MCP server: `[--data-dir DIR] mcp [--redact]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpLaunch {
    /// The library; the app's own when absent.
    pub data_dir: Option<PathBuf>,
    /// Replace personal data in what is returned.
    pub redact: bool,
}

impl McpLaunch {
    /// The launch the arguments (without the program's name) ask for; `None` for the window.
    pub fn from_args(args: impl IntoIterator<Item = OsString>) -> Option<McpLaunch> {
        let mut data_dir = None;
        let mut mcp = false;
        let mut redact = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.to_str() {
                Some("--data-dir") => data_dir = Some(PathBuf::from(args.next()?)),
                Some("mcp") => mcp = true,
                Some("--redact") if mcp => redact = true,
                // Anything else (a desktop environment's or a test driver's arguments) means
                // the window.
                _ => return None,
            }
        }
        mcp.then_some(McpLaunch { data_dir, redact })
    }
}

/// Serves the library to the tool that started the app, over stdin and stdout, until it closes
/// them. Turning the server on shares the default collection when nothing is shared yet.
pub async fn serve_mcp(launch: McpLaunch, mut paths: AppPaths) -> Result<(), ApiError> {
    if let Some(dir) = launch.data_dir {
        paths.data_dir_override = Some(dir);
    }
    let dir = crate::data_dir(&paths)?;
    let library = crate::open_library(&dir, &paths).await?;
    if library.share_default_with_tools()? {
        tracing::info!("the default collection is now shared with other AI tools");
    }
    let redact = launch.redact || library.config().mcp.redact;
    cairn_engine::keep_models_lean(std::sync::Arc::downgrade(&library));
    cairn_mcp::serve_stdio(library, cairn_mcp::Options { redact })
        .await
        .map_err(|e| ApiError::new("mcp", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(args: &[&str]) -> Option<McpLaunch> {
        McpLaunch::from_args(args.iter().map(OsString::from))
    }

    #[test]
    fn the_window_is_started_unless_mcp_is_asked_for() {
        assert_eq!(launch(&[]), None);
        assert_eq!(launch(&["--data-dir", "/x"]), None);
        assert_eq!(launch(&["--some-webkit-flag", "mcp"]), None);
        assert_eq!(
            launch(&["--data-dir", "/lib", "mcp"]),
            Some(McpLaunch {
                data_dir: Some("/lib".into()),
                redact: false
            })
        );
        assert_eq!(
            launch(&["mcp", "--redact"]),
            Some(McpLaunch {
                data_dir: None,
                redact: true
            })
        );
        assert_eq!(launch(&["--data-dir"]), None);
    }

    #[test]
    fn the_pasted_configuration_starts_this_program_on_the_library() {
        let config: serde_json::Value =
            serde_json::from_str(&stdio_config("/home/ana/cairn")).unwrap();
        let server = &config["mcpServers"]["cairn"];
        assert_eq!(
            server["args"],
            serde_json::json!(["--data-dir", "/home/ana/cairn", "mcp"])
        );
        assert!(!server["command"].as_str().unwrap().is_empty());
    }
}
