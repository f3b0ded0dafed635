#!/usr/bin/env node
// Measures the desktop app: time to a usable window, idle memory, and UI responsiveness while
// indexing many documents, then while a burst of changes in that (watched) folder is synced. It
// measures; it asserts nothing (exit 0 unless it cannot run).
//
//   node tests/app/perf.mjs PATH_TO_APP_BINARY [--docs 1000] [--launches 3] [--burst 10000]
//                           [--json OUT.json]
//
// Prints a Markdown table on stdout (progress on stderr). See README.md.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { descendants, launchApp, makeTempDir, processMemory, removeTempDir, startXvfb }
  from './harness.mjs';
import { sleep, waitFor } from './webdriver.mjs';

// ---------------------------------------------------------------------------------------------
// Arguments

function usage(msg) {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write('usage: node tests/app/perf.mjs PATH_TO_APP_BINARY [--docs N] ' +
    '[--launches N] [--burst N] [--json OUT.json] [--index-timeout-min M] [--no-clicks]\n');
  process.exit(2);
}
const argv = process.argv.slice(2);
const opts = { docs: 1000, launches: 3, burst: 10000, json: null, indexTimeoutMin: 30, app: null,
  clicks: true };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
  if (a === '--docs') opts.docs = Number(val());
  else if (a === '--launches') opts.launches = Number(val());
  else if (a === '--burst') opts.burst = Number(val());
  else if (a === '--json') opts.json = path.resolve(val());
  else if (a === '--index-timeout-min') opts.indexTimeoutMin = Number(val());
  else if (a === '--no-clicks') opts.clicks = false;
  else if (a === '-h' || a === '--help') usage();
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (!opts.app) opts.app = a;
  else usage(`unexpected argument ${a}`);
}
if (!opts.app) usage();
if (!(opts.docs >= 1) || !(opts.launches >= 1)) usage('--docs and --launches must be >= 1');
if (!(Number.isInteger(opts.burst) && opts.burst >= 0)) usage('--burst must be an integer >= 0');

const log = (msg) => process.stderr.write(`[perf ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
const round = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? null
  : Math.round(x * 10 ** d) / 10 ** d);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Nearest-rank percentile. */
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

// ---------------------------------------------------------------------------------------------
// Deterministic documents

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUBJECTS = ['the harbour board', 'the survey team', 'the parish council', 'our workshop',
  'the night shift', 'the county archive', 'the river trust', 'the orchard cooperative',
  'the signal crew', 'the school governors', 'the ferry company', 'the weather station'];
const OBJECTS = ['the north pier', 'a granite culvert', 'the pump house', 'the tide gauge',
  'a hedge of hawthorn', 'the old mill race', 'the cider press', 'a brass chronometer',
  'the lantern room', 'the upper lock', 'the bee shelter', 'a set of ledgers'];
const VERBS = ['inspected', 'repaired', 'measured', 'recorded', 'replaced', 'surveyed',
  'catalogued', 'repainted', 'cleared', 'reinforced', 'photographed', 'recalibrated'];
const PLACES = ['Marrowby', 'Caddle Sound', 'Ashcombe', 'Little Skerrow', 'Halloway',
  'Greyhaven', 'Vennick', 'Harbourline', 'Nettlecomb', 'Aldercross'];
const TOPICS = ['Maintenance log', 'Field notes', 'Meeting minutes', 'Inventory', 'Site report',
  'Weekly summary', 'Survey findings', 'Project diary'];
const TEMPLATES = [
  (r, p) => `In ${p.year}, ${p.subject} ${p.verb} ${p.object} near ${p.place}, a job that took ${p.n} days.`,
  (r, p) => `The cost came to ${p.n * 37} pounds, about ${p.pct} percent more than the estimate agreed in ${p.month}.`,
  (r, p) => `${cap(p.subject)} noted that ${p.object} had moved ${p.n} millimetres since the previous visit.`,
  (r, p) => `A second check on ${p.day} ${p.month} found readings between ${p.n} and ${p.n + p.pct} units, which is within tolerance.`,
  (r, p) => `Nobody expected ${p.object} at ${p.place} to last ${p.n} years, yet it is still in daily use.`,
  (r, p) => `Record ${p.code} lists ${p.n} items, of which ${Math.max(1, p.n % 9)} need attention before winter.`,
  (r, p) => `According to the notes from ${p.month} ${p.year}, ${p.subject} asked for ${p.object} to be ${p.verb} again.`,
  (r, p) => `Visitors to ${p.place} often ask about ${p.object}; the short answer is that it was ${p.verb} in ${p.year}.`,
  (r, p) => `The team worked in shifts of ${1 + (p.n % 8)} hours and finished ${p.pct % 7} days ahead of plan.`,
  (r, p) => `Weather held for most of the week, with ${p.n % 30} millimetres of rain on ${p.day} ${p.month}.`,
];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];
function cap(s) {
  return s[0].toUpperCase() + s.slice(1);
}
function pick(r, xs) {
  return xs[Math.floor(r() * xs.length)];
}
function params(r) {
  return {
    subject: pick(r, SUBJECTS), object: pick(r, OBJECTS), verb: pick(r, VERBS),
    place: pick(r, PLACES), month: pick(r, MONTHS), day: 1 + Math.floor(r() * 28),
    year: 1850 + Math.floor(r() * 170), n: 2 + Math.floor(r() * 400),
    pct: 1 + Math.floor(r() * 60),
    code: `${String.fromCharCode(65 + Math.floor(r() * 26))}-${1000 + Math.floor(r() * 9000)}`,
  };
}

/** Document i: a heading, two or three sections of prose, 1–3 KB, the same for the same i. */
function makeDocument(i) {
  const r = rng(0xca1f + i * 7919);
  const target = 1024 + Math.floor(r() * 1600);
  const p0 = params(r);
  const lines = [`# ${pick(r, TOPICS)} ${i + 1}: ${cap(p0.object)} at ${p0.place}`, ''];
  let size = lines[0].length;
  let section = 0;
  while (size < target) {
    if (section === 0 || r() < 0.25) {
      section++;
      const h = `## ${pick(r, ['Background', 'What was done', 'Findings', 'Costs', 'Next steps',
        'Notes'])} (${section})`;
      lines.push(h, '');
      size += h.length + 2;
    }
    const sentences = [];
    const k = 3 + Math.floor(r() * 4);
    for (let j = 0; j < k; j++) sentences.push(pick(r, TEMPLATES)(r, params(r)));
    const para = sentences.join(' ');
    lines.push(para, '');
    size += para.length + 2;
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Measurements

const READY = "return !!document.querySelector('[data-app-ready]')";

async function measureLaunch(xvfb, n) {
  const h = await launchApp({ app: opts.app, xvfb });
  const t0 = h.sessionStartedAt;
  let t = null;
  try {
    await waitFor(async () => {
      const ok = await h.session.executeScript(READY);
      if (ok) t = performance.now();
      return ok;
    }, { timeout: 60_000, interval: 20, message: `launch ${n}: [data-app-ready] never appeared` });
  } catch (err) {
    await h.close();
    throw err;
  }
  const r = { window_usable_ms: t - t0, session_ms: h.sessionMs };
  log(`launch ${n}: window usable after ${round(r.window_usable_ms, 0)} ms ` +
    `(POST /session took ${round(r.session_ms, 0)} ms)`);
  return { h, r };
}

/** Idle memory of WebKitGTK's MiniBrowser showing a blank page, or null if it is not installed. */
async function webkitFloor(xvfb) {
  const browser = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'].find((p) => fs.existsSync(p));
  if (!browser) return null;
  const home = makeTempDir('cairn-perf-floor');
  const child = spawn(browser, ['about:blank'], {
    stdio: 'ignore',
    env: { ...process.env, DISPLAY: xvfb.display, WEBKIT_DISABLE_COMPOSITING_MODE: '1',
      XDG_CONFIG_HOME: home, XDG_DATA_HOME: home, XDG_CACHE_HOME: home },
  });
  try {
    await sleep(8000);
    const processes = [child.pid, ...descendants(child.pid)].map(processMemory)
      .filter((p) => p.rss_kb !== null);
    const sum = (k) => processes.reduce((a, p) => a + (p[k] ?? 0), 0);
    return memoryFigures({ rss_kb: sum('rss_kb'), pss_kb: sum('pss_kb'),
      pss_complete: processes.every((p) => p.pss_kb !== null), processes });
  } finally {
    child.kill('SIGTERM');
    removeTempDir(home);
  }
}

function memoryFigures(mem) {
  return {
    rss_mb: round(mem.rss_kb / 1024),
    pss_mb: round(mem.pss_kb / 1024),
    pss_complete: mem.pss_complete,
    processes: mem.processes.map((p) => ({
      pid: p.pid, name: p.name, rss_mb: round(p.rss_kb / 1024),
      pss_mb: p.pss_kb === null ? null : round(p.pss_kb / 1024),
    })),
  };
}

// A requestAnimationFrame recorder in the page. Installing it again stops the previous one and
// starts afresh (each phase gets its own frames); a stopped recorder's pending frame is dropped.
const FRAME_RECORDER = `
  if (window.__frameRecorder) window.__frameRecorder.running = false;
  const rec = window.__frameRecorder = { running: true, longtask: false };
  const frames = window.__frames = [];
  const longFrames = window.__longFrames = [];
  const longTasks = window.__longTasks = [];
  let last = null;
  const tick = (t) => {
    if (!rec.running) return;
    if (last !== null) frames.push(t - last);
    if (last !== null && t - last > 100) longFrames.push([last, t - last]);
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  if (window.__longTaskObserver === undefined) {
    window.__longTaskObserver = false;
    try {
      if ((PerformanceObserver.supportedEntryTypes || []).includes('longtask')) {
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
        }).observe({ type: 'longtask' });
        window.__longTaskObserver = true;
      }
    } catch (e) { /* not supported */ }
  }
  rec.longtask = window.__longTaskObserver;
  return rec.longtask;`;

const PROGRESS = `
  const el = document.querySelector('[data-testid=ingest-progress]');
  if (!el) return null;
  return { done: el.getAttribute('data-done'), total: el.getAttribute('data-total'),
           state: el.getAttribute('data-state'), kind: el.getAttribute('data-kind'),
           at: performance.now() };`;

const ACTIVE_STATES = ['queued', 'running'];
const ENDED_STATES = ['finished', 'cancelled', 'failed'];
const describeProgress = (p) => `${p.kind ? `${p.kind} ` : ''}${p.done}/${p.total} ${p.state}`;

async function timedClick(session, css) {
  const t = performance.now();
  try {
    await session.click(css);
    return { ms: performance.now() - t };
  } catch (err) {
    return { ms: performance.now() - t, error: err.message };
  }
}

async function clickPair(session, into) {
  into.at?.push(await session.executeScript('return performance.now()'));
  for (const css of ['[data-testid=nav-chat]', '[data-testid=nav-library]']) {
    const c = await timedClick(session, css);
    if (c.error) into.errors.push(c.error);
    else into.ms.push(c.ms);
  }
}

/**
 * What a loaded phase (indexing, the burst) is watched with: the frame recorder, started now, a
 * pair of navigation clicks every 2 s (unless --no-clicks) and the progress card's samples, taken
 * by `probeTick` from the phase's polling loop; `finishProbe` stops it and gives the figures.
 */
async function startProbe(session) {
  const longtask = await session.executeScript(FRAME_RECORDER);
  const startAt = await session.executeScript('return performance.now()');
  return { session, longtask, startAt, clicks: { ms: [], errors: [], at: [] }, samples: [],
    lastClick: performance.now() };
}

/** One poll of a phase: a click pair when one is due, then the progress card (or null). */
async function probeTick(probe) {
  if (opts.clicks && performance.now() - probe.lastClick >= 2000) {
    probe.lastClick = performance.now();
    await clickPair(probe.session, probe.clicks);
  }
  const p = await probe.session.executeScript(PROGRESS);
  if (p) probe.samples.push(p);
  return p;
}

/** Stops the frame recorder; frame and click figures of the phase, beside `baseline` clicks. */
async function finishProbe(probe, baseline) {
  const s = probe.session;
  await s.executeScript('window.__frameRecorder.running = false; return true');
  const frames = await s.executeScript('return window.__frames');
  const longFrames = await s.executeScript('return window.__longFrames');
  const { samples, clicks } = probe;
  // Each frame over 100 ms, from the phase's start, with where the job was and how long after a
  // click it began.
  const start = probe.startAt;
  const longFrameDetail = longFrames.map(([at, gap]) => {
    const before = samples.filter((x) => x.at <= at).pop();
    const click = clicks.at.filter((c) => c <= at).pop();
    return {
      at_s: round((at - start) / 1000, 1), gap_ms: round(gap),
      progress: before ? describeProgress(before) : 'before the first sample',
      after_click_ms: click === undefined ? null : round(at - click, 0),
    };
  });
  const longTasks = probe.longtask ? await s.executeScript('return window.__longTasks') : null;
  return {
    frames: frames.length,
    frame_gap_max_ms: round(frames.length ? Math.max(...frames) : null),
    frame_gap_p99_ms: round(percentile(frames, 99)),
    frame_gap_p95_ms: round(percentile(frames, 95)),
    frame_gap_median_ms: round(median(frames)),
    frames_over_50ms: frames.filter((f) => f > 50).length,
    frames_over_100ms: frames.filter((f) => f > 100).length,
    long_frames: longFrameDetail,
    long_tasks: longTasks ? longTasks.length : null,
    long_task_max_ms: longTasks && longTasks.length ? round(Math.max(...longTasks.map((x) => x[1])))
      : null,
    clicks: clicks.ms.length,
    click_errors: clicks.errors.length,
    click_error_sample: clicks.errors[0] ?? null,
    click_max_ms: round(clicks.ms.length ? Math.max(...clicks.ms) : null),
    click_median_ms: round(median(clicks.ms)),
    idle_click_median_ms: round(median(baseline.ms)),
    idle_click_max_ms: round(baseline.ms.length ? Math.max(...baseline.ms) : null),
  };
}

/** How many files fileStates() gives each state, or null if it fails. */
async function fileStateCounts(s) {
  try {
    const states = await s.evaluate('window.__cairn.fileStates()');
    const counts = {};
    for (const v of Object.values(states ?? {})) counts[v.state] = (counts[v.state] ?? 0) + 1;
    return counts;
  } catch (err) {
    log(`fileStates() failed: ${err.message}`);
    return null;
  }
}

/** The idle baseline: 5 pairs of navigation clicks with nothing running. */
async function idleClicks(s) {
  const baseline = { ms: [], errors: [] };
  for (let i = 0; i < 5; i++) await clickPair(s, baseline);
  log(`idle click round trip: median ${round(median(baseline.ms))} ms, ` +
    `max ${round(Math.max(...baseline.ms))} ms`);
  return baseline;
}

async function measureIndexing(h, docsDir, baseline) {
  const s = h.session;
  const probe = await startProbe(s);
  const dropped = await s.executeScript(`
    window.__perfDrop = { pending: true };
    try {
      Promise.resolve(window.__cairn.drop(arguments[0])).then(
        () => { window.__perfDrop = { ok: true }; },
        (e) => { window.__perfDrop = { error: String(e && e.message || e) }; });
    } catch (e) { return String(e && e.message || e); }
    return 'ok';`, [[docsDir]]);
  if (dropped !== 'ok') throw new Error(`window.__cairn.drop failed: ${dropped}`);
  const t0 = performance.now();
  probe.lastClick = t0;

  const deadline = t0 + opts.indexTimeoutMin * 60_000;
  let last = null;
  let sawActive = false;
  let tEnd = null;
  let lastLog = t0;
  for (;;) {
    const p = await probeTick(probe);
    const dropState = await s.executeScript('return window.__perfDrop');
    if (dropState?.error) throw new Error(`window.__cairn.drop rejected: ${dropState.error}`);
    if (p) {
      last = p;
      if (ACTIVE_STATES.includes(p.state)) sawActive = true;
      const total = Number(p.total);
      const ended = ENDED_STATES.includes(p.state);
      if (ended && (sawActive || (total > 0 && Number(p.done) >= total))) {
        tEnd = performance.now();
        break;
      }
    }
    if (performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      log(`indexing: ${last ? `${last.done}/${last.total} ${last.state}` : 'no progress element'} ` +
        `after ${round((lastLog - t0) / 1000, 0)} s`);
    }
    if (performance.now() > deadline) {
      log(`indexing did not finish within ${opts.indexTimeoutMin} min; last ${JSON.stringify(last)}`);
      break;
    }
    await sleep(500);
  }

  const figures = await finishProbe(probe, baseline);
  const seconds = tEnd === null ? null : (tEnd - t0) / 1000;
  return {
    finished: tEnd !== null,
    final_progress: last,
    file_states: await fileStateCounts(s),
    indexing_s: round(seconds, 2),
    files_per_s: seconds ? round(opts.docs / seconds, 2) : null,
    ...figures,
  };
}

// ---------------------------------------------------------------------------------------------
// The burst: many changes in the watched folder

/** The Library screen's "Kept in sync" rows: [{path, watching}]. */
const WATCHED_ROWS = `
  return Array.from(document.querySelectorAll('[data-testid=watched-folder]'))
    .map((el) => ({ path: el.getAttribute('data-path'), watching: el.getAttribute('data-watching') }));`;

// Records every `ingest` event the app sends (the same event the UI listens to, through the same
// IPC that @tauri-apps/api's listen() uses): each job's kind and state, and each file's latest
// reported state with when it arrived (Date.now()). Also counts, with a MutationObserver, the
// times the progress card turns to a job starting (queued/running after an ended state, another
// kind, or `done` going back), which works without the events. Resolves with 'ok', or why the
// events cannot be listened to (the card's count still works).
const BURST_RECORDER = `
  const done = arguments[arguments.length - 1];
  const B = window.__burst = { jobs: {}, files: {}, updates: 0, latest: null, listening: false,
    card: { starts: 0, syncStarts: 0, lastSyncActiveAt: 0, last: null } };
  const card = () => {
    const el = document.querySelector('[data-testid=ingest-progress]');
    if (!el) return;
    const now = { state: el.getAttribute('data-state'), kind: el.getAttribute('data-kind'),
      done: Number(el.getAttribute('data-done')) };
    const active = now.state === 'queued' || now.state === 'running';
    const prev = B.card.last;
    if (active && (!prev || !(prev.state === 'queued' || prev.state === 'running') ||
        prev.kind !== now.kind || now.done < prev.done)) {
      B.card.starts++;
      if (now.kind === 'sync') B.card.syncStarts++;
    }
    if (active && now.kind === 'sync') B.card.lastSyncActiveAt = Date.now();
    B.card.last = now;
  };
  new MutationObserver(card).observe(document.body, { subtree: true, childList: true,
    attributes: true, attributeFilter: ['data-state', 'data-kind', 'data-done'] });
  card();
  const handler = (e) => {
    const u = e.payload;
    const at = Date.now();
    B.updates++;
    const j = B.jobs[u.job] || (B.jobs[u.job] = { kind: u.kind, firstState: u.state, firstAt: at });
    Object.assign(j, { state: u.state, total: u.total, done: u.done, failed: u.failed, lastAt: at });
    for (const f of u.files) B.files[f.path] = { state: f.state, at, job: u.job };
    B.latest = { job: u.job, state: u.state, queued: u.queued_jobs, at };
  };
  try {
    const T = window.__TAURI_INTERNALS__;
    Promise.resolve(T.invoke('plugin:event|listen', { event: 'ingest', target: { kind: 'Any' },
      handler: T.transformCallback(handler) }))
      .then((id) => { B.listening = true; B.eventId = id; done('ok'); },
            (e) => done(String(e && e.message || e)));
  } catch (e) { done(String(e && e.message || e)); }`;

// Whether the app has settled after the burst (window.__burstLastWrite: {path: time of its last
// write}, set once the burst is written).
// Settled: no job queued or running (the card, and the latest event), every rewritten file
// 'indexed' or 'unchanged' in fileStates(), and — from the events — each one's latest report
// came after its last write and was 'indexed' or 'unchanged' (without the events: a sync job
// was seen on the card after the last write).
const BURST_SETTLED = `(async () => {
  const B = window.__burst;
  const lastWrite = window.__burstLastWrite;
  const states = await window.__cairn.fileStates();
  const el = document.querySelector('[data-testid=ingest-progress]');
  const cardActive = !!el && ['queued', 'running'].includes(el.getAttribute('data-state'));
  const eventActive = !!B.latest && (['queued', 'running'].includes(B.latest.state) ||
    B.latest.queued > 0);
  const ok = (st) => st === 'indexed' || st === 'unchanged';
  let notSettled = 0;
  let stale = 0;
  let lastWriteAt = 0;
  const counts = {};
  for (const [p, t] of Object.entries(lastWrite)) {
    lastWriteAt = Math.max(lastWriteAt, t);
    const st = states[p] ? states[p].state : 'missing';
    counts[st] = (counts[st] || 0) + 1;
    if (!ok(st)) notSettled++;
    const r = B.files[p];
    if (B.listening && !(r && r.at > t && ok(r.state))) stale++;
  }
  const syncSeen = B.listening || B.card.lastSyncActiveAt > lastWriteAt;
  return { settled: !cardActive && !eventActive && notSettled === 0 && stale === 0 && syncSeen,
    active: cardActive || eventActive, notSettled, stale, counts, latest: B.latest };
})()`;

/** The time that settling must hold before it counts (over the watcher's 0.5 s debounce). */
const SETTLE_HOLD_MS = 2000;

async function measureBurst(h, docsDir, docs, baseline) {
  const s = h.session;
  const n = opts.burst;

  // The dropped folder must be kept in sync, and listened to now.
  await s.click('[data-testid=nav-library]');
  const rows = await waitFor(() => s.executeScript(WATCHED_ROWS), {
    timeout: 30_000, interval: 250,
    until: (rs) => rs.some((r) => r.path === docsDir && r.watching === 'true'),
    message: `no [data-testid=watched-folder] row for ${docsDir} with data-watching="true"`,
  });
  log(`watched: ${rows.map((r) => `${r.path} (watching ${r.watching})`).join(', ')}`);

  const recorder = await s.executeAsyncScript(BURST_RECORDER);
  if (recorder !== 'ok') {
    log(`cannot listen to the app's ingest events (${recorder}); counting progress-card ` +
      'job starts only');
  }
  const probe = await startProbe(s);

  // As fast as node can: doc i's k-th rewrite appends a revision line; its last rewrite a longer
  // one with its own marker word, so the indexed size (and text) of the final version is known.
  const lastRound = (i) => Math.floor((n - 1 - i) / docs.length);
  const lastWrite = {};
  const rewritten = new Set();
  const wallStart = Date.now();
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    const i = k % docs.length;
    const r = Math.floor(k / docs.length);
    const tail = r === lastRound(i)
      ? `\nRevision ${r + 1}, the last of the burst: burstmark${i} is its marker.\n`
      : `\nRevision ${r + 1}.\n`;
    fs.writeFileSync(docs[i].path, docs[i].text + tail);
    lastWrite[docs[i].path] = Date.now();
    rewritten.add(docs[i].path);
  }
  const tWritten = performance.now();
  probe.lastClick = t0;
  await s.executeScript('window.__burstLastWrite = arguments[0]; return true', [lastWrite]);
  log(`burst: ${n} rewrites of ${rewritten.size} files in ${round((tWritten - t0) / 1000, 2)} s; ` +
    'waiting for the app to settle');

  const deadline = t0 + opts.indexTimeoutMin * 60_000;
  let last = null;
  let candidate = null; // when the settled condition began to hold
  let tEnd = null;
  let lastLog = t0;
  for (;;) {
    await probeTick(probe);
    last = await s.evaluate(BURST_SETTLED);
    const now = performance.now();
    if (last.settled) {
      candidate ??= now;
      if (now - candidate >= SETTLE_HOLD_MS) {
        tEnd = candidate;
        break;
      }
    } else {
      candidate = null;
    }
    if (now - lastLog > 15_000) {
      lastLog = now;
      log(`burst: ${last.notSettled} files not indexed, ${last.stale} not yet reported since their ` +
        `last write, job ${JSON.stringify(last.latest)} after ${round((now - t0) / 1000, 0)} s`);
    }
    if (now > deadline) {
      log(`the burst did not settle within ${opts.indexTimeoutMin} min; last ${JSON.stringify(last)}`);
      break;
    }
    await sleep(500);
  }

  const figures = await finishProbe(probe, baseline);
  const B = await s.executeScript(`
    const B = window.__burst;
    try {
      if (B.listening) {
        if (window.__TAURI_EVENT_PLUGIN_INTERNALS__) {
          window.__TAURI_EVENT_PLUGIN_INTERNALS__.unregisterListener('ingest', B.eventId);
        }
        window.__TAURI_INTERNALS__.invoke('plugin:event|unlisten', { event: 'ingest', eventId: B.eventId });
      }
    } catch (e) { /* the session ends soon anyway */ }
    return { jobs: B.jobs, updates: B.updates, listening: B.listening,
      card: { starts: B.card.starts, syncStarts: B.card.syncStarts } };`);
  const jobs = Object.entries(B.jobs).map(([id, j]) => ({ id: Number(id), ...j }));
  const sync = jobs.filter((j) => j.kind === 'sync');

  // The final versions: the library's recorded size of each rewritten file against the file's.
  let finalContent = null;
  try {
    const view = await s.evaluate("window.__TAURI_INTERNALS__.invoke('library_view')");
    const size = new Map(view.documents.map((d) => [d.path, d.size_bytes]));
    const mismatched = [...rewritten].filter((p) => size.get(p) !== fs.statSync(p).size);
    finalContent = { checked: rewritten.size, size_matches: rewritten.size - mismatched.length,
      mismatched_sample: mismatched.slice(0, 3).map((p) => ({ path: p, library: size.get(p) ?? null,
        file: fs.statSync(p).size })) };
  } catch (err) {
    log(`checking the final versions' sizes failed: ${err.message}`);
  }

  const seconds = tEnd === null ? null : (tEnd - t0) / 1000;
  return {
    rewrites: n,
    files: rewritten.size,
    write_s: round((tWritten - t0) / 1000, 2),
    settled: tEnd !== null,
    settle_s: round(seconds, 2),
    rewrites_per_s: seconds ? round(n / seconds, 1) : null,
    events_listened: B.listening,
    ingest_events: B.listening ? B.updates : null,
    sync_jobs: B.listening ? sync.length : null,
    sync_files_total: B.listening ? sync.reduce((a, j) => a + (j.total ?? 0), 0) : null,
    sync_files_failed: B.listening ? sync.reduce((a, j) => a + (j.failed ?? 0), 0) : null,
    sync_job_states: B.listening ? countBy(sync.map((j) => j.state)) : null,
    other_jobs: B.listening ? countBy(jobs.filter((j) => j.kind !== 'sync').map((j) => j.kind)) : null,
    card_job_starts: B.card.starts,
    card_sync_starts: B.card.syncStarts,
    last_check: last,
    file_states: await fileStateCounts(s),
    final_content: finalContent,
    started_at: new Date(wallStart).toISOString(),
    ...figures,
  };
}

function countBy(xs) {
  const out = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main

const results = {
  app: path.resolve(opts.app),
  docs: opts.docs,
  date: new Date().toISOString(),
  launch: null,
  idle: null,
  indexing: null,
  burst: null,
};
let xvfb = null;
let h = null;
let docsDir = null;
try {
  xvfb = await startXvfb();
  log(`Xvfb on ${xvfb.display}`);

  // The floor under the idle figure: WebKitGTK's own MiniBrowser on a blank page, measured the
  // same way on the same display, with compositing off as the app sets it; alone, since PSS
  // splits the pages of libraries that other running processes share.
  const floor = await webkitFloor(xvfb);
  if (floor) log(`floor (MiniBrowser, blank page): PSS ${floor.pss_mb} MB`);

  // a. launch time, each in a fresh session with a fresh data directory
  const runs = [];
  for (let i = 1; i <= opts.launches; i++) {
    if (h) await h.close();
    const m = await measureLaunch(xvfb, i);
    h = m.h;
    runs.push(m.r);
  }
  const usable = runs.map((r) => r.window_usable_ms);
  results.launch = {
    runs: runs.map((r) => ({ window_usable_ms: round(r.window_usable_ms, 0),
      session_ms: round(r.session_ms, 0) })),
    window_usable_ms_min: round(Math.min(...usable), 0),
    window_usable_ms_median: round(median(usable), 0),
  };

  // b. idle memory: the last launch's session, empty library, 5 s after ready
  log('idle memory: waiting 5 s');
  await sleep(5000);
  const idle = memoryFigures(h.memory());
  results.idle = { idle_rss_mb: idle.rss_mb, idle_pss_mb: idle.pss_mb,
    pss_complete: idle.pss_complete, processes: idle.processes };
  log(`idle: RSS ${idle.rss_mb} MB, PSS ${idle.pss_mb} MB over ${idle.processes.length} processes`);

  results.idle.floor = floor;

  // c. responsiveness while indexing N documents
  docsDir = fs.realpathSync(makeTempDir('cairn-perf-docs'));
  const docs = [];
  let bytes = 0;
  for (let i = 0; i < opts.docs; i++) {
    const doc = { path: path.join(docsDir, `doc-${String(i + 1).padStart(5, '0')}.md`),
      text: makeDocument(i) };
    bytes += Buffer.byteLength(doc.text);
    fs.writeFileSync(doc.path, doc.text);
    docs.push(doc);
  }
  log(`wrote ${opts.docs} documents (${round(bytes / 1024, 0)} KB) to ${docsDir}; indexing`);
  const baseline = await idleClicks(h.session);
  results.indexing = { docs_kb: round(bytes / 1024, 0), ...await measureIndexing(h, docsDir, baseline) };
  const memoryAfter = (into) => {
    try {
      const after = memoryFigures(h.memory());
      into.after_rss_mb = after.rss_mb;
      into.after_pss_mb = after.pss_mb;
      into.after_processes = after.processes;
    } catch (err) {
      log(`memory: ${err.message}`);
    }
  };
  memoryAfter(results.indexing);

  // d. responsiveness while a burst of changes in the watched folder is synced
  if (opts.burst > 0 && !results.indexing.finished) {
    log('burst skipped: indexing did not finish');
    results.burst = { skipped: 'indexing did not finish' };
  } else if (opts.burst > 0) {
    results.burst = await measureBurst(h, docsDir, docs, baseline);
    memoryAfter(results.burst);
  }
} catch (err) {
  log(`perf could not finish: ${err.stack ?? err.message}`);
  if (h) log(`tauri-driver and app output (tail):\n${h.logTail(3000)}`);
  results.error = err.message;
} finally {
  if (h) await h.close();
  if (xvfb) await xvfb.stop();
  if (docsDir) removeTempDir(docsDir);
}

// e. report
const L = results.launch ?? {};
const I = results.idle ?? {};
const X = results.indexing ?? {};
const states = (c) => (c ? Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ') : null);
const mb = (R, what) => [
  [`RSS / PSS after ${what} (MB)`, R.after_rss_mb !== undefined ? `${R.after_rss_mb} / ${R.after_pss_mb}` : null],
  ...(R.after_processes ?? []).map((p) => [`  after ${what}: ${p.name} (pid ${p.pid}) RSS / PSS (MB)`,
    `${p.rss_mb} / ${p.pss_mb ?? '–'}`]),
];
/** The frame and click rows of a phase; `pre` starts each label ('' for indexing). */
const responsiveness = (R, pre, during) => [
  [`${pre}frames recorded`, R.frames],
  [`${pre}max frame gap (ms)`, R.frame_gap_max_ms],
  [`${pre}p99 frame gap (ms)`, R.frame_gap_p99_ms],
  [`${pre}p95 frame gap (ms)`, R.frame_gap_p95_ms],
  [`${pre}median frame gap (ms)`, R.frame_gap_median_ms],
  [`${pre}frames > 50 ms`, R.frames_over_50ms],
  [`${pre}frames > 100 ms`, R.frames_over_100ms],
  ...(R.long_frames ?? []).map((f) => [`  a ${f.gap_ms} ms frame at ${f.at_s} s`,
    `job ${f.progress}${f.after_click_ms === null ? '' : `, ${f.after_click_ms} ms after a click`}`]),
  [`${pre}long tasks (if supported)`, R.long_tasks ?? (R.frames === undefined ? null : 'not supported')],
  [`${pre}nav clicks during ${during}`, R.clicks !== undefined ? `${R.clicks} (${R.click_errors} failed)` : null],
  [`${pre}max click round trip (ms)`, R.click_max_ms],
  [`${pre}median click round trip (ms)`, R.click_median_ms],
];
const B = results.burst ?? {};
const burstRows = opts.burst === 0 ? [] : [
  [`burst: ${opts.burst} rewrites of ${B.files ?? Math.min(opts.burst, opts.docs)} files, writing (s)`,
    B.skipped ? `skipped: ${B.skipped}` : B.write_s],
  ['burst: first write to settled (s)', B.settle_s ?? (B.settled === false ? 'did not settle' : null)],
  ['burst: rewrites/s', B.rewrites_per_s],
  ['burst: sync jobs (distinct job ids)', B.events_listened === false
    ? 'events not listened to' : B.sync_jobs],
  ['burst: files in sync jobs, failed', B.sync_files_total !== undefined && B.sync_files_total !== null
    ? `${B.sync_files_total}, ${B.sync_files_failed}` : null],
  ['burst: other jobs', B.other_jobs ? (states(B.other_jobs) || 'none') : null],
  ['burst: progress-card job starts seen (sync)', B.card_job_starts !== undefined
    ? `${B.card_job_starts} (${B.card_sync_starts})` : null],
  ['burst: file states', states(B.file_states)],
  ['burst: final versions indexed (library size = file size)', B.final_content
    ? `${B.final_content.size_matches} / ${B.final_content.checked}` : null],
  ...responsiveness(B, 'burst: ', 'the burst'),
  ...mb(B, 'the burst'),
];
const rows = [
  ['window usable, min of ' + opts.launches + ' (ms)', L.window_usable_ms_min],
  ['window usable, median (ms)', L.window_usable_ms_median],
  ['window usable, each run (ms)', L.runs?.map((r) => r.window_usable_ms).join(', ')],
  ['idle RSS, app + descendants (MB)', I.idle_rss_mb],
  ['idle PSS, app + descendants (MB)', I.idle_pss_mb],
  ...(I.processes ?? []).map((p) => [`  idle ${p.name} (pid ${p.pid}) RSS / PSS (MB)`,
    `${p.rss_mb} / ${p.pss_mb ?? '–'}`]),
  ['floor: WebKitGTK MiniBrowser, blank page, RSS / PSS (MB)', I.floor
    ? `${I.floor.rss_mb} / ${I.floor.pss_mb}` : 'MiniBrowser not installed'],
  [`indexing ${opts.docs} docs (s)`, X.indexing_s ?? (X.finished === false ? 'did not finish' : null)],
  ['files/s', X.files_per_s],
  ['final progress', X.final_progress ? `${X.final_progress.done}/${X.final_progress.total} ${X.final_progress.state}` : null],
  ['file states', states(X.file_states)],
  ...responsiveness(X, '', 'indexing'),
  ['idle click round trip, median / max (ms)', X.idle_click_median_ms !== undefined
    ? `${X.idle_click_median_ms} / ${X.idle_click_max_ms}` : null],
  ...mb(X, 'indexing'),
  ...burstRows,
];
const table = ['| measure | value |', '|---|---|',
  ...rows.map(([k, v]) => `| ${k} | ${v ?? '–'} |`)].join('\n');
process.stdout.write(`${table}\n`);
if (results.error) process.stdout.write(`\nIncomplete: ${results.error}\n`);
if (opts.json) {
  fs.writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${opts.json}`);
}
process.exit(results.error ? 1 : 0);
