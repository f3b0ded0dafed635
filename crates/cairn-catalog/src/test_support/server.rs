//! Hugging Face's `resolve` protocol on loopback, for tests: real TCP, one request a connection.
//!
//! `HEAD` or `GET /{repo}/resolve/{revision}/{file}` answers `302 Found` with `Location:
//! http://127.0.0.1:PORT/cdn/{sha256}`, `X-Linked-Etag: "{sha256}"` and `X-Linked-Size`, as Hugging
//! Face does for a large file; a file it does not hold is `404`. `GET /cdn/{sha256}` sends the
//! bytes, and honours `Range: bytes=N-` with `206 Partial Content` and `Content-Range`. On command
//! ([`HubServer::fail_next`]) the next transfer misbehaves: the connection dropped mid-file, a body
//! shorter or longer than stated, wrong bytes, another status. Every request is recorded.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes written at a time.
const PIECE: usize = 64 * 1024;

/// How the next transfer (`GET /cdn/…`) misbehaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Sends the headers of the whole answer and this many bytes of the body, then drops the
    /// connection.
    DropAfter(u64),
    /// Sends only the first this-many bytes of the file, with a `Content-Length` that says so.
    Short(u64),
    /// Sends the file and this many bytes more, with a `Content-Length` that says so.
    Long(u64),
    /// Sends bytes of the right length but with one changed.
    Corrupt,
    /// Answers this status with an empty body.
    Status(u16),
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `HEAD` or `GET`.
    pub method: String,
    /// The request target.
    pub path: String,
    /// The headers, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The value of the header `name` (any case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether it asked for the bytes of a file (rather than a resolve URL).
    pub fn is_transfer(&self) -> bool {
        self.method == "GET" && self.path.starts_with("/cdn/")
    }
}

#[derive(Default)]
struct State {
    /// Resolve path → content.
    files: HashMap<String, Vec<u8>>,
    faults: VecDeque<Fault>,
    requests: Vec<Seen>,
    pause: Duration,
}

/// The server. It runs until the test ends.
#[derive(Clone)]
pub struct HubServer {
    /// Where it listens (127.0.0.1, a free port).
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl HubServer {
    /// Starts a server holding no file. Must be called within a tokio runtime; panics if nothing
    /// can listen on loopback.
    pub async fn start() -> HubServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = HubServer {
            addr: listener.local_addr().unwrap(),
            state: Arc::default(),
        };
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move { s.serve(socket).await });
            }
        });
        server
    }

    /// The endpoint to download from (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Holds `content` as `file` of `repo` at `revision`, replacing what was there (so its ETag
    /// changes with its content).
    pub fn put(&self, repo: &str, revision: &str, file: &str, content: Vec<u8>) {
        let path = format!("/{repo}/resolve/{revision}/{file}");
        self.state().files.insert(path, content);
    }

    /// The SHA-256 of `content`, as the server states it.
    pub fn sha256(content: &[u8]) -> String {
        format!("{:x}", Sha256::digest(content))
    }

    /// The next transfer misbehaves as `fault` says (faults queue up, one a transfer).
    pub fn fail_next(&self, fault: Fault) {
        self.state().faults.push_back(fault);
    }

    /// Waits this long between pieces of 64 KiB of every transfer (a slow network).
    pub fn pace(&self, pause: Duration) {
        self.state().pause = pause;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.state().requests.clone()
    }

    /// The transfers (`GET /cdn/…`) received so far.
    pub fn transfers(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(Seen::is_transfer)
            .collect()
    }

    /// The `Range` header of the last transfer (`None` where it asked for the whole file).
    /// Panics when no transfer came.
    pub fn last_range(&self) -> Option<String> {
        self.transfers()
            .last()
            .expect("a transfer")
            .header("range")
            .map(str::to_string)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn serve(&self, mut socket: TcpStream) {
        let Some(seen) = read_request(&mut socket).await else {
            return;
        };
        self.state().requests.push(seen.clone());
        if let Some(sha) = seen.path.strip_prefix("/cdn/") {
            let content = self
                .state()
                .files
                .values()
                .find(|c| HubServer::sha256(c) == sha)
                .cloned();
            match content {
                Some(content) => self.transfer(&mut socket, &seen, content).await,
                None => status(&mut socket, 404, "").await,
            }
            return;
        }
        let content = self.state().files.get(&seen.path).cloned();
        let Some(content) = content else {
            return status(&mut socket, 404, "X-Error-Code: EntryNotFound\r\n").await;
        };
        let sha = HubServer::sha256(&content);
        let head = format!(
            "HTTP/1.1 302 Found\r\nLocation: http://{}/cdn/{sha}\r\nX-Linked-Etag: \"{sha}\"\r\n\
             X-Linked-Size: {}\r\nETag: W/\"pointer\"\r\nX-Repo-Commit: {}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            self.addr,
            content.len(),
            "0".repeat(40)
        );
        let _ = socket.write_all(head.as_bytes()).await;
    }

    async fn transfer(&self, socket: &mut TcpStream, seen: &Seen, mut content: Vec<u8>) {
        let (fault, pause) = {
            let mut state = self.state();
            (state.faults.pop_front(), state.pause)
        };
        let sha = HubServer::sha256(&content);
        let mut from = seen
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
            .filter(|&from| from < content.len())
            .unwrap_or(0);
        let mut stop_after = None;
        match fault {
            Some(Fault::Status(code)) => return status(socket, code, "").await,
            Some(Fault::DropAfter(n)) => stop_after = Some(n as usize),
            Some(Fault::Short(n)) => content.truncate(n as usize),
            Some(Fault::Long(n)) => content.extend(std::iter::repeat_n(0x5a, n as usize)),
            Some(Fault::Corrupt) => {
                let middle = content.len() / 2;
                content[middle] ^= 0xff;
            }
            None => {}
        }
        from = from.min(content.len());
        let body = &content[from..];
        let range = match from {
            0 => String::new(),
            _ => format!(
                "Content-Range: bytes {from}-{}/{}\r\n",
                content.len() - 1,
                content.len()
            ),
        };
        let head = format!(
            "HTTP/1.1 {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
             {range}ETag: \"{sha}\"\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
            if from == 0 {
                "200 OK"
            } else {
                "206 Partial Content"
            },
            body.len()
        );
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let body = &body[..stop_after.unwrap_or(body.len()).min(body.len())];
        for piece in body.chunks(PIECE) {
            if socket.write_all(piece).await.is_err() {
                return;
            }
            let _ = socket.flush().await;
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        // A drop: the connection closes with the body unfinished.
        let _ = socket.shutdown().await;
    }
}

async fn status(socket: &mut TcpStream, code: u16, extra: &str) {
    let head =
        format!("HTTP/1.1 {code} Status\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n");
    let _ = socket.write_all(head.as_bytes()).await;
}

/// Reads one request's head (these requests have no body).
async fn read_request(socket: &mut TcpStream) -> Option<Seen> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if raw.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Seen {
        method,
        path,
        headers,
    })
}
