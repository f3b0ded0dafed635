//! The tools a client may call: their arguments (with the JSON Schemas a client shows its model),
//! their checks, and what each returns. Results are JSON text sized for a client's context:
//! passages cut to [`MAX_PASSAGE_CHARS`], at most [`MAX_K`] of them, documents a page at a time.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_engine::{AskRequest, CancelToken, Library, SearchRequest};
use rmcp::ErrorData as McpError;
use rmcp::handler::server::common::schema_for_type;
use rmcp::model::Tool;
use rmcp::schemars;
use serde::Deserialize;
use serde_json::{Value, json};

/// The most passages a search returns.
pub(crate) const MAX_K: u32 = 20;
/// The most passages a page of a document holds.
pub(crate) const MAX_PAGE: u32 = 50;
/// A passage's text is cut to this many characters.
pub(crate) const MAX_PASSAGE_CHARS: usize = 2_000;

/// `search`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchArgs {
    /// What to look for, in words.
    pub query: String,
    /// The collection to search (one shared with other tools; default: `default`).
    pub collection: Option<String>,
    /// How many passages, 1 to 20 (default 5).
    pub k: Option<u32>,
}

/// `ask`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskArgs {
    /// The question.
    pub question: String,
    /// The collection to answer from (one shared with other tools; default: `default`).
    pub collection: Option<String>,
}

/// `get_document`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentArgs {
    /// The document's path, as `search` or `list_collections` give it (or its file name).
    pub path: String,
    /// Its collection (default: `default`).
    pub collection: Option<String>,
    /// The first passage to return, counted from 0 (default 0).
    pub offset: Option<u32>,
    /// How many passages, 1 to 50 (default 20).
    pub limit: Option<u32>,
}

/// `list_collections` takes nothing.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArgs {}

/// Every tool, as `tools/list` describes it.
pub(crate) fn list() -> Vec<Tool> {
    vec![
        Tool::new(
            "search",
            "Search the person's private library (Cairn) for passages: hybrid retrieval, reranked. \
             Returns each passage with its file, page, heading and score.",
            schema_for_type::<SearchArgs>(),
        ),
        Tool::new(
            "ask",
            "Ask the person's private library (Cairn) a question: answered on their device by its \
             local model from the library's passages, with numbered citations.",
            schema_for_type::<AskArgs>(),
        ),
        Tool::new(
            "list_collections",
            "The collections of the person's library that are shared with other tools, with their \
             documents.",
            schema_for_type::<NoArgs>(),
        ),
        Tool::new(
            "get_document",
            "A document of the library, as its passages in order, a page at a time.",
            schema_for_type::<DocumentArgs>(),
        ),
    ]
}

/// Parses a tool's arguments, or says what is wrong with them.
pub(crate) fn args<T: serde::de::DeserializeOwned>(
    tool: &str,
    arguments: Option<serde_json::Map<String, Value>>,
) -> Result<T, McpError> {
    serde_json::from_value(Value::Object(arguments.unwrap_or_default())).map_err(|e| {
        McpError::invalid_params(
            format!("{tool}: the arguments do not fit its schema: {e}"),
            None,
        )
    })
}

/// What a call returns and what it showed: the JSON text, and the personal data replaced in it
/// by type (for the audit log).
pub(crate) struct Output {
    pub text: String,
    pub redacted: BTreeMap<String, u64>,
}

/// Shapes a tool's result: redacted when asked, as JSON text.
pub(crate) struct Shaper<'a> {
    pub library: &'a Library,
    pub redact: bool,
    pub redacted: BTreeMap<String, u64>,
}

impl Shaper<'_> {
    /// `text` cut to the passage limit and, with redaction on, with its personal data replaced.
    pub(crate) fn text(&mut self, text: &str) -> Result<String, McpError> {
        let cut: String = if text.chars().count() > MAX_PASSAGE_CHARS {
            let mut cut: String = text.chars().take(MAX_PASSAGE_CHARS).collect();
            cut.push('…');
            cut
        } else {
            text.to_string()
        };
        if !self.redact {
            return Ok(cut);
        }
        let red = cairn_engine::redact_text(&cut, &self.library.config().guard.pii)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        for e in &red.entities {
            *self.redacted.entry(e.kind.to_string()).or_default() += 1;
        }
        Ok(red.redacted)
    }

    pub(crate) fn done(self, value: Value) -> Output {
        Output {
            text: serde_json::to_string_pretty(&value).unwrap_or_default(),
            redacted: self.redacted,
        }
    }
}

/// The collection a call names (or `default`), refused unless it exists and is shared.
pub(crate) fn shared_collection(
    library: &Library,
    named: Option<&str>,
) -> Result<String, McpError> {
    let name = named.unwrap_or(cairn_engine::DEFAULT_COLLECTION).trim();
    let shared = library
        .tool_collections()
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
    if shared.iter().any(|c| c == name) {
        return Ok(name.to_string());
    }
    let exists = library
        .collections()
        .map_err(|e| McpError::internal_error(e.to_string(), None))?
        .iter()
        .any(|c| c.name == name);
    let message = if exists {
        format!(
            "the collection '{name}' is not shared with other tools: the person can share it in \
             Cairn (`cairn mcp share {name}`, or Settings)"
        )
    } else {
        format!(
            "there is no shared collection named '{name}'; shared: {}",
            if shared.is_empty() {
                "none".to_string()
            } else {
                shared.join(", ")
            }
        )
    };
    Err(McpError::invalid_params(message, None))
}

fn engine(e: cairn_engine::Error) -> McpError {
    match e {
        cairn_engine::Error::InvalidInput(_) | cairn_engine::Error::NoSuchCollection(_) => {
            McpError::invalid_params(e.to_string(), None)
        }
        other => McpError::internal_error(other.to_string(), None),
    }
}

pub(crate) async fn search(
    library: &Library,
    redact: bool,
    a: SearchArgs,
) -> Result<Output, McpError> {
    let collection = shared_collection(library, a.collection.as_deref())?;
    if a.query.trim().is_empty() {
        return Err(McpError::invalid_params("search: the query is empty", None));
    }
    let k = a.k.unwrap_or(5);
    if !(1..=MAX_K).contains(&k) {
        return Err(McpError::invalid_params(
            format!("search: k is {k}; ask for 1 to {MAX_K} passages"),
            None,
        ));
    }
    let request = SearchRequest {
        collection: collection.clone(),
        k: Some(k as usize),
        ..SearchRequest::new(a.query.trim())
    };
    let hits = library.search(&request).await.map_err(engine)?;
    let mut shape = Shaper {
        library,
        redact,
        redacted: BTreeMap::new(),
    };
    let mut passages = Vec::new();
    for h in hits {
        passages.push(json!({
            "file": h.passage.doc_path,
            "page": h.passage.page,
            "heading": h.passage.heading,
            "score": h.score,
            "text": shape.text(&h.passage.text)?,
        }));
    }
    Ok(shape.done(json!({ "collection": collection, "passages": passages })))
}

pub(crate) async fn ask(
    library: &Arc<Library>,
    redact: bool,
    a: AskArgs,
    cancel: &CancelToken,
) -> Result<Output, McpError> {
    let collection = shared_collection(library, a.collection.as_deref())?;
    let request = AskRequest {
        collection,
        ..AskRequest::new(a.question.trim())
    };
    let answer = library
        .ask(&request, Arc::new(|_| {}), cancel)
        .await
        .map_err(engine)?;
    let mut shape = Shaper {
        library,
        redact,
        redacted: BTreeMap::new(),
    };
    let text = shape.text(&answer.answer)?;
    let mut citations = Vec::new();
    for c in &answer.citations {
        citations.push(json!({
            "n": c.n,
            "file": c.doc_path,
            "page": c.page,
            "heading": c.heading,
            "text": shape.text(&c.text)?,
        }));
    }
    Ok(shape.done(json!({
        "answer": text,
        "citations": citations,
        "model": answer.model,
        "made_on_this_device": answer.provenance.label() == "local",
    })))
}

pub(crate) fn list_collections(library: &Library, redact: bool) -> Result<Output, McpError> {
    let internal = |e: cairn_engine::Error| McpError::internal_error(e.to_string(), None);
    let mut collections = Vec::new();
    for name in library.tool_collections().map_err(internal)? {
        let documents: Vec<Value> = library
            .documents(Some(&name))
            .map_err(internal)?
            .into_iter()
            .filter(|d| d.state == cairn_engine::DocState::Indexed)
            .map(|d| json!({ "path": d.path, "kind": d.kind, "passages": d.chunk_count, "pages": d.page_count }))
            .collect();
        collections.push(json!({ "name": name, "documents": documents }));
    }
    let shape = Shaper {
        library,
        redact,
        redacted: BTreeMap::new(),
    };
    Ok(shape.done(json!({ "collections": collections })))
}

pub(crate) async fn get_document(
    library: &Library,
    redact: bool,
    a: DocumentArgs,
) -> Result<Output, McpError> {
    let collection = shared_collection(library, a.collection.as_deref())?;
    let limit = a.limit.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(McpError::invalid_params(
            format!("get_document: limit is {limit}; ask for 1 to {MAX_PAGE} passages"),
            None,
        ));
    }
    let offset = a.offset.unwrap_or(0) as usize;
    let passages = library
        .document_passages(&collection, a.path.trim())
        .await
        .map_err(engine)?;
    let total = passages.len();
    let mut shape = Shaper {
        library,
        redact,
        redacted: BTreeMap::new(),
    };
    let mut page = Vec::new();
    let mut path = String::new();
    for p in passages.into_iter().skip(offset).take(limit as usize) {
        path.clone_from(&p.doc_path);
        page.push(json!({
            "ordinal": p.ordinal,
            "page": p.page,
            "heading": p.heading,
            "text": shape.text(&p.text)?,
        }));
    }
    let next = offset + page.len();
    Ok(shape.done(json!({
        "collection": collection,
        "path": if path.is_empty() { a.path.trim().to_string() } else { path },
        "total": total,
        "offset": offset,
        "passages": page,
        "next_offset": (next < total).then_some(next),
    })))
}
