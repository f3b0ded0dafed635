//! Downloads against a loopback server that speaks Hugging Face's resolve protocol: the redirect,
//! ranges, the stated ETag and size, and each way a transfer can go wrong.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cairn_catalog::test_support::server::{Fault, HubServer};
use cairn_catalog::{
    CatalogError, DownloadProgress, Downloaded, Downloader, Endpoint, FileRequest,
};

const REPO: &str = "acme/Tiny-Instruct-GGUF";
const FILE: &str = "tiny-q4_k_m.gguf";

/// `len` bytes that are not all alike.
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64 * 2_654_435_761 % 251) as u8 ^ seed)
        .collect()
}

struct Setup {
    server: HubServer,
    dir: tempfile::TempDir,
    content: Vec<u8>,
}

impl Setup {
    async fn new(len: usize) -> Setup {
        let server = HubServer::start().await;
        let content = content(len, 7);
        server.put(REPO, "main", FILE, content.clone());
        Setup {
            server,
            dir: tempfile::tempdir().unwrap(),
            content,
        }
    }

    fn dest(&self) -> PathBuf {
        self.dir.path().join("models").join(FILE)
    }

    fn part(&self) -> PathBuf {
        self.dir.path().join("models").join(format!("{FILE}.part"))
    }

    fn request(&self, sha256: Option<String>) -> FileRequest {
        FileRequest {
            repo: REPO.into(),
            revision: "main".into(),
            file: FILE.into(),
            sha256,
            dest: self.dest(),
        }
    }

    fn downloader(&self) -> Downloader {
        Downloader::new(Endpoint::parse(&self.server.endpoint()).unwrap()).unwrap()
    }

    async fn pull(&self) -> Result<Downloaded, CatalogError> {
        self.downloader()
            .download(&self.request(None), &|_| {}, &AtomicBool::new(false))
            .await
    }
}

fn len(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

#[tokio::test]
async fn a_file_arrives_through_the_redirect_verified_and_in_place() {
    let s = Setup::new(1_500_000).await;
    let reports = std::sync::Mutex::new(Vec::<DownloadProgress>::new());
    let done = s
        .downloader()
        .download(
            &s.request(Some(HubServer::sha256(&s.content))),
            &|p| reports.lock().unwrap().push(*p),
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(s.dest()).unwrap(), s.content);
    assert_eq!(done.sha256, HubServer::sha256(&s.content));
    assert_eq!((done.bytes, done.resumed_from), (1_500_000, 0));
    assert!(!s.part().exists(), "the part became the file");
    let requests = s.server.requests();
    assert_eq!(requests[0].method, "HEAD");
    assert_eq!(requests[0].path, format!("/{REPO}/resolve/main/{FILE}"));
    let transfers = s.server.transfers();
    assert_eq!(transfers.len(), 1, "the redirect was followed to the bytes");
    assert_eq!(transfers[0].header("range"), None);
    let reports = reports.into_inner().unwrap();
    let last = reports.last().unwrap();
    assert_eq!((last.done, last.total), (1_500_000, 1_500_000));
    assert!(reports.windows(2).all(|w| w[0].done <= w[1].done));
}

#[tokio::test]
async fn a_dropped_connection_keeps_the_part_and_the_next_pull_resumes_with_a_range() {
    let s = Setup::new(1_000_000).await;
    s.server.fail_next(Fault::DropAfter(300_000));
    let error = s.pull().await.unwrap_err();
    assert_eq!(error.code(), "connection", "{error}");
    assert!(
        matches!(error, CatalogError::Connection { kept: 300_000, .. }),
        "{error}"
    );
    assert_eq!(len(&s.part()), Some(300_000), "what arrived is kept");
    assert!(!s.dest().exists());

    let done = s.pull().await.unwrap();
    assert_eq!(done.resumed_from, 300_000);
    assert_eq!(std::fs::read(s.dest()).unwrap(), s.content);
    assert_eq!(
        done.sha256,
        HubServer::sha256(&s.content),
        "hashed over the part too"
    );
    assert_eq!(s.server.last_range().as_deref(), Some("bytes=300000-"));
    assert!(!s.part().exists());
}

#[tokio::test]
async fn a_missing_file_is_not_found_and_leaves_nothing() {
    let s = Setup::new(1000).await;
    let mut request = s.request(None);
    request.file = "no-such-file.gguf".into();
    let error = s
        .downloader()
        .download(&request, &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "not_found", "{error}");
    assert_eq!(std::fs::read_dir(s.dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_body_shorter_or_longer_than_stated_is_a_length_mismatch_and_nothing_is_kept() {
    let s = Setup::new(200_000).await;
    s.server.fail_next(Fault::Short(50_000));
    let error = s.pull().await.unwrap_err();
    assert_eq!(error.code(), "length_mismatch", "{error}");
    assert!(matches!(
        error,
        CatalogError::LengthMismatch {
            expected: 200_000,
            received: 50_000
        }
    ));
    assert!(!s.part().exists() && !s.dest().exists());

    s.server.fail_next(Fault::Long(10));
    let error = s.pull().await.unwrap_err();
    assert_eq!(error.code(), "length_mismatch", "{error}");
    assert!(!s.part().exists() && !s.dest().exists());

    assert!(
        s.pull().await.is_ok(),
        "the server behaving again, it works"
    );
}

#[tokio::test]
async fn wrong_bytes_are_a_hash_mismatch_and_the_file_is_deleted() {
    let s = Setup::new(300_000).await;
    s.server.fail_next(Fault::Corrupt);
    let error = s.pull().await.unwrap_err();
    assert_eq!(error.code(), "hash_mismatch", "{error}");
    assert!(!s.part().exists() && !s.dest().exists());
}

#[tokio::test]
async fn a_stated_hash_other_than_the_catalogs_is_refused_before_any_byte() {
    let s = Setup::new(300_000).await;
    let error = s
        .downloader()
        .download(
            &s.request(Some("0".repeat(64))),
            &|_| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "hash_mismatch", "{error}");
    assert!(s.server.transfers().is_empty());
}

#[tokio::test]
async fn a_file_changed_between_attempts_is_downloaded_again_from_the_start() {
    let s = Setup::new(600_000).await;
    s.server.fail_next(Fault::DropAfter(200_000));
    assert_eq!(s.pull().await.unwrap_err().code(), "connection");
    assert_eq!(len(&s.part()), Some(200_000));

    let changed = content(600_000, 99);
    s.server.put(REPO, "main", FILE, changed.clone());
    let done = s.pull().await.unwrap();
    assert_eq!(
        done.resumed_from, 0,
        "a part of another ETag is not resumed"
    );
    assert_eq!(s.server.last_range().as_deref(), None);
    assert_eq!(std::fs::read(s.dest()).unwrap(), changed);
}

#[tokio::test]
async fn too_little_free_space_is_refused_with_both_figures_before_any_byte() {
    let s = Setup::new(400_000).await;
    let downloader = s.downloader().with_free_space(Arc::new(|_| Ok(1000)));
    let error = downloader
        .download(&s.request(None), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "no_space", "{error}");
    assert!(matches!(
        error,
        CatalogError::NoSpace {
            needed: 400_000,
            available: 1000,
            ..
        }
    ));
    let message = error.to_string();
    assert!(
        message.contains("400000") && message.contains("1000"),
        "{message}"
    );
    assert!(s.server.transfers().is_empty());
    assert!(!s.part().exists());

    // With a part kept, only the rest is needed.
    s.server.fail_next(Fault::DropAfter(300_000));
    assert_eq!(s.pull().await.unwrap_err().code(), "connection");
    let tight = s.downloader().with_free_space(Arc::new(|_| Ok(100_000)));
    let done = tight
        .download(&s.request(None), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap();
    assert_eq!(done.resumed_from, 300_000);
}

#[tokio::test]
async fn a_cancelled_download_keeps_its_part_and_the_next_one_resumes() {
    let s = Setup::new(2_000_000).await;
    s.server.pace(Duration::from_millis(20));
    let cancel = AtomicBool::new(false);
    let error = s
        .downloader()
        .download(
            &s.request(None),
            &|p| {
                if p.done >= 256 * 1024 {
                    cancel.store(true, Ordering::SeqCst);
                }
            },
            &cancel,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "cancelled", "{error}");
    let CatalogError::Cancelled { kept } = error else {
        unreachable!()
    };
    assert!((256 * 1024..2_000_000).contains(&kept), "{kept}");
    assert_eq!(len(&s.part()), Some(kept));

    s.server.pace(Duration::ZERO);
    let done = s.pull().await.unwrap();
    assert_eq!(done.resumed_from, kept);
    assert_eq!(
        s.server.last_range().as_deref(),
        Some(format!("bytes={kept}-").as_str())
    );
    assert_eq!(std::fs::read(s.dest()).unwrap(), s.content);
}

#[tokio::test]
async fn another_status_is_an_http_error() {
    let s = Setup::new(1000).await;
    s.server.fail_next(Fault::Status(503));
    let error = s.pull().await.unwrap_err();
    assert_eq!(error.code(), "http", "{error}");
    assert!(matches!(error, CatalogError::Http { status: 503, .. }));
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_connection_error() {
    let s = Setup::new(1000).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = Downloader::new(Endpoint::parse(&endpoint).unwrap())
        .unwrap()
        .download(&s.request(None), &|_| {}, &AtomicBool::new(false))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "connection", "{error}");
}
