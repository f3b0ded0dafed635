//! A shared collection through the `cairn` command: two libraries (two people's machines) make and
//! join one collection on a real S3-protocol server on loopback (moto, `cairn-index/tests/s3_server.py`),
//! add their own documents, find each other's, and remove or leave without touching the other's.
//! The access key goes to the real OS keychain (run under `scripts/with-keychain`).

#[path = "../../cairn-index/tests/support/s3.rs"]
mod s3;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use s3::S3Server;

use serde_json::Value;

const SECRET: &str = "shared-secret-7f3a9c";

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir")
        .arg(data)
        .env_remove("CAIRN_DATA_DIR")
        .env_remove("CAIRN_FAULT");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("cairn runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `cairn share-collection` with the secret on stdin.
fn share(data: &Path, endpoint: &str) -> Output {
    share_with(data, endpoint, &[])
}

/// `cairn share-collection` with the secret on stdin and more options.
fn share_with(data: &Path, endpoint: &str, options: &[&str]) -> Output {
    let mut child = cairn(data)
        .args([
            "share-collection",
            "team",
            "--at",
            "s3://library/team",
            "--json",
        ])
        .args(["--endpoint", endpoint, "--access-key-id", "cairn-test"])
        .args(options)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{SECRET}").unwrap();
    child.wait_with_output().unwrap()
}

fn search(data: &Path, query: &str) -> Vec<Value> {
    let out = run(cairn(data).args(["search", query, "--json", "--collection", "team"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `cairn collections --json`.
fn collections(data: &Path) -> Vec<Value> {
    let out = run(cairn(data).args(["collections", "--json"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn texts(hits: &[Value]) -> String {
    hits.iter()
        .map(|h| h["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn two_libraries_share_one_collection_and_each_removes_only_its_own() {
    let server = S3Server::start("library");
    let alice = tempfile::tempdir().unwrap();
    let bob = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let harbour = write(
        docs.path(),
        "harbour.md",
        "# Harbour\n\nThe harbour lantern is lit at dusk by the keeper, Maren Tolsvik, who has \
         kept it since the storm of 1987.\n",
    );
    let orchard = write(
        docs.path(),
        "orchard.md",
        "# Orchard\n\nThe quince orchard behind the mill is pruned every February by the \
         Okonkwo brothers.\n",
    );

    let made = share(alice.path(), &server.endpoint());
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let made: Value = serde_json::from_slice(&made.stdout).unwrap();
    assert_eq!(made["joined"], false, "{made}");
    run(cairn(alice.path())
        .args(["add", "--collection", "team"])
        .arg(&harbour));
    // What left for the store is in Alice's egress audit log: where to, and how much.
    let out = run(cairn(alice.path()).args(["audit", "list", "--json"]));
    let audit: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["provider"], "shared-collection:s3://library/team");
    assert_eq!(audit[0]["model"], "team");
    assert!(audit[0]["chars"].as_u64().unwrap() > 80, "{audit:?}");

    let joined = share(bob.path(), &server.endpoint());
    assert!(
        joined.status.success(),
        "{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    let joined: Value = serde_json::from_slice(&joined.stdout).unwrap();
    assert_eq!(joined["joined"], true, "{joined}");
    assert!(joined["passages"].as_u64().unwrap() >= 1, "{joined}");
    run(cairn(bob.path())
        .args(["add", "--collection", "team"])
        .arg(&orchard));

    // Each finds what the other added.
    let hits = search(bob.path(), "who lights the harbour lantern");
    assert!(texts(&hits).contains("Maren Tolsvik"), "{}", texts(&hits));
    let hits = search(alice.path(), "who prunes the quince orchard");
    assert!(texts(&hits).contains("Okonkwo"), "{}", texts(&hits));

    // Each lists every document of the collection, the other's marked as the other's.
    let out = run(cairn(bob.path()).args(["docs", "--json", "--collection", "team"]));
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let by_path = |end: &str| {
        listed
            .iter()
            .find(|d| d["path"].as_str().unwrap().ends_with(end))
            .unwrap_or_else(|| panic!("{end} not listed: {listed:?}"))
            .clone()
    };
    assert_eq!(by_path("harbour.md")["added_by_another_library"], true);
    assert_eq!(by_path("harbour.md")["chunk_count"], 1);
    assert_eq!(by_path("orchard.md")["state"], "indexed");

    // Bob's answer cites Alice's document; asked again it is answered again, not from a cache
    // that could not know when the others change the collection.
    let ask = || -> Value {
        let out = run(cairn(bob.path()).args([
            "ask",
            "--json",
            "--collection",
            "team",
            "Who lights the harbour lantern?",
        ]));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let answer = ask();
    assert_eq!(answer["provider"], "local", "{answer}");
    assert!(
        answer["answer"].as_str().unwrap().contains("Maren"),
        "{answer}"
    );
    assert!(
        answer["citations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["doc_path"].as_str().unwrap().ends_with("harbour.md")),
        "{answer}"
    );
    assert_eq!(ask()["provider"], "local");

    // The store and Alice's records agree; Bob's rows are his, not orphans of hers.
    let out = run(cairn(alice.path()).args(["check", "--json", "--collection", "team"]));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["orphan_rows"], 0, "{report}");
    assert_eq!(report["chunks_in_store"], 1, "{report}");
    assert_eq!(report["rows_of_other_libraries"], 1, "{report}");

    // Alice removes her document: Bob's stays.
    run(cairn(alice.path())
        .args(["rm", "--collection", "team"])
        .arg(&harbour));
    let hits = search(bob.path(), "harbour lantern orchard");
    assert!(!texts(&hits).contains("Maren"), "{}", texts(&hits));
    assert!(texts(&hits).contains("Okonkwo"), "{}", texts(&hits));

    // Bob leaves: the collection and his passages stay for Alice.
    run(cairn(bob.path()).args(["delete-collection", "team"]));
    let hits = search(alice.path(), "who prunes the quince orchard");
    assert!(texts(&hits).contains("Okonkwo"), "{}", texts(&hits));
    assert_eq!(collections(bob.path()).len(), 0);

    // The secret is in the keychain, in no file of either library.
    for file in files_under(alice.path())
        .into_iter()
        .chain(files_under(bob.path()))
    {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "{} holds the secret key",
            file.display()
        );
    }
}

#[test]
fn a_plain_http_endpoint_off_this_machine_is_refused_and_nothing_is_recorded() {
    let data = tempfile::tempdir().unwrap();
    let out = share(data.path(), "http://10.1.2.3:9000");
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("plain http"), "{said}");
    assert_eq!(collections(data.path()).len(), 0);
}

#[test]
fn a_store_that_refuses_the_key_or_is_not_there_fails_before_anything_is_recorded() {
    let data = tempfile::tempdir().unwrap();
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = share(data.path(), &format!("http://127.0.0.1:{port}"));
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(collections(data.path()).len(), 0);
}

#[test]
fn an_offline_copy_answers_with_the_store_gone_says_how_old_it_is_and_catches_up() {
    let mut server = S3Server::start("library");
    let alice = tempfile::tempdir().unwrap();
    let bob = tempfile::tempdir().unwrap();
    let docs = tempfile::tempdir().unwrap();
    let ferry = write(
        docs.path(),
        "ferry.md",
        "# Ferry\n\nThe island ferry leaves the north pier at 07:40 and is skippered by Ilse \
         Brandvold on weekdays.\n",
    );
    let bakery = write(
        docs.path(),
        "bakery.md",
        "# Bakery\n\nThe rye bakery on Tanner Lane fires its wood oven at four in the morning; \
         Tomasz Wierzba runs it.\n",
    );

    // Bob keeps the collection and adds to it; Alice joins with an offline copy.
    let made = share(bob.path(), &server.endpoint());
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    run(cairn(bob.path())
        .args(["add", "--collection", "team"])
        .arg(&ferry));
    let joined = share_with(alice.path(), &server.endpoint(), &["--offline-copy"]);
    assert!(
        joined.status.success(),
        "{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    let copy = alice.path().join("offline-copies").join("team");
    assert!(copy.join("copy.json").is_file());
    let out = run(cairn(alice.path()).args(["collections"]));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("offline copy as of"), "{listed}");

    // The network goes: Alice's search and answer come from the copy, and say so.
    server.go_offline();
    let out = run(cairn(alice.path()).args([
        "search",
        "who skippers the island ferry",
        "--collection",
        "team",
    ]));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("offline copy of 'team'"), "{said}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ferry.md"));
    let out = run(cairn(alice.path()).args([
        "ask",
        "--json",
        "--collection",
        "team",
        "Who skippers the island ferry?",
    ]));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["offline_copy"]["collection"], "team", "{answer}");
    assert!(
        answer["offline_copy"]["age_secs"].as_u64().unwrap() < 600,
        "{answer}"
    );
    assert!(
        answer["answer"].as_str().unwrap().contains("Ilse"),
        "{answer}"
    );
    // Nothing can be added while the store is gone; the document is not recorded as indexed.
    let out = cairn(alice.path())
        .args(["add", "--collection", "team"])
        .arg(&bakery)
        .output()
        .unwrap();
    assert!(!out.status.success());
    // A library without a copy has nothing to answer from: a clear error, not a hang.
    let out = cairn(bob.path())
        .args(["search", "ferry", "--collection", "team"])
        .output()
        .unwrap();
    assert!(!out.status.success());

    // The network is back: Bob adds the bakery, Alice's copy catches up and then knows it
    // offline too.
    server.go_online();
    run(cairn(bob.path())
        .args(["add", "--collection", "team"])
        .arg(&bakery));
    let out = run(cairn(alice.path()).args(["offline-copy", "team", "--json"]));
    let caught: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(caught["fetched"].as_u64().unwrap() > 0, "{caught}");
    server.go_offline();
    let out = run(cairn(alice.path()).args([
        "search",
        "who fires the wood oven",
        "--json",
        "--collection",
        "team",
    ]));
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["offline_copy"]["collection"], "team", "{found}");
    let hits = found["hits"].as_array().unwrap();
    assert!(texts(hits).contains("Tomasz"), "{}", texts(hits));

    // Dropped, the copy is gone and a search fails again with the store.
    run(cairn(alice.path()).args(["offline-copy", "team", "--drop"]));
    assert!(!copy.exists());
    let out = cairn(alice.path())
        .args(["search", "ferry", "--collection", "team"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
