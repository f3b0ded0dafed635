//! Server-sent events (the WHATWG event-stream format), parsed from bytes as they arrive. A line may
//! be cut anywhere by the network, inside a UTF-8 character or between `\r` and `\n`: only whole
//! lines are decoded, so every cut gives the same events.

/// One event: its type (`event:` field, if any) and its data (`data:` lines joined by `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field.
    pub event: Option<String>,
    /// The data.
    pub data: String,
}

/// An incremental parser: feed it chunks with [`SseParser::push`].
#[derive(Debug, Default)]
pub struct SseParser {
    pending: Vec<u8>,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// Takes the next chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(offset) = self.pending[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = start + offset;
            let terminator = if self.pending[end] == b'\r' {
                match self.pending.get(end + 1) {
                    Some(b'\n') => 2,
                    Some(_) => 1,
                    // A `\r` at the end of the chunk: a `\n` may follow in the next one.
                    None => break,
                }
            } else {
                1
            };
            let line = String::from_utf8_lossy(&self.pending[start..end]).into_owned();
            self.line(&line, &mut events);
            start = end + terminator;
        }
        self.pending.drain(..start);
        events
    }

    fn line(&mut self, line: &str, events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                data.pop(); // the `\n` after the last data line
                events.push(SseEvent {
                    event: self.event.take(),
                    data,
                });
            }
            self.event = None;
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return; // a comment (keep-alive)
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {} // `id`, `retry` and unknown fields do not matter here
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\n\ndata: first\ndata: second\n\n\
                          data: caf\u{e9} \u{1F600}\n\nevent: done\ndata\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                event: Some("message_start".into()),
                data: "{\"a\":1}".into(),
            },
            SseEvent {
                event: None,
                data: "first\nsecond".into(),
            },
            SseEvent {
                event: None,
                data: "caf\u{e9} \u{1F600}".into(),
            },
            SseEvent {
                event: Some("done".into()),
                data: String::new(),
            },
        ]
    }

    #[test]
    fn whole_stream() {
        assert_eq!(SseParser::new().push(STREAM.as_bytes()), expected());
    }

    #[test]
    fn every_cut_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        for a in 0..bytes.len() {
            for b in a..bytes.len() {
                let mut parser = SseParser::new();
                let mut events = parser.push(&bytes[..a]);
                events.extend(parser.push(&bytes[a..b]));
                events.extend(parser.push(&bytes[b..]));
                assert_eq!(events, expected(), "cut at {a} and {b}");
            }
        }
    }

    #[test]
    fn an_unfinished_event_is_not_emitted() {
        assert!(SseParser::new().push(b"data: half").is_empty());
    }
}
