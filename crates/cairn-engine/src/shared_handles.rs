//! What a [`Library`](crate::Library) keeps for its shared collections while it is open: the
//! connections to their stores, and the offline copies catching up in the background. Apart from
//! `shared.rs` and `offline_copy.rs`, which use them, so that `library.rs` holds them without
//! importing the files that work on a library.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use cairn_index::Index;

/// The open connections to shared collections' stores, by collection name.
#[derive(Default)]
pub(crate) struct SharedIndexes(Mutex<HashMap<String, Index>>);

impl SharedIndexes {
    pub(crate) fn get(&self, collection: &str) -> Option<Index> {
        self.lock().get(collection).cloned()
    }

    pub(crate) fn insert(&self, collection: &str, index: Index) {
        self.lock().insert(collection.to_string(), index);
    }

    pub(crate) fn forget(&self, collection: &str) {
        self.lock().remove(collection);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Index>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Collections whose copy is catching up in the background now.
#[derive(Default, Clone)]
pub(crate) struct CatchingUp(Arc<Mutex<HashSet<String>>>);

impl CatchingUp {
    /// Marks `collection` as catching up; false if it already is.
    pub(crate) fn start(&self, collection: &str) -> bool {
        self.lock().insert(collection.to_string())
    }

    pub(crate) fn finish(&self, collection: &str) {
        self.lock().remove(collection);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
