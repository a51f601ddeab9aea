// What the browser tests stand on: the dev server (memory store, mail in a
// temporary outbox) on a free port, Debian's Chromium through playwright-core,
// the outbox read back, and a screenshot of every page a test passes.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR || join(REPO, 'target');
const SERVER = process.env.DEV_SERVER_BIN || join(TARGET, 'debug', 'dev-server');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOTS = join(TARGET, 'browser-screenshots');

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

// The dev server, started fresh for a test file, with `env` on top of
// the usual settings (among them no "New sign-in" mail, so that the tests
// that count mail count only theirs; activity.test.js turns it on).
// `base` names it by `host`: 127.0.0.1, or `localhost` where a test needs
// a host name (passkeys are never bound to an IP address; the server's
// defaults then take http://localhost:PORT as a passkey origin, with
// localhost as the RP ID). Emailed links keep PUBLIC_BASE_URL's 127.0.0.1
// unless `env` says otherwise.
export async function startServer(env = {}, { host = '127.0.0.1' } = {}) {
  const port = await freePort();
  const outbox = mkdtempSync(join(tmpdir(), 'ua-outbox-'));
  const child = spawn(SERVER, [], {
    env: { ...process.env, PORT: String(port), OUTBOX_DIR: outbox, STORE: 'memory', RUST_LOG: 'warn',
      NEW_SIGNIN_MAIL: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const base = `http://${host}:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      if (r.ok) break;
    } catch {
      // not yet listening
    }
    if (child.exitCode !== null || i > 300) {
      throw new Error(`dev server (${SERVER}) did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    outbox,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(outbox, { recursive: true, force: true });
    },
    // The emails to an address, oldest first, as text.
    mailsTo(address) {
      return readdirSync(outbox)
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .map((f) => readFileSync(join(outbox, f), 'utf8'))
        .filter((m) => m.split('\r\n\r\n')[0].split('\n').some((l) => l.trim().toLowerCase() === `to: ${address}`));
    },
    // The newest link to this server's `marker` path in mail to `address`.
    async linkTo(address, marker) {
      for (let i = 0; i < 100; i++) {
        const mails = this.mailsTo(address);
        for (const mail of mails.reverse()) {
          const found = mail.match(new RegExp(`https?://[^\\s"<]*${marker}[A-Za-z0-9_-]+`));
          if (found) return found[0];
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${marker} link in mail to ${address}`);
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI: no sandbox. The rest keeps Chromium off the network this
    // machine does not have.
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// A fresh browser context (its own cookies) with a phone-sized or desktop
// viewport (and any other context `options`, such as a timezoneId), and a
// screenshot helper numbered per test.
export async function newPage(browser, name, viewport = { width: 1000, height: 900 }, options = {}) {
  const context = await browser.newContext({ viewport, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  let n = 0;
  return {
    page,
    context,
    errors,
    async shot(step) {
      n += 1;
      const file = join(SCREENSHOTS, `${name}-${String(n).padStart(2, '0')}-${step}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

// Waits until `selector` shows exactly `expected`; fails with what it shows.
export async function expectText(page, selector, expected) {
  try {
    await page.waitForFunction(
      ([sel, want]) => document.querySelector(sel)?.textContent.trim() === want,
      [selector, expected],
      { timeout: 5000 },
    );
  } catch {
    assert.equal((await page.locator(selector).textContent())?.trim(), expected, selector);
  }
}
