// Two-factor sign-in (issue 24) on the account page, in headless Chromium:
// a new user turns it on from the key shown as text, keeps the recovery
// codes (copied and downloaded), signs in with a code from the app and with
// a recovery code, sees a used recovery code refused, makes new codes and
// turns it off again. The codes are computed by `otpauth` (npm), an
// implementation of TOTP independent of the API's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Secret, TOTP, URI } from 'otpauth';
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
// Recovery codes: 12 of these letters and digits, in groups of four.
const RECOVERY_CODE = /^[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}$/;
const WRONG_CODE = 'This code is not right, or it was already used. Check it and try again.';

// The 4xx the tests ask for (Chromium logs each); anything else is a defect.
function unexpected(errors) {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of 40[0-9]/.test(e));
}

// A code from the app for a 30-second step after the last one used: the API
// takes each step's code once per account, and the next step's code too
// (one step of skew), so this waits only when both are used.
async function freshCode(app) {
  for (;;) {
    const now = Date.now();
    const step = Math.floor(now / 30000);
    for (const s of [step, step + 1]) {
      if (s > app.lastStep) {
        app.lastStep = s;
        return app.totp.generate({ timestamp: s * 30000 });
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// A code the app showed an hour ago: wrong now.
function staleCode(app) {
  return app.totp.generate({ timestamp: Date.now() - 3600e3 });
}

async function signIn(page, username) {
  const login = page.locator('#login');
  await login.getByLabel('Username').fill(username);
  await login.getByLabel('Password').fill(PASSWORD);
  await login.getByRole('button', { name: 'Sign in' }).click();
}

// The second step of a sign-in: the code, then "Sign in".
async function enterCode(page, code) {
  const step = page.locator('#login-mfa');
  await step.getByLabel('Code').fill(code);
  await step.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectText(page, '#status', 'You are signed out.');
  await page.locator('#login').waitFor();
}

// The password form of the two-factor section, opened by `button`.
async function mfaForm(page, button, submit, code) {
  await page.locator('#mfa-actions').getByRole('button', { name: button, exact: true }).click();
  const form = page.locator('#mfa-form');
  await form.getByLabel('Password').fill(PASSWORD);
  if (code !== undefined) await form.getByLabel('Code from your authenticator app, or a recovery code').fill(code);
  await form.getByRole('button', { name: submit }).click();
}

test('turn on with the key as text, sign in with a code and with a recovery code (once), then turn off', async () => {
  const username = 'twofactor';
  const email = 'twofactor@example.com';
  const { page, context, errors, shot } = await newPage(browser, 'mfa', undefined, {
    permissions: ['clipboard-read', 'clipboard-write'],
  });

  // Register, confirm from the emailed link, sign in: two-factor sign-in is off.
  await page.goto(`${server.base}/account`);
  const register = page.locator('#register');
  await register.getByLabel('Username').fill(username);
  await register.getByLabel('Full name').fill('Two Factor');
  await register.getByLabel('Email').fill(email);
  await register.getByLabel('Password').fill(PASSWORD);
  await register.getByRole('button', { name: 'Create my account' }).click();
  await expectText(page, '#register .status', 'Check your email: we sent a link to confirm your address.');
  await page.goto(await server.linkTo(email, '/confirm_email/'));
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await expectText(page, '#status', 'Your email has been confirmed.');
  await page.goto(`${server.base}/account`);
  await signIn(page, username);
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#mfa-state',
    'Off: signing in asks only for your password. Turn it on to also ask for a code from an authenticator app.');
  assert.equal(await page.locator('#mfa-new-codes').isVisible(), false);
  assert.equal(await page.locator('#mfa-off').isVisible(), false);
  for (const form of ['change-password', 'change-email', 'export', 'delete']) {
    assert.equal(await page.locator(`#${form}-code`).isVisible(), false, `no code asked in #${form} while off`);
  }
  await shot('off');

  // Turn on: the password (a wrong one first), then the key as a QR code and as text.
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  const form = page.locator('#mfa-form');
  assert.equal(await form.getByLabel('Code from your authenticator app, or a recovery code').isVisible(), false,
    'no code asked to turn it on while it is off');
  await form.getByLabel('Password').fill('not-the-password');
  await form.getByRole('button', { name: 'Continue' }).click();
  await expectText(page, '#mfa-pwd-error', 'This is not your password. Check it and try again.');
  await form.getByLabel('Password').fill(PASSWORD);
  const [setup] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/mfa/totp/setup'),
    form.getByRole('button', { name: 'Continue' }).click(),
  ]);
  await expectText(page, '#mfa-status',
    'Add the key to your authenticator app, then enter the code it shows to confirm.');
  const qr = page.locator('#mfa-qr svg');
  await qr.waitFor();
  const box = await qr.boundingBox();
  assert.ok(box && box.width >= 150 && box.height >= 150, `the QR code is shown large enough: ${JSON.stringify(box)}`);
  assert.equal(await qr.evaluate((el) => el.namespaceURI), 'http://www.w3.org/2000/svg');
  assert.ok(await qr.evaluate((el) => el.querySelectorAll('*').length > 0), 'the QR code has content');
  const shown = (await page.locator('#mfa-secret').textContent()).trim();
  assert.match(shown, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/, 'the key in groups of four');
  const key = shown.replace(/ /g, '');
  // The API's answer says the same as the page.
  const answer = (await setup.json()).data;
  assert.equal(answer.secret, key);
  const uri = URI.parse(answer.otpauth_uri);
  assert.deepEqual([uri.issuer, uri.label, uri.secret.base32, uri.algorithm, uri.digits, uri.period],
    ['user_account', username, key, 'SHA1', 6, 30]);
  assert.equal(await form.isVisible(), false);
  await shot('key');

  // The app, set up from the key as typed in: a stale code is refused, a fresh one confirms.
  const totp = new TOTP({ secret: Secret.fromBase32(key), algorithm: 'SHA1', digits: 6, period: 30 });
  const app = { totp, lastStep: 0 };
  const confirm = page.locator('#mfa-confirm');
  await confirm.getByLabel('The 6-digit code your app shows').fill(staleCode(app));
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expectText(page, '#mfa-confirm-code-error', WRONG_CODE);
  await confirm.getByLabel('The 6-digit code your app shows').fill(await freshCode(app));
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await expectText(page, '#mfa-status', 'Two-factor sign-in is on: signing in now also asks for a code.');

  // The recovery codes, shown once: ten, copied and downloaded.
  const codes = await page.locator('#mfa-code-list li').allTextContents();
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, RECOVERY_CODE);
  assert.equal(new Set(codes).size, 10);
  assert.equal(await page.locator('#mfa-qr svg').count(), 0, 'the key is gone from the page');
  assert.equal(await page.locator('#mfa-secret').textContent(), '');
  await shot('recovery-codes');
  await page.getByRole('button', { name: 'Copy' }).click();
  await expectText(page, '#mfa-status', 'The recovery codes are copied. Paste them somewhere safe.');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download (.txt)' }).click(),
  ]);
  await expectText(page, '#mfa-status', 'Your recovery codes are downloading as recovery-codes.txt.');
  assert.equal(download.suggestedFilename(), 'recovery-codes.txt');
  const saved = readFileSync(await download.path(), 'utf8');
  for (const text of [copied, saved]) {
    assert.ok(text.startsWith(`Recovery codes for ${username} at 127.0.0.1:`), text);
    assert.deepEqual(text.trim().split('\n').slice(-10), codes);
  }
  await page.getByRole('button', { name: 'I have saved them' }).click();
  assert.equal(await page.locator('#mfa-code-list li').count(), 0, 'the codes are gone from the page');
  await expectText(page, '#mfa-state',
    'On: signing in asks for your password and a code from your authenticator app. Recovery codes left: 10.');
  for (const form of ['change-password', 'change-email', 'export', 'delete']) {
    assert.equal(await page.locator(`#${form}-code`).isVisible(), true, `a code asked in #${form} while on`);
  }
  await shot('on');

  // A form that re-asks the password asks for the code too, and sends it:
  // the export, with the last recovery code.
  const exp = page.locator('#export');
  await exp.getByLabel('Password').fill(PASSWORD);
  await exp.getByRole('button', { name: 'Download my data (JSON)' }).click();
  await expectText(page, '#export-code-error', 'Enter your code.');
  await exp.getByLabel('Code from your authenticator app, or a recovery code').fill(codes[9]);
  const [exported, sent] = await Promise.all([
    page.waitForEvent('download'),
    page.waitForRequest((r) => new URL(r.url()).pathname === '/api/account_export'),
    exp.getByRole('button', { name: 'Download my data (JSON)' }).click(),
  ]);
  assert.deepEqual(JSON.parse(sent.postData()), { pwd: PASSWORD, code: codes[9] });
  assert.equal(exported.suggestedFilename(), 'account-export.json');
  await signOut(page);

  // Sign in: the password, then a code from the app (a stale one first).
  await signIn(page, username);
  await page.locator('#login-mfa').waitFor();
  assert.equal(await page.locator('#login').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'login-mfa-code');
  assert.equal(await page.locator('#signed-in').isVisible(), false);
  assert.ok(!(await context.cookies()).some((c) => c.name === 'access_token_cookie'), 'no session before the code');
  await shot('code-asked');
  await enterCode(page, staleCode(app));
  await expectText(page, '#login-mfa-code-error', WRONG_CODE);
  await enterCode(page, await freshCode(app));
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#status', 'You are signed in.');
  await expectText(page, '#mfa-state',
    'On: signing in asks for your password and a code from your authenticator app. Recovery codes left: 9.');
  await shot('signed-in-with-code');
  await signOut(page);

  // Sign in with a recovery code; that code then works no more.
  await signIn(page, username);
  await enterCode(page, codes[0]);
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#mfa-state',
    'On: signing in asks for your password and a code from your authenticator app. Recovery codes left: 8.');
  await shot('signed-in-with-recovery-code');
  await signOut(page);
  await signIn(page, username);
  await enterCode(page, codes[0]);
  await expectText(page, '#login-mfa-code-error', WRONG_CODE);
  assert.equal(await page.locator('#signed-in').isVisible(), false);
  await shot('recovery-code-used');

  // "Back" goes to the password; then a code from the app signs in.
  await page.getByRole('button', { name: 'Back' }).click();
  await page.locator('#login').waitFor();
  assert.equal(await page.locator('#login-mfa').isVisible(), false);
  await signIn(page, username);
  await enterCode(page, await freshCode(app));
  await page.locator('#signed-in').waitFor();

  // New recovery codes (password and a recovery code): the old ones go.
  await mfaForm(page, 'New recovery codes', 'Make new recovery codes', codes[1]);
  await expectText(page, '#mfa-status', 'Here are your new recovery codes. The old ones no longer work.');
  const fresh = await page.locator('#mfa-code-list li').allTextContents();
  assert.equal(fresh.length, 10);
  assert.ok(!fresh.some((c) => codes.includes(c)));
  await shot('new-recovery-codes');
  await page.getByRole('button', { name: 'I have saved them' }).click();

  // Turn off: an old recovery code is refused, a new one does it.
  await mfaForm(page, 'Turn off', 'Turn off two-factor sign-in', codes[2]);
  await expectText(page, '#mfa-code-error', WRONG_CODE);
  await page.locator('#mfa-form').getByLabel('Code from your authenticator app, or a recovery code').fill(fresh[0]);
  await page.locator('#mfa-form').getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await expectText(page, '#mfa-status', 'Two-factor sign-in is off: signing in asks only for your password.');
  await expectText(page, '#mfa-state',
    'Off: signing in asks only for your password. Turn it on to also ask for a code from an authenticator app.');
  assert.equal(await page.locator('#export-code').isVisible(), false);
  await shot('turned-off');

  // The password alone signs in again.
  await signOut(page);
  await signIn(page, username);
  await page.locator('#signed-in').waitFor();
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('a sign-in that has to start again goes back to the password', async () => {
  const { page, context, errors, shot } = await newPage(browser, 'mfa-again');
  await page.goto(`${server.base}/account`);
  await page.locator('#signed-out').waitFor();
  // The API's answers stood in: a password that asks for a code, then a
  // sign-in that took too long.
  await page.route(`${server.base}/api/login`, (route) => route.fulfill({
    status: 401,
    contentType: 'application/json',
    body: JSON.stringify({
      status: 'ERR', msg: 'second factor required', data: { mfa_token: 'pending', methods: ['totp', 'recovery_code'] },
    }),
  }), { times: 1 });
  await page.route(`${server.base}/api/login/mfa`, (route) => route.fulfill({
    status: 401, contentType: 'application/json', body: JSON.stringify({ status: 'ERR', msg: 'sign in again' }),
  }), { times: 1 });
  await signIn(page, 'slowpoke');
  await page.locator('#login-mfa').waitFor();
  await enterCode(page, '');
  await expectText(page, '#login-mfa-code-error', 'Enter your code.');
  const [sent] = await Promise.all([
    page.waitForRequest((r) => new URL(r.url()).pathname === '/api/login/mfa'),
    enterCode(page, '123 456'),
  ]);
  assert.deepEqual(JSON.parse(sent.postData()), { mfa_token: 'pending', code: '123 456' });
  await expectText(page, '#login .status', 'Signing in took too long, or too many codes were wrong. Sign in again.');
  assert.equal(await page.locator('#login-mfa').isVisible(), false);
  assert.equal(await page.locator('#login-pwd').inputValue(), '', 'the password is not kept');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'login-pwd');
  await shot('sign-in-again');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});
