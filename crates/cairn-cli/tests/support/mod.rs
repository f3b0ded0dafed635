//! What the command's integration tests share: a running `cairn serve`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir").arg(data).env_remove("CAIRN_DATA_DIR");
    cmd
}

/// A running `cairn serve`: the process, its base URL and its token. Killed when dropped.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT/v1`.
    pub base: String,
    /// The API token.
    pub token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cairn serve` on a free port over the library in `data`.
pub fn serve(data: &Path) -> Served {
    let mut child = cairn(data)
        .args(["serve", "--port", "0", "--show-token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut token = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut token)
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Served {
        child,
        base,
        token: token.trim().to_string(),
    }
}
