//! A model held in memory while it is used: loaded on first use, taken out again once it has not
//! been used for a while (`models.unload_after_secs`), so a library left open — the app at rest —
//! holds little memory. A model in use (an answer being written holds its `Arc`) is never taken
//! out; the next use after it was loads it again.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::Result;

/// One model's slot.
pub(crate) struct Resident<T: ?Sized> {
    slot: Mutex<Option<Held<T>>>,
}

struct Held<T: ?Sized> {
    value: Arc<T>,
    last_used: Instant,
}

impl<T: ?Sized> Default for Resident<T> {
    fn default() -> Self {
        Resident {
            slot: Mutex::new(None),
        }
    }
}

impl<T: ?Sized> Resident<T> {
    fn slot(&self) -> MutexGuard<'_, Option<Held<T>>> {
        // A panic while loading leaves the slot as it was: empty or holding a whole model.
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The model, loaded by `load` when it is not in memory. It loads under the slot's lock, so
    /// two callers never load it twice.
    pub(crate) fn get_or_load(&self, load: impl FnOnce() -> Result<Arc<T>>) -> Result<Arc<T>> {
        let mut slot = self.slot();
        let now = Instant::now();
        if let Some(held) = slot.as_mut() {
            held.last_used = now;
            return Ok(held.value.clone());
        }
        let value = load()?;
        *slot = Some(Held {
            value: value.clone(),
            last_used: now,
        });
        Ok(value)
    }

    /// Whether it is in memory now.
    pub(crate) fn is_loaded(&self) -> bool {
        self.slot().is_some()
    }

    /// Takes it out of memory when it was last asked for `idle` or longer before `now` and no
    /// one holds it. Whether it did.
    pub(crate) fn unload_if_idle(&self, idle: Duration, now: Instant) -> bool {
        let mut slot = self.slot();
        let unused = slot.as_ref().is_some_and(|held| {
            now.saturating_duration_since(held.last_used) >= idle
                && Arc::strong_count(&held.value) == 1
        });
        if unused {
            *slot = None;
        }
        unused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_once_and_goes_only_when_idle_and_unheld() {
        let resident: Resident<String> = Resident::default();
        let loads = std::cell::Cell::new(0);
        let load = || {
            loads.set(loads.get() + 1);
            Ok(Arc::new("model".to_string()))
        };
        let held = resident.get_or_load(load).unwrap();
        resident.get_or_load(load).unwrap();
        assert_eq!(loads.get(), 1);
        let later = Instant::now() + Duration::from_secs(600);
        assert!(
            !resident.unload_if_idle(Duration::from_secs(300), later),
            "held by a caller"
        );
        drop(held);
        assert!(!resident.unload_if_idle(Duration::from_secs(300), Instant::now()));
        assert!(resident.is_loaded());
        assert!(resident.unload_if_idle(Duration::from_secs(300), later));
        assert!(!resident.is_loaded());
        resident.get_or_load(load).unwrap();
        assert_eq!(loads.get(), 2, "loaded again on its next use");
    }

    #[test]
    fn a_failed_load_leaves_it_empty() {
        let resident: Resident<String> = Resident::default();
        let failed =
            resident.get_or_load(|| Err(crate::error::Error::InvalidInput("no such file".into())));
        assert!(failed.is_err());
        assert!(!resident.is_loaded());
    }
}
