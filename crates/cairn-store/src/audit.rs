//! The egress audit log: what left the device, when and where, never the text itself. Append-only
//! (SQLite triggers refuse updates and deletes) and hash-chained, so [`Store::verify_audit`] finds a
//! row that was changed, removed or inserted by hand.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::now;
use crate::error::Result;
use crate::store::Store;

/// The hash the first row chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One request that left the device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Its position in the log.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// The provider.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Characters sent.
    pub chars: u64,
    /// Entities redacted before sending, by type (`EMAIL` → 2).
    pub redacted: BTreeMap<String, u64>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// SHA-256 over this entry's fields and `prev_hash`.
    pub hash: String,
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditVerdict {
    /// Entries checked.
    pub entries: usize,
    /// The first entry that breaks the chain, and how; `None` when the log is intact.
    pub broken: Option<(i64, String)>,
}

fn digest(
    prev_hash: &str,
    id: i64,
    at: i64,
    provider: &str,
    model: &str,
    chars: u64,
    redacted: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields: no two different entries serialise alike.
    for field in [
        prev_hash,
        &id.to_string(),
        &at.to_string(),
        provider,
        model,
        &chars.to_string(),
        redacted,
    ] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Appends an entry for a request about to leave; returns it with its hash.
    pub fn append_audit(
        &self,
        provider: &str,
        model: &str,
        chars: u64,
        redacted: &BTreeMap<String, u64>,
    ) -> Result<AuditEntry> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, hash FROM egress_audit ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (id, prev_hash) = match last {
            Some((id, hash)) => (id + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        let at = now();
        // A map of strings to numbers always serialises.
        let redacted_json = serde_json::to_string(redacted).unwrap_or_default();
        let hash = digest(&prev_hash, id, at, provider, model, chars, &redacted_json);
        tx.execute(
            "INSERT INTO egress_audit (id, at, provider, model, chars, redacted, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                at,
                provider,
                model,
                chars as i64,
                redacted_json,
                prev_hash,
                hash
            ],
        )?;
        tx.commit()?;
        Ok(AuditEntry {
            id,
            at,
            provider: provider.into(),
            model: model.into(),
            chars,
            redacted: redacted.clone(),
            prev_hash,
            hash,
        })
    }

    /// The last `n` entries, oldest first.
    pub fn audit_entries(&self, n: usize) -> Result<Vec<AuditEntry>> {
        self.audit_entries_of("", n)
    }

    /// The last `n` entries whose provider starts with `prefix` (`mcp:`: other AI tools' calls),
    /// oldest first.
    pub fn audit_entries_of(&self, prefix: &str, n: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, provider, model, chars, redacted, prev_hash, hash FROM \
             (SELECT * FROM egress_audit WHERE substr(provider, 1, length(?2)) = ?2 \
              ORDER BY id DESC LIMIT ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![n as i64, prefix], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, provider, model, chars, redacted, prev_hash, hash) = row?;
            out.push(AuditEntry {
                id,
                at,
                provider,
                model,
                chars: chars as u64,
                redacted: serde_json::from_str(&redacted).unwrap_or_default(),
                prev_hash,
                hash,
            });
        }
        Ok(out)
    }

    /// Recomputes the chain from the first entry: ids must run 1, 2, 3, … with no gap, each
    /// `prev_hash` must be the hash before it, and each hash must match the entry's fields.
    pub fn verify_audit(&self) -> Result<AuditVerdict> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, provider, model, chars, redacted, prev_hash, hash FROM egress_audit ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut expected_prev = GENESIS.to_string();
        let mut expected_id = 1;
        let mut entries = 0;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let (at, provider, model): (i64, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
            let chars: i64 = r.get(4)?;
            let (redacted, prev_hash, hash): (String, String, String) =
                (r.get(5)?, r.get(6)?, r.get(7)?);
            let broken = if id != expected_id {
                Some(format!("entry {expected_id} is missing"))
            } else if prev_hash != expected_prev {
                Some("its link to the entry before does not match".to_string())
            } else if digest(
                &prev_hash,
                id,
                at,
                &provider,
                &model,
                chars as u64,
                &redacted,
            ) != hash
            {
                Some("its contents do not match its hash (edited)".to_string())
            } else {
                None
            };
            if let Some(reason) = broken {
                return Ok(AuditVerdict {
                    entries,
                    broken: Some((id, reason)),
                });
            }
            entries += 1;
            expected_id += 1;
            expected_prev = hash;
        }
        Ok(AuditVerdict {
            entries,
            broken: None,
        })
    }
}
