#!/usr/bin/env node
// Measures the desktop app: time to a usable window, idle memory, and UI responsiveness while
// indexing many documents. It measures; it asserts nothing (exit 0 unless it cannot run).
//
//   node tests/app/perf.mjs PATH_TO_APP_BINARY [--docs 1000] [--launches 3] [--json OUT.json]
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
    '[--launches N] [--json OUT.json] [--index-timeout-min M] [--no-clicks]\n');
  process.exit(2);
}
const argv = process.argv.slice(2);
const opts = { docs: 1000, launches: 3, json: null, indexTimeoutMin: 30, app: null, clicks: true };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
  if (a === '--docs') opts.docs = Number(val());
  else if (a === '--launches') opts.launches = Number(val());
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

const FRAME_RECORDER = `
  if (window.__frameRecorder) return window.__frameRecorder.longtask;
  const rec = window.__frameRecorder = { running: true, longtask: false };
  window.__frames = [];
  window.__longFrames = [];
  window.__longTasks = [];
  let last = null;
  const tick = (t) => {
    if (last !== null) window.__frames.push(t - last);
    if (last !== null && t - last > 100) window.__longFrames.push([last, t - last]);
    last = t;
    if (rec.running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  try {
    if ((PerformanceObserver.supportedEntryTypes || []).includes('longtask')) {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
      }).observe({ type: 'longtask' });
      rec.longtask = true;
    }
  } catch (e) { /* not supported */ }
  return rec.longtask;`;

const PROGRESS = `
  const el = document.querySelector('[data-testid=ingest-progress]');
  if (!el) return null;
  return { done: el.getAttribute('data-done'), total: el.getAttribute('data-total'),
           state: el.getAttribute('data-state'), at: performance.now() };`;

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

async function measureIndexing(h, docsDir) {
  const s = h.session;
  const baseline = { ms: [], errors: [] };
  for (let i = 0; i < 5; i++) await clickPair(s, baseline);
  log(`idle click round trip: median ${round(median(baseline.ms))} ms, ` +
    `max ${round(Math.max(...baseline.ms))} ms`);

  const longtaskSupported = await s.executeScript(FRAME_RECORDER);
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

  const during = { ms: [], errors: [], at: [] };
  const samples = [];
  const deadline = t0 + opts.indexTimeoutMin * 60_000;
  let lastClick = t0;
  let last = null;
  let sawActive = false;
  let tEnd = null;
  let lastLog = t0;
  for (;;) {
    const now = performance.now();
    if (opts.clicks && now - lastClick >= 2000) {
      lastClick = now;
      await clickPair(s, during);
    }
    const p = await s.executeScript(PROGRESS);
    const dropState = await s.executeScript('return window.__perfDrop');
    if (dropState?.error) throw new Error(`window.__cairn.drop rejected: ${dropState.error}`);
    if (p) {
      last = p;
      samples.push(p);
      if (['queued', 'running'].includes(p.state)) sawActive = true;
      const total = Number(p.total);
      const ended = ['finished', 'cancelled', 'failed'].includes(p.state);
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

  await s.executeScript('window.__frameRecorder.running = false; return true');
  const frames = await s.executeScript('return window.__frames');
  const longFrames = await s.executeScript('return window.__longFrames');
  // Each frame over 100 ms, with where the job was and how long after a click it began.
  const start = samples.length ? samples[0].at : 0;
  const longFrameDetail = longFrames.map(([at, gap]) => {
    const before = samples.filter((x) => x.at <= at).pop();
    const click = during.at.filter((c) => c <= at).pop();
    return {
      at_s: round((at - start) / 1000, 1), gap_ms: round(gap),
      progress: before ? `${before.done}/${before.total} ${before.state}` : 'before the first sample',
      after_click_ms: click === undefined ? null : round(at - click, 0),
    };
  });
  const longTasks = longtaskSupported ? await s.executeScript('return window.__longTasks') : null;
  let stateCounts = null;
  try {
    const states = await s.evaluate('window.__cairn.fileStates()');
    stateCounts = {};
    for (const v of Object.values(states ?? {})) {
      stateCounts[v.state] = (stateCounts[v.state] ?? 0) + 1;
    }
  } catch (err) {
    log(`fileStates() failed: ${err.message}`);
  }
  const seconds = tEnd === null ? null : (tEnd - t0) / 1000;
  return {
    finished: tEnd !== null,
    final_progress: last,
    file_states: stateCounts,
    indexing_s: round(seconds, 2),
    files_per_s: seconds ? round(opts.docs / seconds, 2) : null,
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
    clicks: during.ms.length,
    click_errors: during.errors.length,
    click_error_sample: during.errors[0] ?? null,
    click_max_ms: round(during.ms.length ? Math.max(...during.ms) : null),
    click_median_ms: round(median(during.ms)),
    idle_click_median_ms: round(median(baseline.ms)),
    idle_click_max_ms: round(baseline.ms.length ? Math.max(...baseline.ms) : null),
  };
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
};
let xvfb = null;
let h = null;
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
  const docsDir = fs.realpathSync(makeTempDir('cairn-perf-docs'));
  let bytes = 0;
  for (let i = 0; i < opts.docs; i++) {
    const text = makeDocument(i);
    bytes += Buffer.byteLength(text);
    fs.writeFileSync(path.join(docsDir, `doc-${String(i + 1).padStart(5, '0')}.md`), text);
  }
  log(`wrote ${opts.docs} documents (${round(bytes / 1024, 0)} KB) to ${docsDir}; indexing`);
  results.indexing = { docs_kb: round(bytes / 1024, 0), ...await measureIndexing(h, docsDir) };
  try {
    const after = memoryFigures(h.memory());
    results.indexing.after_rss_mb = after.rss_mb;
    results.indexing.after_pss_mb = after.pss_mb;
    results.indexing.after_processes = after.processes;
  } catch (err) {
    log(`memory after indexing: ${err.message}`);
  }
  removeTempDir(docsDir);
} catch (err) {
  log(`perf could not finish: ${err.stack ?? err.message}`);
  if (h) log(`tauri-driver and app output (tail):\n${h.logTail(3000)}`);
  results.error = err.message;
} finally {
  if (h) await h.close();
  if (xvfb) await xvfb.stop();
}

// d. report
const L = results.launch ?? {};
const I = results.idle ?? {};
const X = results.indexing ?? {};
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
  ['file states', X.file_states ? Object.entries(X.file_states).map(([k, v]) => `${k} ${v}`).join(', ') : null],
  ['frames recorded', X.frames],
  ['max frame gap (ms)', X.frame_gap_max_ms],
  ['p99 frame gap (ms)', X.frame_gap_p99_ms],
  ['p95 frame gap (ms)', X.frame_gap_p95_ms],
  ['median frame gap (ms)', X.frame_gap_median_ms],
  ['frames > 50 ms', X.frames_over_50ms],
  ['frames > 100 ms', X.frames_over_100ms],
  ...(X.long_frames ?? []).map((f) => [`  a ${f.gap_ms} ms frame at ${f.at_s} s`,
    `job ${f.progress}${f.after_click_ms === null ? '' : `, ${f.after_click_ms} ms after a click`}`]),
  ['long tasks (if supported)', X.long_tasks ?? 'not supported'],
  ['nav clicks during indexing', X.clicks !== undefined ? `${X.clicks} (${X.click_errors} failed)` : null],
  ['max click round trip (ms)', X.click_max_ms],
  ['median click round trip (ms)', X.click_median_ms],
  ['idle click round trip, median / max (ms)', X.idle_click_median_ms !== undefined
    ? `${X.idle_click_median_ms} / ${X.idle_click_max_ms}` : null],
  ['RSS / PSS after indexing (MB)', X.after_rss_mb !== undefined ? `${X.after_rss_mb} / ${X.after_pss_mb}` : null],
  ...(X.after_processes ?? []).map((p) => [`  after ${p.name} (pid ${p.pid}) RSS / PSS (MB)`,
    `${p.rss_mb} / ${p.pss_mb ?? '–'}`]),
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
