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
        let mine = job(0);
        // Spin briefly; then yield, so a helper that the OS has not scheduled (a busy machine) gets
        // the core instead of this thread burning it.
        let mut spins = 0u32;
        while s.pending.load(Ordering::Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins < 4096 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let mut results = std::mem::take(&mut *lock(&s.results));
        results.sort_by_key(|(part, _)| *part);
        std::iter::once(mine)
            .chain(results.into_iter().map(|(_, r)| r))
            .collect()
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
