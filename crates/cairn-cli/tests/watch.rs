//! `cairn watch` as a person runs it: a real process on real file-system events, stopped with
//! Ctrl-C (SIGINT), and restarted after the folder changed while nothing watched.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir").arg(data).env_remove("CAIRN_DATA_DIR");
    cmd
}

/// A running `cairn watch --json` and its pass lines.
struct Watching {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Watching {
    fn start(data: &Path, folders: &[&Path]) -> Watching {
        std::fs::write(data.join("config.toml"), "[watch]\ndebounce_ms = 200\n").unwrap();
        let mut child = cairn(data)
            .args(["watch", "--json", "--collection", "notes"])
            .args(folders)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                if tx.send(serde_json::from_str(&line).expect(&line)).is_err() {
                    return;
                }
            }
        });
        Watching { child, lines }
    }

    /// The next pass line.
    fn pass(&self) -> Value {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a pass within a minute")
    }

    /// Passes until one where `name` has `status`.
    fn until(&self, name: &str, status: &str) -> Value {
        loop {
            let pass = self.pass();
            let files = pass["files"].as_array().unwrap();
            if files
                .iter()
                .any(|f| f["status"] == status && f["path"].as_str().unwrap().ends_with(name))
            {
                return pass;
            }
        }
    }

    /// Ctrl-C: the process stops and exits 0.
    fn interrupt(mut self) {
        let killed = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "Ctrl-C ends watching cleanly");
    }
}

#[test]
fn watch_follows_the_folder_and_catches_up_after_a_restart() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        docs.path().join("owls.md"),
        "# Owls\nBarn owls hunt by sound.",
    )
    .unwrap();

    let watching = Watching::start(data.path(), &[docs.path()]);
    let reconcile = watching.pass();
    assert_eq!(reconcile["pass"], "reconcile");
    assert_eq!(reconcile["indexed"], 1, "{reconcile}");

    std::fs::write(docs.path().join("bats.md"), "# Bats\nBats hunt by echo.").unwrap();
    let pass = watching.until("bats.md", "indexed");
    assert_eq!(pass["pass"], "changes");
    std::fs::remove_file(docs.path().join("owls.md")).unwrap();
    watching.until("owls.md", "removed");
    watching.interrupt();

    // Changed while nothing watched: found when watching starts again (the folder is remembered).
    std::fs::write(
        docs.path().join("moths.md"),
        "# Moths\nMoths fly by the moon.",
    )
    .unwrap();
    std::fs::remove_file(docs.path().join("bats.md")).unwrap();
    let listed = cairn(data.path())
        .args(["watch", "--list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let folder = docs.path().canonicalize().unwrap();
    assert_eq!(listed.trim(), format!("notes\t{}", folder.display()));

    let watching = Watching::start(data.path(), &[]);
    let reconcile = watching.pass();
    assert_eq!(reconcile["pass"], "reconcile");
    assert_eq!(
        (&reconcile["indexed"], &reconcile["removed"]),
        (&Value::from(1), &Value::from(1)),
        "{reconcile}"
    );
    watching.interrupt();

    let docs_out = cairn(data.path())
        .args(["docs", "--json", "--collection", "notes"])
        .output()
        .unwrap();
    let listed: Vec<Value> = serde_json::from_slice(&docs_out.stdout).unwrap();
    let names: Vec<&str> = listed
        .iter()
        .map(|d| d["path"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["moths.md"]);

    // Unwatched: nothing is left to watch.
    let out = cairn(data.path())
        .args(["unwatch", "--collection", "notes"])
        .arg(docs.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = cairn(data.path()).args(["watch"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no folder is watched"),
        "{out:?}"
    );
}
