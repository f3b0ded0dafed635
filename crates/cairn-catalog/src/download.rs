//! Downloads one file by Hugging Face's `resolve` protocol, resumably and verified.
//!
//! A `HEAD` of `{endpoint}/{repo}/resolve/{revision}/{file}`, redirects not followed, gives the
//! file's identity: `X-Linked-Etag` (for a large file, its SHA-256) or `ETag`, `X-Linked-Size` or
//! `Content-Length`, and the `Location` its bytes come from. The bytes arrive by `GET` (redirects
//! followed) into `<file>.part`, with `Range` from the part's end when an earlier download left a
//! part of the same identity. The SHA-256 is computed as the bytes arrive (over the part's bytes
//! first when resuming) and checked against the hash expected and the ETag stated; only then is
//! the part renamed into place.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, LOCATION, RANGE};
use reqwest::{StatusCode, Url};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::catalog::{Entry, is_sha256};
use crate::endpoint::{Endpoint, is_loopback};
use crate::error::{CatalogError, Result};
use crate::machine::{FreeSpace, system_free_space};
use crate::part::{Identity, Part};
use crate::progress::{DownloadProgress, Meter};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may send nothing before the connection counts as dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the cancel flag is looked at while waiting for bytes.
const CANCEL_POLL: Duration = Duration::from_millis(100);
/// Redirects followed to the file's bytes.
const MAX_REDIRECTS: usize = 10;

/// One file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRequest {
    /// The repository, e.g. `Qwen/Qwen2.5-1.5B-Instruct-GGUF`.
    pub repo: String,
    /// A branch or commit.
    pub revision: String,
    /// The file in the repository.
    pub file: String,
    /// The SHA-256 the file must have, when known beforehand.
    pub sha256: Option<String>,
    /// Where the verified file goes.
    pub dest: PathBuf,
}

impl FileRequest {
    /// The file of a catalog entry, to be put at `dest`.
    pub fn for_entry(entry: &Entry, dest: PathBuf) -> FileRequest {
        FileRequest {
            repo: entry.repo.clone(),
            revision: entry.revision.clone(),
            file: entry.file.clone(),
            sha256: entry.sha256.clone(),
            dest,
        }
    }
}

/// A verified file in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Downloaded {
    /// Where it is.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// Bytes that an earlier download had left and this one resumed from.
    pub resumed_from: u64,
}

/// Downloads files from one endpoint. Making one opens no connection; only
/// [`Downloader::download`] does.
pub struct Downloader {
    endpoint: Endpoint,
    /// For the `HEAD` that reads a file's identity: redirects are not followed.
    metadata: reqwest::Client,
    /// For the bytes: redirects followed, never to plain http beyond this machine.
    transfer: reqwest::Client,
    free_space: FreeSpace,
}

impl std::fmt::Debug for Downloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downloader")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Downloader {
    /// A downloader from `endpoint`, measuring free space with [`crate::free_space`].
    pub fn new(endpoint: Endpoint) -> Result<Downloader> {
        let build = |redirect| {
            reqwest::Client::builder()
                .user_agent(concat!("cairn/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .redirect(redirect)
                .build()
                .map_err(|e| CatalogError::Endpoint(format!("no HTTP client: {e}")))
        };
        let follow = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if attempt.url().scheme() == "http" && !is_loopback(attempt.url()) {
                attempt.error("a redirect to plain http")
            } else {
                attempt.follow()
            }
        });
        Ok(Downloader {
            metadata: build(reqwest::redirect::Policy::none())?,
            transfer: build(follow)?,
            endpoint,
            free_space: system_free_space(),
        })
    }

    /// Measures free space with `free_space` instead: tests give a figure of their choosing.
    pub fn with_free_space(mut self, free_space: FreeSpace) -> Downloader {
        self.free_space = free_space;
        self
    }

    /// The endpoint files come from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Downloads `request.file` to `request.dest`, reporting [`DownloadProgress`] at most every
    /// 100 ms, and stopping (keeping the part) when `cancel` is set. See the module's description.
    ///
    /// Errors: [`CatalogError::NotFound`] (404), [`CatalogError::Connection`] (not reached, or
    /// dropped mid-file: the part is kept), [`CatalogError::LengthMismatch`] and
    /// [`CatalogError::HashMismatch`] (the part is deleted), [`CatalogError::NoSpace`] (before any
    /// byte is fetched), [`CatalogError::Cancelled`] (the part is kept), [`CatalogError::Http`]
    /// (another status), [`CatalogError::Io`].
    pub async fn download(
        &self,
        request: &FileRequest,
        progress: &(dyn Fn(&DownloadProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Downloaded> {
        let part = Part::of(&request.dest);
        let url = self
            .endpoint
            .resolve_url(&request.repo, &request.revision, &request.file);
        let stated = self.stated(&url, part.len()).await?;
        if let Some(expected) = &request.sha256
            && is_sha256(&stated.identity.etag)
            && *expected != stated.identity.etag
        {
            return Err(CatalogError::HashMismatch {
                expected: expected.clone(),
                actual: stated.identity.etag,
            });
        }
        let dir = request.dest.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| CatalogError::io(dir, e))?;
        let resumable = match stated.identity.etag.is_empty() {
            true => 0,
            false => part.resumable(&stated.identity),
        };
        let needed = stated.identity.size - resumable;
        let available = (self.free_space)(dir).map_err(|e| CatalogError::io(dir, e))?;
        if needed > available {
            return Err(CatalogError::NoSpace {
                dir: dir.display().to_string(),
                needed,
                available,
            });
        }
        if resumable == 0 {
            part.start_over(&stated.identity)?;
        }
        let hasher = match resumable {
            0 => Sha256::new(),
            n => part.hash_prefix(n).await?,
        };
        let (done, hasher) = self
            .transfer(&stated, &part, resumable, hasher, progress, cancel)
            .await?;
        let sha256 = format!("{:x}", hasher.finalize());
        // The hash expected beforehand, then the one the server stated.
        let stated_hash = is_sha256(&stated.identity.etag).then(|| stated.identity.etag.clone());
        for expected in request.sha256.iter().chain(stated_hash.iter()) {
            if *expected != sha256 {
                part.discard();
                return Err(CatalogError::HashMismatch {
                    expected: expected.clone(),
                    actual: sha256,
                });
            }
        }
        part.finish(&request.dest)?;
        Ok(Downloaded {
            path: request.dest.clone(),
            bytes: done,
            sha256,
            resumed_from: resumable,
        })
    }

    /// The file's identity and where its bytes are, from a `HEAD` of its resolve URL.
    async fn stated(&self, url: &Url, kept: u64) -> Result<Stated> {
        let response = self
            .metadata
            .head(url.clone())
            .send()
            .await
            .map_err(|e| connection(url, kept, &e))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Err(CatalogError::NotFound {
                url: url.to_string(),
            });
        }
        if !(status.is_success() || status.is_redirection()) {
            return Err(CatalogError::Http {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let headers = response.headers();
        let location = match status.is_redirection() {
            true => header(headers, LOCATION.as_str())
                .and_then(|l| url.join(&l).ok())
                .ok_or_else(|| CatalogError::Http {
                    url: url.to_string(),
                    status: status.as_u16(),
                })?,
            false => url.clone(),
        };
        let etag = header(headers, "x-linked-etag")
            .or_else(|| header(headers, ETAG.as_str()))
            .map(|e| normalise_etag(&e))
            .unwrap_or_default();
        let size = header(headers, "x-linked-size")
            .or_else(|| header(headers, CONTENT_LENGTH.as_str()))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| CatalogError::Http {
                url: format!("{url} (it states no size)"),
                status: status.as_u16(),
            })?;
        Ok(Stated {
            location,
            identity: Identity { etag, size },
        })
    }

    /// Fetches the bytes after the part's first `from` into the part; the bytes on disk at the
    /// end and the hash over them.
    async fn transfer(
        &self,
        stated: &Stated,
        part: &Part,
        from: u64,
        mut hasher: Sha256,
        progress: &(dyn Fn(&DownloadProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<(u64, Sha256)> {
        let size = stated.identity.size;
        let url = &stated.location;
        let mut meter = Meter::new(size, from);
        if let Some(report) = meter.tick(from) {
            progress(&report);
        }
        if from == size {
            return Ok((from, hasher));
        }
        if cancel.load(Ordering::SeqCst) {
            return Err(CatalogError::Cancelled { kept: from });
        }
        let mut get = self.transfer.get(url.clone());
        if from > 0 {
            get = get.header(RANGE, format!("bytes={from}-"));
        }
        let response = get.send().await.map_err(|e| connection(url, from, &e))?;
        let mut done = match response.status() {
            StatusCode::PARTIAL_CONTENT if from > 0 => {
                let start = header(response.headers(), CONTENT_RANGE.as_str())
                    .and_then(|r| range_start(&r));
                if start != Some(from) {
                    return Err(CatalogError::Http {
                        url: format!("{url} (a Content-Range not starting at byte {from})"),
                        status: 206,
                    });
                }
                from
            }
            StatusCode::OK => {
                // A server that ignores `Range` sends the whole file again.
                if from > 0 {
                    hasher = Sha256::new();
                }
                0
            }
            StatusCode::NOT_FOUND => {
                return Err(CatalogError::NotFound {
                    url: url.to_string(),
                });
            }
            other => {
                return Err(CatalogError::Http {
                    url: url.to_string(),
                    status: other.as_u16(),
                });
            }
        };
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .append(done > 0)
            .truncate(done == 0)
            .open(&part.path)
            .await
            .map_err(|e| CatalogError::io(&part.path, e))?;
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let io = |e| CatalogError::io(&part.path, e);
        let mut body = response.bytes_stream();
        loop {
            if cancel.load(Ordering::SeqCst) {
                out.flush().await.map_err(io)?;
                return Err(CatalogError::Cancelled { kept: done });
            }
            let chunk = match tokio::time::timeout(CANCEL_POLL, body.next()).await {
                Err(_) => continue,
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    out.flush().await.map_err(io)?;
                    return Err(connection(url, done, &e));
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            let received = done + chunk.len() as u64;
            if received > size {
                drop(out);
                part.discard();
                return Err(CatalogError::LengthMismatch {
                    expected: size,
                    received,
                });
            }
            out.write_all(&chunk).await.map_err(io)?;
            hasher.update(&chunk);
            done = received;
            if let Some(report) = meter.tick(done) {
                progress(&report);
            }
        }
        out.flush().await.map_err(io)?;
        out.get_ref().sync_all().await.map_err(io)?;
        drop(out);
        if done != size {
            part.discard();
            return Err(CatalogError::LengthMismatch {
                expected: size,
                received: done,
            });
        }
        Ok((done, hasher))
    }
}

/// What the resolve URL stated.
struct Stated {
    /// Where the bytes are.
    location: Url,
    /// The file's ETag and size.
    identity: Identity,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// An ETag without its weak marker and quotes.
fn normalise_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_string()
}

/// The first byte of a `Content-Range: bytes START-END/TOTAL`.
fn range_start(value: &str) -> Option<u64> {
    value
        .trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

fn connection(url: &Url, kept: u64, error: &reqwest::Error) -> CatalogError {
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    CatalogError::Connection {
        host: url.host_str().unwrap_or("the server").to_string(),
        kept,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_and_content_ranges_are_read_as_servers_write_them() {
        assert_eq!(normalise_etag("\"abc\""), "abc");
        assert_eq!(normalise_etag("W/\"abc\""), "abc");
        assert_eq!(range_start("bytes 100-199/200"), Some(100));
        assert_eq!(range_start("bytes */200"), None);
    }
}
