//! Cairn's local API: an OpenAI-compatible server over one library, so that other tools on this
//! device can ask it questions.
//!
//! - `GET /v1/models`: `cairn` (the default collection) and `cairn/<collection>` for each
//!   collection, plus the embedding model.
//! - `POST /v1/chat/completions`, streamed (server-sent events) or not: the last user message is
//!   asked of the collection the model names, as a follow-up to the earlier user and assistant
//!   messages when there are any, through the same routing, guardrails, cache and traces as the
//!   app. The answer carries its `citations` (and `cairn`: trace, route, tier). A streamed answer
//!   is sent once its output checks have passed (`"cairn": {"delivery": "live"}` streams it as it
//!   is written, and may then withdraw it); remote images and links the person did not write are
//!   taken out of every answer (`sanitize.rs`).
//! - `POST /v1/embeddings`: the library's embedding model, as floats or base64.
//! - `/mcp`: the library for other AI tools over the Model Context Protocol (Streamable HTTP), as
//!   `cairn mcp` serves it over stdio (`cairn-mcp`).
//!
//! It listens on a loopback address only (another address is refused before anything listens),
//! checks that each connection comes from this device and names a local host (against DNS
//! rebinding), requires the bearer token (generated once, kept in the OS keychain), answers no
//! cross-origin request unless its origin is configured, and bounds request size and rate.
//!
//! Models and providers are reached only through `cairn-engine`; the token's keychain is
//! `cairn-keychain`'s.

pub mod auth;
mod chat;
pub mod embeddings;
mod error;
mod models;
pub mod rate;
mod sanitize;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use cairn_engine::{ApiConfig, Library};
use tokio::sync::oneshot;

use crate::auth::{authorise, cross_origin, this_device_only};
use crate::rate::rate_limit;

pub use auth::token;
pub use error::ServerError;

/// The model name of the default collection; `cairn/<name>` names another.
pub const MODEL_PREFIX: &str = "cairn";

/// The embedding model's name in `/v1/models`.
pub const EMBEDDING_MODEL: &str = "cairn-embedding";

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
    // Other AI tools reach the library at /mcp: turning the server on shares the default
    // collection with them when nothing is shared yet, as `cairn mcp` does.
    match library.share_default_with_tools() {
        Ok(true) => tracing::info!("the default collection is now shared with other AI tools"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!("the default collection could not be shared with other AI tools: {e}")
        }
    }
    let app = router(library, token);
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

/// The API over `library`, requiring `token`, as [`start`] serves it: every route and every check
/// (this device only, origin, token, rate, body size). It reads the peer's address from the
/// request's [`axum::extract::ConnectInfo`], which a listener made with
/// `into_make_service_with_connect_info::<SocketAddr>()` attaches; a request without it is answered
/// with an error. Public so that the checks can be exercised without a socket.
pub fn router(library: Arc<Library>, token: String) -> Router {
    let config = library.config().api.clone();
    let state = Arc::new(ServerState {
        library,
        token,
        bucket: Mutex::new(rate::Bucket::new(config.requests_per_minute)),
        config,
    });
    let mcp = cairn_mcp::http_service(
        state.library.clone(),
        cairn_mcp::Options {
            redact: state.library.config().mcp.redact,
        },
    );
    Router::new()
        .nest_service("/mcp", mcp)
        .route("/v1/models", get(models::models))
        .route("/v1/chat/completions", post(chat::chat))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .fallback(error::not_found)
        // Layers run last-added first: where from, then which origin, then the token, then the rate.
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(state.clone(), authorise))
        .layer(middleware::from_fn_with_state(state.clone(), cross_origin))
        .layer(middleware::from_fn(this_device_only))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state)
}

/// What every handler and check shares.
struct ServerState {
    library: Arc<Library>,
    token: String,
    config: ApiConfig,
    bucket: Mutex<rate::Bucket>,
}

type Shared = Arc<ServerState>;
