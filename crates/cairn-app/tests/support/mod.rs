//! What the app's integration tests share: the recorder of its progress events.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cairn_app::Events;
use cairn_app::api::{IngestUpdate, JobState};

/// Collects the app's progress events.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<IngestUpdate>>);

impl Events for Recorder {
    fn ingest(&self, update: &IngestUpdate) {
        self.0.lock().unwrap().push(update.clone());
    }
}

impl Recorder {
    pub fn updates(&self, job: u32) -> Vec<IngestUpdate> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|u| u.job == job)
            .cloned()
            .collect()
    }

    /// Waits for the job's last update (finished, cancelled or failed).
    pub async fn end_of(&self, job: u32) -> IngestUpdate {
        let started = Instant::now();
        loop {
            if let Some(end) = self.updates(job).into_iter().find(|u| {
                matches!(
                    u.state,
                    JobState::Finished | JobState::Cancelled | JobState::Failed
                )
            }) {
                return end;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "job {job} did not end"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
