//! One provider: requests with timeouts, retries with backoff (honouring `Retry-After`), a rate
//! limit and a circuit breaker, and the streamed answer read as it arrives.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cairn_guard::Egress;
use cairn_keychain::{ApiKey, Keychain};
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Serialize;

use crate::config::{KeySource, ProviderConfig, ProviderKind, secs};
use crate::error::{ProviderError, TimeoutStage};
use crate::sse::SseParser;
use crate::wire::{Delta, Params, Wire};

/// Tokens a request used, as the provider reported them or, where it did not, estimated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// True when the provider gave no usage and the counts are estimates (4 characters a token).
    pub estimated: bool,
}

/// A finished answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// The text, still with placeholders where the guard put them.
    pub text: String,
    /// The model that answered.
    pub model: String,
    /// Tokens used.
    pub usage: Usage,
    /// Stopped at `max_tokens`, or cancelled.
    pub truncated: bool,
    /// Attempts made (1 without retries).
    pub attempts: u32,
    /// Milliseconds from the request to the first piece of the answer, in the attempt that worked.
    pub first_token_ms: f64,
    /// Milliseconds for the whole request, retries included.
    pub total_ms: f64,
}

/// The circuit breaker's state.
#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// A token bucket: `capacity` requests, refilled at `capacity` a minute.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    /// Takes a token, or says how long until one is there.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let per_sec = self.capacity / 60.0;
        self.tokens = (self.tokens + now.duration_since(self.refilled).as_secs_f64() * per_sec)
            .min(self.capacity);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_sec))
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A configured provider, ready to send guarded requests.
#[derive(Debug)]
pub struct Provider {
    config: ProviderConfig,
    url: String,
    wire: Wire,
    http: reqwest::Client,
    keychain: Keychain,
    key: Mutex<Option<ApiKey>>,
    breaker: Mutex<Breaker>,
    bucket: Option<Mutex<Bucket>>,
}

/// How an attempt failed: the error, and how much of the answer had already been passed on.
struct Failed {
    error: ProviderError,
    streamed: usize,
}

impl Provider {
    /// A provider from its config; keys come from `keychain` when the config says so.
    pub fn new(config: ProviderConfig, keychain: Keychain) -> Result<Provider, ProviderError> {
        if let Some(problem) = config.problem() {
            return Err(ProviderError::Config(problem));
        }
        let base = config.base_url().expect("checked by problem()");
        let wire = match config.kind {
            ProviderKind::Anthropic => Wire::Anthropic,
            _ => Wire::OpenAi {
                usage: config.stream_usage,
            },
        };
        let http = reqwest::Client::builder()
            .connect_timeout(secs(config.timeouts.connect_secs))
            .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Config(format!("the HTTP client could not start: {e}")))?;
        let bucket = (config.requests_per_minute > 0).then(|| {
            let capacity = f64::from(config.requests_per_minute);
            Mutex::new(Bucket {
                capacity,
                tokens: capacity,
                refilled: Instant::now(),
            })
        });
        Ok(Provider {
            url: format!("{base}{}", wire.path()),
            wire,
            http,
            keychain,
            key: Mutex::new(None),
            breaker: Mutex::new(Breaker::default()),
            bucket,
            config,
        })
    }

    /// Its config.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Whether the circuit breaker is open now (the provider is resting after failures).
    pub fn is_paused(&self) -> bool {
        lock(&self.breaker)
            .open_until
            .is_some_and(|until| Instant::now() < until)
    }

    fn headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = HeaderMap::new();
        let key = match self.config.key_source() {
            KeySource::None => None,
            KeySource::Keychain => {
                let mut cached = lock(&self.key);
                if cached.is_none() {
                    *cached = self.keychain.get(self.name())?;
                }
                Some(cached.clone().ok_or_else(|| ProviderError::NoKey {
                    provider: self.name().to_string(),
                })?)
            }
        };
        let bad =
            |_| ProviderError::Config(format!("the key of {} is not valid text", self.name()));
        match (self.wire, key) {
            (Wire::Anthropic, key) => {
                headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
                if let Some(key) = key {
                    let mut value = HeaderValue::from_str(key.expose()).map_err(bad)?;
                    value.set_sensitive(true);
                    headers.insert("x-api-key", value);
                }
            }
            (Wire::OpenAi { .. }, Some(key)) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(bad)?;
                value.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, value);
            }
            (Wire::OpenAi { .. }, None) => {}
        }
        Ok(headers)
    }

    /// Sends a guarded request to `model` and streams the answer into `on_text` as it arrives.
    /// A request that fails before any of its answer arrived is retried (429 and 5xx, with
    /// backoff or the server's `Retry-After`, within the total timeout); one that breaks after
    /// is not: the caller has shown part of it and decides what comes next. Setting `cancel`
    /// stops reading; what arrived is returned, marked truncated.
    pub async fn complete(
        &self,
        model: &str,
        egress: &Egress,
        params: &Params,
        on_text: &mut (dyn FnMut(&str) + Send),
        cancel: &AtomicBool,
    ) -> Result<Completion, ProviderError> {
        {
            let breaker = lock(&self.breaker);
            if let Some(until) = breaker.open_until {
                let now = Instant::now();
                if now < until {
                    return Err(ProviderError::CircuitOpen {
                        provider: self.name().to_string(),
                        retry_in: until - now,
                    });
                }
            }
        }
        let started = Instant::now();
        let deadline = started + secs(self.config.timeouts.total_secs);
        let mut attempts = 0;
        let result = loop {
            attempts += 1;
            if let Err(error) = self.wait_for_rate_limit(deadline).await {
                break Err(error);
            }
            match self
                .attempt(model, egress, params, on_text, cancel, deadline)
                .await
            {
                Ok(mut completion) => {
                    completion.attempts = attempts;
                    completion.total_ms = started.elapsed().as_secs_f64() * 1e3;
                    break Ok(completion);
                }
                Err(Failed { error, streamed }) => {
                    let retry = &self.config.retry;
                    if streamed > 0 || !error.retryable() || attempts > retry.max_retries {
                        break Err(error);
                    }
                    let backoff = Duration::from_millis(
                        retry.base_ms.saturating_mul(1 << (attempts - 1).min(16)),
                    );
                    let wait = match &error {
                        ProviderError::RateLimited {
                            retry_after: Some(after),
                            ..
                        } => *after,
                        _ => backoff,
                    }
                    .min(Duration::from_millis(retry.max_backoff_ms));
                    if Instant::now() + wait >= deadline {
                        break Err(error);
                    }
                    tracing::info!(
                        provider = self.name(),
                        attempt = attempts,
                        wait_ms = wait.as_millis() as u64,
                        "retrying: {error}"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        };
        let mut breaker = lock(&self.breaker);
        match &result {
            Ok(_) => *breaker = Breaker::default(),
            Err(e) if e.counts_as_failure() => {
                breaker.failures += 1;
                if breaker.failures >= self.config.breaker.failures.max(1) {
                    breaker.open_until =
                        Some(Instant::now() + secs(self.config.breaker.cooldown_secs));
                    breaker.failures = 0;
                    tracing::warn!(
                        provider = self.name(),
                        "paused after repeated failures: {e}"
                    );
                }
            }
            Err(_) => {}
        }
        result
    }

    async fn wait_for_rate_limit(&self, deadline: Instant) -> Result<(), ProviderError> {
        let Some(bucket) = &self.bucket else {
            return Ok(());
        };
        loop {
            let wait = match lock(bucket).take(Instant::now()) {
                Ok(()) => return Ok(()),
                Err(wait) => wait,
            };
            if Instant::now() + wait >= deadline {
                return Err(ProviderError::RateLimited {
                    provider: self.name().to_string(),
                    retry_after: Some(wait),
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        model: &str,
        egress: &Egress,
        params: &Params,
        on_text: &mut (dyn FnMut(&str) + Send),
        cancel: &AtomicBool,
        deadline: Instant,
    ) -> Result<Completion, Failed> {
        let name = self.name().to_string();
        let fail = |error: ProviderError, streamed: usize| Failed { error, streamed };
        let sent = Instant::now();
        let first_deadline = (sent + secs(self.config.timeouts.first_token_secs)).min(deadline);
        let timeout = |stage| ProviderError::Timeout {
            provider: name.clone(),
            stage,
        };
        let headers = self.headers().map_err(|e| fail(e, 0))?;
        let request = self
            .http
            .post(&self.url)
            .headers(headers)
            .json(&self.wire.body(model, egress, params))
            .send();
        let response = match tokio::time::timeout_at(first_deadline.into(), request).await {
            Err(_) => return Err(fail(timeout(TimeoutStage::FirstToken), 0)),
            Ok(Err(e)) if e.is_connect() && e.is_timeout() => {
                return Err(fail(timeout(TimeoutStage::Connect), 0));
            }
            Ok(Err(e)) => {
                return Err(fail(
                    ProviderError::Network {
                        provider: name.clone(),
                        detail: e.to_string(),
                    },
                    0,
                ));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let body = tokio::time::timeout_at(first_deadline.into(), response.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v["error"]["message"]
                        .as_str()
                        .or(v["message"].as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| body.chars().take(200).collect());
            let error = match status.as_u16() {
                429 => ProviderError::RateLimited {
                    provider: name.clone(),
                    retry_after,
                },
                code @ (500..=599) => ProviderError::Server {
                    provider: name.clone(),
                    status: code,
                    message,
                },
                code => ProviderError::Rejected {
                    provider: name.clone(),
                    status: code,
                    message,
                },
            };
            return Err(fail(error, 0));
        }

        let mut body = response.bytes_stream();
        let mut parser = SseParser::new();
        let mut text = String::new();
        let mut streamed = 0;
        let mut first_token_ms = 0.0;
        let (mut input, mut output) = (None, None);
        let (mut done, mut length) = (false, false);
        let mut cancelled = false;
        'read: while !done {
            if cancel.load(Ordering::Relaxed) {
                cancelled = true;
                break;
            }
            let until = if streamed == 0 {
                first_deadline
            } else {
                deadline
            };
            let chunk = match tokio::time::timeout_at(until.into(), body.next()).await {
                Err(_) => {
                    let stage = if streamed == 0 {
                        TimeoutStage::FirstToken
                    } else {
                        TimeoutStage::Total
                    };
                    return Err(fail(timeout(stage), streamed));
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    let error = broken_or(&name, &text, || ProviderError::Network {
                        provider: name.clone(),
                        detail: e.to_string(),
                    });
                    return Err(fail(error, streamed));
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            for event in parser.push(&chunk) {
                let deltas = self.wire.decode(&event).map_err(|detail| {
                    fail(
                        ProviderError::Malformed {
                            provider: name.clone(),
                            detail,
                        },
                        streamed,
                    )
                })?;
                for delta in deltas {
                    match delta {
                        Delta::Text(piece) => {
                            if streamed == 0 {
                                first_token_ms = sent.elapsed().as_secs_f64() * 1e3;
                            }
                            streamed += piece.len();
                            on_text(&piece);
                            text.push_str(&piece);
                        }
                        Delta::Usage {
                            input: i,
                            output: o,
                        } => {
                            input = i.or(input);
                            output = o.or(output);
                        }
                        Delta::Finished { length: l } => length = l,
                        Delta::Done => {
                            done = true;
                            break 'read;
                        }
                        Delta::Error {
                            message,
                            overloaded,
                        } => {
                            let error = if overloaded {
                                ProviderError::Server {
                                    provider: name.clone(),
                                    status: 529,
                                    message,
                                }
                            } else {
                                broken_or(&name, &text, || ProviderError::Server {
                                    provider: name.clone(),
                                    status: 500,
                                    message,
                                })
                            };
                            return Err(fail(error, streamed));
                        }
                    }
                }
            }
        }
        if !done && !cancelled {
            // The connection closed without the end of the answer.
            let error = broken_or(&name, &text, || ProviderError::Malformed {
                provider: name.clone(),
                detail: "the stream ended before any answer".into(),
            });
            return Err(fail(error, streamed));
        }
        let estimated = input.is_none() || output.is_none();
        let prompt_chars: usize = egress.messages().iter().map(|m| m.content.len()).sum();
        Ok(Completion {
            usage: Usage {
                input_tokens: input.unwrap_or((prompt_chars / 4) as u64),
                output_tokens: output.unwrap_or(text.len().div_ceil(4) as u64),
                estimated,
            },
            text,
            model: model.to_string(),
            truncated: length || cancelled,
            attempts: 1,
            first_token_ms,
            total_ms: 0.0,
        })
    }
}

/// A failure mid-stream: `StreamBroken` once some of the answer arrived (`text`), else `before`.
fn broken_or(provider: &str, text: &str, before: impl FnOnce() -> ProviderError) -> ProviderError {
    if text.is_empty() {
        before()
    } else {
        ProviderError::StreamBroken {
            provider: provider.to_string(),
            chars: text.chars().count(),
        }
    }
}

/// `Retry-After` in seconds (the form APIs use), or as an HTTP date, capped at an hour.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds.clamp(0.0, 3600.0)).ok();
    }
    let when = httpdate(value)?;
    let now = std::time::SystemTime::now();
    Some(
        when.duration_since(now)
            .unwrap_or_default()
            .min(Duration::from_secs(3600)),
    )
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as a time.
fn httpdate(text: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a date in the past: now"
        );
        assert_eq!(
            httpdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(std::time::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn the_bucket_refills_at_its_rate() {
        let t0 = Instant::now();
        let mut b = Bucket {
            capacity: 60.0,
            tokens: 1.0,
            refilled: t0,
        };
        assert!(b.take(t0).is_ok());
        let wait = b.take(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-6, "{wait:?}");
        assert!(b.take(t0 + Duration::from_secs(1)).is_ok());
    }
}
