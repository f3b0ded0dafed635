//! Where models are downloaded from: a Hugging Face endpoint, over HTTPS (plain HTTP only on
//! loopback, for tests and local mirrors).

use std::net::IpAddr;

use crate::error::{CatalogError, Result};

/// Hugging Face itself.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// A checked endpoint: an `https://` URL, or an `http://` one whose host is this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(reqwest::Url);

impl Endpoint {
    /// Checks `text` as an endpoint (a trailing `/` is dropped).
    pub fn parse(text: &str) -> Result<Endpoint> {
        let refuse = |why: &str| CatalogError::Endpoint(format!("the endpoint {text:?} {why}"));
        let url = reqwest::Url::parse(text.trim().trim_end_matches('/'))
            .map_err(|e| refuse(&format!("is not a URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(refuse(
                    "uses plain http: only https, or http on this machine",
                ));
            }
            _ => return Err(refuse("is neither https nor http")),
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(refuse("has a query or a fragment"));
        }
        Ok(Endpoint(url))
    }

    /// Hugging Face's `resolve` URL of a file: `{endpoint}/{repo}/resolve/{revision}/{file}`.
    pub fn resolve_url(&self, repo: &str, revision: &str, file: &str) -> reqwest::Url {
        let mut url = self.0.clone();
        {
            let mut path = url.path_segments_mut().expect("an http(s) URL has a path");
            path.pop_if_empty();
            path.extend(repo.split('/'));
            path.push("resolve");
            path.push(revision);
            path.extend(file.split('/'));
        }
        url
    }

    /// The endpoint as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint::parse(DEFAULT_ENDPOINT).expect("the default endpoint is valid")
    }
}

/// Whether a URL's host is this machine (`localhost`, 127.0.0.0/8 or `::1`).
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        assert!(Endpoint::parse("https://huggingface.co").is_ok());
        assert!(Endpoint::parse("https://hf-mirror.example/").is_ok());
        assert!(Endpoint::parse("http://127.0.0.1:8080").is_ok());
        assert!(Endpoint::parse("http://[::1]:8080").is_ok());
        assert!(Endpoint::parse("http://localhost:9").is_ok());
        for bad in [
            "http://huggingface.co",
            "http://10.0.0.2",
            "ftp://x",
            "nonsense",
        ] {
            assert_eq!(
                Endpoint::parse(bad).unwrap_err().code(),
                "endpoint",
                "{bad}"
            );
        }
    }

    #[test]
    fn the_resolve_url_follows_hugging_faces_layout() {
        let e = Endpoint::parse("https://huggingface.co/").unwrap();
        assert_eq!(
            e.resolve_url("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "main", "q.gguf")
                .as_str(),
            "https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/q.gguf"
        );
        let mirror = Endpoint::parse("http://127.0.0.1:9/hf").unwrap();
        assert_eq!(
            mirror.resolve_url("a/b", "main", "c.gguf").as_str(),
            "http://127.0.0.1:9/hf/a/b/resolve/main/c.gguf"
        );
    }
}
