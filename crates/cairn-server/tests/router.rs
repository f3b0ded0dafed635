//! The checks on who may call and how often, the base64 of embeddings, and the router as served.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use cairn_engine::Library;
use cairn_server::auth::{bearer, is_local_host, same};
use cairn_server::embeddings::base64_encode;
use cairn_server::rate::Bucket;
use serde_json::Value;

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
    let mut app = cairn_server::router(Arc::new(library), "t0k".into());
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
