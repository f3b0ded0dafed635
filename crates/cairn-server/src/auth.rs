//! Who may call: the API token (kept in the OS keychain), connections from this device only, a
//! host that names this device, and cross-origin requests only from configured origins.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cairn_keychain::{ApiKey, Keychain, KeychainError};

use crate::Shared;
use crate::error::{ApiError, ServerError};

/// The keychain service and entry of the API token.
const TOKEN_SERVICE: &str = "cairn-local-api";
const TOKEN_ENTRY: &str = "token";

/// The API token from the OS keychain, made (32 random bytes, hex) and kept there the first time.
pub fn token(keychain: Option<&Keychain>) -> Result<String, ServerError> {
    let default = Keychain::new(TOKEN_SERVICE);
    let keychain = keychain.unwrap_or(&default);
    let keep = |e: KeychainError| ServerError::Keychain(e.to_string());
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

/// Connections from another machine are refused, and so are requests naming a host that is not
/// this device (a web page that rebinds its own name to 127.0.0.1 sends its name).
pub(crate) async fn this_device_only(
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

/// Whether a `Host` header names this device: `localhost`, or a loopback address such as
/// `127.0.0.1` or `[::1]`, with or without a port.
pub fn is_local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A browser's cross-origin request is answered only for a configured origin (`api.cors_origins`);
/// by default none is.
pub(crate) async fn cross_origin(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
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

/// A request without the API token, or with another, is refused.
pub(crate) async fn authorise(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
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

/// The token of an `Authorization: Bearer <token>` header (any case of `Bearer`, the token
/// trimmed); `None` without one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Whether `a` and `b` are equal, in time that does not depend on where two of one length differ
/// (so that a wrong token's timing says nothing about the right one).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
