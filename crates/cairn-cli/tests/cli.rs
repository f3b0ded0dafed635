//! The `cairn` binary as a person runs it: real processes, real files, a real SIGKILL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir").arg(data).env_remove("CAIRN_DATA_DIR");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cairn runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect()
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn add_exit_codes_say_whether_all_some_or_none_were_indexed() {
    let docs = tempfile::tempdir().unwrap();
    let good = write(
        docs.path(),
        "good.md",
        "Hedgehogs hibernate through the winter.",
    );
    let bad = write(docs.path(), "bad.pdf", "this is not a PDF");
    let worse = write(docs.path(), "worse.md", [0u8, 1, 2, 3]);

    let data = tempfile::tempdir().unwrap();
    assert_eq!(
        run(cairn(data.path()).arg("add").arg(&good)).status.code(),
        Some(0)
    );
    let data = tempfile::tempdir().unwrap();
    let out = run(cairn(data.path())
        .args(["add", "--json"])
        .arg(&good)
        .arg(&bad));
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    let bad_line = lines
        .iter()
        .find(|l| l["path"] == bad.display().to_string())
        .unwrap();
    assert_eq!(bad_line["status"], "failed");
    assert_eq!(bad_line["code"], "wrong_format");
    assert!(bad_line["reason"].as_str().unwrap().contains("PDF"));
    assert_eq!(lines.last().unwrap()["summary"]["indexed"], 1);
    let data = tempfile::tempdir().unwrap();
    let out = run(cairn(data.path())
        .arg("add")
        .arg(&bad)
        .arg(&worse)
        .arg(docs.path().join("missing.md")));
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.md") && stderr.contains("no such file"),
        "{stderr}"
    );
}

#[test]
fn search_json_has_the_documented_fields() {
    let docs = tempfile::tempdir().unwrap();
    write(
        docs.path(),
        "a.md",
        "# Owls\nBarn owls hunt by sound alone, even in complete darkness.",
    );
    write(
        docs.path(),
        "b.md",
        "# Bats\nBats navigate with echolocation.",
    );
    let data = tempfile::tempdir().unwrap();
    assert!(
        run(cairn(data.path()).arg("add").arg(docs.path()))
            .status
            .success()
    );
    for mode in ["hybrid", "dense", "bm25"] {
        let out = run(cairn(data.path()).args([
            "search",
            "how do owls hunt",
            "--json",
            "--k",
            "2",
            "--mode",
            mode,
        ]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hits: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let first = hits[0].as_object().unwrap();
        for key in [
            "doc_path",
            "chunk_id",
            "page",
            "heading",
            "text",
            "score",
            "dense_score",
            "bm25_score",
        ] {
            assert!(first.contains_key(key), "{mode}: no {key} in {first:?}");
        }
        assert!(
            first["doc_path"].as_str().unwrap().ends_with("a.md"),
            "{mode}: {hits:?}"
        );
        assert_eq!(first["heading"], "Owls");
    }
    let docs_out = run(cairn(data.path()).args(["docs", "--json"]));
    let listed: Vec<Value> = serde_json::from_slice(&docs_out.stdout).unwrap();
    assert_eq!(listed.len(), 2);
    let rm = run(cairn(data.path()).arg("rm").arg(docs.path().join("b.md")));
    assert!(rm.status.success());
    let out = run(cairn(data.path()).args(["search", "echolocation", "--json", "--mode", "bm25"]));
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&out.stdout)
            .unwrap()
            .len(),
        0
    );
}

/// Words for the generated corpus: enough variety that chunks differ.
const WORDS: &[&str] = &[
    "river", "mountain", "lantern", "harbour", "copper", "meadow", "glacier", "orchard", "compass",
    "falcon", "granite", "willow", "ember", "tide", "saffron", "quarry", "beacon", "thistle",
    "cobalt", "prairie",
];

fn paragraph(seed: usize, words: usize) -> String {
    let mut state = seed as u64 * 2654435761 + 1;
    let mut out = Vec::with_capacity(words);
    for i in 0..words {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(WORDS[(state >> 33) as usize % WORDS.len()]);
        if i % 12 == 11 {
            out.push("and so on.");
        }
    }
    out.join(" ")
}

/// An ingest killed with SIGKILL at arbitrary moments, then run to the end, leaves every file
/// indexed exactly once: the rows in LanceDB match the chunk counts in SQLite, document by document.
#[test]
fn an_ingest_killed_at_any_moment_ends_with_every_file_indexed_exactly_once() {
    let docs = tempfile::tempdir().unwrap();
    let files = 120;
    for i in 0..files {
        let text = format!(
            "# Note {i}\n\n{}\n\n{}\n",
            paragraph(i, 150),
            paragraph(i + 1000, 150)
        );
        write(docs.path(), &format!("notes/n{i:03}.md"), text);
    }
    let data = tempfile::tempdir().unwrap();
    // Small batches: many journalled writes, so kills land inside them.
    write(data.path(), "config.toml", "[ingest]\nbatch_chunks = 8\n");

    let mut partial_states = 0;
    for delay_ms in [700u64, 1300, 1900, 2600, 3400, 4300] {
        let mut child = cairn(data.path())
            .args(["add", "--json"])
            .arg(docs.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // Child::kill is SIGKILL on Unix: no destructor, no flush, no chance to clean up.
        let _ = child.kill();
        child.wait().unwrap();
        let out = run(cairn(data.path()).args(["docs", "--json"]));
        if let Ok(listed) = serde_json::from_slice::<Vec<Value>>(&out.stdout) {
            let indexed = listed.iter().filter(|d| d["state"] == "indexed").count();
            if indexed > 0 && indexed < files {
                partial_states += 1;
            }
        }
    }
    assert!(
        partial_states > 0,
        "no kill landed in the middle of an ingest; the test proves nothing"
    );

    let out = run(cairn(data.path()).args(["add", "--json"]).arg(docs.path()));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = run(cairn(data.path()).args(["check", "--json"]));
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(check.status.code(), Some(0), "{report}");
    assert_eq!(report["indexed_documents"], files);
    assert_eq!(report["orphan_rows"], 0);
    assert_eq!(report["chunks_in_store"], report["rows_in_index"]);

    // And a second run has nothing left to do.
    let again = run(cairn(data.path()).args(["add", "--json"]).arg(docs.path()));
    let summary = json_lines(&again).pop().unwrap();
    assert_eq!(summary["summary"]["unchanged"], files);
    assert_eq!(summary["summary"]["chunks"], 0);
}

#[test]
fn guard_redacts_stdin_and_reports_character_offsets() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    for sub in ["scan", "redact"] {
        let mut child = cairn(data.path())
            .args(["guard", sub])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // "é" is one character and two bytes: offsets must count characters.
        child
            .stdin
            .take()
            .unwrap()
            .write_all("Café: mail ana@example.org, card 4111 1111 1111 1111.".as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["redacted"], "Café: mail <EMAIL_1>, card <CREDIT_CARD_1>.");
        let entities = v["entities"].as_array().unwrap();
        assert_eq!(entities[0]["type"], "EMAIL");
        assert_eq!(
            (entities[0]["start"].as_u64(), entities[0]["end"].as_u64()),
            (Some(11), Some(26))
        );
        assert_eq!(entities[1]["type"], "CREDIT_CARD");
        assert!(entities[1]["score"].as_f64().unwrap() > 0.5);
    }
}

/// Indexes the sample lighthouse page into the library in `data`.
fn add_lighthouse(data: &Path) {
    let page = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/nature/lighthouse-skerrow-point.md");
    assert!(run(cairn(data).arg("add").arg(page)).status.success());
}

/// `cairn ask --json`, parsed.
fn ask_json(data: &Path, question: &str) -> Value {
    let out = run(cairn(data).args(["ask", "--json", question]));
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_question_asked_again_in_another_process_is_served_from_the_cache() {
    let data = tempfile::tempdir().unwrap();
    add_lighthouse(data.path());
    let ask = |question: &str| ask_json(data.path(), question);
    let cache = || -> Value {
        let out = run(cairn(data.path()).args(["cache", "show", "--json"]));
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = ask("When was the Fresnel lens of Skerrow Point lighthouse made?");
    assert_eq!(first["provider"], "local", "{first}");
    assert_eq!(cache()["entries"], 1);
    let again = ask("when was the Fresnel lens of Skerrow Point lighthouse made");
    assert_eq!(again["provider"], "cache", "{again}");
    assert_eq!(again["answer"], first["answer"]);
    assert_eq!(again["cache"]["trace_id"], first["trace_id"]);
    assert_eq!(cache()["hits"], 1);

    let out = run(cairn(data.path()).args(["cache", "clear"]));
    assert!(out.status.success());
    assert_eq!(cache()["entries"], 0);
    let after = ask("When was the Fresnel lens of Skerrow Point lighthouse made?");
    assert_eq!(after["provider"], "local");
}

#[test]
fn a_held_answer_is_listed_approved_and_then_served() {
    let data = tempfile::tempdir().unwrap();
    // No sentence is ever supported: every generated answer is held.
    write(
        data.path(),
        "config.toml",
        "[guard.output]\nsentence_support = 2.0\n[review]\nmode = \"hold\"\n",
    );
    add_lighthouse(data.path());
    let question = "When was the Fresnel lens of Skerrow Point lighthouse made?";
    let held = ask_json(data.path(), question);
    assert_eq!(held["tier"], "deterministic");
    let id = held["review"]["id"].as_i64().unwrap();

    let list = |all: bool| -> Vec<Value> {
        let mut cmd = cairn(data.path());
        cmd.args(["review", "list", "--json"]);
        if all {
            cmd.arg("--all");
        }
        let out = run(&mut cmd);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let pending = list(false);
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["id"], id);
    assert_eq!(pending[0]["answer"], held["review"]["original"]);

    let out = run(cairn(data.path()).args(["review", "approve", &id.to_string(), "--cache"]));
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("approved"));
    assert!(list(false).is_empty());
    assert_eq!(list(true)[0]["status"], "approved");
    let again = run(cairn(data.path()).args(["review", "reject", &id.to_string()]));
    assert!(!again.status.success(), "decided once");

    let served = ask_json(data.path(), question);
    assert_eq!(served["provider"], "cache");
    assert_eq!(served["answer"], held["review"]["original"]);
}

#[test]
fn a_prompt_version_is_switched_recorded_and_rolled_back() {
    let data = tempfile::tempdir().unwrap();
    add_lighthouse(data.path());
    let question = "When was the Fresnel lens of Skerrow Point lighthouse made?";
    let ask = || ask_json(data.path(), question);
    let grounded = || -> Value {
        let out = run(cairn(data.path()).args(["prompts", "list", "--json"]));
        assert!(out.status.success(), "{out:?}");
        let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        all.into_iter().find(|p| p["name"] == "grounded").unwrap()
    };
    let first = ask();
    assert_eq!(first["prompt_version"], "grounded@1.0.0");
    assert_eq!(grounded()["active"], "1.0.0");

    let out = run(cairn(data.path()).args(["prompts", "use", "grounded@1.1.0"]));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(grounded()["active"], "1.1.0");
    let config = std::fs::read_to_string(data.path().join("config.toml")).unwrap();
    assert!(config.contains("grounded = \"1.1.0\""), "{config}");
    let out = run(cairn(data.path()).args(["prompts", "show", "grounded"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Give the direct answer first"));

    // The cached answer was made with the other version: not served; the new one is recorded.
    let second = ask();
    assert_ne!(second["provider"], "cache");
    assert_eq!(second["prompt_version"], "grounded@1.1.0");
    let out = run(cairn(data.path()).args(["trace", &second["trace_id"].to_string(), "--json"]));
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        trace["answer"]["prompt_version"], "grounded@1.1.0",
        "{trace}"
    );

    // Rolled back in one step.
    let out = run(cairn(data.path()).args(["prompts", "rollback", "grounded"]));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(grounded()["active"], "1.0.0");
    assert_eq!(ask()["prompt_version"], "grounded@1.0.0");
    let out = run(cairn(data.path()).args(["prompts", "rollback", "grounded"]));
    assert!(!out.status.success(), "nothing before the first version");
    let out = run(cairn(data.path()).args(["prompts", "use", "grounded@9.0.0"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1.0.0, 1.1.0"));
}

#[test]
fn a_file_that_failed_is_quarantined_until_it_changes_or_is_retried() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let broken = write(
        docs.path(),
        "broken.pdf",
        b"%PDF-1.7\nthis is not a PDF body\n",
    );
    write(docs.path(), "ok.md", "# Owls\nBarn owls hunt by sound.");
    let outcome = |out: &Output| -> Value {
        json_lines(out)
            .into_iter()
            .find(|l| {
                l["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("broken.pdf"))
            })
            .unwrap_or_else(|| panic!("{out:?}"))
    };
    let first = run(cairn(data.path()).arg("add").arg("--json").arg(docs.path()));
    let first = outcome(&first);
    let code = first["code"].as_str().unwrap().to_string();
    assert_ne!(code, "quarantined", "{first}");

    // The same content is not read again.
    let again = outcome(&run(cairn(data.path())
        .arg("add")
        .arg("--json")
        .arg(docs.path())));
    assert_eq!(again["code"], "quarantined", "{again}");
    assert!(
        again["reason"].as_str().unwrap().contains("cairn retry"),
        "{again}"
    );
    let listed = run(cairn(data.path()).args(["failed", "--json"]));
    let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["quarantined"], true);
    assert_eq!(listed[0]["code"], code.as_str());

    // Retried on request: read again (and quarantined again, the content being the same).
    let retried = outcome(&run(cairn(data.path()).args(["retry", "--json"])));
    assert_eq!(retried["code"], code.as_str(), "{retried}");

    // Changed: read again without being asked, and indexed.
    std::fs::remove_file(&broken).unwrap();
    let fixed = write(docs.path(), "broken.pdf", b"");
    std::fs::write(&fixed, b"%PDF-1.7\nstill not a PDF, but another one\n").unwrap();
    let changed = outcome(&run(cairn(data.path())
        .arg("add")
        .arg("--json")
        .arg(docs.path())));
    assert_ne!(changed["code"], "quarantined", "{changed}");
}

/// A parse that runs past the per-file time limit (what a parser stuck on a file looks like) is
/// abandoned, the rest of the batch is indexed, and the file is quarantined: the next run does not
/// start that parser again.
#[test]
fn a_file_that_outlives_its_parse_time_limit_is_quarantined_and_the_rest_go_on() {
    let docs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("config.toml"),
        "[ingest]\ntimeout_secs = 0.02\n",
    )
    .unwrap();
    // 40 MB of Markdown, far more than a parser gets through in 20 ms. It is one HTML block, which
    // holds no text: were it ever parsed to the end, it would fail as empty at once rather than
    // take minutes to embed.
    write(
        docs.path(),
        "endless.md",
        "<div>a line about tides and moons</div>\n".repeat(1_000_000),
    );
    write(docs.path(), "owls.md", "# Owls\nBarn owls hunt by sound.");
    let lines = |out: &Output| -> (Value, Value) {
        let lines = json_lines(out);
        let of = |name: &str| {
            lines
                .iter()
                .find(|l| l["path"].as_str().is_some_and(|p| p.ends_with(name)))
                .cloned()
                .unwrap_or_else(|| panic!("no line for {name}: {out:?}"))
        };
        (of("endless.md"), of("owls.md"))
    };
    let first = run(cairn(data.path()).args(["add", "--json"]).arg(docs.path()));
    assert_eq!(first.status.code(), Some(2), "some failed: {first:?}");
    let (endless, owls) = lines(&first);
    assert_eq!(endless["code"], "timeout", "{endless}");
    assert_eq!(owls["status"], "indexed", "{owls}");

    let second = run(cairn(data.path()).args(["add", "--json"]).arg(docs.path()));
    let (endless, owls) = lines(&second);
    assert_eq!(endless["code"], "quarantined", "{endless}");
    assert!(
        endless["reason"].as_str().unwrap().contains("timeout"),
        "the original reason is kept: {endless}"
    );
    assert_eq!(owls["status"], "unchanged", "{owls}");
}
