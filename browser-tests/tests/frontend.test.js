// A front end on its own origin calls the API with a bearer token, as
// docs/FRONTEND.md shows: the page in tests/frontend/ (index.html, app.js),
// served by a server of its own on 127.0.0.1:<port2> and opened as
// http://localhost:<port2>/, which CORS_ORIGINS allows; the API is at
// http://127.0.0.1:<port>. It signs in (POST /api/login, data.token), reads
// GET /api/profile_settings and GET /api/whoami with
// "Authorization: Bearer <token>", signs out (POST /api/logout), and the
// token no longer works. Opened from an origin the API does not allow
// (http://127.0.0.1:<port2>/), the same page's calls are blocked.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expectText, freePort, launch, newPage, startServer } from './harness.js';

const PASSWORD = 'S3cure-Passw0rd!';
const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'frontend');
let server;
let browser;
let front;
let frontPort;

before(async () => {
  frontPort = await freePort();
  server = await startServer({ CORS_ORIGINS: `http://localhost:${frontPort}` });
  // The front end's own server: its page (told where the API is) and script.
  front = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') {
      const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8').replace('{{API}}', server.base);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else if (path === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(readFileSync(join(PAGE_DIR, 'app.js')));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => front.listen(frontPort, '127.0.0.1', ok));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((ok) => (front ? front.close(ok) : ok()));
});

// A confirmed account, made through the API and the emailed link.
async function confirmedUser(username, email) {
  const reg = await fetch(`${server.base}/api/registration`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, full_name: 'Front End', email, phone: null, contacts: null, pwd: PASSWORD }),
  });
  assert.equal(reg.status, 200);
  const link = await server.linkTo(email, '/confirm_email/');
  const confirmed = await fetch(`${server.base}/api/confirm_email/${link.split('/').pop()}`);
  assert.equal(confirmed.status, 200);
}

async function signIn(page, username) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a front end on an allowed origin signs in with a bearer token, reads the profile, signs out', async () => {
  await confirmedUser('frontend', 'frontend@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'frontend');
  const calls = [];
  page.on('request', (r) => {
    if (r.url().startsWith(server.base)) calls.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  await page.goto(`http://localhost:${frontPort}/`);
  assert.notEqual(new URL(page.url()).origin, new URL(server.base).origin, 'the page and the API are two origins');

  await signIn(page, 'frontend');
  await expectText(page, '#profile-username', 'frontend');
  await expectText(page, '#profile-full-name', 'Front End');
  await expectText(page, '#profile-email', 'f******d@example.com');
  await expectText(page, '#profile-status', '200 success');
  await page.waitForFunction(() => document.querySelector('#whoami').textContent !== '');
  assert.match(await page.locator('#whoami').textContent(), /^frontend, session until \d{4}-\d\d-\d\dT/);
  await shot('signed-in-with-a-bearer-token');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectText(page, '#signed-out', '200 user logout');
  // The same token, after the sign-out: refused.
  await page.getByRole('button', { name: 'Load my profile' }).click();
  await expectText(page, '#profile-status', '401 authentication required');
  assert.equal(await page.locator('#error').textContent(), '');
  await shot('signed-out-token-refused');

  // Every call went to the API's origin, each JSON one after a preflight
  // (Content-Type: application/json and Authorization are not "simple").
  assert.deepEqual(calls.filter((c) => !c.startsWith('OPTIONS')), [
    'POST /api/login', 'GET /api/profile_settings', 'GET /api/whoami', 'POST /api/logout', 'GET /api/profile_settings',
  ]);
  // No cookie came with the bearer session: nothing the API set is kept for its origin.
  assert.deepEqual((await context.cookies(server.base)).map((c) => c.name), []);
  assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), []);
  await context.close();
});

test('a front end on another origin reads how long to wait after a 429', async () => {
  await confirmedUser('waiter', 'waiter@example.com');
  const { page, context } = await newPage(browser, 'frontend-retry');
  await page.goto(`http://localhost:${frontPort}/`);
  await page.getByLabel('Username').fill('waiter');
  await page.getByLabel('Password').fill('Wr0ng-Passw0rd!');
  // LOGIN_MAX_FAILURES (5) wrong passwords, then the username is locked
  // for LOGIN_LOCKOUT_BASE_SECS (60): the 429's Retry-After reaches the script.
  for (let i = 0; i < 5; i++) {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page, '#error', 'The call failed: Error: 401 wrong username or password');
    await page.evaluate(() => { document.getElementById('error').textContent = ''; });
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForFunction(() => document.querySelector('#error').textContent !== '');
  assert.match(
    await page.locator('#error').textContent(),
    /^The call failed: Error: 429 too many failed login attempts, try again later\. \(try again in (59|60) s\)$/,
  );
  await context.close();
});

test('the same page on an origin the API does not allow: the browser blocks its calls', async () => {
  // The account's sessions as the API lists them (to the test, with a token of its own).
  const login = await fetch(`${server.base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'frontend', pwd: PASSWORD }),
  });
  const token = (await login.json()).data.token;
  const sessions = async () => {
    const r = await fetch(`${server.base}/api/sessions`, { headers: { Authorization: `Bearer ${token}` } });
    return (await r.json()).data.sessions.length;
  };
  const before = await sessions();

  const { page, context, errors, shot } = await newPage(browser, 'frontend-other-origin');
  const failed = [];
  page.on('requestfailed', (r) => failed.push(`${r.method()} ${new URL(r.url()).pathname}`));
  await page.goto(`http://127.0.0.1:${frontPort}/`);
  assert.notEqual(new URL(page.url()).origin, `http://localhost:${frontPort}`);
  await signIn(page, 'frontend');
  await expectText(page, '#error', 'The call failed: TypeError: Failed to fetch');
  assert.equal(await page.locator('#profile-username').textContent(), '');
  await shot('blocked-by-cors');
  assert.deepEqual(failed, ['POST /api/login'], 'the browser failed the login itself');
  assert.equal(await sessions(), before, 'no session was made: the login never reached the API');
  // What Chromium says about it: a CORS refusal, nothing else.
  assert.ok(errors.some((e) => /blocked by CORS policy/.test(e)), errors.join('\n'));
  assert.deepEqual(errors.filter((e) => !/blocked by CORS policy|Failed to load resource: net::ERR_FAILED/.test(e)), []);
  await context.close();
});
