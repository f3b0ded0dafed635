// Starts Xvfb and tauri-driver, launches the app in a WebDriver session with an isolated
// environment, reads the app's process tree and memory, and cleans everything up by PID.
//
//   const xvfb = await startXvfb();
//   const h = await launchApp({ app: '/path/to/cairn-desktop', xvfb });
//   await h.session.find('[data-app-ready]');
//   appMemory(h.driverPid, h.app);          // { processes: [...], rss_kb, pss_kb }
//   await h.close(); await xvfb.stop();
//
// Environment overrides: TAURI_DRIVER (the tauri-driver binary), WEBKIT_WEBDRIVER (the native
// driver, default /usr/bin/WebKitWebDriver), CAIRN_E2E_KEEP=1 (keep temp dirs for debugging).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebDriver, sleep } from './webdriver.mjs';

const KEEP_TEMP = process.env.CAIRN_E2E_KEEP === '1';

// ---------------------------------------------------------------------------------------------
// Cleanup registry: everything started here is stopped on normal exit, on an uncaught error and
// on SIGINT/SIGTERM/SIGHUP, by PID.

const cleanups = new Set();

/** Registers a synchronous cleanup; returns a function that unregisters it. */
export function onCleanup(fn) {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs every registered cleanup now (synchronously), most recent first. */
export function cleanupAllSync() {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    try {
      fn();
    } catch (err) {
      process.stderr.write(`cleanup: ${err.message}\n`);
    }
  }
}

process.on('exit', cleanupAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping what the test started\n`);
    cleanupAllSync();
    process.exit(128 + (os.constants.signals[sig] ?? 1));
  });
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---------------------------------------------------------------------------------------------
// /proc helpers

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  // A zombie still answers kill(0); treat it as gone.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Map pid → parent pid for every process visible in /proc. */
export function processTable() {
  const parent = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(rest[1]));
    } catch {
      // The process ended while we were reading.
    }
  }
  return parent;
}

/** Every descendant of `rootPid` (not including it), parents before children. */
export function descendants(rootPid, table = processTable()) {
  const children = new Map();
  for (const [pid, ppid] of table) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const out = [];
  const queue = [...(children.get(rootPid) ?? [])];
  while (queue.length) {
    const pid = queue.shift();
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function readExe(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

function readComm(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function realpathOr(p) {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The PID of the process running `appPath` among the descendants of `driverPid`, or null. */
export function findAppPid(driverPid, appPath) {
  const want = realpathOr(appPath);
  for (const pid of descendants(driverPid)) {
    const exe = readExe(pid);
    if (exe && (exe === want || realpathOr(exe) === want)) return pid;
  }
  return null;
}

/** RSS and PSS of one process in kB, from smaps_rollup (or status VmRSS, PSS then null). */
export function processMemory(pid) {
  const entry = { pid, name: readComm(pid), exe: readExe(pid), rss_kb: null, pss_kb: null,
    source: null };
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const rss = /^Rss:\s+(\d+) kB/m.exec(text);
    const pss = /^Pss:\s+(\d+) kB/m.exec(text);
    if (rss) {
      entry.rss_kb = Number(rss[1]);
      entry.pss_kb = pss ? Number(pss[1]) : null;
      entry.source = 'smaps_rollup';
      return entry;
    }
  } catch {
    // Not readable (older kernel, permissions): fall back.
  }
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(text);
    if (rss) {
      entry.rss_kb = Number(rss[1]);
      entry.source = 'status';
    }
  } catch {
    // Gone.
  }
  return entry;
}

/**
 * The app's process (the descendant of tauri-driver whose executable is `appPath`) and all of
 * its descendants (WebKitWebProcess, WebKitNetworkProcess, …), with their memory and the sums.
 * `pss_kb` sums only the processes whose PSS could be read (`pss_complete` says whether all).
 */
export function appMemory(driverPid, appPath) {
  const appPid = findAppPid(driverPid, appPath);
  if (!appPid) {
    throw new Error(`no process running ${appPath} under tauri-driver (pid ${driverPid})`);
  }
  const pids = [appPid, ...descendants(appPid)];
  const processes = pids.map(processMemory).filter((p) => p.rss_kb !== null);
  const sum = (k) => processes.reduce((a, p) => a + (p[k] ?? 0), 0);
  return {
    app_pid: appPid,
    processes,
    rss_kb: sum('rss_kb'),
    pss_kb: sum('pss_kb'),
    pss_complete: processes.every((p) => p.pss_kb !== null),
  };
}

/** Sends `signal` to each PID, ignoring those already gone. */
function signalAll(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * A PNG of the whole X display, as the person would see it: `xwd | xwdtopnm | pnmtopng` (Debian
 * `x11-apps`, `netpbm`). WebKitWebDriver's own screenshot hangs when the page is drawn without
 * accelerated compositing, as the app draws it.
 */
export function screenshotDisplay(display) {
  const result = spawnSync('sh', ['-c', 'xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng 2>/dev/null'],
    { env: { ...process.env, DISPLAY: display }, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  if (result.status !== 0 || !result.stdout?.length) {
    throw new Error(`screenshot of ${display} failed: ${result.stderr?.toString().trim() || `exit ${result.status}`}`);
  }
  return result.stdout;
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL what is left. Synchronous. */
function terminateSync(pids, graceMs = 3000) {
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) sleepSync(50);
  const left = pids.filter(alive);
  signalAll(left, 'SIGKILL');
  return left;
}

async function terminate(pids, graceMs = 3000) {
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  const left = pids.filter(alive);
  signalAll(left, 'SIGKILL');
  return left;
}

// ---------------------------------------------------------------------------------------------
// Temp dirs

const tempDirs = new Map(); // dir → unregister its cleanup

/** A fresh temporary directory, removed at cleanup unless CAIRN_E2E_KEEP=1. */
export function makeTempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  if (!KEEP_TEMP) {
    tempDirs.set(dir, onCleanup(() => fs.rmSync(dir, { recursive: true, force: true })));
  }
  return dir;
}

/** Removes a directory made by makeTempDir now (unless CAIRN_E2E_KEEP=1). */
export function removeTempDir(dir) {
  if (KEEP_TEMP) return;
  tempDirs.get(dir)?.();
  tempDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Xvfb

/**
 * Starts `Xvfb :N` on the first free display in [from, to] (no /tmp/.X11-unix/X<N> socket and no
 * /tmp/.X<N>-lock). Resolves with { display: ':N', pid, stop() }.
 */
export async function startXvfb({ from = 99, to = 120, screen = '1280x1024x24', logFile } = {}) {
  const xvfb = which('Xvfb') ?? '/usr/bin/Xvfb';
  for (let n = from; n <= to; n++) {
    const socket = `/tmp/.X11-unix/X${n}`;
    if (fs.existsSync(socket) || fs.existsSync(`/tmp/.X${n}-lock`)) continue;
    const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
    const child = spawn(xvfb, [`:${n}`, '-screen', '0', screen, '-nolisten', 'tcp'], {
      stdio: ['ignore', out, out],
      detached: true,
    });
    if (typeof out === 'number') fs.closeSync(out);
    let exited = null;
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    child.on('error', (err) => { exited = { error: err.message }; });
    const unregister = onCleanup(() => terminateSync([child.pid]));
    const deadline = Date.now() + 10_000;
    while (!exited && !fs.existsSync(socket) && Date.now() < deadline) await sleep(50);
    if (exited || !fs.existsSync(socket)) {
      // Lost a race for this display (or Xvfb is broken): stop it and try the next number.
      await terminate([child.pid]);
      unregister();
      if (exited?.error) throw new Error(`cannot start ${xvfb}: ${exited.error}`);
      continue;
    }
    child.unref();
    return {
      display: `:${n}`,
      pid: child.pid,
      async stop() {
        unregister();
        await terminate([child.pid]);
      },
    };
  }
  throw new Error(`no free X display between :${from} and :${to}`);
}

// ---------------------------------------------------------------------------------------------
// tauri-driver

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** tauri-driver: $TAURI_DRIVER, else on PATH, else ~/.cargo/bin/tauri-driver. */
export function findTauriDriver() {
  const candidates = [process.env.TAURI_DRIVER, which('tauri-driver'),
    path.join(os.homedir(), '.cargo', 'bin', 'tauri-driver')].filter(Boolean);
  for (const p of candidates) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // Try the next.
    }
  }
  throw new Error('tauri-driver not found (set TAURI_DRIVER, put it on PATH, or ' +
    '`cargo install tauri-driver --locked`, which puts it in ~/.cargo/bin)');
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port P with P and P+1 both free on 127.0.0.1. */
export async function freePortPair() {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    if (await portFree(p) && await portFree(p + 1)) return p;
  }
  throw new Error('no free port pair found');
}

function tail(file, bytes = 4000) {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * Starts tauri-driver on display `display` with `env` added to this process's environment (the
 * native driver and the app inherit it). Resolves once GET /status answers, with
 * { port, pid, url, logFile, stop() }.
 */
export async function startTauriDriver({ display, env = {}, logFile, readyTimeoutMs = 30_000 }) {
  const bin = findTauriDriver();
  const nativeDriver = process.env.WEBKIT_WEBDRIVER ?? '/usr/bin/WebKitWebDriver';
  if (!fs.existsSync(nativeDriver)) {
    throw new Error(`native driver ${nativeDriver} not found (Debian: apt-get install webkit2gtk-driver)`);
  }
  const port = await freePortPair();
  const out = fs.openSync(logFile, 'a');
  const child = spawn(bin, ['--port', String(port), '--native-port', String(port + 1),
    '--native-driver', nativeDriver], {
    stdio: ['ignore', out, out],
    detached: true, // its own process group
    env: { ...process.env, ...env, DISPLAY: display, TAURI_WEBVIEW_AUTOMATION: 'true' },
  });
  fs.closeSync(out);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  child.on('error', (err) => { exited = { error: err.message }; });
  child.unref();

  // Stops the whole tree (tauri-driver → WebKitWebDriver → app → WebKit processes) by PID:
  // SIGKILLing tauri-driver alone would orphan the app.
  const killTreeSync = () => {
    const pids = [...descendants(child.pid).reverse(), child.pid];
    terminateSync(pids);
    try {
      process.kill(-child.pid, 'SIGKILL'); // anything left in its process group
    } catch {
      // None left.
    }
  };
  const unregister = onCleanup(killTreeSync);

  const url = `http://127.0.0.1:${port}`;
  const probe = new WebDriver(url, { requestTimeoutMs: 2000 });
  const deadline = Date.now() + readyTimeoutMs;
  let lastErr;
  try {
    for (;;) {
      if (exited) {
        throw new Error(`tauri-driver exited (${JSON.stringify(exited)}) before answering; ` +
          `its log:\n${tail(logFile)}`);
      }
      try {
        await probe.status();
        break;
      } catch (err) {
        lastErr = err;
      }
      if (Date.now() > deadline) {
        throw new Error(`tauri-driver did not answer on ${url} within ${readyTimeoutMs} ms ` +
          `(${lastErr?.message}); its log:\n${tail(logFile)}`);
      }
      await sleep(100);
    }
  } catch (err) {
    unregister();
    killTreeSync();
    throw err;
  } finally {
    probe.close();
  }

  return {
    port,
    pid: child.pid,
    url,
    logFile,
    exited: () => exited,
    async stop() {
      unregister();
      const pids = [...descendants(child.pid).reverse(), child.pid];
      await terminate(pids);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // None left.
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The app

/**
 * Launches `app` under tauri-driver in a fresh, isolated environment and opens a session.
 *
 * Options: app (required), args (app arguments), xvfb (a display from startXvfb; one is started
 * and stopped with the app if absent), env (extra environment), logDir (where tauri-driver.log
 * goes; default the temp root), sessionTimeoutMs, scriptTimeoutMs.
 *
 * Resolves with { session, driver, driverPid, app, dataDir, dirs, display, logFile,
 * sessionStartedAt, sessionMs, appPid(), memory(), close() }. `sessionStartedAt` is
 * performance.now() just before POST /session (when tauri-driver launches the app).
 */
export async function launchApp({
  app, args = [], xvfb, env = {}, logDir, sessionTimeoutMs = 120_000,
  scriptTimeoutMs = 120_000,
} = {}) {
  if (!app) throw new Error('launchApp: no app binary given');
  const appPath = path.resolve(app);
  try {
    fs.accessSync(appPath, fs.constants.X_OK);
  } catch {
    throw new Error(`app binary ${appPath} does not exist or is not executable`);
  }

  const root = makeTempDir('cairn-app-test');
  const dirs = {
    root,
    data: path.join(root, 'data'),
    config: path.join(root, 'config'),
    xdgData: path.join(root, 'xdg-data'),
    cache: path.join(root, 'cache'),
  };
  for (const d of [dirs.data, dirs.config, dirs.xdgData, dirs.cache]) {
    fs.mkdirSync(d, { recursive: true });
  }
  const logFile = path.join(logDir ?? root, 'tauri-driver.log');

  let ownXvfb = null;
  const steps = [];
  const close = async () => {
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (err) {
        process.stderr.write(`close: ${err.message}\n`);
      }
    }
    steps.length = 0;
  };

  try {
    if (!xvfb) {
      ownXvfb = await startXvfb({ logFile: path.join(logDir ?? root, 'xvfb.log') });
      xvfb = ownXvfb;
      steps.push(() => ownXvfb.stop());
    }
    steps.push(() => removeTempDir(root));

    const driverProc = await startTauriDriver({
      display: xvfb.display,
      logFile,
      env: {
        CAIRN_DATA_DIR: dirs.data,
        XDG_CONFIG_HOME: dirs.config,
        XDG_DATA_HOME: dirs.xdgData,
        XDG_CACHE_HOME: dirs.cache,
        ...env,
      },
    });
    steps.push(() => driverProc.stop());

    const driver = new WebDriver(driverProc.url);
    steps.push(() => driver.close());

    const capabilities = {
      alwaysMatch: { 'tauri:options': { application: appPath, ...(args.length ? { args } : {}) } },
    };
    const sessionStartedAt = performance.now();
    let session;
    try {
      session = await driver.newSession(capabilities, { timeoutMs: sessionTimeoutMs });
    } catch (err) {
      err.message += `\ntauri-driver log (${logFile}):\n${tail(logFile)}`;
      throw err;
    }
    const sessionMs = performance.now() - sessionStartedAt;
    steps.push(() => session.deleteSession({ timeoutMs: 10_000 }));
    try {
      await session.setTimeouts({ script: scriptTimeoutMs });
    } catch {
      // Not fatal: the driver's default script timeout applies.
    }

    return {
      session,
      driver,
      driverPid: driverProc.pid,
      driverExited: driverProc.exited,
      app: appPath,
      dataDir: dirs.data,
      dirs,
      display: xvfb.display,
      logFile,
      sessionStartedAt,
      sessionMs,
      appPid: () => findAppPid(driverProc.pid, appPath),
      memory: () => appMemory(driverProc.pid, appPath),
      screenshot: () => screenshotDisplay(xvfb.display),
      logTail: (bytes) => tail(logFile, bytes),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
