#!/usr/bin/env node
// End-to-end test of the desktop app: launch, add documents (one of them a broken PDF), wait for
// indexing, ask a question, check the answer streams, cite, and shows its passage.
//
//   node tests/app/e2e.mjs PATH_TO_APP_BINARY OUT_DIR
//
// Writes OUT_DIR/library.png, OUT_DIR/chat.png (or OUT_DIR/failure.png), OUT_DIR/tauri-driver.log
// (the driver's and the app's output), and prints one line of JSON. Exit 0 on success, 1 on a
// failed check, 2 on bad usage. See README.md.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchApp, makeTempDir } from './harness.mjs';
import { sleep, waitFor } from './webdriver.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const QUESTION = 'When was the Fresnel lens of Skerrow Point lighthouse made?';
const CORPUS_FILES = [
  'nature/lighthouse-skerrow-point.md',
  'tech/sqlite-wal-mode.md',
  'history/marrowby-ashcombe-canal.txt',
  'food/knife-sharpening.html',
  'health/sleep-and-circadian-rhythm.md',
];
const TERMINAL = new Set(['indexed', 'unchanged', 'removed', 'failed', 'cancelled']);

const [appArg, outArg] = process.argv.slice(2);
if (!appArg || !outArg) {
  process.stderr.write('usage: node tests/app/e2e.mjs PATH_TO_APP_BINARY OUT_DIR\n');
  process.exit(2);
}
const outDir = path.resolve(outArg);
fs.mkdirSync(outDir, { recursive: true });

const log = (msg) => process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
const timings = {};
let stepName = 'start';
async function step(name, fn) {
  stepName = name;
  log(`${name}…`);
  const t = performance.now();
  const r = await fn();
  timings[name] = Math.round(performance.now() - t);
  log(`${name}: ok (${timings[name]} ms)`);
  return r;
}
/** A failed check: ends a waitFor at once (fatal) and is reported without a stack. */
class Failure extends Error {
  fatal = true;
}
function check(cond, msg) {
  if (!cond) throw new Failure(msg);
}
/** `[attr="value"]` with the value escaped for a CSS string. */
const attrSel = (name, value) => `[${name}="${String(value).replace(/["\\]/g, '\\$&')}"]`;

let h = null;
let exitCode = 0;
const summary = { ok: false, app: path.resolve(appArg), out_dir: outDir, timings_ms: timings };

try {
  // a. launch
  await step('launch', async () => {
    h = await launchApp({ app: appArg, logDir: outDir });
    await waitFor(
      () => h.session.executeScript("return !!document.querySelector('[data-app-ready]')"),
      { timeout: 30_000, interval: 100, message: 'the UI never set [data-app-ready]' });
  });
  const s = h.session;
  summary.session_ms = Math.round(h.sessionMs);

  // b. fixture folder, added through the drop handler
  const fixture = fs.realpathSync(makeTempDir('cairn-e2e-fixture'));
  const added = [];
  for (const rel of CORPUS_FILES) {
    const src = path.join(REPO, 'tests', 'corpus', rel);
    const dst = path.join(fixture, path.basename(rel));
    fs.copyFileSync(src, dst);
    added.push(dst);
  }
  const broken = path.join(fixture, 'broken.pdf');
  const garbage = Buffer.alloc(4096);
  let x = 0x2545f491;
  for (let i = 0; i < garbage.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    garbage[i] = x & 0xff;
  }
  fs.writeFileSync(broken, Buffer.concat([Buffer.from('%PDF-1.7\n'), garbage]));
  added.push(broken);
  const lighthouse = added[0];

  await step('drop', async () => {
    await s.executeScript("return document.querySelector('[data-testid=nav-library]') && " +
      "document.querySelector('[data-testid=nav-library]').click()");
    const r = await s.executeScript(`
      const c = window.__cairn;
      if (!c || typeof c.drop !== 'function') return 'window.__cairn.drop is not a function';
      if (typeof c.fileStates !== 'function') return 'window.__cairn.fileStates is not a function';
      window.__e2eDrop = { pending: true };
      try {
        const p = c.drop(arguments[0]);
        Promise.resolve(p).then(() => { window.__e2eDrop = { ok: true }; },
          (e) => { window.__e2eDrop = { error: String(e && e.message || e) }; });
      } catch (e) { return 'drop threw: ' + String(e && e.message || e); }
      return 'ok';`, [added]);
    check(r === 'ok', r);
  });

  // c. every file reaches its final state
  const finalStates = await step('index', async () => {
    let states = null;
    await waitFor(async () => {
      const dropResult = await s.executeScript('return window.__e2eDrop');
      if (dropResult?.error) throw new Failure(`window.__cairn.drop rejected: ${dropResult.error}`);
      states = await s.evaluate('window.__cairn.fileStates()');
      const seen = {};
      for (const p of added) {
        const st = states?.[p];
        seen[path.basename(p)] = st ? st.state : '(absent)';
        if (st && TERMINAL.has(st.state)) {
          const want = p === broken ? 'failed' : 'indexed';
          if (st.state !== want) {
            throw new Failure(`${path.basename(p)} ended ${st.state}, expected ${want}` +
              (st.reason ? ` (reason: ${st.reason})` : ''));
          }
        }
      }
      return seen;
    }, {
      timeout: 180_000, interval: 250,
      message: 'files did not all reach indexed (failed for broken.pdf)',
      until: (seen) => Object.entries(seen)
        .every(([name, st]) => st === (name === 'broken.pdf' ? 'failed' : 'indexed')),
    });
    return states;
  });
  summary.file_states = Object.fromEntries(added.map((p) => [path.basename(p), finalStates[p]]));

  await step('library_rows', async () => {
    // The rows (visible: only six files) show the same states.
    await waitFor(() => s.executeScript(`
      const out = {};
      for (const p of arguments[0]) {
        const row = [...document.querySelectorAll('[data-testid=file-row]')]
          .find((r) => r.getAttribute('data-path') === p);
        out[p] = row ? row.getAttribute('data-state') : null;
      }
      return out;`, [added]), {
      timeout: 10_000, interval: 100,
      message: 'the library rows do not show every file with its final state',
      until: (rows) => added.every((p) => rows[p] === (p === broken ? 'failed' : 'indexed')),
    });
    const row = await s.find(`[data-testid=file-row]${attrSel('data-path', broken)}`);
    check(await row.attribute('data-state') === 'failed',
      'the broken.pdf row is not data-state="failed"');
    const reasons = await row.findAll('[data-testid=file-reason]');
    check(reasons.length > 0, 'the broken.pdf row has no [data-testid=file-reason]');
    // WebDriver's "visible text" drops text inside an ellipsised (overflow: hidden) span, which a
    // person sees; read the text and check the element has a box on screen instead.
    const reason = await s.executeScript(
      `const r = arguments[0].getBoundingClientRect();
       return r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight
         ? arguments[0].textContent.trim() : '';`,
      [reasons[0]]);
    check(reason.length > 0, 'the broken.pdf row\'s [data-testid=file-reason] is empty');
    summary.broken_reason = reason;
    await settle(s);
    fs.writeFileSync(path.join(outDir, 'library.png'), h.screenshot());
  });

  // c2. the folder itself, dropped, is kept in sync: a file written there is indexed unasked
  await step('sync', async () => {
    const r = await s.executeScript(`
      window.__e2eDrop = { pending: true };
      Promise.resolve(window.__cairn.drop(arguments[0])).then(
        () => { window.__e2eDrop = { ok: true }; },
        (e) => { window.__e2eDrop = { error: String(e && e.message || e) }; });
      return 'ok';`, [[fixture]]);
    check(r === 'ok', r);
    await waitFor(() => s.executeScript(`
      const row = [...document.querySelectorAll('[data-testid=watched-folder]')]
        .find((r) => r.getAttribute('data-path') === arguments[0]);
      return row ? row.getAttribute('data-watching') : null;`, [fixture]), {
      timeout: 30_000, interval: 100,
      message: 'the dropped folder is not listed as watched under Kept in sync',
      until: (watching) => watching === 'true',
    });
    const written = path.join(fixture, 'e2e-sync.md');
    fs.writeFileSync(written, '# Kingfishers\n\nKingfishers dive for small fish in clear streams.\n');
    await waitFor(async () => (await s.evaluate('window.__cairn.fileStates()'))?.[written]?.state ?? '(absent)', {
      timeout: 60_000, interval: 250,
      message: 'a file written into the watched folder was not indexed',
      until: (state) => state === 'indexed',
    });
    summary.synced_file = path.basename(written);
  });

  // d. ask
  const before = await step('ask', async () => {
    await s.click('[data-testid=nav-chat]');
    const input = await waitFor(() => s.find('[data-testid=chat-input]'),
      { timeout: 10_000, message: 'no [data-testid=chat-input] after clicking nav-chat' });
    const n = await s.executeScript(
      "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length");
    await installStreamRecorder(s, n);
    await input.sendKeys(QUESTION);
    await s.click('[data-testid=chat-send]');
    return n;
  });

  // e. the answer streams, then ends
  const polled = await step('answer', async () => {
    const lengths = []; // lengths seen while data-streaming="true", in order
    let firstSeen = null;
    let last;
    const t0 = performance.now();
    const deadline = t0 + 120_000;
    for (;;) {
      last = await s.executeScript(`
        const all = document.querySelectorAll('[data-testid=message][data-role=assistant]');
        if (all.length <= arguments[0]) return null;
        const m = all[all.length - 1];
        const c = m.querySelector('[data-testid=message-content]');
        return { streaming: m.getAttribute('data-streaming'),
                 len: c ? c.textContent.length : -1 };`, [before]);
      if (last) {
        firstSeen ??= performance.now() - t0;
        if (last.streaming === 'true') lengths.push(last.len);
        else if (last.streaming === 'false') break;
      }
      if (performance.now() > deadline) {
        throw new Failure('the answer did not finish (data-streaming="false") within 120 s; ' +
          `last observed: ${JSON.stringify(last)}`);
      }
      await sleep(30);
    }
    summary.answer_first_seen_ms = firstSeen === null ? null : Math.round(firstSeen);
    return lengths;
  });

  await step('answer_checks', async () => {
    const recorded = await s.executeScript('return window.__e2eStream || null');
    const increasing = (xs) => {
      let n = 0;
      let max = -1;
      for (const x of xs) {
        if (x > max) {
          n++;
          max = x;
        }
      }
      return n;
    };
    const polledSteps = increasing(polled.filter((l) => l > 0));
    const pageSteps = recorded ? increasing(recorded.lengths.filter((l) => l > 0)) : 0;
    summary.streaming = {
      polled_samples: polled.length,
      polled_increasing_lengths: polledSteps,
      in_page_increasing_lengths: pageSteps,
      in_page_first_text_ms: recorded?.firstTextMs ?? null,
      in_page_stream_ms: recorded?.streamMs ?? null,
    };
    // Polling over WebDriver is the check; the in-page recorder (a MutationObserver, no round
    // trips) only rescues a fast stream that the ~30 ms polls happened to straddle.
    check(Math.max(polledSteps, pageSteps) >= 3,
      `the answer did not stream: only ${polledSteps} distinct increasing lengths polled ` +
      `(${pageSteps} recorded in the page) while data-streaming="true"; polled ${
        JSON.stringify(polled.slice(0, 50))}`);
    const text = await s.executeScript(`
      const all = document.querySelectorAll('[data-testid=message][data-role=assistant]');
      const c = all[all.length - 1].querySelector('[data-testid=message-content]');
      return c ? c.textContent : null;`);
    check(text !== null, 'the assistant message has no [data-testid=message-content]');
    check(text.trim().length > 0, 'the answer is empty');
    summary.answer = text.trim().slice(0, 500);
  });

  // f. citations and the passage
  await step('citation', async () => {
    const messages = await s.findAll('[data-testid=message][data-role=assistant]');
    const msg = messages[messages.length - 1];
    const chips = await msg.findAll('[data-testid=citation-chip]');
    const chipInfo = [];
    for (const c of chips) {
      chipInfo.push({ n: await c.attribute('data-n'), doc: await c.attribute('data-doc-path') });
    }
    summary.citations = chipInfo;
    check(chips.length > 0, 'the answer has no [data-testid=citation-chip]');
    const i = chipInfo.findIndex((c) => (c.doc ?? '').endsWith('lighthouse-skerrow-point.md'));
    check(i >= 0, `no citation chip is from lighthouse-skerrow-point.md: ${JSON.stringify(chipInfo)}`);
    check(chipInfo[i].doc === lighthouse,
      `the chip's data-doc-path ${chipInfo[i].doc} is not the added file ${lighthouse}`);
    await chips[i].click();

    const panel = await waitFor(() => s.executeScript(`
      const p = document.querySelector('[data-testid=passage-panel]');
      if (!p) return { present: false };
      const r = p.getBoundingClientRect();
      const style = getComputedStyle(p);
      const visible = r.width > 0 && r.height > 0 && style.visibility !== 'hidden' &&
        (typeof p.checkVisibility !== 'function' ||
         p.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }));
      const q = (sel) => p.querySelector(sel);
      const t = q('[data-testid=passage-text]');
      return {
        present: true, visible,
        file: q('[data-testid=passage-file]') ? q('[data-testid=passage-file]').textContent : null,
        page: q('[data-testid=passage-page]') ? q('[data-testid=passage-page]').textContent : null,
        text: t ? t.textContent : null,
        marks: t ? t.querySelectorAll('mark').length : 0,
      };`), {
      timeout: 10_000, interval: 100,
      message: 'the passage panel did not show the cited passage',
      until: (p) => p.visible && (p.file ?? '').includes('lighthouse-skerrow-point.md') &&
        (p.text ?? '').trim().length > 0 && p.marks > 0,
    }).catch(async (err) => {
      const p = err.lastObserved;
      if (p && typeof p === 'object' && !(p instanceof Error)) {
        if (!p.present) throw new Failure('no [data-testid=passage-panel] after clicking the chip');
        if (!p.visible) throw new Failure('[data-testid=passage-panel] is not visible');
        if (!(p.file ?? '').includes('lighthouse-skerrow-point.md')) {
          throw new Failure(`[data-testid=passage-file] is ${JSON.stringify(p.file)}, not ` +
            'lighthouse-skerrow-point.md');
        }
        if (!(p.text ?? '').trim()) throw new Failure('[data-testid=passage-text] is empty');
        if (!p.marks) throw new Failure('[data-testid=passage-text] highlights no words (<mark>)');
      }
      throw err;
    });
    summary.passage = { file: panel.file, page: panel.page, marks: panel.marks,
      text: panel.text.trim().slice(0, 300) };

    const badge = await s.executeScript(`
      const all = document.querySelectorAll('[data-testid=message][data-role=assistant]');
      const b = all[all.length - 1].querySelector('[data-testid=answer-badge]') ||
        document.querySelector('[data-testid=answer-badge]');
      return b ? b.textContent : null;`);
    check(badge !== null, 'no [data-testid=answer-badge]');
    check(badge.includes('on this device'),
      `[data-testid=answer-badge] is ${JSON.stringify(badge)}, without "on this device"`);
    summary.badge = badge.trim();
  });

  // g. done
  await step('screenshot', async () => {
    await settle(s);
    fs.writeFileSync(path.join(outDir, 'chat.png'), h.screenshot());
  });

  // h. Settings › Other AI tools: the command to paste starts this app as the MCP server, and a
  // collection is shared with other tools by its switch (nothing is shared before).
  await step('other_tools', async () => {
    await s.executeScript("document.querySelector('[data-testid=nav-settings]').click()");
    await waitFor(
      () => s.executeScript("return !!document.querySelector('[data-testid=tools-share-default]')"),
      { timeout: 15_000, interval: 100, message: 'Settings never showed the Other AI tools section' });
    const config = JSON.parse(await s.executeScript(
      "return document.querySelector('[data-testid=tools-stdio-config]').textContent"));
    const server = config.mcpServers && config.mcpServers.cairn;
    check(server && path.basename(server.command) === path.basename(appArg),
      `the configuration to paste does not start the app: ${JSON.stringify(config)}`);
    check(JSON.stringify(server.args.slice(-1)) === '["mcp"]', `its arguments are ${JSON.stringify(server.args)}`);
    const before = await s.executeScript("return document.querySelector('[data-testid=tools-share-default]').checked");
    check(before === false, 'the default collection was shared with other tools before anyone turned a server on');
    await s.executeScript(`
      const box = document.querySelector('[data-testid=tools-share-default]');
      box.scrollIntoView();
      box.click();`);
    await waitFor(
      () => s.executeScript(
        "return document.querySelector('[data-testid=tools-state]').textContent.includes('the collection default')"),
      { timeout: 10_000, interval: 100, message: 'sharing the default collection was not shown' });
    await settle(s);
    fs.writeFileSync(path.join(outDir, 'other-tools.png'), h.screenshot());
  });
  summary.ok = true;
} catch (err) {
  exitCode = 1;
  summary.failed_step = stepName;
  summary.error = err instanceof Failure ? err.message : `${err.message}`;
  log(`FAILED in ${stepName}: ${err instanceof Failure ? err.message : err.stack}`);
  if (h) {
    try {
      fs.writeFileSync(path.join(outDir, 'failure.png'), h.screenshot());
      log(`screenshot: ${path.join(outDir, 'failure.png')}`);
    } catch (e) {
      log(`no failure screenshot: ${e.message}`);
    }
    log(`driver and app output (${h.logFile}), last lines:\n${h.logTail(2000)}`);
  }
} finally {
  if (h) await h.close();
}
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(exitCode);

/** Waits until the DOM has not changed for 500 ms (at most 5 s): screenshots lag a frame. */
async function settle(session, quietMs = 500, maxMs = 5000) {
  await session.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    const quiet = arguments[0], max = arguments[1];
    const start = performance.now();
    let last = start;
    const obs = new MutationObserver(() => { last = performance.now(); });
    obs.observe(document.documentElement,
      { subtree: true, childList: true, attributes: true, characterData: true });
    (function tick() {
      const now = performance.now();
      if (now - last >= quiet || now - start >= max) { obs.disconnect(); done(true); }
      else setTimeout(tick, 50);
    })();`, [quietMs, maxMs]);
}

/**
 * Records, in the page, the length of the newest assistant message's content at every DOM change
 * while it has data-streaming="true" (window.__e2eStream). A fallback witness for the check.
 */
async function installStreamRecorder(session, before) {
  await session.executeScript(`
    const before = arguments[0];
    const rec = window.__e2eStream = { lengths: [], firstTextMs: null, streamMs: null };
    const t0 = performance.now();
    let started = null;
    const sample = () => {
      const all = document.querySelectorAll('[data-testid=message][data-role=assistant]');
      if (all.length <= before) return;
      const m = all[all.length - 1];
      const c = m.querySelector('[data-testid=message-content]');
      const len = c ? c.textContent.length : -1;
      if (m.getAttribute('data-streaming') === 'true') {
        started ??= performance.now();
        if (len > 0 && rec.firstTextMs === null) rec.firstTextMs = Math.round(performance.now() - t0);
        if (rec.lengths[rec.lengths.length - 1] !== len) rec.lengths.push(len);
      } else if (m.getAttribute('data-streaming') === 'false' && started !== null) {
        rec.streamMs = Math.round(performance.now() - started);
        obs.disconnect();
      }
    };
    const obs = new MutationObserver(sample);
    obs.observe(document.documentElement,
      { subtree: true, childList: true, attributes: true, characterData: true });
    return true;`, [before]);
}
