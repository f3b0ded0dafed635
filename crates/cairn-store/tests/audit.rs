//! The egress audit log: an intact chain verifies, the triggers refuse changes, and an entry
//! edited, removed or forged by someone with the database file is found.

use std::collections::BTreeMap;

use cairn_store::{GENESIS, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
    (dir, store)
}

/// A second connection to the store's file, going around the store as anyone with the file could.
fn raw(dir: &tempfile::TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.path().join("s.sqlite")).unwrap()
}

fn append(store: &Store, n: usize) {
    for i in 0..n {
        let redacted = BTreeMap::from([("EMAIL".to_string(), i as u64)]);
        store
            .append_audit("acme", "large", 100 + i as u64, &redacted)
            .unwrap();
    }
}

#[test]
fn an_intact_log_verifies_and_changes_are_refused() {
    let (dir, store) = store();
    append(&store, 3);
    let entries = store.audit_entries(10).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].prev_hash, GENESIS);
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    assert_eq!(entries[2].redacted["EMAIL"], 2);
    let verdict = store.verify_audit().unwrap();
    assert_eq!((verdict.entries, verdict.broken), (3, None));
    let conn = raw(&dir);
    let refused = conn.execute("UPDATE egress_audit SET chars = 1 WHERE id = 2", []);
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    assert!(
        conn.execute("DELETE FROM egress_audit WHERE id = 3", [])
            .is_err()
    );
}

#[test]
fn an_edited_removed_or_forged_entry_is_found() {
    for (tamper, id, says) in [
        (
            "UPDATE egress_audit SET chars = 1 WHERE id = 2",
            2,
            "edited",
        ),
        (
            "UPDATE egress_audit SET redacted = '{}' WHERE id = 1",
            1,
            "edited",
        ),
        (
            "DELETE FROM egress_audit WHERE id = 2",
            3,
            "entry 2 is missing",
        ),
        (
            "UPDATE egress_audit SET hash = 'f00d' WHERE id = 2",
            2,
            "edited",
        ),
    ] {
        let (dir, store) = store();
        append(&store, 4);
        {
            // Someone with the file: the triggers go first.
            let conn = raw(&dir);
            conn.execute_batch(
                "DROP TRIGGER egress_audit_no_update; DROP TRIGGER egress_audit_no_delete;",
            )
            .unwrap();
            conn.execute(tamper, []).unwrap();
        }
        let verdict = store.verify_audit().unwrap();
        let (at, why) = verdict.broken.expect(tamper);
        assert_eq!(at, id, "{tamper}: {why}");
        assert!(why.contains(says), "{tamper}: {why}");
    }
    // A whole log rewritten from one entry on, with fresh hashes, still breaks at the next link.
    // The forged first entry (1 char, nothing redacted) gets a hash that matches its fields: the
    // first entry of another log, written with those fields.
    let (_other_dir, other) = store();
    let forged = other
        .append_audit("acme", "large", 1, &BTreeMap::new())
        .unwrap();
    assert_eq!((forged.id, forged.prev_hash.as_str()), (1, GENESIS));
    let (dir, store) = store();
    append(&store, 3);
    {
        let conn = raw(&dir);
        conn.execute_batch("DROP TRIGGER egress_audit_no_update;")
            .unwrap();
        conn.execute(
            "UPDATE egress_audit SET at = ?1, chars = 1, redacted = '{}', hash = ?2 WHERE id = 1",
            rusqlite::params![forged.at, forged.hash],
        )
        .unwrap();
    }
    let (at, why) = store.verify_audit().unwrap().broken.unwrap();
    assert_eq!(at, 2, "{why}");
}
