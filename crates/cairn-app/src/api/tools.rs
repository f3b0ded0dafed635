//! The "Other AI tools" section of Settings: the library served over the Model Context Protocol
//! to Claude Desktop, Cursor, Zed and the like, what they may read, and what they asked.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Everything the section shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ToolsView {
    /// Every collection, and whether other tools may read it (off for a new collection).
    pub collections: Vec<ToolCollectionView>,
    /// Whether personal data in what they are given is replaced by placeholders (`[mcp] redact`).
    pub redact: bool,
    /// The configuration to paste into a client that launches servers (Claude Desktop, Cursor,
    /// Zed): this app, started as a server over stdin and stdout on this library.
    pub stdio_config: String,
    /// The Streamable HTTP address (`http://127.0.0.1:PORT/mcp`) while the local API is on; it
    /// asks for the local API's token.
    pub http_url: Option<String>,
    /// The latest calls, newest first.
    pub recent_calls: Vec<ToolCallView>,
}

/// A collection, as other tools see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ToolCollectionView {
    /// Its name.
    pub name: String,
    /// Other tools may read it.
    pub shared: bool,
}

/// One call of another tool, from the audit log (never its text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ToolCallView {
    /// Unix seconds.
    #[ts(type = "number")]
    pub at: i64,
    /// The client, as it introduced itself (`Claude Desktop`, `cursor`).
    pub client: String,
    /// The tool it called (`search`, `ask`, …).
    pub tool: String,
    /// Characters returned to it.
    #[ts(type = "number")]
    pub chars: u64,
    /// Pieces of personal data replaced in them.
    #[ts(type = "number")]
    pub redacted: u64,
}

/// Lets other tools read a collection, or stops them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ToolShareRequest {
    /// The collection.
    pub collection: String,
    /// Whether they may read it.
    pub shared: bool,
}

/// Turns redaction of what other tools are given on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ToolRedactRequest {
    /// Replace personal data with placeholders.
    pub redact: bool,
}
