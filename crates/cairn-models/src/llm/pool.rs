//! A small spinning thread pool for decoding.
//!
//! Generating one token runs about 120 matrix-vector products of a few hundred microseconds each.
//! A pool whose threads sleep between jobs (rayon's) pays a wake-up per product; measured here, the
//! kernel's scheduler took 16% of decode time. These helpers spin on a generation counter while
//! jobs keep coming, and sleep only after a millisecond without one, as llama.cpp's threads do.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Part `i` of a job, run on its own thread.
pub(crate) type Job = Arc<dyn Fn(usize) -> Vec<f32> + Send + Sync>;

struct Shared {
    generation: AtomicU64,
    pending: AtomicUsize,
    job: Mutex<Option<Job>>,
    results: Mutex<Vec<(usize, Vec<f32>)>>,
    stop: AtomicBool,
}

/// Helper threads that run parts `1..=helpers` of each job while the caller runs part 0.
pub(crate) struct SpinPool {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
}

/// How long a helper spins without work before it starts sleeping between checks.
const SPIN: Duration = Duration::from_millis(2);

impl SpinPool {
    pub(crate) fn new(helpers: usize) -> SpinPool {
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            job: Mutex::new(None),
            results: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let helpers = (1..=helpers)
            .map(|part| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("cairn-decode-{part}"))
                    .spawn(move || helper(&shared, part))
                    .expect("spawn a decode thread")
            })
            .collect();
        SpinPool { shared, helpers }
    }

    /// Parts per job: the caller and each helper.
    pub(crate) fn parts(&self) -> usize {
        self.helpers.len() + 1
    }

    /// Runs every part of `job`, returning the results in part order.
    pub(crate) fn run(&self, job: Job) -> Vec<Vec<f32>> {
        if self.helpers.is_empty() {
            return vec![job(0)];
        }
        let s = &self.shared;
        *lock(&s.job) = Some(job.clone());
        s.pending.store(self.helpers.len(), Ordering::Release);
        s.generation.fetch_add(1, Ordering::AcqRel);
        let finished = Finished(s);
        let mine = job(0);
        drop(finished);
        let mut results = std::mem::take(&mut *lock(&s.results));
        results.sort_by_key(|(part, _)| *part);
        std::iter::once(mine)
            .chain(results.into_iter().map(|(_, r)| r))
            .collect()
    }
}

impl SpinPool {
    /// [`SpinPool::run`] for a job that borrows from the caller: it returns only after every
    /// helper has finished its part and the pool has let go of the job.
    pub(crate) fn run_scoped<'a>(
        &self,
        job: &'a (dyn Fn(usize) -> Vec<f32> + Sync + 'a),
    ) -> Vec<Vec<f32>> {
        let borrowed: Arc<dyn Fn(usize) -> Vec<f32> + Send + Sync + 'a> = Arc::new(job);
        // SAFETY: only the lifetime changes. The pool calls the job only inside `run`, which
        // returns (or unwinds, through `Finished`) after every helper has finished its part and
        // dropped its handle, and after the job slot is emptied; `borrowed`, the last handle, is
        // dropped here, within `'a`.
        #[allow(unsafe_code)]
        let job: Job = unsafe {
            std::mem::transmute::<Arc<dyn Fn(usize) -> Vec<f32> + Send + Sync + 'a>, Job>(borrowed)
        };
        self.run(job)
    }
}

/// Waits, when dropped (also while a panic unwinds), until every helper has finished the current
/// job, and empties the job slot: after it, no thread holds the job.
struct Finished<'a>(&'a Shared);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let s = self.0;
        // Spin briefly; then yield, so a helper that the OS has not scheduled (a busy machine)
        // gets the core instead of this thread burning it.
        let mut spins = 0u32;
        while s.pending.load(Ordering::Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins < 4096 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        *lock(&s.job) = None;
    }
}

impl Drop for SpinPool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}

fn helper(s: &Shared, part: usize) {
    let mut seen = 0;
    loop {
        let idle_since = Instant::now();
        let mut spins = 0u32;
        loop {
            let generation = s.generation.load(Ordering::Acquire);
            if generation != seen {
                seen = generation;
                break;
            }
            if s.stop.load(Ordering::Acquire) {
                return;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) && idle_since.elapsed() > SPIN {
                std::thread::sleep(Duration::from_micros(200));
            } else if spins.is_multiple_of(256) {
                // Let other runnable threads in; with none waiting this returns at once.
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        let job = lock(&s.job).clone();
        if let Some(job) = job {
            let result = job(part);
            lock(&s.results).push((part, result));
        }
        s.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A poisoned lock only means a job panicked; the data is still whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_job_reads_the_callers_data_and_the_pool_lets_go_of_it() {
        let pool = SpinPool::new(1);
        for round in 0..100 {
            let data: Vec<f32> = (0..10).map(|i| (i * round) as f32).collect();
            let job = |part: usize| data[part * 5..part * 5 + 5].to_vec();
            let out = pool.run_scoped(&job);
            assert_eq!(out.concat(), data);
            assert!(
                lock(&pool.shared.job).is_none(),
                "the pool still holds the job"
            );
        }
    }

    #[test]
    fn every_part_runs_once_and_results_come_back_in_order() {
        let pool = SpinPool::new(2);
        for round in 0..200 {
            let job: Job = Arc::new(move |part| vec![(round * 10 + part) as f32]);
            let out = pool.run(job);
            assert_eq!(
                out,
                vec![
                    vec![(round * 10) as f32],
                    vec![(round * 10 + 1) as f32],
                    vec![(round * 10 + 2) as f32]
                ]
            );
        }
    }
}
