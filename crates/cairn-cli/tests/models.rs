//! `cairn models` through the real binary: a catalog model pulled from a loopback server that
//! speaks Hugging Face's resolve protocol (`CAIRN_HF_ENDPOINT`), broken off and resumed, stopped
//! by Ctrl-C and resumed; a GGUF file added in place, chosen and removed.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cairn_engine::hub_test_support::fixture::{catalog_entry, tiny_gguf};
use cairn_engine::hub_test_support::server::{Fault, HubServer};
use serde_json::Value;

const REPO: &str = "acme/Tiny-GGUF";
const FILE: &str = "tiny-q4_k_m.gguf";

/// A data directory whose catalog is one tiny model, `size` bytes, held by a new server.
struct Setup {
    server: HubServer,
    data: tempfile::TempDir,
    content: Vec<u8>,
}

impl Setup {
    async fn new(size: usize) -> Setup {
        let server = HubServer::start().await;
        let content = tiny_gguf("llama", size);
        server.put(REPO, "main", FILE, content.clone());
        let data = tempfile::tempdir().unwrap();
        let catalog = data.path().join("catalog.toml");
        std::fs::write(&catalog, catalog_entry("tiny", REPO, FILE, &content)).unwrap();
        std::fs::write(
            data.path().join("config.toml"),
            format!("[models]\ncatalog = \"{}\"\n", catalog.display()),
        )
        .unwrap();
        Setup {
            server,
            data,
            content,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
        cmd.arg("--data-dir")
            .arg(self.data.path())
            .args(["models"])
            .args(args)
            .env_remove("CAIRN_DATA_DIR")
            .env("CAIRN_HF_ENDPOINT", self.server.endpoint())
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `cairn models ARGS` off the runtime's threads, so the server keeps serving.
    async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        tokio::task::spawn_blocking(move || cmd.output().expect("cairn runs"))
            .await
            .unwrap()
    }

    async fn list(&self) -> Value {
        let out = self.run(&["list", "--json"]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn models_dir(&self) -> PathBuf {
        self.data.path().join("models")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A GGUF file's first bytes: magic, version 3, no tensors, one entry naming the architecture.
fn gguf_header(architecture: &str) -> Vec<u8> {
    let key = "general.architecture";
    let mut bytes = b"GGUF".to_vec();
    bytes.extend(3u32.to_le_bytes());
    bytes.extend(0u64.to_le_bytes());
    bytes.extend(1u64.to_le_bytes());
    bytes.extend((key.len() as u64).to_le_bytes());
    bytes.extend(key.as_bytes());
    bytes.extend(8u32.to_le_bytes());
    bytes.extend((architecture.len() as u64).to_le_bytes());
    bytes.extend(architecture.as_bytes());
    bytes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_is_pulled_resumed_listed_added_used_and_removed() {
    let s = Setup::new(700_000).await;
    let listed = s.list().await;
    assert_eq!(listed["endpoint"], s.server.endpoint());
    assert_eq!(listed["catalog"][0]["id"], "tiny");
    assert_eq!(listed["catalog"][0]["installed"], false);
    assert!(listed["catalog"][0]["ram_bytes"].as_u64().unwrap() > 700_000);
    assert_eq!(listed["installed"], Value::Array(vec![]));
    assert!(
        s.server.requests().is_empty(),
        "listing opened no connection"
    );

    // Dropped mid-file: exit 1 with the reason, the part kept and listed.
    s.server.fail_next(Fault::DropAfter(250_000));
    let out = s.run(&["pull", "tiny"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Run the download again to resume"),
        "{}",
        stderr(&out)
    );
    assert_eq!(s.list().await["catalog"][0]["partial_bytes"], 250_000);

    let out = s.run(&["pull", "tiny"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("tiny is ready"), "{}", stderr(&out));
    let range = s.server.last_range();
    assert_eq!(
        range.as_deref(),
        Some("bytes=250000-"),
        "the second pull resumed"
    );
    let file = s.models_dir().join(FILE);
    assert_eq!(std::fs::read(&file).unwrap(), s.content);
    let listed = s.list().await;
    assert_eq!(listed["catalog"][0]["installed"], true);
    assert_eq!(listed["installed"][0]["name"], "tiny");
    assert_eq!(listed["installed"][0]["source"], "tiny");

    // A file of one's own, registered where it is.
    let mine = tempfile::tempdir().unwrap();
    let local = mine.path().join("Local-Model.Q4_K_M.gguf");
    std::fs::write(&local, gguf_header("llama")).unwrap();
    let out = s.run(&["add", local.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["use", "Local-Model.Q4_K_M"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let config = std::fs::read_to_string(s.data.path().join("config.toml")).unwrap();
    assert!(
        config.contains(&local.canonicalize().unwrap().display().to_string()),
        "{config}"
    );
    let listed = s.list().await;
    let installed = listed["installed"].as_array().unwrap();
    let added = installed.iter().find(|m| m["source"] == "local").unwrap();
    assert_eq!(added["in_use"], true);
    assert_eq!(added["architecture"], "llama");
    let text = s.run(&["list"]).await;
    assert!(String::from_utf8_lossy(&text.stdout).contains("[in use]"));

    let out = s.run(&["rm", "Local-Model.Q4_K_M"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the default model takes its place again"),
        "{}",
        stderr(&out)
    );
    assert!(local.exists(), "a file Cairn did not download stays");
    let out = s.run(&["rm", "tiny"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!file.exists(), "a downloaded file goes with its model");
    assert_eq!(s.list().await["installed"], Value::Array(vec![]));

    let out = s.run(&["pull", "nope"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no model 'nope' in the catalog"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["add", mine.path().to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1), "a folder is not a model");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_a_pull_keeps_the_part_and_the_next_pull_resumes() {
    let s = Setup::new(3_000_000).await;
    s.server.pace(Duration::from_millis(30));
    let child = s
        .command(&["pull", "tiny"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let part = s.models_dir().join(format!("{FILE}.part"));
    let started = Instant::now();
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no byte arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let interrupt = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("resumes"), "{}", stderr(&out));
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < 3_000_000, "{kept}");

    s.server.pace(Duration::ZERO);
    let out = s.run(&["pull", "tiny"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let range = s.server.last_range();
    assert_eq!(range, Some(format!("bytes={kept}-")));
    assert_eq!(std::fs::read(s.models_dir().join(FILE)).unwrap(), s.content);
}

#[test]
fn the_catalog_lists_the_curated_models_and_recommends_the_largest_that_fits() {
    let data = tempfile::tempdir().unwrap();
    let list = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
        cmd.arg("--data-dir")
            .arg(data.path())
            .args(["models", "list"])
            .env_remove("CAIRN_DATA_DIR")
            .env("CAIRN_HF_ENDPOINT", "http://127.0.0.1:9");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        out.stdout
    };
    let text = String::from_utf8(list(false)).unwrap();
    for id in [
        "qwen3-1.7b",
        "qwen2.5-7b-instruct",
        "llama-3.2-1b-instruct",
        "phi-4-mini-instruct",
    ] {
        assert!(text.contains(id), "{text}");
    }
    let listed: Value = serde_json::from_slice(&list(true)).unwrap();
    let memory = listed["machine"]["total_memory"].as_u64().unwrap();
    let catalog = listed["catalog"].as_array().unwrap();
    assert_eq!(catalog.len(), 10);
    let fitting = catalog
        .iter()
        .filter(|m| m["ram_bytes"].as_u64().unwrap() * 100 <= memory * 60)
        .max_by_key(|m| m["ram_bytes"].as_u64().unwrap());
    let recommended: Vec<&Value> = catalog
        .iter()
        .filter(|m| m["recommended"] == true)
        .collect();
    assert_eq!(
        recommended.first().copied(),
        fitting,
        "{memory} bytes of memory"
    );
    assert!(recommended.len() <= 1);
    if let Some(m) = fitting {
        assert!(text.contains(&format!("{} ", m["id"].as_str().unwrap())));
        assert!(text.contains("[recommended]"), "{text}");
    }
}
