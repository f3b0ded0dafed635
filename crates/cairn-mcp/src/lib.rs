//! Cairn for other AI tools: a Model Context Protocol server over one library.
//!
//! `cairn mcp` serves it over stdio, the transport desktop clients (Claude Desktop, Cursor, Zed)
//! launch; the local API (`cairn serve`, the app's switch) serves it over Streamable HTTP at
//! `/mcp`, behind its token. Tools: `search`, `ask`, `list_collections`, `get_document`; resources: each shared
//! collection and its documents. Only collections the person marked "may be read by other tools"
//! are visible; with `redact` on, personal data in what the server returns is replaced by
//! placeholders; every call is recorded in the library's audit log with the client's name.
//!
//! The protocol is the official Rust SDK's (`rmcp`); the library is reached only through
//! `cairn-engine`.

mod error;
mod server;
mod tools;

pub use error::Error;
pub use server::{Options, Server, http_service, serve_stdio};
