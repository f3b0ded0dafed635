//! The library as other AI tools see it (through `cairn mcp`): only the collections the person
//! shared, documents read back as their passages, and every call on the audit log.

use std::collections::BTreeMap;
use std::path::Path;

use cairn_index::Passage;

use crate::config::DEFAULT_COLLECTION;
use crate::error::{Error, Result};
use crate::library::Library;

/// How other tools' calls are named in the audit log: `mcp:<client name>`.
pub const TOOL_PROVIDER: &str = "mcp:";

impl Library {
    /// The collections other AI tools may read.
    pub fn tool_collections(&self) -> Result<Vec<String>> {
        Ok(self.store.tool_collections()?)
    }

    /// Records that a server for other tools was turned on. The first time, the default
    /// collection is shared with them (now, or when it is made); every other collection stays
    /// private until shared, and one the person stopped sharing stays so. Whether this was the
    /// first time.
    pub fn share_default_with_tools(&self) -> Result<bool> {
        Ok(self.store.start_tool_server(DEFAULT_COLLECTION)?)
    }

    /// The last `n` calls of other AI tools, oldest first (from the audit log).
    pub fn tool_calls(&self, n: usize) -> Result<Vec<cairn_store::AuditEntry>> {
        Ok(self.store.audit_entries_of(TOOL_PROVIDER, n)?)
    }

    /// Lets other AI tools read `collection`, or stops them.
    pub fn share_with_tools(&self, collection: &str, shared: bool) -> Result<()> {
        if self.store.share_with_tools(collection, shared)? {
            Ok(())
        } else {
            Err(Error::NoSuchCollection(collection.to_string()))
        }
    }

    /// A document's passages in order, found by its path (or, when that is unique, its file name).
    pub async fn document_passages(&self, collection: &str, path: &str) -> Result<Vec<Passage>> {
        let documents = self.store.documents(Some(collection))?;
        let mut matching: Vec<_> = documents.iter().filter(|d| d.path == path).collect();
        if matching.is_empty() {
            matching = documents
                .iter()
                .filter(|d| Path::new(&d.path).file_name().is_some_and(|n| n == path))
                .collect();
        }
        let document = match matching.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::InvalidInput(format!(
                    "there is no document '{path}' in '{collection}'"
                )));
            }
            several => {
                return Err(Error::InvalidInput(format!(
                    "'{path}' names {} documents in '{collection}': give the whole path",
                    several.len()
                )));
            }
        };
        let index = self.index_of(collection).await?;
        let Some(stamp) = index.stamp(collection).await? else {
            return Ok(Vec::new());
        };
        let index = index.collection(collection, &stamp).await?;
        let mut passages: Vec<Passage> = index
            .document_rows(document.id)
            .await?
            .into_iter()
            .map(|row| row.passage)
            .collect();
        passages.sort_by_key(|p| p.ordinal);
        Ok(passages)
    }

    /// Records a call of another tool in the audit log: the client, the tool, the characters
    /// returned and the personal data replaced in them (counts and types, never text).
    pub fn record_tool_call(
        &self,
        client: &str,
        tool: &str,
        chars: u64,
        redacted: &BTreeMap<String, u64>,
    ) -> Result<()> {
        self.store
            .append_audit(&format!("{TOOL_PROVIDER}{client}"), tool, chars, redacted)?;
        Ok(())
    }
}
