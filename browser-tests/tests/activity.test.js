// Recent security activity on the account page (issue 27), in headless
// Chromium on the dev server (memory store, the "New sign-in" mail on): a
// new user confirms the address, signs in (a new device: one mail), signs
// out, types a wrong password on the same browser (a failed sign-in, as
// this browser holds the account's device token), signs in again (a known
// device: no mail) and changes the password; the page lists each of those,
// newest first, with its time, IP address and browser, a page at a time
// ("Show more"). Every kind of event in words is checked on a stood-in list.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SCREENSHOTS, expectText, launch, newPage, startServer } from './harness.js';

let server;
let browser;

before(async () => {
  server = await startServer({ NEW_SIGNIN_MAIL: 'true' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PASSWORD = 'S3cure-Passw0rd!';
const NEW_PASSWORD = 'An0ther-Passw0rd!x';
const SIGN_IN_MAIL = /^Subject: New sign-in to your account\r?$/m;

// The 4xx and 5xx the tests ask for (Chromium logs each); anything else is a defect.
function unexpected(errors) {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of (40[0-9]|50[0-9])/.test(e));
}

async function register(username, email) {
  const r = await fetch(`${server.base}/api/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, full_name: username, email, phone: null, contacts: null, pwd: PASSWORD }),
  });
  assert.equal(r.status, 200, await r.text());
}

async function signIn(page, username, pwd = PASSWORD) {
  const login = page.locator('#login');
  await login.getByLabel('Username').fill(username);
  await login.getByLabel('Password').fill(pwd);
  await login.getByRole('button', { name: 'Sign in' }).click();
}

// "5 Dec 2026, 12:40" in UTC (the contexts below run in UTC).
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function utc(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

// The activity table as shown: one [what, when, IP address, browser] per row.
async function activityRows(page) {
  return page.locator('#activity-list tr').evaluateAll((rows) =>
    rows.map((row) => Array.from(row.cells, (cell) => cell.textContent.trim())));
}

async function waitForRows(page, n) {
  try {
    await page.waitForFunction((want) => document.querySelectorAll('#activity-list tr').length === want, n, { timeout: 5000 });
  } catch {
    assert.deepEqual(await activityRows(page), `${n} rows`);
  }
}

// The "New sign-in" mails to `address` (sent after the answer: waited for).
async function signInMails(address, want) {
  for (let i = 0; i < 100; i++) {
    const n = server.mailsTo(address).filter((m) => SIGN_IN_MAIL.test(m)).length;
    if (n >= want) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
  return server.mailsTo(address).filter((m) => SIGN_IN_MAIL.test(m)).length;
}

test('the account page lists what happened, newest first, a page at a time', async () => {
  const username = 'watcher';
  const email = 'watcher@example.com';
  await register(username, email);
  const { page, context, errors, shot } = await newPage(browser, 'activity', undefined, { timezoneId: 'UTC' });

  // Confirmed in this browser, through the emailed link's button.
  await page.goto(await server.linkTo(email, '/confirm_email/'));
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await expectText(page, '#status', 'Your email has been confirmed.');

  // The first sign-in of this browser: a new device, mailed once.
  await page.goto(`${server.base}/account`);
  await signIn(page, username);
  await page.locator('#signed-in').waitFor();
  assert.equal(await signInMails(email, 1), 1, 'a "New sign-in" mail for a new device');
  const [mail] = server.mailsTo(email).filter((m) => SIGN_IN_MAIL.test(m));

  // Out, a wrong password from this (now known) browser, in again, a new password.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectText(page, '#status', 'You are signed out.');
  await signIn(page, username, 'not-the-password');
  await expectText(page, '#login .status', 'The username or password is not right. Check both and try again.');
  await signIn(page, username);
  await page.locator('#signed-in').waitFor();
  const change = page.locator('#change-password');
  await change.getByLabel('Current password').fill(PASSWORD);
  await change.getByLabel('New password').fill(NEW_PASSWORD);
  await change.getByRole('button', { name: 'Change password' }).click();
  await expectText(page, '#change-password .status', 'Your password is changed. Every other session of your account was signed out.');

  // The list, read again after the change, newest first.
  await waitForRows(page, 6);
  const listed = await page.evaluate(async () => (await (await fetch('api/security_events?limit=20')).json()).data);
  assert.deepEqual(listed.events.map((e) => e.kind), [
    'password_changed', 'sign_in', 'sign_in_failed', 'sign_out', 'sign_in', 'email_confirmed',
  ]);
  assert.equal(listed.cursor, null);
  const whats = ['Password changed', 'Signed in', 'Failed sign-in', 'Signed out', 'Signed in (new device)', 'Email address confirmed'];
  assert.deepEqual(await activityRows(page), listed.events.map((e, i) => [whats[i], utc(e.at), e.ip, 'Chrome on Linux']));
  for (const e of listed.events) assert.match(e.ip, /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/, 'the client\'s address');
  assert.equal(await page.locator('#activity-more').isVisible(), false, 'no more to show');
  // A table with column headers and a header per row, named by the section's heading.
  const activity = page.getByRole('table', { name: 'Recent security activity' });
  assert.deepEqual(await activity.getByRole('columnheader').allTextContents(), ['What', 'When', 'IP address', 'Browser']);
  assert.deepEqual(await activity.getByRole('rowheader').allTextContents(), whats);
  await page.locator('section[aria-labelledby="activity-title"]').screenshot({ path: join(SCREENSHOTS, 'activity.png') });
  await shot('activity');

  // The second sign-in came with this browser's device token: no second mail.
  await page.waitForTimeout(500);
  assert.equal(await signInMails(email, 2), 1, 'no "New sign-in" mail for a known device');
  assert.match(mail, /reset/i, 'the mail says how to reset the password');

  // A page at a time: the page asks for 20; the API, made to answer 4 a
  // page here, gives a cursor, and "Show more" asks for the rest with it.
  const asked = [];
  const answers = [];
  const activityCalls = (url) => url.pathname === '/api/security_events';
  await page.route(activityCalls, async (route) => {
    const url = new URL(route.request().url());
    asked.push(Object.fromEntries(url.searchParams));
    url.searchParams.set('limit', '4');
    const response = await route.fetch({ url: url.href });
    answers.push(await response.json());
    await route.fulfill({ response });
  });
  await page.reload();
  await page.locator('#signed-in').waitFor();
  await waitForRows(page, 4);
  const more = page.getByRole('button', { name: 'Show more' });
  await more.waitFor();
  assert.equal(typeof answers[0].data.cursor, 'string');
  await shot('first-page');
  await more.click();
  await waitForRows(page, 6);
  assert.deepEqual(asked, [{ limit: '20' }, { limit: '20', cursor: answers[0].data.cursor }]);
  assert.equal(answers[1].data.cursor, null);
  assert.equal(await more.isVisible(), false, 'the last page: no "Show more"');
  assert.deepEqual((await activityRows(page)).map((r) => r[0]), whats, 'the same list, in two pages');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), whats[4],
    'the focus on the first row added');
  await page.unroute(activityCalls);

  // Signed out, the activity goes with the profile.
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.locator('#signed-out').waitFor();
  assert.equal(await page.locator('#activity-list tr').count(), 0);
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('every kind of event in plain words, and a list that could not be read', async () => {
  await register('kinds', 'kinds@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'activity-kinds', { width: 420, height: 900 }, { timezoneId: 'UTC' });
  const at = '2026-12-05T18:20:00Z';
  const event = (kind, more = {}) => ({ kind, at, ip: '203.0.113.7', device: 'Firefox on Windows', ...more });
  const events = [
    event('sign_in', { new_device: true }), event('sign_in', { new_device: false }), event('sign_in_failed'),
    event('sign_out'), event('session_ended'), event('password_changed'), event('password_reset'),
    event('email_change_requested'), event('email_confirmed'), event('email_restored'), event('mfa_enabled'),
    event('mfa_disabled'), event('recovery_codes_renewed'), event('passkey_added'), event('passkey_removed'),
    event('account_exported', { ip: null, device: null }), event('something_new'),
  ];
  let answer = { status: 200, body: { status: 'OK', msg: 'success', data: { events, cursor: null } } };
  await page.route((url) => url.pathname === '/api/security_events', (route) => route.fulfill({
    status: answer.status, contentType: 'application/json', body: JSON.stringify(answer.body),
  }));
  await page.goto(`${server.base}/account`);
  await signIn(page, 'kinds');
  await page.locator('#signed-in').waitFor();
  await waitForRows(page, events.length);
  const sameRest = ['5 Dec 2026, 18:20', '203.0.113.7', 'Firefox on Windows'];
  assert.deepEqual(await activityRows(page), [
    ['Signed in (new device)', ...sameRest],
    ['Signed in', ...sameRest],
    ['Failed sign-in', ...sameRest],
    ['Signed out', ...sameRest],
    ['Session ended', ...sameRest],
    ['Password changed', ...sameRest],
    ['Password reset', ...sameRest],
    ['Email change requested', ...sameRest],
    ['Email address confirmed', ...sameRest],
    ['Email address restored', ...sameRest],
    ['Two-factor sign-in turned on', ...sameRest],
    ['Two-factor sign-in turned off', ...sameRest],
    ['New recovery codes made', ...sameRest],
    ['Passkey added', ...sameRest],
    ['Passkey removed', ...sameRest],
    ['Your data downloaded', '5 Dec 2026, 18:20', 'Unknown', 'Unknown browser'],
    ['Something new', ...sameRest],
  ]);
  assert.equal(await page.locator('#activity-list time').first().getAttribute('datetime'), at);
  await shot('every-kind-on-a-phone');

  // Text from the API stays text.
  answer = { status: 200, body: { status: 'OK', msg: 'success', data: {
    events: [event('sign_in', { device: '<img src=x onerror="window.pwned=1">', ip: '<b>1.2.3.4</b>' })], cursor: null,
  } } };
  await page.reload();
  await page.locator('#signed-in').waitFor();
  await waitForRows(page, 1);
  assert.deepEqual(await activityRows(page), [['Signed in', '5 Dec 2026, 18:20', '<b>1.2.3.4</b>', '<img src=x onerror="window.pwned=1">']]);
  assert.equal(await page.locator('#activity-list img, #activity-list b').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  // An outage: said in the section, the rest of the page works.
  answer = { status: 500, body: { status: 'ERR', msg: 'internal server error' } };
  await page.reload();
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#activity-status', 'Your recent security activity could not be listed. ' +
    'Something went wrong on our side. Try again in a moment; if it keeps happening, contact support.');
  assert.equal(await page.locator('#activity').isVisible(), false);
  await page.locator('#sessions li').first().waitFor();
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});
