//! A provider's HTTP API on loopback, for tests: it speaks OpenAI's or Anthropic's streaming wire
//! format over real TCP and misbehaves on command the way providers do (a slow first byte, 429
//! with `Retry-After`, 500, a stream cut mid-answer, malformed JSON, no usage block). It records
//! every request it receives, byte for byte.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Which API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenAI's chat completions (`data:` events, `[DONE]` at the end).
    OpenAi,
    /// Anthropic's messages (named events, from `message_start` to `message_stop`).
    Anthropic,
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Streams `pieces` as the answer, `delay` apart, then usage (if any) and the end marker.
    Answer {
        /// The text of the answer, one event each.
        pieces: Vec<String>,
        /// Input and output tokens to report; `None` sends no usage.
        usage: Option<(u64, u64)>,
        /// The pause before each piece.
        delay: Duration,
    },
    /// Waits before sending anything, then behaves as `then`.
    SlowFirstByte {
        /// How long nothing is sent.
        wait: Duration,
        /// What follows the wait.
        then: Box<Behaviour>,
    },
    /// An error status with a JSON error body, and `Retry-After` if given.
    Status {
        /// The HTTP status.
        code: u16,
        /// The `Retry-After` header's value, if any.
        retry_after: Option<String>,
    },
    /// Streams `pieces` and then drops the connection, without the end of the stream.
    CutAfter {
        /// The text sent before the connection drops.
        pieces: Vec<String>,
    },
    /// Streams `pieces`, then an event that is not valid JSON.
    Malformed {
        /// The text sent before the malformed event.
        pieces: Vec<String>,
    },
}

impl Behaviour {
    /// A normal answer in these pieces, with usage.
    pub fn answer(pieces: &[&str]) -> Behaviour {
        Behaviour::Answer {
            pieces: pieces.iter().map(|p| p.to_string()).collect(),
            usage: Some((100, pieces.len() as u64)),
            delay: Duration::from_millis(5),
        }
    }
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The request target (`/v1/chat/completions`, `/v1/messages`).
    pub path: String,
    /// The headers, names as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
    /// Everything received on the connection, headers and body.
    pub raw: Vec<u8>,
}

impl Recorded {
    /// The value of the header `name` (any case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the request body is JSON")
    }
}

struct State {
    script: VecDeque<Behaviour>,
    fallback: Behaviour,
    requests: Vec<Recorded>,
}

/// The server. It runs until the test ends.
#[derive(Clone)]
pub struct WireServer {
    /// Where it listens (127.0.0.1, a free port).
    pub addr: SocketAddr,
    format: Format,
    state: Arc<Mutex<State>>,
}

impl WireServer {
    /// Starts a server answering every request with `fallback` unless a scripted behaviour is
    /// queued. Must be called within a tokio runtime; panics if nothing can listen on loopback.
    pub async fn start(format: Format, fallback: Behaviour) -> WireServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = WireServer {
            addr: listener.local_addr().unwrap(),
            format,
            state: Arc::new(Mutex::new(State {
                script: VecDeque::new(),
                fallback,
                requests: Vec::new(),
            })),
        };
        let s = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let s = s.clone();
                tokio::spawn(async move { s.serve(socket).await });
            }
        });
        server
    }

    /// The API's base URL (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues behaviours for the next requests, in order.
    pub fn script(&self, behaviours: impl IntoIterator<Item = Behaviour>) {
        self.state.lock().unwrap().script.extend(behaviours);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    async fn serve(&self, mut socket: TcpStream) {
        let Some(request) = read_request(&mut socket).await else {
            return;
        };
        let behaviour = {
            let mut state = self.state.lock().unwrap();
            state.requests.push(request);
            state
                .script
                .pop_front()
                .unwrap_or_else(|| state.fallback.clone())
        };
        self.respond(&mut socket, behaviour).await;
    }

    async fn respond(&self, socket: &mut TcpStream, behaviour: Behaviour) {
        match behaviour {
            Behaviour::SlowFirstByte { wait, then } => {
                tokio::time::sleep(wait).await;
                Box::pin(self.respond(socket, *then)).await;
            }
            Behaviour::Status { code, retry_after } => {
                let body = match self.format {
                    Format::OpenAi => format!(
                        r#"{{"error":{{"message":"status {code} from the test server","type":"server_error"}}}}"#
                    ),
                    Format::Anthropic => format!(
                        r#"{{"type":"error","error":{{"type":"api_error","message":"status {code} from the test server"}}}}"#
                    ),
                };
                let retry = retry_after
                    .map(|r| format!("Retry-After: {r}\r\n"))
                    .unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 {code} Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            }
            Behaviour::Answer {
                pieces,
                usage,
                delay,
            } => {
                self.start_stream(socket).await;
                for event in self.opening() {
                    self.send_event(socket, &event).await;
                }
                for piece in &pieces {
                    tokio::time::sleep(delay).await;
                    self.send_event(socket, &self.text_event(piece)).await;
                }
                for event in self.closing(usage) {
                    self.send_event(socket, &event).await;
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
            Behaviour::CutAfter { pieces } => {
                self.start_stream(socket).await;
                for event in self.opening() {
                    self.send_event(socket, &event).await;
                }
                for piece in &pieces {
                    self.send_event(socket, &self.text_event(piece)).await;
                }
                // Dropped without the end of the stream or the last chunk.
                let _ = socket.flush().await;
            }
            Behaviour::Malformed { pieces } => {
                self.start_stream(socket).await;
                for piece in &pieces {
                    self.send_event(socket, &self.text_event(piece)).await;
                }
                self.send_event(
                    socket,
                    "data: {\"choices\": [{\"delta\": {\"content\": \"oops\n\n",
                )
                .await;
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
        }
    }

    async fn start_stream(&self, socket: &mut TcpStream) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
    }

    /// Writes one SSE event, split over two chunks at an odd place, as networks do.
    async fn send_event(&self, socket: &mut TcpStream, event: &str) {
        let bytes = event.as_bytes();
        let cut = (bytes.len() / 3).max(1).min(bytes.len());
        for part in [&bytes[..cut], &bytes[cut..]] {
            if part.is_empty() {
                continue;
            }
            let _ = socket
                .write_all(format!("{:x}\r\n", part.len()).as_bytes())
                .await;
            let _ = socket.write_all(part).await;
            let _ = socket.write_all(b"\r\n").await;
            let _ = socket.flush().await;
        }
    }

    fn opening(&self) -> Vec<String> {
        match self.format {
            Format::OpenAi => Vec::new(),
            Format::Anthropic => vec![
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"role\":\"assistant\",\"usage\":{\"input_tokens\":100,\"output_tokens\":1}}}\n\n".into(),
                "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n".into(),
                "event: ping\ndata: {\"type\":\"ping\"}\n\n".into(),
            ],
        }
    }

    fn text_event(&self, piece: &str) -> String {
        let text = serde_json::to_string(piece).unwrap();
        match self.format {
            Format::OpenAi => format!(
                "data: {{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{text}}},\"finish_reason\":null}}]}}\n\n"
            ),
            Format::Anthropic => format!(
                "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{text}}}}}\n\n"
            ),
        }
    }

    fn closing(&self, usage: Option<(u64, u64)>) -> Vec<String> {
        match self.format {
            Format::OpenAi => {
                let mut events = vec![
                    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n".to_string(),
                ];
                if let Some((input, output)) = usage {
                    events.push(format!(
                        "data: {{\"id\":\"c1\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{input},\"completion_tokens\":{output},\"total_tokens\":{}}}}}\n\n",
                        input + output
                    ));
                }
                events.push("data: [DONE]\n\n".into());
                events
            }
            Format::Anthropic => {
                let output = usage.map(|(_, o)| o).unwrap_or(0);
                vec![
                    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n".into(),
                    if usage.is_some() {
                        format!("event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{{\"output_tokens\":{output}}}}}\n\n")
                    } else {
                        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n".into()
                    },
                    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into(),
                ]
            }
        }
    }
}

/// Reads one HTTP/1.1 request (headers, then a body of Content-Length bytes).
async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while raw.len() < header_end + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&raw[header_end..]).into_owned();
    Some(Recorded {
        path,
        headers,
        body,
        raw,
    })
}
