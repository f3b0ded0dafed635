//! How often: a token bucket over all requests (`api.requests_per_minute`); a request over the
//! rate is answered 429 with `Retry-After`.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Shared;
use crate::error::ApiError;

/// A token bucket: `per_minute` requests, refilled evenly.
#[derive(Debug)]
pub struct Bucket {
    capacity: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket of `per_minute` requests (at least one).
    pub fn new(per_minute: u32) -> Self {
        Bucket {
            capacity: f64::from(per_minute.max(1)),
            tokens: f64::from(per_minute.max(1)),
            at: Instant::now(),
        }
    }

    /// Takes one; `Err(wait)` when empty, `wait` being how long until one is back.
    pub fn take(&mut self) -> Result<(), Duration> {
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

pub(crate) async fn rate_limit(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
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
