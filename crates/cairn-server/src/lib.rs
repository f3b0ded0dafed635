//! Cairn's local API: an OpenAI-compatible server over one library, so that other tools on this
//! device can ask it questions.
//!
//! - `GET /v1/models`: `cairn` (the default collection) and `cairn/<collection>` for each
//!   collection, plus the embedding model.
//! - `POST /v1/chat/completions`, streamed (server-sent events) or not: the last user message is
//!   asked of the collection the model names, as a follow-up to the earlier user and assistant
//!   messages when there are any, through the same routing, guardrails, cache and traces as the
//!   app. The answer carries its `citations` (and `cairn`: trace, route, tier).
//! - `POST /v1/embeddings`: the library's embedding model, as floats or base64.
//!
//! It listens on a loopback address only (another address is refused before anything listens),
//! checks that each connection comes from this device and names a local host (against DNS
//! rebinding), requires the bearer token (generated once, kept in the OS keychain), answers no
//! cross-origin request unless its origin is configured, and bounds request size and rate.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_engine::{
    Answer, AnswerEvent, ApiConfig, AskRequest, CancelToken, DEFAULT_COLLECTION, Library,
};
use cairn_models::Embedder;
use cairn_providers::{ApiKey, Keychain};
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

/// The model name of the default collection; `cairn/<name>` names another.
pub const MODEL_PREFIX: &str = "cairn";

/// The embedding model's name in `/v1/models`.
pub const EMBEDDING_MODEL: &str = "cairn-embedding";

/// The keychain service and entry of the API token.
const TOKEN_SERVICE: &str = "cairn-local-api";
const TOKEN_ENTRY: &str = "token";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address is not on this device.
    #[error(
        "{0} is not a loopback address: the local API listens only on this device (127.0.0.1 or ::1)"
    )]
    NotLoopback(IpAddr),
    /// Nothing could listen there.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The token could not be read from or kept in the keychain.
    #[error("the API token could not be kept in the OS keychain: {0}")]
    Keychain(String),
}

/// The API token from the OS keychain, made (32 random bytes, hex) and kept there the first time.
pub fn token(keychain: Option<&Keychain>) -> Result<String, ServerError> {
    let default = Keychain::new(TOKEN_SERVICE);
    let keychain = keychain.unwrap_or(&default);
    let keep = |e: cairn_providers::ProviderError| ServerError::Keychain(e.to_string());
    if let Some(key) = keychain.get(TOKEN_ENTRY).map_err(keep)? {
        return Ok(key.expose().to_string());
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ServerError::Keychain(e.to_string()))?;
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("cairn-{text}");
    let key = ApiKey::new(&token).ok_or_else(|| ServerError::Keychain("bad token".into()))?;
    keychain.set(TOKEN_ENTRY, &key).map_err(keep)?;
    Ok(token)
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// `http://addr/v1`, for a client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Stops listening; requests in flight finish first.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }

    /// Serves until `signal` resolves (then stops, letting requests in flight finish) or the
    /// server fails.
    pub async fn stop_on(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let joined = |r: Result<std::io::Result<()>, tokio::task::JoinError>| {
            r.map_err(|e| std::io::Error::other(e.to_string()))?
        };
        tokio::select! {
            r = &mut self.task => joined(r),
            () = signal => self.stop().await,
        }
    }
}

/// Starts the API over `library` on `addr` (port 0: any free port), requiring `token`.
pub async fn start(
    library: Arc<Library>,
    addr: SocketAddr,
    token: String,
) -> Result<Running, ServerError> {
    if !addr.ip().is_loopback() {
        return Err(ServerError::NotLoopback(addr.ip()));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    let config = library.config().api.clone();
    let state = Arc::new(ServerState {
        library,
        token,
        bucket: Mutex::new(Bucket::new(config.requests_per_minute)),
        config,
    });
    let app = router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        })
        .await
    });
    tracing::info!(%addr, "local API listening");
    Ok(Running {
        addr,
        stop: Some(stop),
        task,
    })
}

struct ServerState {
    library: Arc<Library>,
    token: String,
    config: ApiConfig,
    bucket: Mutex<Bucket>,
}

type Shared = Arc<ServerState>;

fn router(state: Shared) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .fallback(not_found)
        // Layers run last-added first: where from, then which origin, then the token, then the rate.
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(state.clone(), authorise))
        .layer(middleware::from_fn_with_state(state.clone(), cross_origin))
        .layer(middleware::from_fn(this_device_only))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// Errors, in OpenAI's shape: `{"error": {"message", "type", "code"}}`.

struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: &'static str, message: String) -> Self {
        ApiError {
            status,
            kind,
            code,
            message,
        }
    }

    fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message.into(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message, "type": self.kind, "code": self.code, "param": null,
        }});
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<cairn_engine::Error> for ApiError {
    fn from(e: cairn_engine::Error) -> Self {
        let status = match e.code() {
            "invalid_input" => StatusCode::BAD_REQUEST,
            "no_such_collection" => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let kind = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "server_error"
        } else {
            "invalid_request_error"
        };
        ApiError::new(status, kind, e.code(), e.to_string())
    }
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "not_found",
        format!("{method} {uri} is not part of this API (see /v1/models)"),
    )
}

// ---------------------------------------------------------------------------------------------
// Who may call.

/// Connections from another machine are refused, and so are requests naming a host that is not
/// this device (a web page that rebinds its own name to 127.0.0.1 sends its name).
async fn this_device_only(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if !peer.ip().is_loopback() {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "not_loopback",
            format!("{} is not this device", peer.ip()),
        )
        .into_response();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !is_local_host(host) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "host_not_allowed",
            format!("the host {host:?} is not this device"),
        )
        .into_response();
    }
    next.run(request).await
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A browser's cross-origin request is answered only for a configured origin (`api.cors_origins`);
/// by default none is.
async fn cross_origin(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let allowed = origin
        .to_str()
        .is_ok_and(|o| state.config.cors_origins.iter().any(|a| a == o));
    if !allowed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "cross_origin",
            "cross-origin requests are off (api.cors_origins)".into(),
        )
        .into_response();
    }
    let mut response = if request.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        r
    } else {
        next.run(request).await
    };
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    response
}

async fn authorise(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let given = bearer(request.headers());
    let (code, message) = match given {
        None => (
            "missing_api_key",
            "send the API token as `Authorization: Bearer <token>` (shown in Cairn's settings, or by `cairn serve --show-token`)",
        ),
        Some(token) if !same(token.as_bytes(), state.token.as_bytes()) => {
            ("invalid_api_key", "the API token is not this library's")
        }
        Some(_) => return next.run(request).await,
    };
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        code,
        message.into(),
    )
    .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Equal, in time that does not depend on where two tokens of one length differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A token bucket: `per_minute` requests, refilled evenly.
struct Bucket {
    capacity: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(per_minute: u32) -> Self {
        Bucket {
            capacity: f64::from(per_minute.max(1)),
            tokens: f64::from(per_minute.max(1)),
            at: Instant::now(),
        }
    }

    /// Takes one; `Err(wait)` when empty.
    fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        let rate = self.capacity / 60.0;
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * rate).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
}

async fn rate_limit(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let taken = state
        .bucket
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    match taken {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let secs = wait.as_secs().max(1);
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate_limited",
                format!(
                    "more than {} requests a minute (api.requests_per_minute); retry in {secs} s",
                    state.config.requests_per_minute
                ),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The endpoints.

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn models(State(state): State<Shared>) -> Result<axum::Json<Value>, ApiError> {
    let model =
        |id: String| json!({"id": id, "object": "model", "created": 0, "owned_by": "cairn"});
    let mut data = vec![model(MODEL_PREFIX.into())];
    for c in state.library.collections()? {
        if c.name != DEFAULT_COLLECTION {
            data.push(model(format!("{MODEL_PREFIX}/{}", c.name)));
        }
    }
    data.push(model(EMBEDDING_MODEL.into()));
    Ok(axum::Json(json!({"object": "list", "data": data})))
}

/// The collection a model name asks about.
fn collection(library: &Library, model: &str) -> Result<String, ApiError> {
    let name = match model.split_once('/') {
        None if model == MODEL_PREFIX => DEFAULT_COLLECTION.to_string(),
        Some((MODEL_PREFIX, name)) if !name.is_empty() => name.to_string(),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
                format!("there is no model {model:?}: use \"cairn\" or \"cairn/<collection>\""),
            ));
        }
    };
    if library.collections()?.iter().all(|c| c.name != name) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!("there is no collection {name:?} for the model {model:?}"),
        ));
    }
    Ok(name)
}

#[derive(Deserialize)]
struct ChatRequest {
    model: String,
    messages: Vec<ChatMessage>,
    #[serde(default)]
    stream: bool,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
}

impl Content {
    fn text(&self) -> String {
        match self {
            Content::Text(t) => t.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| p.text.as_deref())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|b| b.0).map_err(|e| {
        let status = e.status();
        let message = e.body_text();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "invalid_request_error",
                "request_too_large",
                "the request is larger than api.max_body_bytes".into(),
            )
        } else {
            ApiError::invalid("invalid_json", message)
        }
    })
}

async fn chat(
    State(state): State<Shared>,
    body: Result<axum::Json<ChatRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let request = json_body(body)?;
    let collection = collection(&state.library, &request.model)?;
    let last = request
        .messages
        .iter()
        .rposition(|m| m.role == "user")
        .ok_or_else(|| ApiError::invalid("no_question", "the messages hold no user message"))?;
    let question = request.messages[last]
        .content
        .as_ref()
        .map(Content::text)
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("no_question", "the last user message is empty"))?;
    // Earlier user and assistant turns are the conversation so far: the question is asked as a
    // follow-up in a thread that holds them. System messages are not passed on: the library's
    // own prompt governs the answer.
    let history: Vec<(String, String)> = request.messages[..last]
        .iter()
        .filter(|m| m.role == "user" || m.role == "assistant")
        .filter_map(|m| Some((m.role.clone(), m.content.as_ref()?.text())))
        .filter(|(_, text)| !text.trim().is_empty())
        .collect();
    let thread = if history.is_empty() {
        None
    } else {
        Some(state.library.start_thread(&collection, &history)?)
    };
    let ask = AskRequest {
        question,
        collection,
        thread,
        policy: None,
    };
    let id = format!("chatcmpl-{}", now_nanos());
    if !request.stream {
        let answer = state
            .library
            .ask(&ask, Arc::new(|_| {}), &CancelToken::new())
            .await?;
        return Ok(axum::Json(completion(&id, &request.model, &answer)).into_response());
    }
    Ok(stream(state, ask, id, request.model).into_response())
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// What every completion adds to OpenAI's shape: the passages cited and how it was made.
fn extras(answer: &Answer) -> (Value, Value) {
    let citations: Vec<Value> = answer
        .citations
        .iter()
        .map(|c| {
            json!({"n": c.n, "doc_path": c.doc_path, "page": c.page, "heading": c.heading,
                   "chunk_id": c.chunk_id, "text": c.text})
        })
        .collect();
    let cairn = json!({
        "trace_id": answer.trace_id, "route": answer.route, "tier": answer.tier,
        "provider": answer.provider, "model": answer.model,
        "prompt_version": answer.prompt_version, "cached": answer.cache.is_some(),
        "thread_id": answer.thread_id,
        "review": answer.review.as_ref().map(|r| json!({"id": r.id, "reason": r.reason})),
    });
    (Value::Array(citations), cairn)
}

fn finish_reason(answer: &Answer) -> &'static str {
    if answer.truncated { "length" } else { "stop" }
}

fn usage(answer: &Answer) -> Value {
    json!({"prompt_tokens": answer.tokens_in, "completion_tokens": answer.tokens_out,
           "total_tokens": answer.tokens_in + answer.tokens_out})
}

fn completion(id: &str, model: &str, answer: &Answer) -> Value {
    let (citations, cairn) = extras(answer);
    json!({
        "id": id, "object": "chat.completion", "created": now(), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                     "finish_reason": finish_reason(answer), "logprobs": null}],
        "usage": usage(answer), "citations": citations, "cairn": cairn,
    })
}

/// A streamed answer: a chunk per piece of text; a withdrawn answer is said to be withdrawn before
/// its replacement; the last chunk has the finish reason, usage and citations; then `[DONE]`.
/// A client that goes away stops the answer.
fn stream(
    state: Shared,
    ask: AskRequest,
    id: String,
    model: String,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::unbounded_channel::<Value>();
    let cancel = CancelToken::new();
    let chunk = {
        let (id, model) = (id.clone(), model.clone());
        move |delta: Value, finish: Option<&str>| {
            json!({"id": id, "object": "chat.completion.chunk", "created": now(), "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]})
        }
    };
    let _ = tx.send(chunk(json!({"role": "assistant", "content": ""}), None));
    let events = {
        let (tx, cancel, chunk) = (tx.clone(), cancel.clone(), chunk.clone());
        Arc::new(move |event: AnswerEvent| {
            let text = match event {
                AnswerEvent::Text { text } => text,
                AnswerEvent::Retracted { reason } => format!("\n\n[withdrawn: {reason}]\n\n"),
                _ => return,
            };
            if tx.send(chunk(json!({"content": text}), None)).is_err() {
                cancel.cancel();
            }
        })
    };
    tokio::spawn(async move {
        match state.library.ask(&ask, events, &cancel).await {
            Ok(answer) => {
                let (citations, cairn) = extras(&answer);
                let mut last = chunk(json!({}), Some(finish_reason(&answer)));
                last["usage"] = usage(&answer);
                last["citations"] = citations;
                last["cairn"] = cairn;
                let _ = tx.send(last);
            }
            Err(e) => {
                let _ = tx.send(
                    json!({"error": {"message": e.to_string(), "type": "server_error",
                                                  "code": e.code()}}),
                );
            }
        }
    });
    let stream = futures::stream::unfold((rx, false), |(mut rx, done)| async move {
        if done {
            return None;
        }
        match rx.recv().await {
            Some(value) => Some((Ok(Event::default().data(value.to_string())), (rx, false))),
            None => Some((Ok(Event::default().data("[DONE]")), (rx, true))),
        }
    });
    Sse::new(stream)
}

#[derive(Deserialize)]
struct EmbeddingsRequest {
    model: String,
    input: Input,
    #[serde(default)]
    encoding_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
}

/// Most texts in one embeddings request.
const MAX_INPUTS: usize = 256;

async fn embeddings(
    State(state): State<Shared>,
    body: Result<axum::Json<EmbeddingsRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Value>, ApiError> {
    let request = json_body(body)?;
    let embedder = state.library.embedder()?;
    let id = embedder.info().id.clone();
    if request.model != EMBEDDING_MODEL && request.model != id {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!(
                "there is no embedding model {:?}: use {EMBEDDING_MODEL:?}",
                request.model
            ),
        ));
    }
    let texts = match request.input {
        Input::One(t) => vec![t],
        Input::Many(ts) => ts,
    };
    if texts.is_empty() || texts.len() > MAX_INPUTS {
        return Err(ApiError::invalid(
            "invalid_input",
            format!("send 1 to {MAX_INPUTS} texts"),
        ));
    }
    let base64 = match request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_encoding_format",
                format!("encoding_format {other:?}: use \"float\" or \"base64\""),
            ));
        }
    };
    let counted = texts.clone();
    let vectors = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = counted.iter().map(String::as_str).collect();
        embedder.embed(&refs)
    })
    .await
    .map_err(|e| ApiError::from(cairn_engine::Error::Internal(e.to_string())))?
    .map_err(|e| ApiError::from(cairn_engine::Error::from(e)))?;
    let tokens: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                Value::from(base64_encode(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    Ok(axum::Json(json!({
        "object": "list", "data": data, "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })))
}

/// Standard base64, with padding.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts_tokens_buckets_and_base64() {
        for host in [
            "127.0.0.1:8765",
            "localhost",
            "LOCALHOST:1",
            "[::1]:9",
            "127.1.2.3",
        ] {
            assert!(is_local_host(host), "{host}");
        }
        for host in [
            "evil.example:8765",
            "10.0.0.2",
            "",
            "localhost.evil.example",
        ] {
            assert!(!is_local_host(host), "{host}");
        }
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd") && !same(b"abc", b"abcd"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  t0k "),
        );
        assert_eq!(bearer(&headers), Some("t0k"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic t0k"));
        assert_eq!(bearer(&headers), None);

        let mut bucket = Bucket::new(2);
        assert!(bucket.take().is_ok() && bucket.take().is_ok());
        let wait = bucket.take().unwrap_err();
        assert!(
            wait > Duration::from_secs(20) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );

        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    /// The router as served, called with the peer address the listener would attach: a request
    /// from another machine is refused before the token is even looked at, whatever it names.
    /// (Over a socket this cannot be reached while the bind is loopback-only.)
    #[tokio::test(flavor = "multi_thread")]
    async fn a_request_from_another_machine_is_refused() {
        use tower_service::Service;

        let data = tempfile::tempdir().unwrap();
        let library = Library::open(data.path(), cairn_engine::Config::default())
            .await
            .unwrap();
        let config = library.config().api.clone();
        let state = Arc::new(ServerState {
            library: Arc::new(library),
            token: "t0k".into(),
            bucket: Mutex::new(Bucket::new(config.requests_per_minute)),
            config,
        });
        let mut app = router(state);
        let ask = |peer: [u8; 4]| {
            let mut request = Request::builder()
                .uri("/v1/models")
                .header(header::HOST, "127.0.0.1:8765")
                .header(header::AUTHORIZATION, "Bearer t0k")
                .body(axum::body::Body::empty())
                .unwrap();
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from((peer, 40_000))));
            request
        };
        let refused = app.call(ask([192, 0, 2, 7])).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let body = axum::body::to_bytes(refused.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "not_loopback", "{body}");

        let served = app.call(ask([127, 0, 0, 1])).await.unwrap();
        assert_eq!(
            served.status(),
            StatusCode::OK,
            "the same request from here"
        );
    }
}
