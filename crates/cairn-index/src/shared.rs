//! Indexes on object storage: where a shared collection's tables live, and the credentials to
//! reach them.
//!
//! Invariant: an [`ObjectStore`] only exists for a URI this build can open (`s3://bucket[/prefix]`)
//! and an endpoint that is `https://`, or `http://` on this machine's loopback. Nothing else gets
//! past [`ObjectStore::new`], so a secret key is never sent in the clear over a network.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, ClientOptions, RetryConfig};

use crate::error::{Error, Result};

/// Where a shared collection's tables live: an S3 bucket, or a bucket of any store that speaks
/// the S3 protocol (MinIO, Ceph, Cloudflare R2, a NAS's S3 service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectStore {
    uri: String,
    endpoint: Option<String>,
    region: Option<String>,
    fresh_within: Duration,
}

/// How long a reader may keep answering from the version it has before looking for a newer one.
pub const DEFAULT_FRESH_WITHIN: Duration = Duration::from_secs(1);

impl ObjectStore {
    /// Checks and keeps where a shared collection lives.
    ///
    /// `uri` is `s3://bucket` or `s3://bucket/prefix`. `endpoint` is the S3 endpoint of a store
    /// that is not Amazon's (`https://minio.example.org:9000`); `http://` is refused unless it is
    /// on loopback. `region` defaults to the store's own (`us-east-1` where it has none).
    pub fn new(uri: &str, endpoint: Option<&str>, region: Option<&str>) -> Result<ObjectStore> {
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| {
            Error::Location(format!("'{uri}' is not a URI like s3://bucket/prefix"))
        })?;
        match scheme {
            "s3" => {}
            "gs" | "az" | "abfss" | "azure" => {
                return Err(Error::Location(format!(
                    "'{uri}': this build of Cairn keeps shared collections on S3 and S3-compatible \
                     stores (s3://…); {scheme}:// is not built in"
                )));
            }
            _ => {
                return Err(Error::Location(format!(
                    "'{uri}': a shared collection lives at s3://bucket/prefix, not {scheme}://"
                )));
            }
        }
        let bucket = rest.split('/').next().unwrap_or_default();
        if bucket.is_empty() || rest.contains("//") || rest.contains('?') || rest.contains('#') {
            return Err(Error::Location(format!(
                "'{uri}' names no bucket, or has an empty path segment, a query or a fragment"
            )));
        }
        if let Some(endpoint) = endpoint {
            check_endpoint(endpoint)?;
        }
        Ok(ObjectStore {
            uri: uri.trim_end_matches('/').to_string(),
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_string()),
            region: region.map(str::to_string),
            fresh_within: DEFAULT_FRESH_WITHIN,
        })
    }

    /// Sets how long a reader keeps answering from the version it has before it looks for a newer
    /// one (a search always sees one whole version, never a commit half made).
    pub fn fresh_within(mut self, interval: Duration) -> ObjectStore {
        self.fresh_within = interval;
        self
    }

    /// The URI, `s3://bucket/prefix`.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The endpoint, where the store is not Amazon S3.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The region, where one was given.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    pub(crate) fn read_consistency(&self) -> Duration {
        self.fresh_within
    }

    /// The storage options LanceDB's object store takes for this store and these credentials.
    pub(crate) fn storage_options(&self, credentials: &StoreCredentials) -> Vec<(String, String)> {
        let mut options = vec![
            (
                "aws_access_key_id".to_string(),
                credentials.access_key_id.clone(),
            ),
            (
                "aws_secret_access_key".to_string(),
                credentials.secret_access_key.clone(),
            ),
            (
                "aws_region".to_string(),
                self.region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".to_string()),
            ),
        ];
        if let Some(token) = &credentials.session_token {
            options.push(("aws_session_token".to_string(), token.clone()));
        }
        if let Some(endpoint) = &self.endpoint {
            options.push(("aws_endpoint".to_string(), endpoint.clone()));
            // Stores other than Amazon's address buckets by path, not by host name.
            options.push((
                "aws_virtual_hosted_style_request".to_string(),
                "false".to_string(),
            ));
            // Only reachable for a loopback endpoint: `check_endpoint` refused every other http://.
            if endpoint.starts_with("http://") {
                options.push(("allow_http".to_string(), "true".to_string()));
            }
        }
        options
    }
}

impl ObjectStore {
    /// A client of the store for reading files directly (what an offline copy fetches), and the
    /// prefix inside the bucket that the URI names (empty for a whole bucket). It gives up on an
    /// unreachable store within seconds, not minutes.
    pub(crate) fn client(
        &self,
        credentials: &StoreCredentials,
    ) -> Result<(Arc<dyn object_store::ObjectStore>, String)> {
        let rest = self.uri.strip_prefix("s3://").unwrap_or(&self.uri);
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_access_key_id(&credentials.access_key_id)
            .with_secret_access_key(&credentials.secret_access_key)
            .with_region(self.region.as_deref().unwrap_or("us-east-1"))
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
            })
            .with_client_options(ClientOptions::new().with_connect_timeout(Duration::from_secs(5)));
        if let Some(token) = &credentials.session_token {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &self.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false)
                // Only reachable for a loopback endpoint: `check_endpoint` refused other http://.
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let client = builder
            .build()
            .map_err(|e| Error::Location(format!("{}: {e}", self.uri)))?;
        Ok((Arc::new(client), prefix.trim_matches('/').to_string()))
    }
}

/// An access key for an object store. Its `Debug` shows the key id, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// A session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StoreCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"…")
            .field("session_token", &self.session_token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// `https://` anywhere; `http://` only to this machine.
fn check_endpoint(endpoint: &str) -> Result<()> {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return Err(Error::Location(format!(
            "endpoint '{endpoint}' is not a URL like https://host:port"
        )));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = host_of(authority);
    if host.is_empty() {
        return Err(Error::Location(format!(
            "endpoint '{endpoint}' names no host"
        )));
    }
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(Error::Location(format!(
            "endpoint '{endpoint}' is plain http: keys and documents would cross the network \
             unencrypted. Use https:// (http:// is accepted only on this machine's loopback)"
        ))),
        _ => Err(Error::Location(format!(
            "endpoint '{endpoint}': use https:// (or http:// on loopback)"
        ))),
    }
}

/// The host of `user@host:port`, without brackets around an IPv6 address.
fn host_of(authority: &str) -> &str {
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_unless_it_stays_on_this_machine() {
        for ok in [
            "https://minio.example.org:9000",
            "http://127.0.0.1:9000",
            "http://localhost:9000/",
            "http://[::1]:9000",
            "http://127.8.9.10",
        ] {
            assert!(
                ObjectStore::new("s3://team/docs", Some(ok), None).is_ok(),
                "{ok}"
            );
        }
        for refused in [
            "http://minio.example.org:9000",
            "http://10.0.0.5:9000",
            "http://127.0.0.1.example.org",
            "http://localhost@evil.example.org",
            "ftp://127.0.0.1",
            "127.0.0.1:9000",
            "https://",
        ] {
            let err = ObjectStore::new("s3://team/docs", Some(refused), None).unwrap_err();
            assert!(matches!(err, Error::Location(_)), "{refused}: {err}");
        }
    }

    #[test]
    fn only_s3_uris_with_a_bucket_are_taken() {
        assert_eq!(
            ObjectStore::new("s3://team/docs/", None, None)
                .unwrap()
                .uri(),
            "s3://team/docs"
        );
        for bad in [
            "team/docs",
            "s3://",
            "s3:///docs",
            "s3://team//docs",
            "file:///tmp/x",
        ] {
            assert!(ObjectStore::new(bad, None, None).is_err(), "{bad}");
        }
        let err = ObjectStore::new("gs://team/docs", None, None).unwrap_err();
        assert!(err.to_string().contains("not built in"), "{err}");
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let credentials = StoreCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG".into(),
            session_token: Some("token-secret".into()),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(
            !shown.contains("wJalr") && !shown.contains("token-secret"),
            "{shown}"
        );
    }

    #[test]
    fn http_is_allowed_only_for_a_loopback_endpoint() {
        let credentials = StoreCredentials {
            access_key_id: "a".into(),
            secret_access_key: "b".into(),
            session_token: None,
        };
        let local = ObjectStore::new("s3://t", Some("http://127.0.0.1:1"), None).unwrap();
        assert!(
            local
                .storage_options(&credentials)
                .contains(&("allow_http".into(), "true".into()))
        );
        let remote = ObjectStore::new("s3://t", Some("https://s3.example.org"), None).unwrap();
        assert!(
            !remote
                .storage_options(&credentials)
                .iter()
                .any(|(k, _)| k == "allow_http")
        );
    }
}
