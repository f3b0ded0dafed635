//! Starts `s3_server.py` (moto's S3 server behind a proxy that fails when told) and talks to it.
//! Shared by this crate's tests, the `cairn` command's tests and the engine's benchmark, which
//! include it with `#[path]`. Needs `moto[server]` in `$CAIRN_PYTHON`'s environment
//! (`scripts/setup` installs it).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The server, its proxy's port, and the pipe its commands go through. Killed when dropped.
pub struct S3Server {
    child: Child,
    commands: ChildStdin,
    answers: BufReader<ChildStdout>,
    /// The port on 127.0.0.1.
    pub port: u16,
}

/// What the proxy counted.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Stats {
    /// Requests answered 503 SlowDown.
    pub slowdowns: u64,
    /// Uploads whose connection was dropped halfway.
    pub drops: u64,
    /// Conditional puts the store refused (412): commits that met another.
    pub conflicts: u64,
}

impl S3Server {
    /// Starts the server with one bucket.
    pub fn start(bucket: &str) -> S3Server {
        let python = std::env::var("CAIRN_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cairn-index/tests/s3_server.py"
        );
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
        let commands = child.stdin.take().unwrap();
        let mut answers = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        answers.read_line(&mut line).unwrap();
        let port = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "the S3 server did not start (is moto[server] installed? scripts/setup puts \
                     it in ~/.cache/cairn/venv and sets CAIRN_PYTHON); it said: {line:?}"
                )
            });
        let mut server = S3Server {
            child,
            commands,
            answers,
            port,
        };
        assert_eq!(server.command(&format!("bucket {bucket}")), "ok");
        server
    }

    /// Sends one command (`slowdown N`, `drop N`, `stats`, `offline`, `online`) and returns the
    /// answer.
    pub fn command(&mut self, command: &str) -> String {
        writeln!(self.commands, "{command}").unwrap();
        let mut line = String::new();
        self.answers.read_line(&mut line).unwrap();
        line.trim().to_string()
    }

    /// What the proxy has counted so far.
    pub fn stats(&mut self) -> Stats {
        serde_json::from_str(&self.command("stats")).unwrap()
    }

    /// The network to the store is gone: its port refuses connections, and connections already
    /// open close unanswered.
    pub fn go_offline(&mut self) {
        assert_eq!(self.command("offline"), "ok");
    }

    /// The network is back, on the same port.
    pub fn go_online(&mut self) {
        assert_eq!(self.command("online"), "ok");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
