//! The MCP server: `tools/*` and `resources/*` over one library, each call on the audit log.

use std::sync::Arc;

use cairn_engine::{CancelToken, Library};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};

use crate::error::Error;
use crate::tools::{self, Output};

/// How the server treats what it returns.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Replace personal data in every result with placeholders (`<EMAIL_1>`).
    pub redact: bool,
}

/// The MCP server over a library.
#[derive(Clone)]
pub struct Server {
    library: Arc<Library>,
    options: Options,
}

impl Server {
    /// A server over `library`.
    pub fn new(library: Arc<Library>, options: Options) -> Server {
        Server { library, options }
    }

    /// Records a call in the audit log: the client, the tool, the characters returned, the
    /// personal data replaced. A call that cannot be recorded returns nothing.
    fn audited(
        &self,
        client: &str,
        tool: &str,
        output: Result<Output, McpError>,
    ) -> Result<CallToolResponse, McpError> {
        let (chars, redacted) = match &output {
            Ok(o) => (o.text.chars().count() as u64, o.redacted.clone()),
            Err(_) => (0, Default::default()),
        };
        self.library
            .record_tool_call(client, tool, chars, &redacted)
            .map_err(|e| {
                McpError::internal_error(
                    format!("the call could not be written to the audit log, so nothing is returned: {e}"),
                    None,
                )
            })?;
        let output = output?;
        Ok(CallToolResult::success(vec![ContentBlock::text(output.text)]).into())
    }
}

/// The client's name as it introduced itself, or `unknown client`.
fn client_name(context: &RequestContext<RoleServer>) -> String {
    context
        .client_info()
        .map(|i| i.name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "unknown client".to_string())
}

/// `cairn://collections/<name>` and `cairn://documents/<collection>/<path>`.
const COLLECTIONS: &str = "cairn://collections/";
const DOCUMENTS: &str = "cairn://documents/";

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("cairn", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Cairn is the person's private document library. `search` finds passages, `ask` \
             answers from them on the person's device with citations, `get_document` reads a \
             document in pages. Only collections the person shared with other tools are visible.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let client = client_name(&context);
        let redact = self.options.redact;
        let library = &self.library;
        let name = request.name.to_string();
        let output = match name.as_str() {
            "search" => match tools::args(&name, request.arguments) {
                Ok(a) => tools::search(library, redact, a).await,
                Err(e) => Err(e),
            },
            "ask" => match tools::args(&name, request.arguments) {
                Ok(a) => {
                    // A client that goes away (or cancels) stops the answer.
                    let cancel = CancelToken::new();
                    let watch = {
                        let (ct, cancel) = (context.ct.clone(), cancel.clone());
                        tokio::spawn(async move {
                            ct.cancelled().await;
                            cancel.cancel();
                        })
                    };
                    let out = tools::ask(library, redact, a, &cancel).await;
                    watch.abort();
                    out
                }
                Err(e) => Err(e),
            },
            "list_collections" => match tools::args::<tools::NoArgs>(&name, request.arguments) {
                Ok(_) => tools::list_collections(library, redact),
                Err(e) => Err(e),
            },
            "get_document" => match tools::args(&name, request.arguments) {
                Ok(a) => tools::get_document(library, redact, a).await,
                Err(e) => Err(e),
            },
            other => Err(McpError::invalid_params(
                format!(
                    "there is no tool called '{other}'; the tools are search, ask, \
                     list_collections and get_document"
                ),
                None,
            )),
        };
        self.audited(&client, &name, output)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let shared = self
            .library
            .tool_collections()
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(ListResourcesResult::with_all_items(
            shared
                .into_iter()
                .map(|c| {
                    Resource::new(format!("{COLLECTIONS}{c}"), format!("collection {c}"))
                        .with_description(format!("The documents of the collection '{c}'"))
                        .with_mime_type("application/json")
                })
                .collect(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(format!("{DOCUMENTS}{{collection}}/{{path}}"), "document")
                .with_description(
                    "A document's first passages (get_document pages through the rest)",
                )
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.clone();
        let output = if let Some(name) = uri.strip_prefix(COLLECTIONS) {
            tools::shared_collection(&self.library, Some(name)).and_then(|name| {
                let all = tools::list_collections(&self.library, self.options.redact)?;
                let value: serde_json::Value = serde_json::from_str(&all.text).unwrap_or_default();
                let one = value["collections"]
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| c["name"] == name.as_str()).cloned())
                    .unwrap_or_default();
                Ok(Output {
                    text: serde_json::to_string_pretty(&one).unwrap_or_default(),
                    redacted: all.redacted,
                })
            })
        } else if let Some(rest) = uri.strip_prefix(DOCUMENTS) {
            match rest.split_once('/') {
                Some((collection, path)) => {
                    let a = tools::DocumentArgs {
                        path: path.to_string(),
                        collection: Some(collection.to_string()),
                        offset: None,
                        limit: None,
                    };
                    tools::get_document(&self.library, self.options.redact, a).await
                }
                None => Err(McpError::invalid_params(
                    format!("{uri}: write cairn://documents/<collection>/<path>"),
                    None,
                )),
            }
        } else {
            Err(McpError::resource_not_found(
                format!(
                    "{uri}: Cairn's resources are cairn://collections/… and cairn://documents/…"
                ),
                None,
            ))
        };
        let client = client_name(&context);
        let response = self.audited(&client, "read_resource", output)?;
        let CallToolResponse::Complete(result) = response else {
            return Err(McpError::internal_error("unexpected response", None));
        };
        let text = result
            .content
            .first()
            .and_then(|c| c.as_text().map(|t| t.text.clone()))
            .unwrap_or_default();
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type("application/json"),
        ])
        .into())
    }
}

/// Serves `library` over stdin and stdout until the client closes the connection.
pub async fn serve_stdio(library: Arc<Library>, options: Options) -> Result<(), Error> {
    let service = Server::new(library, options)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    service
        .waiting()
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    Ok(())
}

/// The server as a Streamable HTTP endpoint (a tower service), for the local API to mount behind
/// its own checks (this device only, the token): one session per client.
pub fn http_service(
    library: Arc<Library>,
    options: Options,
) -> rmcp::transport::StreamableHttpService<
    Server,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    rmcp::transport::StreamableHttpService::new(
        move || Ok(Server::new(library.clone(), options)),
        Default::default(),
        rmcp::transport::StreamableHttpServerConfig::default(),
    )
}
