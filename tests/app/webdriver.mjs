// A tiny W3C WebDriver client for tauri-driver / WebKitWebDriver. No dependencies.
//
// Every command goes over ONE persistent HTTP connection (keep-alive, maxSockets 1): a client
// that opened a connection per command saw tauri-driver fail 2–3 runs in 15 with "connection
// closed before message completed" (see ../../../shared/docs/machine-notes.md). Node's built-in
// fetch cannot be limited to one socket without undici's Agent (an npm package), so this uses
// node:http.

import http from 'node:http';
import { inspect } from 'node:util';

/** The W3C key under which an element reference travels. */
export const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A failed WebDriver command: `error` is the W3C error code ("no such element", …). */
export class WebDriverError extends Error {
  constructor({ command, httpStatus, error, message, stacktrace }) {
    super(`${command}: ${error ?? 'error'}${message ? `: ${message}` : ''}` +
      (httpStatus ? ` (HTTP ${httpStatus})` : ''));
    this.name = 'WebDriverError';
    this.command = command;
    this.httpStatus = httpStatus;
    this.error = error;
    this.driverMessage = message;
    this.stacktrace = stacktrace;
  }
}

/** A connection to a WebDriver server (e.g. http://127.0.0.1:4444). */
export class WebDriver {
  constructor(baseUrl, { requestTimeoutMs = 120_000 } = {}) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.requestTimeoutMs = requestTimeoutMs;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  }

  /**
   * Sends one command. Resolves with the response's `value`; rejects with a WebDriverError
   * carrying the driver's error code and message.
   */
  async request(method, path, body, { timeoutMs = this.requestTimeoutMs } = {}) {
    const command = `${method} ${path}`;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#send(method, path, body, timeoutMs, command);
      } catch (err) {
        // A keep-alive socket the server closed while idle fails at once with ECONNRESET (or
        // EPIPE) before the server saw the request: Node's documented case for one retry.
        if (attempt === 0 && err.reusedSocket && ['ECONNRESET', 'EPIPE'].includes(err.code)) {
          continue;
        }
        throw err;
      }
    }
  }

  #send(method, path, body, timeoutMs, command) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: this.host,
        port: this.port,
        method,
        path: this.basePath + path,
        agent: this.agent,
        headers: {
          Accept: 'application/json',
          ...(payload ? {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': payload.length,
          } : {}),
        },
      });
      let timer = setTimeout(() => {
        timer = null;
        const err = new WebDriverError({
          command, error: 'client timeout', message: `no answer within ${timeoutMs} ms`,
        });
        req.destroy(err);
      }, timeoutMs);
      const done = (fn, v) => {
        if (timer) clearTimeout(timer);
        timer = null;
        fn(v);
      };
      req.on('error', (err) => {
        if (!(err instanceof WebDriverError)) {
          const wrapped = new WebDriverError({
            command, error: 'transport error', message: `${err.code ?? ''} ${err.message}`.trim(),
          });
          wrapped.code = err.code;
          wrapped.reusedSocket = req.reusedSocket;
          err = wrapped;
        }
        done(reject, err);
      });
      req.on('response', (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (err) => done(reject, new WebDriverError({
          command, httpStatus: res.statusCode, error: 'transport error', message: err.message,
        })));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : {};
          } catch {
            done(reject, new WebDriverError({
              command, httpStatus: res.statusCode, error: 'invalid response',
              message: text.slice(0, 500),
            }));
            return;
          }
          const value = json && typeof json === 'object' && 'value' in json ? json.value : json;
          const failed = res.statusCode >= 400 ||
            (value && typeof value === 'object' && typeof value.error === 'string');
          if (failed) {
            done(reject, new WebDriverError({
              command,
              httpStatus: res.statusCode,
              error: value?.error ?? 'unknown error',
              message: value?.message ?? text.slice(0, 500),
              stacktrace: value?.stacktrace,
            }));
          } else {
            done(resolve, value);
          }
        });
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** GET /status (answers once the driver is up). */
  status(opts) {
    return this.request('GET', '/status', undefined, opts);
  }

  /**
   * POST /session with `capabilities` (the W3C object: `{alwaysMatch: {...}}`).
   * Resolves with a Session.
   */
  async newSession(capabilities, { timeoutMs = 120_000 } = {}) {
    const value = await this.request('POST', '/session', { capabilities }, { timeoutMs });
    const id = value?.sessionId;
    if (!id) {
      throw new WebDriverError({
        command: 'POST /session', error: 'invalid response',
        message: `no sessionId in ${JSON.stringify(value).slice(0, 500)}`,
      });
    }
    return new Session(this, id, value.capabilities ?? {});
  }

  /** Closes the kept-alive connection. */
  close() {
    this.agent.destroy();
  }
}

/** A WebDriver session. */
export class Session {
  constructor(driver, id, capabilities) {
    this.driver = driver;
    this.id = id;
    this.capabilities = capabilities;
    this.deleted = false;
  }

  cmd(method, path, body, opts) {
    return this.driver.request(method, `/session/${this.id}${path}`, body, opts);
  }

  /** Sets timeouts in ms: {script, pageLoad, implicit}. */
  setTimeouts(timeouts) {
    return this.cmd('POST', '/timeouts', timeouts);
  }

  navigate(url) {
    return this.cmd('POST', '/url', { url });
  }

  url() {
    return this.cmd('GET', '/url');
  }

  title() {
    return this.cmd('GET', '/title');
  }

  /** The first element matching `css`; rejects with "no such element" if none. */
  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this, elementId(v, css));
  }

  /** Every element matching `css` (possibly none). */
  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return (v ?? []).map((e) => new Element(this, elementId(e, css)));
  }

  /** Clicks an element, or the first match of a selector. */
  async click(target) {
    const el = typeof target === 'string' ? await this.find(target) : target;
    return el.click();
  }

  async sendKeys(target, text) {
    const el = typeof target === 'string' ? await this.find(target) : target;
    return el.sendKeys(text);
  }

  async text(target) {
    const el = typeof target === 'string' ? await this.find(target) : target;
    return el.text();
  }

  async attribute(target, name) {
    const el = typeof target === 'string' ? await this.find(target) : target;
    return el.attribute(name);
  }

  /**
   * Runs `script` (a function body; its arguments are `arguments[0..]`) synchronously in the page
   * and resolves with its return value. Elements (in args or the result) become Element objects.
   */
  async executeScript(script, args = [], opts) {
    const v = await this.cmd('POST', '/execute/sync', { script, args: serialise(args) }, opts);
    return this.#revive(v);
  }

  /**
   * Runs `script` asynchronously: its last argument is a callback that ends the script with the
   * value passed to it (or the session's script timeout fails it).
   */
  async executeAsyncScript(script, args = [], opts) {
    const v = await this.cmd('POST', '/execute/async', { script, args: serialise(args) }, opts);
    return this.#revive(v);
  }

  /** Evaluates an expression that may return a promise, and resolves with its settled value. */
  async evaluate(expression, args = [], opts) {
    const r = await this.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       const args = Array.prototype.slice.call(arguments, 0, -1);
       try {
         Promise.resolve((function () { return (${expression}); }).apply(null, args))
           .then((value) => done({ ok: true, value }),
                 (e) => done({ ok: false, error: String(e && e.stack || e) }));
       } catch (e) { done({ ok: false, error: String(e && e.stack || e) }); }`,
      args, opts);
    if (!r || !r.ok) {
      throw new Error(`script failed in the page: ${expression}: ${r?.error ?? inspect(r)}`);
    }
    return r.value;
  }

  /** A PNG screenshot of the window, as a Buffer. */
  async screenshot(opts) {
    const b64 = await this.cmd('GET', '/screenshot', undefined, opts);
    return Buffer.from(b64, 'base64');
  }

  async deleteSession(opts) {
    if (this.deleted) return;
    this.deleted = true;
    await this.cmd('DELETE', '', undefined, opts);
  }

  #revive(v) {
    if (Array.isArray(v)) return v.map((x) => this.#revive(x));
    if (v && typeof v === 'object') {
      if (typeof v[ELEMENT_KEY] === 'string' && Object.keys(v).length === 1) {
        return new Element(this, v[ELEMENT_KEY]);
      }
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.#revive(x);
      return out;
    }
    return v;
  }
}

/** An element reference in a session. */
export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  cmd(method, path, body, opts) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body, opts);
  }

  toJSON() {
    return { [ELEMENT_KEY]: this.id };
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this.session, elementId(v, css));
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return (v ?? []).map((e) => new Element(this.session, elementId(e, css)));
  }

  click() {
    return this.cmd('POST', '/click', {});
  }

  clear() {
    return this.cmd('POST', '/clear', {});
  }

  /** Types `text` into the element (W3C "element send keys"). */
  sendKeys(text) {
    return this.cmd('POST', '/value', { text: String(text) });
  }

  /** The element's rendered text ("" when not displayed). */
  text() {
    return this.cmd('GET', '/text');
  }

  /** An attribute's value, or null. */
  attribute(name) {
    return this.cmd('GET', `/attribute/${encodeURIComponent(name)}`);
  }

  property(name) {
    return this.cmd('GET', `/property/${encodeURIComponent(name)}`);
  }

  displayed() {
    return this.cmd('GET', '/displayed');
  }

  rect() {
    return this.cmd('GET', '/rect');
  }
}

function elementId(v, css) {
  const id = v && v[ELEMENT_KEY];
  if (typeof id !== 'string') {
    throw new WebDriverError({
      command: `find ${css}`, error: 'invalid response',
      message: `no element reference in ${JSON.stringify(v)}`,
    });
  }
  return id;
}

function serialise(v) {
  return JSON.parse(JSON.stringify(v ?? []));
}

/**
 * Polls `fn` every `interval` ms until `until(value)` holds (default: value is truthy), and
 * resolves with that value. An exception from `fn` counts as an observation and polling goes on,
 * unless it has `fatal: true`, which ends the wait at once with that exception. On timeout it
 * throws an Error with `message` and the last value (or error) observed (also `lastObserved`).
 */
export async function waitFor(fn, {
  timeout = 10_000, interval = 100, message = 'condition not met', until = Boolean,
} = {}) {
  const start = Date.now();
  let last = '(nothing observed yet)';
  for (;;) {
    try {
      const v = await fn();
      last = v;
      if (until(v)) return v;
    } catch (err) {
      if (err && err.fatal) throw err;
      last = err;
    }
    const elapsed = Date.now() - start;
    if (elapsed >= timeout) {
      const shown = last instanceof Error ? `${last.name}: ${last.message}`
        : inspect(last, { depth: 6, breakLength: Infinity, maxStringLength: 2000 });
      const err = new Error(`${message} (timed out after ${timeout} ms; last observed: ${shown})`);
      err.lastObserved = last;
      throw err;
    }
    await sleep(Math.min(interval, Math.max(0, timeout - elapsed)));
  }
}

export { sleep };
