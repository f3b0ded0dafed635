//! Many writers, and writers that die: `cairn` processes killed with SIGKILL at each step of the
//! journal (fault injection points, `CAIRN_FAULT`), two writers at once, and the modes of the files
//! a library is made of.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

fn cairn(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
    cmd.arg("--data-dir")
        .arg(data)
        .env_remove("CAIRN_DATA_DIR")
        .env_remove("CAIRN_FAULT");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cairn runs")
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// Words that make distinct passages.
fn paragraph(seed: usize, words: usize) -> String {
    const WORDS: [&str; 16] = [
        "river", "granite", "lantern", "orchard", "harbour", "meadow", "copper", "falcon",
        "willow", "quarry", "thistle", "beacon", "glacier", "saffron", "tundra", "violet",
    ];
    (0..words)
        .map(|i| WORDS[(seed * 7 + i * 13 + i / 5) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// `cairn check --json` on `collection`: it must find the store and the index in agreement.
fn assert_consistent(data: &Path, collection: &str, after: &str) -> Value {
    let out = run(cairn(data).args(["check", "--json", "--collection", collection]));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{after}: check printed no report: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.code(), Some(0), "{after}: {report}");
    assert_eq!(report["orphan_rows"], 0, "{after}: {report}");
    assert_eq!(
        report["chunks_in_store"], report["rows_in_index"],
        "{after}: {report}"
    );
    report
}

/// Runs `cmd` armed to die at `point`; it must have died there, by SIGKILL.
fn killed_at(cmd: &mut Command, point: &str) {
    let out = run(cmd.env("CAIRN_FAULT", point).stdout(Stdio::null()));
    assert_eq!(
        out.status.signal(),
        Some(9),
        "the writer was to be killed at {point}, and ended with {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn writers_killed_at_every_step_of_the_journal_lose_and_double_nothing() {
    let docs = tempfile::tempdir().unwrap();
    let notes = 32;
    let note = |i: usize, edit: usize| {
        format!(
            "# Note {i}\n\n{}\n\nedit {edit}\n",
            paragraph(i + edit, 120)
        )
    };
    for i in 0..notes {
        write(docs.path(), &format!("notes/n{i:02}.md"), note(i, 0));
    }
    // More passages than a batch: written a slice at a time.
    let long = |edit: usize| {
        (0..40)
            .map(|s| format!("## Part {s}\n\n{}\n", paragraph(s * 31 + edit, 150)))
            .collect::<String>()
    };
    write(docs.path(), "notes/long.md", long(0));
    let data = tempfile::tempdir().unwrap();
    write(data.path(), "config.toml", "[ingest]\nbatch_chunks = 8\n");

    // Every step of the journal, several times over; before each run a third of the notes and the
    // long one change, so each run has new, replaced and streamed documents to write.
    let points = [
        "ingest.marked_writing:1",
        "ingest.old_rows_deleted:1",
        "ingest.rows_appended:1",
        "ingest.marked_indexed:1",
        "ingest.slice_appended:1",
        "ingest.marked_writing:2",
        "ingest.old_rows_deleted:2",
        "ingest.rows_appended:2",
        "ingest.marked_indexed:2",
        "ingest.slice_appended:3",
    ];
    let mut kills = 0;
    for round in 0..2 {
        for (k, point) in points.iter().enumerate() {
            let edit = round * points.len() + k + 1;
            for i in (edit % 3..notes).step_by(3) {
                write(docs.path(), &format!("notes/n{i:02}.md"), note(i, edit));
            }
            write(docs.path(), "notes/long.md", long(edit));
            killed_at(cairn(data.path()).arg("add").arg(docs.path()), point);
            kills += 1;
            // The next start repairs what the kill left: the library is consistent at once.
            assert_consistent(data.path(), "default", point);
        }
    }
    assert_eq!(kills, 20);

    let out = run(cairn(data.path()).args(["add", "--json"]).arg(docs.path()));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = assert_consistent(data.path(), "default", "the last add");
    assert_eq!(report["indexed_documents"], notes + 1, "nothing lost");

    // Nothing doubled: exactly the rows a library that never saw a kill holds.
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "config.toml", "[ingest]\nbatch_chunks = 8\n");
    assert!(
        run(cairn(clean.path()).arg("add").arg(docs.path()))
            .status
            .success()
    );
    let expected = assert_consistent(clean.path(), "default", "a clean add");
    assert_eq!(report["rows_in_index"], expected["rows_in_index"]);
    assert_eq!(report["mismatched"], expected["mismatched"]);
}

#[test]
fn a_reindex_or_a_delete_killed_between_its_steps_is_completed_by_the_next_start() {
    let docs = tempfile::tempdir().unwrap();
    for i in 0..12 {
        write(
            docs.path(),
            &format!("n{i}.md"),
            format!("# Note {i}\n\n{}\n", paragraph(i, 90)),
        );
    }
    let data = tempfile::tempdir().unwrap();
    write(data.path(), "config.toml", "[ingest]\nbatch_chunks = 4\n");
    assert!(
        run(cairn(data.path()).arg("add").arg(docs.path()))
            .status
            .success()
    );
    let before = assert_consistent(data.path(), "default", "the first add");

    for point in [
        "reindex.records_replaced",
        "reindex.table_dropped",
        "ingest.rows_appended:2",
    ] {
        killed_at(cairn(data.path()).arg("reindex"), point);
        // Never documents marked indexed over missing passages, nor passages of none.
        assert_consistent(data.path(), "default", point);
    }
    assert!(run(cairn(data.path()).arg("reindex")).status.success());
    let after = assert_consistent(data.path(), "default", "the last reindex");
    assert_eq!(after["indexed_documents"], before["indexed_documents"]);
    assert_eq!(after["rows_in_index"], before["rows_in_index"]);

    // A removal stopped at either step is finished by the next start: the document is gone,
    // record and passages.
    for (i, point) in ["remove.marked", "remove.rows_deleted"].iter().enumerate() {
        let gone = docs.path().join(format!("n{i}.md"));
        killed_at(cairn(data.path()).arg("rm").arg(&gone), point);
        let report = assert_consistent(data.path(), "default", point);
        assert_eq!(report["indexed_documents"], 11 - i, "{point}: {report}");
        let listed = run(cairn(data.path()).args(["docs", "--json"]));
        let listed: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
        assert!(
            listed
                .iter()
                .all(|d| d["path"] != gone.display().to_string()),
            "{point}: {listed:?}"
        );
    }

    // A delete stopped after its records went: the collection is gone, its table goes on the
    // next start, and a collection made again under that name starts empty.
    let one = write(docs.path(), "scratch/one.md", "Ferns unfurl in spring.");
    assert!(
        run(cairn(data.path())
            .args(["add", "--collection", "scratch"])
            .arg(docs.path()))
        .status
        .success()
    );
    killed_at(
        cairn(data.path()).args(["delete-collection", "scratch"]),
        "delete_collection.records_deleted",
    );
    let listed = run(cairn(data.path()).args(["collections", "--json"]));
    let names: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(names.iter().all(|c| c["name"] != "scratch"), "{names:?}");
    assert!(
        !data.path().join("lance/chunks_scratch.lance").exists(),
        "the next start drops the table no record names"
    );
    assert!(
        run(cairn(data.path())
            .args(["add", "--collection", "scratch"])
            .arg(&one))
        .status
        .success()
    );
    let scratch = assert_consistent(data.path(), "scratch", "scratch made again");
    assert_eq!(scratch["indexed_documents"], 1);
    assert_eq!(scratch["rows_in_index"], 1);
}

#[test]
fn two_writers_take_turns_and_say_whom_they_wait_for() {
    let docs = tempfile::tempdir().unwrap();
    for i in 0..24 {
        write(
            docs.path(),
            &format!("shared/n{i:02}.md"),
            format!("# Note {i}\n\n{}\n", paragraph(i, 80)),
        );
    }
    for i in 0..6 {
        write(
            docs.path(),
            &format!("own/o{i}.md"),
            format!("# Own {i}\n\n{}\n", paragraph(i + 50, 80)),
        );
    }
    let data = tempfile::tempdir().unwrap();
    write(data.path(), "config.toml", "[ingest]\nbatch_chunks = 4\n");
    // A first file, so there is a collection to search while the writers wait.
    assert!(
        run(cairn(data.path())
            .arg("add")
            .arg(docs.path().join("own/o0.md")))
        .status
        .success()
    );
    let held = cairn_engine::WriteLock::try_acquire(data.path(), "holding the library for a test")
        .unwrap()
        .expect("nobody else writes yet");

    // Both start while the lock is held; the shared folder is added by both.
    let writers: Vec<(std::process::Child, Arc<Mutex<String>>)> =
        [docs.path().to_path_buf(), docs.path().join("shared")]
            .into_iter()
            .map(|folder| {
                let mut child = cairn(data.path())
                    .args(["add", "--json"])
                    .arg(folder)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let said = Arc::new(Mutex::new(String::new()));
                let stderr = child.stderr.take().unwrap();
                let log = said.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        let mut log = log.lock().unwrap();
                        log.push_str(&line);
                        log.push('\n');
                    }
                });
                (child, said)
            })
            .collect();
    // A reader never waits for the lock.
    let search = run(cairn(data.path()).args(["search", "granite", "--json"]));
    assert!(
        search.status.success(),
        "{}",
        String::from_utf8_lossy(&search.stderr)
    );
    // Both wait, and say for whom, before the lock is let go.
    let who = format!("(process {})", std::process::id());
    let deadline = Instant::now() + Duration::from_secs(120);
    while !writers
        .iter()
        .all(|(_, said)| said.lock().unwrap().contains("waiting:"))
    {
        assert!(
            Instant::now() < deadline,
            "the writers never said they wait"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for (_, said) in &writers {
        let said = said.lock().unwrap();
        assert!(
            said.contains(&who) && said.contains("holding the library for a test"),
            "a writer that waits says for whom: {said}"
        );
    }
    drop(held);
    for (mut child, said) in writers {
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{}", said.lock().unwrap());
    }
    let report = assert_consistent(data.path(), "default", "two writers");
    assert_eq!(report["indexed_documents"], 30, "nothing lost");
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "config.toml", "[ingest]\nbatch_chunks = 4\n");
    assert!(
        run(cairn(clean.path()).arg("add").arg(docs.path()))
            .status
            .success()
    );
    let expected = assert_consistent(clean.path(), "default", "one writer");
    assert_eq!(
        report["rows_in_index"], expected["rows_in_index"],
        "nothing doubled"
    );
}

#[test]
fn a_library_is_private_to_its_owner() {
    let docs = tempfile::tempdir().unwrap();
    let note = write(docs.path(), "a.md", "Otters hold hands while they sleep.");
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("library");
    // A permissive umask, as a desktop session often has.
    let out = run(Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" --data-dir \"$1\" add \"$2\"")
        .arg(env!("CARGO_BIN_EXE_cairn"))
        .arg(&data)
        .arg(&note));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files = 0;
    for entry in walk(&data) {
        let meta = std::fs::symlink_metadata(&entry).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{}", entry.display());
        } else {
            files += 1;
            assert_eq!(mode, 0o600, "{}", entry.display());
        }
    }
    assert!(files > 5, "the library's files were looked at ({files})");

    // A library made before, open to everyone, is made private when it is opened.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        data.join("cairn.sqlite"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert!(run(cairn(&data).arg("docs")).status.success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("cairn.sqlite")), 0o600);
}

/// Every path under `dir`, `dir` included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir() {
            let mut children: Vec<PathBuf> = std::fs::read_dir(&out[i])
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            out.append(&mut children);
        }
        i += 1;
    }
    out
}
