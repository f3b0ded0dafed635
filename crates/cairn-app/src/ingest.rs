//! Indexing jobs. One job runs at a time (they write the same index) and the rest wait in order;
//! cancelling stops the running job after its current batch and drops the waiting ones. Progress is
//! gathered and sent at most every [`UPDATE_INTERVAL`], so a folder of thousands of files never
//! floods the UI with events.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cairn_engine::{CancelToken, FileStatus, Progress, Stage};

use crate::api::{ApiError, FileState, FileUpdate, IngestUpdate, JobKind, JobState, JobTicket};
use crate::{Events, LibrarySlot};

/// The longest time between two progress events of a running job.
pub const UPDATE_INTERVAL: Duration = Duration::from_millis(100);

/// Completions the pace (and so the ETA) is measured over.
const PACE_WINDOW: usize = 64;

/// The most file changes one progress event carries; more wait for the next tick. A folder of
/// thousands of files is announced over a few ticks instead of in one event whose handling would
/// hold up the window's frames.
pub const MAX_FILES_PER_UPDATE: usize = 250;

/// A job waiting its turn.
#[derive(Clone)]
struct Job {
    id: u32,
    kind: JobKind,
    /// What the person sees the job is about.
    paths: Vec<String>,
    /// What it works on: the same paths, or for a sync the changed files and folders.
    targets: Vec<String>,
    collection: String,
}

/// The most changed paths a waiting sync job gathers; past it, it syncs its watched folders whole.
const MAX_SYNC_TARGETS: usize = 1000;

struct Running {
    cancel: CancelToken,
    tracker: Arc<Mutex<Tracker>>,
}

#[derive(Default)]
struct State {
    next_job: u32,
    queue: VecDeque<Job>,
    running: Option<Running>,
    worker: bool,
}

/// The job queue and its one worker.
pub(crate) struct Ingest {
    state: Mutex<State>,
    events: Arc<dyn Events>,
    library: LibrarySlot,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind, still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Ingest {
    pub(crate) fn new(events: Arc<dyn Events>, library: LibrarySlot) -> Arc<Ingest> {
        Arc::new(Ingest {
            state: Mutex::new(State {
                next_job: 1,
                ..State::default()
            }),
            events,
            library,
        })
    }

    /// Queues a job, starting the worker if it is idle.
    pub(crate) fn submit(
        self: &Arc<Self>,
        kind: JobKind,
        paths: Vec<String>,
        collection: String,
    ) -> JobTicket {
        self.enqueue(kind, paths.clone(), paths, collection)
    }

    /// Queues the changes of watched folders (`folders`: the watched folders they are in). A
    /// sync of the same collection still waiting takes them instead of a new job.
    pub(crate) fn submit_sync(
        self: &Arc<Self>,
        folders: Vec<String>,
        changed: Vec<String>,
        collection: String,
    ) -> JobTicket {
        {
            let mut state = lock(&self.state);
            let running = u32::from(state.running.is_some());
            if let Some((position, waiting)) = state
                .queue
                .iter_mut()
                .enumerate()
                .rev()
                .find(|(_, j)| j.kind == JobKind::Sync && j.collection == collection)
            {
                for folder in folders {
                    if !waiting.paths.contains(&folder) {
                        waiting.paths.push(folder);
                    }
                }
                waiting.targets.extend(changed);
                waiting.targets.sort();
                waiting.targets.dedup();
                if waiting.targets.len() > MAX_SYNC_TARGETS {
                    waiting.targets = waiting.paths.clone();
                }
                return JobTicket {
                    job: waiting.id,
                    ahead: position as u32 + running,
                };
            }
        }
        self.enqueue(JobKind::Sync, folders, changed, collection)
    }

    fn enqueue(
        self: &Arc<Self>,
        kind: JobKind,
        paths: Vec<String>,
        targets: Vec<String>,
        collection: String,
    ) -> JobTicket {
        let (ticket, update, start_worker) = {
            let mut state = lock(&self.state);
            let id = state.next_job;
            state.next_job += 1;
            let ahead = state.queue.len() as u32 + u32::from(state.running.is_some());
            let update = waiting_update(id, kind, &collection, &paths, JobState::Queued);
            state.queue.push_back(Job {
                id,
                kind,
                paths,
                targets,
                collection,
            });
            let start_worker = !state.worker;
            state.worker = true;
            (JobTicket { job: id, ahead }, update, start_worker)
        };
        self.events.ingest(&update);
        if start_worker {
            tokio::spawn(self.clone().work());
        }
        ticket
    }

    /// Stops the running job after its current batch and drops the waiting ones.
    pub(crate) fn cancel_all(&self) {
        let dropped: Vec<Job> = {
            let mut state = lock(&self.state);
            if let Some(running) = &state.running {
                running.cancel.cancel();
            }
            state.queue.drain(..).collect()
        };
        for job in dropped {
            self.events.ingest(&waiting_update(
                job.id,
                job.kind,
                &job.collection,
                &job.paths,
                JobState::Cancelled,
            ));
        }
    }

    /// Whether a job is running or waiting.
    pub(crate) fn is_busy(&self) -> bool {
        let state = lock(&self.state);
        state.worker || state.running.is_some() || !state.queue.is_empty()
    }

    /// The running job's progress (without per-file changes), for a UI that opens mid-job.
    pub(crate) fn status(&self) -> Option<IngestUpdate> {
        let state = lock(&self.state);
        let queued = state.queue.len() as u32;
        let running = state.running.as_ref()?;
        let tracker = lock(&running.tracker);
        Some(tracker.update(Vec::new(), queued))
    }

    fn queued_jobs(&self) -> u32 {
        lock(&self.state).queue.len() as u32
    }

    /// The worker: runs queued jobs in order until none is left.
    async fn work(self: Arc<Self>) {
        loop {
            let (job, cancel, tracker) = {
                let mut state = lock(&self.state);
                let Some(job) = state.queue.pop_front() else {
                    state.worker = false;
                    return;
                };
                let tracker = Arc::new(Mutex::new(Tracker::new(&job)));
                let cancel = CancelToken::new();
                state.running = Some(Running {
                    cancel: cancel.clone(),
                    tracker: tracker.clone(),
                });
                (job, cancel, tracker)
            };
            // Run as a task of its own: a panic inside the job fails that job, and the queue
            // goes on with the next one instead of waiting for a worker that is gone.
            let result = {
                let (ingest, cancel, tracker) = (self.clone(), cancel.clone(), tracker.clone());
                let task = job.clone();
                match tokio::spawn(async move { ingest.run(&task, &cancel, &tracker).await }).await
                {
                    Ok(result) => result,
                    Err(stopped) => {
                        tracing::error!(job = job.id, "an indexing job stopped: {stopped}");
                        Err(ApiError::from(stopped))
                    }
                }
            };
            let queued = self.queued_jobs();
            let final_update = {
                let mut tracker = lock(&tracker);
                tracker.finish(result, cancel.is_cancelled());
                let files = tracker.drain(usize::MAX);
                tracker.update(files, queued)
            };
            lock(&self.state).running = None;
            self.events.ingest(&final_update);
        }
    }

    async fn run(
        self: &Arc<Self>,
        job: &Job,
        cancel: &CancelToken,
        tracker: &Arc<Mutex<Tracker>>,
    ) -> Result<(), ApiError> {
        let library = self
            .library
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        let queued = self.queued_jobs();
        let first = lock(tracker).update(Vec::new(), queued);
        self.events.ingest(&first);

        // The flusher sends what changed, at most every UPDATE_INTERVAL, until the job ends.
        let flusher = {
            let tracker = tracker.clone();
            let ingest = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(UPDATE_INTERVAL);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    // The queue's lock is never taken while holding the tracker's (`status`
                    // takes them in the other order).
                    let queued = ingest.queued_jobs();
                    let update = {
                        let mut tracker = lock(&tracker);
                        if !tracker.dirty {
                            continue;
                        }
                        let files = tracker.drain(MAX_FILES_PER_UPDATE);
                        tracker.update(files, queued)
                    };
                    ingest.events.ingest(&update);
                }
            })
        };
        // Stopped however the job ends, a panic included.
        let flusher = AbortOnDrop(flusher);
        let targets: Vec<PathBuf> = job.targets.iter().map(PathBuf::from).collect();
        let on_progress = |p: Progress| lock(tracker).apply(p);
        let collection = &job.collection;
        let result = match job.kind {
            JobKind::Add => {
                library
                    .add(&targets, collection, &on_progress, cancel)
                    .await
            }
            // Read again even if unchanged; a file that now fails keeps its passages.
            JobKind::Reindex => {
                library
                    .reread(&targets, collection, &on_progress, cancel)
                    .await
            }
            JobKind::Retry => {
                library
                    .retry(&targets, collection, &on_progress, cancel)
                    .await
            }
            JobKind::Sync => {
                library
                    .sync(&targets, collection, &on_progress, cancel)
                    .await
            }
        };
        drop(flusher);
        result.map(drop).map_err(ApiError::from)
    }
}

/// A task that is aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn waiting_update(
    job: u32,
    kind: JobKind,
    collection: &str,
    paths: &[String],
    state: JobState,
) -> IngestUpdate {
    IngestUpdate {
        job,
        kind,
        collection: collection.to_string(),
        state,
        paths: paths.to_vec(),
        total: 0,
        done: 0,
        failed: 0,
        eta_secs: None,
        files: Vec::new(),
        queued_jobs: 0,
        waiting_for: None,
        error: None,
    }
}

/// A running job's counts and the file changes not yet sent.
struct Tracker {
    job: u32,
    kind: JobKind,
    collection: String,
    paths: Vec<String>,
    state: JobState,
    total: u32,
    done: u32,
    failed: u32,
    /// Whom the job waits for, while another writer holds the library.
    waiting_for: Option<String>,
    error: Option<ApiError>,
    /// Files discovered and not finished, in order: cancelled ones are reported at the end.
    open: Vec<String>,
    pending: Vec<FileUpdate>,
    dirty: bool,
    /// When the latest files that were read (not skipped as unchanged) were done.
    pace: VecDeque<Instant>,
}

impl Tracker {
    fn new(job: &Job) -> Tracker {
        Tracker {
            job: job.id,
            kind: job.kind,
            collection: job.collection.clone(),
            paths: job.paths.clone(),
            state: JobState::Running,
            total: 0,
            done: 0,
            failed: 0,
            waiting_for: None,
            error: None,
            open: Vec::new(),
            pending: Vec::new(),
            dirty: true,
            pace: VecDeque::new(),
        }
    }

    fn push(&mut self, path: String, state: FileState) -> &mut FileUpdate {
        self.dirty = true;
        self.pending.push(FileUpdate {
            path,
            state,
            chunks: None,
            chunks_total: None,
            eta_seconds: None,
            pages_read: None,
            pages_total: None,
            ocr: false,
            code: None,
            reason: None,
        });
        self.pending.last_mut().expect("just pushed")
    }

    fn apply(&mut self, progress: Progress) {
        // Any other event means the write lock was taken.
        self.waiting_for = None;
        match progress {
            Progress::Waiting { holder } => {
                self.waiting_for = Some(holder.map_or_else(
                    || "another program is writing to this library".to_string(),
                    |h| h.to_string(),
                ));
                self.dirty = true;
            }
            Progress::Discovered { files, paths } => {
                self.total += files as u32;
                for path in paths {
                    self.open.push(path.clone());
                    self.push(path, FileState::Queued);
                }
            }
            Progress::Stage { path, stage } => {
                let state = match stage {
                    Stage::Parsing => FileState::Parsing,
                    Stage::Embedding => FileState::Embedding,
                    Stage::Writing => FileState::Writing,
                };
                self.push(path, state);
            }
            Progress::Pages {
                path,
                done,
                total,
                ocr,
            } => {
                let update = self.push(path, FileState::Parsing);
                update.pages_read = Some(done);
                update.pages_total = Some(total);
                update.ocr = ocr;
            }
            Progress::Passages {
                path,
                done,
                total,
                eta_seconds,
            } => {
                let update = self.push(path, FileState::Embedding);
                update.chunks = Some(done as u32);
                update.chunks_total = Some(total as u32);
                update.eta_seconds = eta_seconds.map(|s| s.min(u32::MAX as u64) as u32);
            }
            Progress::Finished(outcome) => {
                if let Some(i) = self.open.iter().position(|p| *p == outcome.path) {
                    self.open.swap_remove(i);
                }
                let counted = !matches!(outcome.status, FileStatus::Removed);
                if counted {
                    self.done += 1;
                }
                // Only files that were read set the pace: a resumed job skips what it already
                // did in milliseconds each, which says nothing of the time the rest will take.
                let read = match &outcome.status {
                    FileStatus::Indexed { .. } => true,
                    FileStatus::Failed { code, .. } => code != "quarantined",
                    FileStatus::Unchanged | FileStatus::Removed => false,
                };
                if read {
                    self.pace.push_back(Instant::now());
                    if self.pace.len() > PACE_WINDOW {
                        self.pace.pop_front();
                    }
                }
                let update = match outcome.status {
                    FileStatus::Indexed { chunks, .. } => {
                        let u = self.push(outcome.path, FileState::Indexed);
                        u.chunks = Some(chunks as u32);
                        u
                    }
                    FileStatus::Unchanged => self.push(outcome.path, FileState::Unchanged),
                    FileStatus::Removed => self.push(outcome.path, FileState::Removed),
                    FileStatus::Failed { code, reason } => {
                        self.failed += 1;
                        let u = self.push(outcome.path, FileState::Failed);
                        u.code = Some(code);
                        u.reason = Some(reason);
                        u
                    }
                };
                if !outcome.warnings.is_empty() && update.reason.is_none() {
                    update.reason = Some(outcome.warnings.join("; "));
                }
            }
        }
    }

    /// Seconds left at the pace of the latest completions.
    fn eta(&self) -> Option<f64> {
        if self.pace.len() < 4 || self.done >= self.total {
            return None;
        }
        let span = self.pace.back()?.duration_since(*self.pace.front()?);
        let per_file = span.as_secs_f64() / (self.pace.len() - 1) as f64;
        Some(per_file * f64::from(self.total - self.done))
    }

    fn finish(&mut self, result: Result<(), ApiError>, cancelled: bool) {
        self.state = match (&result, cancelled) {
            (Err(_), _) => JobState::Failed,
            (Ok(()), true) => JobState::Cancelled,
            (Ok(()), false) => JobState::Finished,
        };
        self.error = result.err();
        // Files discovered but never finished: left for the next run.
        for path in std::mem::take(&mut self.open) {
            self.push(path, FileState::Cancelled);
        }
        self.dirty = true;
    }

    /// The oldest `limit` changes not yet sent; the rest stay for the next update.
    fn drain(&mut self, limit: usize) -> Vec<FileUpdate> {
        let rest = self.pending.split_off(limit.min(self.pending.len()));
        let files = std::mem::replace(&mut self.pending, rest);
        self.dirty = !self.pending.is_empty();
        files
    }

    fn update(&self, files: Vec<FileUpdate>, queued_jobs: u32) -> IngestUpdate {
        IngestUpdate {
            job: self.job,
            kind: self.kind,
            collection: self.collection.clone(),
            state: self.state,
            paths: self.paths.clone(),
            total: self.total,
            done: self.done,
            failed: self.failed,
            eta_secs: self.eta(),
            files,
            queued_jobs,
            waiting_for: self.waiting_for.clone(),
            error: self.error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_engine::FileOutcome;

    fn job() -> Job {
        Job {
            id: 7,
            kind: JobKind::Add,
            paths: vec!["/docs".into()],
            targets: vec!["/docs".into()],
            collection: "default".into(),
        }
    }

    fn finished(path: &str, status: FileStatus) -> Progress {
        Progress::Finished(FileOutcome {
            path: path.into(),
            status,
            warnings: Vec::new(),
        })
    }

    #[test]
    fn counts_and_states_follow_the_engine_progress() {
        let mut t = Tracker::new(&job());
        t.apply(Progress::Discovered {
            files: 3,
            paths: vec![
                "/docs/a.md".into(),
                "/docs/b.pdf".into(),
                "/docs/c.txt".into(),
            ],
        });
        t.apply(Progress::Stage {
            path: "/docs/a.md".into(),
            stage: Stage::Embedding,
        });
        t.apply(finished(
            "/docs/a.md",
            FileStatus::Indexed {
                chunks: 4,
                pages: None,
                replaced: false,
            },
        ));
        t.apply(finished(
            "/docs/b.pdf",
            FileStatus::Failed {
                code: "encrypted".into(),
                reason: "the PDF is encrypted".into(),
            },
        ));
        let files = t.drain(usize::MAX);
        let states: Vec<(&str, FileState)> =
            files.iter().map(|f| (f.path.as_str(), f.state)).collect();
        assert_eq!(
            states,
            [
                ("/docs/a.md", FileState::Queued),
                ("/docs/b.pdf", FileState::Queued),
                ("/docs/c.txt", FileState::Queued),
                ("/docs/a.md", FileState::Embedding),
                ("/docs/a.md", FileState::Indexed),
                ("/docs/b.pdf", FileState::Failed),
            ]
        );
        assert_eq!(files[4].chunks, Some(4));
        assert_eq!(files[5].reason.as_deref(), Some("the PDF is encrypted"));
        let u = t.update(Vec::new(), 0);
        assert_eq!((u.total, u.done, u.failed), (3, 2, 1));
        assert!(!t.dirty, "draining sends each change once");

        // Cancelled: the file never reached is reported as left for later.
        t.finish(Ok(()), true);
        let files = t.drain(usize::MAX);
        assert_eq!(files.len(), 1);
        assert_eq!(
            (files[0].path.as_str(), files[0].state),
            ("/docs/c.txt", FileState::Cancelled)
        );
        assert_eq!(t.update(Vec::new(), 0).state, JobState::Cancelled);
    }

    #[test]
    fn a_large_document_reports_its_passages_as_they_are_written() {
        let mut t = Tracker::new(&job());
        t.apply(Progress::Discovered {
            files: 1,
            paths: vec!["/docs/manual.pdf".into()],
        });
        for (done, total) in [(1, 3), (2, 3), (3, 3)] {
            t.apply(Progress::Pages {
                path: "/docs/manual.pdf".into(),
                done,
                total,
                ocr: done == 2,
            });
        }
        for (done, eta) in [(256, 30), (512, 10), (600, 0)] {
            t.apply(Progress::Passages {
                path: "/docs/manual.pdf".into(),
                done,
                total: 600,
                eta_seconds: Some(eta),
            });
        }
        let files = t.drain(usize::MAX);
        let pages: Vec<(FileState, Option<u32>, Option<u32>, bool)> = files
            .iter()
            .skip(1)
            .take(3)
            .map(|f| (f.state, f.pages_read, f.pages_total, f.ocr))
            .collect();
        assert_eq!(
            pages,
            [
                (FileState::Parsing, Some(1), Some(3), false),
                (FileState::Parsing, Some(2), Some(3), true),
                (FileState::Parsing, Some(3), Some(3), false),
            ]
        );
        assert!(files[4..].iter().all(|f| f.state == FileState::Embedding));
        let progress: Vec<[Option<u32>; 3]> = files[4..]
            .iter()
            .map(|f| [f.chunks, f.chunks_total, f.eta_seconds])
            .collect();
        assert_eq!(
            progress,
            [
                [Some(256), Some(600), Some(30)],
                [Some(512), Some(600), Some(10)],
                [Some(600), Some(600), Some(0)],
            ]
        );
        assert_eq!(files[0].chunks_total, None);
    }

    #[test]
    fn a_large_folder_is_announced_over_several_updates_in_order() {
        let mut t = Tracker::new(&job());
        let paths: Vec<String> = (0..600).map(|i| format!("/docs/{i:03}.md")).collect();
        t.apply(Progress::Discovered {
            files: 600,
            paths: paths.clone(),
        });
        let mut sent = Vec::new();
        while t.dirty {
            let batch = t.drain(MAX_FILES_PER_UPDATE);
            assert!(batch.len() <= MAX_FILES_PER_UPDATE);
            sent.extend(batch.into_iter().map(|f| f.path));
        }
        assert_eq!(sent, paths);
        assert_eq!(
            t.update(Vec::new(), 0).total,
            600,
            "the counts are whole at once"
        );
    }

    #[test]
    fn removed_files_do_not_count_as_done_and_eta_needs_a_pace() {
        let mut t = Tracker::new(&job());
        t.apply(Progress::Discovered {
            files: 10,
            paths: (0..10).map(|i| format!("/docs/{i}.md")).collect(),
        });
        t.apply(finished("/docs/gone.md", FileStatus::Removed));
        assert_eq!(t.done, 0);
        assert_eq!(t.eta(), None);
        for i in 0..5 {
            t.apply(finished(&format!("/docs/{i}.md"), FileStatus::Unchanged));
        }
        assert_eq!(t.done, 5);
        assert_eq!(t.eta(), None, "files skipped as unchanged set no pace");
        t.finish(Err(ApiError::new("index", "disk full")), false);
        let u = t.update(Vec::new(), 0);
        assert_eq!(u.state, JobState::Failed);
        assert_eq!(u.error.unwrap().message, "disk full");
    }

    /// A resumed job: the files a killed run already did go by in a blink, the rest take their
    /// time. The estimate follows the files actually read.
    #[test]
    fn a_resumed_job_estimates_from_the_files_it_reads() {
        let mut t = Tracker::new(&job());
        t.apply(Progress::Discovered {
            files: 20,
            paths: (0..20).map(|i| format!("/docs/{i}.md")).collect(),
        });
        for i in 0..10 {
            t.apply(finished(&format!("/docs/{i}.md"), FileStatus::Unchanged));
        }
        let indexed = FileStatus::Indexed {
            chunks: 1,
            pages: None,
            replaced: false,
        };
        for i in 10..15 {
            std::thread::sleep(Duration::from_millis(20));
            t.apply(finished(&format!("/docs/{i}.md"), indexed.clone()));
        }
        let eta = t.eta().expect("five files read give a pace");
        // Five left at 20 ms or more each; counting the skipped files would make it ~0.03 s.
        assert!(eta >= 0.09, "{eta}");
    }
}
