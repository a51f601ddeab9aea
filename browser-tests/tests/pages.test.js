// The pages in headless Chromium, on the dev server (memory store): the walk
// a new user takes through the emailed links and the account page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { expectText, launch, newPage, startServer } from './harness.js';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PASSWORD = 'S3cure-Passw0rd!';
const NEW_PASSWORD = 'An0ther-Passw0rd!x';

// Chromium logs every 4xx a script's fetch gets; those are the API's answers
// the tests ask for. Anything else (a CSP violation, a script error, a
// missing file) is a defect.
function unexpected(errors) {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of 40[019]/.test(e));
}

// A link page reads its token, then takes it out of the address bar: the
// address shows the page's path without it (nothing left in history).
async function expectTokenGone(page, link) {
  const token = link.split('/').pop();
  const pagePath = new URL(link).pathname.slice(0, -token.length);
  try {
    await page.waitForFunction((t) => !location.href.includes(t), token, { timeout: 5000 });
  } catch {
    // the assertions below say what the address still is
  }
  assert.ok(!page.url().includes(token), `the token is still in ${page.url()}`);
  assert.equal(await page.evaluate(() => location.pathname), pagePath);
  assert.ok(!(await page.evaluate(() => location.href)).includes(token));
}

async function api(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const resp = await fetch(`${server.base}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: resp.status, body: await resp.json() };
}

async function register(username, email) {
  const r = await api('POST', '/api/registration', {
    username, full_name: username, email, phone: null, contacts: null, pwd: PASSWORD,
  });
  assert.equal(r.status, 200);
}

async function apiToken(username, pwd = PASSWORD) {
  const r = await api('POST', '/api/login', { username, pwd });
  assert.equal(r.status, 200);
  return r.body.data.token;
}

async function signIn(page, username, pwd, remember) {
  await page.getByLabel('Username', { exact: true }).first().fill(username);
  await page.locator('#login-pwd').fill(pwd);
  if (remember) await page.getByLabel('Remember me for 30 days').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('register, confirm, sign in, sign out, reset the password, sign in with it', async () => {
  const { page, context, errors, shot } = await newPage(browser, 'walk');
  const username = 'walker';
  const email = 'walker@example.com';

  // Register on the account page.
  await page.goto(`${server.base}/account`);
  await page.locator('#signed-out').waitFor();
  await shot('account-signed-out');
  const register = page.locator('#register');
  await register.getByLabel('Username').fill(username);
  await register.getByLabel('Full name').fill('Wanda Walker');
  await register.getByLabel('Email').fill(email);
  await register.getByLabel('Password').fill(PASSWORD);
  await register.getByRole('button', { name: 'Create my account' }).click();
  await expectText(page, '#register .status', 'Check your email: we sent a link to confirm your address.');
  await shot('registered');

  // The emailed link opens the confirmation page; only the button confirms.
  const link = await server.linkTo(email, '/confirm_email/');
  assert.ok(link.startsWith(`${server.base}/confirm_email/`), link);
  await page.goto(link);
  await page.getByRole('heading', { name: 'Confirm your email' }).waitFor();
  await expectTokenGone(page, link);
  await shot('confirm-page');
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await expectText(page, '#status', 'Your email has been confirmed.');
  await shot('confirmed');
  await page.getByRole('link', { name: 'Go to your account' }).click();

  // Sign in with "remember me": the profile with the masked address.
  await page.locator('#signed-out').waitFor();
  await signIn(page, username, PASSWORD, true);
  await page.locator('#signed-in').waitFor();
  assert.equal((await page.locator('[data-profile="email"]').textContent()).trim(), 'w****r@example.com');
  assert.equal((await page.locator('[data-profile="verified"]').textContent()).trim(), 'confirmed');
  assert.equal((await page.locator('[data-profile="username"]').textContent()).trim(), username);
  const cookies = await context.cookies();
  const access = cookies.find((c) => c.name === 'access_token_cookie');
  assert.ok(access && access.httpOnly, 'the session is an HttpOnly cookie');
  assert.ok(access.expires > Date.now() / 1000 + 29 * 24 * 3600, 'remember me: a 30-day cookie');
  await shot('signed-in');

  // A write through the cookie session carries the CSRF header: the profile edit.
  const profile = page.locator('#profile');
  await profile.getByLabel('Full name').fill('Wanda W.');
  await profile.getByRole('button', { name: 'Save' }).click();
  await expectText(page, '#profile .status', 'Your profile is saved.');
  assert.equal((await page.locator('[data-profile="full_name"]').textContent()).trim(), 'Wanda W.');

  // Sign out: a POST that carries the CSRF header; the page and the API both say so.
  const csrf = (await context.cookies()).find((c) => c.name === 'csrf_access_token');
  assert.ok(csrf, 'a CSRF cookie while signed in');
  const [logout] = await Promise.all([
    page.waitForRequest((r) => new URL(r.url()).pathname === '/api/logout'),
    page.getByRole('button', { name: 'Sign out', exact: true }).click(),
  ]);
  assert.equal(logout.method(), 'POST');
  assert.equal(await logout.headerValue('x-csrf-token'), csrf.value);
  await expectText(page, '#status', 'You are signed out.');
  await page.locator('#signed-out').waitFor();
  const left = (await context.cookies()).map((c) => c.name);
  assert.ok(!left.includes('access_token_cookie') && !left.includes('csrf_access_token'), left.join());
  await page.reload();
  await page.locator('#signed-out').waitFor();
  await shot('signed-out');

  // Request a reset.
  const forgot = page.locator('#reset-request');
  await forgot.getByLabel('Username').fill(username);
  await forgot.getByRole('button', { name: 'Email me a reset link' }).click();
  await expectText(page, '#reset-request .status', 'Check your email: we sent a link to choose a new password.');

  // The reset page: mismatched passwords and the API's field errors show
  // next to their field; then the new password is set.
  const resetLink = await server.linkTo(email, '/reset_password/');
  assert.ok(resetLink.startsWith(`${server.base}/reset_password/`), resetLink);
  await page.goto(resetLink);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await expectTokenGone(page, resetLink);
  await shot('reset-page');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD + 'x');
  await page.getByRole('button', { name: 'Set my new password' }).click();
  await expectText(page, '#new_pwd_again-error', 'The two passwords are not the same.');
  await page.getByLabel('New password', { exact: true }).fill('short');
  await page.getByLabel('New password again').fill('short');
  await page.getByRole('button', { name: 'Set my new password' }).click();
  await expectText(page, '#new_pwd-error', 'new_pwd must be 8-128 characters.');
  assert.equal(await page.getByLabel('New password', { exact: true }).getAttribute('aria-invalid'), 'true');
  await shot('reset-field-error');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set my new password' }).click();
  await expectText(page, '#reset .status', 'Your password has been reset.');
  await shot('reset-done');

  // The old password no longer works; the new one does.
  await page.getByRole('link', { name: 'Sign in with your new password' }).click();
  await page.locator('#signed-out').waitFor();
  await signIn(page, username, PASSWORD, false);
  await expectText(page, '#login .status', 'The username or password is not right. Check both and try again.');
  await signIn(page, username, NEW_PASSWORD, false);
  await page.locator('#signed-in').waitFor();
  assert.equal((await page.locator('[data-profile="full_name"]').textContent()).trim(), 'Wanda W.');
  await shot('signed-in-again');

  assert.deepEqual(unexpected(errors), [], 'no script errors and no CSP violations');
  await context.close();
});

test('a prefetch of the confirmation page leaves the link usable', async () => {
  const email = 'prefetch@example.com';
  const reg = await fetch(`${server.base}/api/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'prefetched', full_name: 'P', email, phone: null, contacts: null, pwd: PASSWORD }),
  });
  assert.equal(reg.status, 200);
  const link = await server.linkTo(email, '/confirm_email/');

  // What a mail scanner does: GET the link (twice), follow nothing, run no script.
  for (let i = 0; i < 2; i++) {
    const scan = await fetch(link, { headers: { 'user-agent': 'SafeLinks-Scanner/1.0' } });
    assert.equal(scan.status, 200);
    assert.match(scan.headers.get('content-type'), /^text\/html/);
    await scan.text();
  }

  const { page, context, errors, shot } = await newPage(browser, 'prefetch', { width: 390, height: 844 });
  await page.goto(link);
  await shot('confirm-page-phone');
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await expectText(page, '#status', 'Your email has been confirmed.');
  await shot('confirmed-phone');
  // The link is spent now: opened again, its button gets the contract's answer.
  await page.goto(link);
  await expectTokenGone(page, link);
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await expectText(page, '#status', 'user not found.');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('a wrong token shows the contract message on every link page', async () => {
  const { page, context, errors, shot } = await newPage(browser, 'wrong-token');
  const bogus = 'A'.repeat(43);
  await page.goto(`${server.base}/confirm_email/${bogus}`);
  await expectTokenGone(page, `${server.base}/confirm_email/${bogus}`);
  // Keyboard only: the button is the first stop, Enter presses it.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'go');
  await page.keyboard.press('Enter');
  await expectText(page, '#status', 'user not found.');
  assert.ok(await page.getByRole('button', { name: 'Confirm my email' }).isDisabled());
  await shot('confirm-wrong-token');

  await page.goto(`${server.base}/revert_email/${bogus}`);
  await expectTokenGone(page, `${server.base}/revert_email/${bogus}`);
  await page.getByRole('button', { name: 'Keep my address' }).click();
  await expectText(page, '#status', 'user not found.');

  await page.goto(`${server.base}/reset_password/${bogus}`);
  await expectTokenGone(page, `${server.base}/reset_password/${bogus}`);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set my new password' }).click();
  await expectText(page, '#reset .status', 'user not found');
  await shot('reset-wrong-token');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('the account page runs the lifecycle: sessions, export, delete', async () => {
  const email = 'life@example.com';
  const reg = await fetch(`${server.base}/api/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'lifecycle', full_name: 'L', email, phone: null, contacts: null, pwd: PASSWORD }),
  });
  assert.equal(reg.status, 200);
  // Another session of the same user, from elsewhere.
  const other = await fetch(`${server.base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'lifecycle', pwd: PASSWORD }),
  });
  const otherToken = (await other.json()).data.token;

  const { page, context, errors, shot } = await newPage(browser, 'lifecycle');
  await page.goto(`${server.base}/account`);
  await signIn(page, 'lifecycle', PASSWORD, false);
  await page.locator('#signed-in').waitFor();
  assert.equal((await page.locator('[data-profile="verified"]').textContent()).trim(), 'not confirmed');

  // Two sessions listed; ending the other one signs it out.
  const items = page.locator('#sessions li');
  await items.nth(1).waitFor();
  assert.equal(await items.count(), 2);
  assert.equal(await page.locator('#sessions li', { hasText: 'this browser' }).count(), 1);
  await shot('sessions');
  await page.locator('#sessions li').getByRole('button', { name: /^End the session/ }).click();
  await expectText(page, '#sessions-status', 'The session has ended: that browser or device is signed out.');
  await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 1);
  const gone = await fetch(`${server.base}/api/profile_settings`, { headers: { authorization: `Bearer ${otherToken}` } });
  assert.equal(gone.status, 401);

  // The resend button, for an unconfirmed address: a double click sends one email.
  assert.equal(server.mailsTo(email).length, 1);
  await page.getByRole('button', { name: 'Send the confirmation link again' }).dblclick();
  await expectText(page, '#resend-status', 'Check your email: we sent a new link to confirm your address.');
  await page.waitForTimeout(300);
  assert.equal(server.mailsTo(email).length, 2, 'one resend for a double click');

  // A password change: the current one is checked; other sessions end, this one stays.
  const change = page.locator('#change-password');
  await change.getByLabel('Current password').fill('not-the-password');
  await change.getByLabel('New password').fill(NEW_PASSWORD);
  await change.getByRole('button', { name: 'Change password' }).click();
  await expectText(page, '#change-password-pwd-error', 'This is not your current password. Check it and try again.');
  await change.getByLabel('Current password').fill(PASSWORD);
  await change.getByLabel('New password').fill(NEW_PASSWORD);
  await change.getByRole('button', { name: 'Change password' }).click();
  await expectText(page, '#change-password .status', 'Your password is changed. Every other session of your account was signed out.');
  assert.equal(await page.locator('#signed-in').isVisible(), true);

  // The export asks for the password: a wrong one is refused (and
  // nothing downloads); the right one downloads the account's data as JSON.
  const exp = page.locator('#export');
  let downloads = 0;
  page.on('download', () => { downloads += 1; });
  await exp.getByLabel('Password').fill('not-the-password');
  await exp.getByRole('button', { name: 'Download my data (JSON)' }).click();
  await expectText(page, '#export-pwd-error', 'This is not your password. Check it and try again.');
  assert.equal(downloads, 0);
  await exp.getByLabel('Password').fill(NEW_PASSWORD);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    exp.getByRole('button', { name: 'Download my data (JSON)' }).click(),
  ]);
  await expectText(page, '#export .status', 'Your data is downloading as account-export.json.');
  assert.equal(await exp.getByLabel('Password').inputValue(), '', 'the password is not kept on the page');
  assert.equal(download.suggestedFilename(), 'account-export.json');
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  const exported = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(exported.profile.email, email, 'the export holds the unmasked address');

  // A wrong password is refused; the box must be ticked; then the account goes.
  const del = page.locator('#delete');
  await del.getByLabel('Password').fill(NEW_PASSWORD);
  await del.getByRole('button', { name: 'Delete my account' }).click();
  await expectText(page, '#delete-sure-error', 'Tick the box to confirm.');
  await del.getByLabel(/I understand/).check();
  await del.getByLabel('Password').fill('not-the-password');
  await del.getByRole('button', { name: 'Delete my account' }).click();
  await expectText(page, '#delete-pwd-error', 'This is not your password. Check it and try again.');
  await del.getByLabel('Password').fill(NEW_PASSWORD);
  await del.getByRole('button', { name: 'Delete my account' }).click();
  await expectText(page, '#status', 'Your account and its data have been deleted.');
  await page.locator('#signed-out').waitFor();
  await shot('deleted');
  // Nothing of the account is left on the page for the next person.
  assert.equal(await page.locator('[data-profile="username"]').textContent(), '');
  assert.equal(await page.locator('#sessions li').count(), 0);
  const login = await api('POST', '/api/login', { username: 'lifecycle', pwd: NEW_PASSWORD });
  assert.equal(login.status, 401);
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('a session ended elsewhere signs the page out', async () => {
  await register('elsewhere', 'elsewhere@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'ended-elsewhere');
  await page.goto(`${server.base}/account`);
  await signIn(page, 'elsewhere', PASSWORD, false);
  await page.locator('#signed-in').waitFor();

  // "Sign out everywhere" from another device ends this browser's session too.
  const token = await apiToken('elsewhere');
  const all = await api('POST', '/api/logout_all', {}, token);
  assert.equal(all.status, 200);

  const profile = page.locator('#profile');
  await profile.getByLabel('Full name').fill('Someone Else');
  await profile.getByRole('button', { name: 'Save' }).click();
  await expectText(page, '#status', 'Your session has ended. Sign in again.');
  await page.locator('#signed-out').waitFor();
  assert.equal(await page.locator('#signed-in').isVisible(), false);
  await shot('signed-out-by-another-device');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('the revert page keeps the address, and only its button does', async () => {
  const old = 'keeper@old.example';
  await register('keeper', old);
  const confirm = await server.linkTo(old, '/confirm_email/');
  const confirmed = await api('GET', `/api/confirm_email/${confirm.split('/').pop()}`);
  assert.equal(confirmed.status, 200);
  const token = await apiToken('keeper');
  const changed = await api('POST', '/api/change_email', { pwd: PASSWORD, new_email: 'intruder@evil.example' }, token);
  assert.equal(changed.status, 200);
  const link = await server.linkTo(old, '/revert_email/');
  assert.ok(link.startsWith(`${server.base}/revert_email/`), link);

  // A scanner's GET changes nothing: the session still works.
  assert.equal((await fetch(link)).status, 200);
  assert.equal((await api('GET', '/api/profile_settings', undefined, token)).status, 200);

  const { page, context, errors, shot } = await newPage(browser, 'revert');
  await page.goto(link);
  await page.getByRole('heading', { name: 'Keep your email address' }).waitFor();
  await expectTokenGone(page, link);
  assert.equal(await page.locator('#next').isVisible(), false, 'no explanation before the button');
  await shot('revert-page');
  await page.getByRole('button', { name: 'Keep my address' }).click();
  await expectText(page, '#status', 'Your email has been restored.');
  // What happened, and what to do next.
  const next = page.locator('#next');
  await next.waitFor();
  const explained = (await next.textContent()).replace(/\s+/g, ' ');
  for (const said of [
    'This address is your account\'s address again.',
    'Every session and every device was signed out.',
    'Your password no longer works',
    'We sent a link to choose a new password to this address.',
    'it expires in 1 hour.',
    'Forgot your password?',
  ]) {
    assert.ok(explained.includes(said), `the revert page says "${said}": ${explained}`);
  }
  await next.getByRole('link', { name: 'your account page' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Keep my address' }).isVisible(), false);
  await shot('reverted');
  // Every session ended, and the change is gone: its link no longer works.
  assert.equal((await api('GET', '/api/profile_settings', undefined, token)).status, 401);
  const change = await server.linkTo('intruder@evil.example', '/confirm_email/');
  const late = await api('GET', `/api/confirm_email/${change.split('/').pop()}`);
  assert.equal(late.status, 400);
  // The password stopped working (answered like a wrong one) until the
  // reset link mailed to the restored address is used.
  const refused = await api('POST', '/api/login', { username: 'keeper', pwd: PASSWORD });
  assert.deepEqual([refused.status, refused.body.msg], [401, 'wrong username or password']);
  const reset = await server.linkTo(old, '/reset_password/');
  const done = await api('POST', `/api/reset_password/${reset.split('/').pop()}`, { new_pwd: NEW_PASSWORD });
  assert.equal(done.status, 200);
  assert.equal((await api('POST', '/api/login', { username: 'keeper', pwd: NEW_PASSWORD })).status, 200);
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});
