// A front end on a sibling host (app.test.localhost) signs in to the API on
// api.test.localhost with cookies, COOKIE_DOMAIN=test.localhost: the CSRF
// cookie is shared with the front end, and a cookie-authenticated write
// carrying it works. Chromium resolves *.localhost to loopback (and refuses
// Domain=localhost, hence test.localhost).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { freePort, launch, newPage, startServer } from './harness.js';

const PASSWORD = 'S3cure-Passw0rd!';
let server;
let browser;
let front;
let frontPort;

before(async () => {
  frontPort = await freePort();
  // The team's front end: a page of its own, on its own host.
  front = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!DOCTYPE html><html><head><title>app</title></head><body><p>The app</p></body></html>');
  });
  await new Promise((ok) => front.listen(frontPort, '127.0.0.1', ok));
  server = await startServer({
    COOKIE_DOMAIN: 'test.localhost',
    CORS_ORIGINS: `http://app.test.localhost:${frontPort}`,
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((ok) => (front ? front.close(ok) : ok()));
});

test('a front end on a sibling host signs in with cookies and writes with the CSRF cookie', async () => {
  const r = await fetch(`${server.base}/api/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username: 'sibling', full_name: 'Sib Ling', email: 'sibling@example.com',
      phone: null, contacts: null, pwd: PASSWORD,
    }),
  });
  assert.equal(r.status, 200);
  const api = server.base.replace('127.0.0.1', 'api.test.localhost');
  const { page, errors, shot } = await newPage(browser, 'sibling');
  await page.goto(`http://app.test.localhost:${frontPort}/`);

  const seen = await page.evaluate(async ({ api, pwd }) => {
    const json = { 'content-type': 'application/json' };
    const login = await fetch(`${api}/api/login`, {
      method: 'POST', credentials: 'include', headers: json,
      body: JSON.stringify({ username: 'sibling', pwd }),
    });
    const answer = await login.json();
    // The CSRF cookie, set by the API's host for test.localhost, is the
    // front end's to read.
    const csrf = (document.cookie.split('; ').find((c) => c.startsWith('csrf_access_token=')) || '')
      .slice('csrf_access_token='.length);
    const profile = await fetch(`${api}/api/profile_settings`, { credentials: 'include' });
    const write = await fetch(`${api}/api/profile_settings`, {
      method: 'POST', credentials: 'include', headers: { ...json, 'X-CSRF-TOKEN': csrf },
      body: JSON.stringify({ full_name: 'Sibling Renamed' }),
    });
    const forged = await fetch(`${api}/api/profile_settings`, {
      method: 'POST', credentials: 'include', headers: json,
      body: JSON.stringify({ full_name: 'No CSRF' }),
    });
    return {
      login: login.status,
      csrfFromAnswer: answer.data && answer.data.csrf_token,
      csrf,
      httpOnlyHidden: !document.cookie.includes('access_token_cookie=')
        && !document.cookie.includes('device_token='),
      profile: profile.status,
      write: write.status,
      writeBody: await write.json(),
      forged: forged.status,
    };
  }, { api, pwd: PASSWORD });

  assert.equal(seen.login, 200);
  assert.ok(seen.csrf, 'the CSRF cookie is readable on the sibling host');
  assert.equal(seen.csrf, seen.csrfFromAnswer);
  assert.ok(seen.httpOnlyHidden, 'the session and device cookies stay HttpOnly');
  assert.equal(seen.profile, 200);
  assert.equal(seen.write, 200, JSON.stringify(seen.writeBody));
  assert.equal(seen.writeBody.data.full_name, 'Sibling Renamed');
  assert.equal(seen.forged, 401, 'a write without the CSRF header is refused');
  await shot('signed-in-from-the-sibling-host');
  assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), []);
});
