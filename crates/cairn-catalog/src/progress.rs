//! A download's progress: bytes done of the total, the rate, and the time left at that rate.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Reports come at most this often, and once more when the file is whole.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// Where a download stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DownloadProgress {
    /// Bytes of the file on disk, a resumed part included.
    pub done: u64,
    /// The file's size.
    pub total: u64,
    /// Bytes a second received in this run (a resumed part does not count).
    pub bytes_per_second: f64,
    /// Seconds left at that rate; `None` until something has arrived.
    pub eta_seconds: Option<f64>,
}

/// Turns bytes received into [`DownloadProgress`] reports, at most every [`REPORT_INTERVAL`].
pub(crate) struct Meter {
    total: u64,
    resumed_from: u64,
    started: Instant,
    last_report: Option<Instant>,
}

impl Meter {
    /// A meter for a file of `total` bytes of which `resumed_from` were already on disk.
    pub(crate) fn new(total: u64, resumed_from: u64) -> Meter {
        Meter {
            total,
            resumed_from,
            started: Instant::now(),
            last_report: None,
        }
    }

    /// The report for `done` bytes, if one is due (always when `done` is the total).
    pub(crate) fn tick(&mut self, done: u64) -> Option<DownloadProgress> {
        let now = Instant::now();
        let due = done >= self.total
            || self
                .last_report
                .is_none_or(|last| now.duration_since(last) >= REPORT_INTERVAL);
        if !due {
            return None;
        }
        self.last_report = Some(now);
        Some(self.progress(done, now))
    }

    fn progress(&self, done: u64, now: Instant) -> DownloadProgress {
        let received = done.saturating_sub(self.resumed_from);
        let seconds = now.duration_since(self.started).as_secs_f64();
        let rate = if seconds > 0.0 {
            received as f64 / seconds
        } else {
            0.0
        };
        DownloadProgress {
            done,
            total: self.total,
            bytes_per_second: rate,
            eta_seconds: (rate > 0.0).then(|| self.total.saturating_sub(done) as f64 / rate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_only_this_runs_bytes_and_the_eta_follows_it() {
        let mut meter = Meter::new(1000, 400);
        let first = meter.tick(400).unwrap();
        assert_eq!(first.done, 400);
        assert_eq!(first.eta_seconds, None, "nothing has arrived yet");
        assert!(meter.tick(500).is_none(), "too soon after the last report");
        std::thread::sleep(Duration::from_millis(120));
        let later = meter.tick(700).unwrap();
        assert!(later.bytes_per_second > 0.0);
        // 300 bytes in about 0.12 s: the remaining 300 take about as long again.
        let eta = later.eta_seconds.unwrap();
        assert!(eta > 0.05 && eta < 1.0, "{eta}");
        assert_eq!(
            meter.tick(1000).unwrap().done,
            1000,
            "the last report always comes"
        );
    }
}
