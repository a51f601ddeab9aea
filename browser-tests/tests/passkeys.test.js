// Passkeys (issue 25) on the account page, in headless Chromium with a
// virtual authenticator (the DevTools protocol's WebAuthn domain: a CTAP2
// platform authenticator with resident keys and user verification, which
// answers without any prompt). A new user adds a passkey, signs in with it
// by the button and by the browser's offer in the username field
// (conditional mediation), removes it, and the removed passkey is refused
// in plain words; with two-factor sign-in on, a passkey is added with the
// password and a code, and serves as the second step of a password sign-in.
//
// Passkeys are never bound to an IP address, so the page is opened as
// http://localhost:PORT: with its default PUBLIC_BASE_URL
// (http://127.0.0.1:PORT) the dev server takes localhost as the RP ID and
// http://localhost:PORT as an origin. The authenticator belongs to one
// page (it stays across navigations; another page has none).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { expectText, launch, newPage, startServer } from './harness.js';

let server;
let browser;

before(async () => {
  server = await startServer({}, { host: 'localhost' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PASSWORD = 'S3cure-Passw0rd!';
const REFUSED = 'This passkey was not accepted: it may have been removed from your account. ' +
  'Sign in with your password, or use another passkey.';
const ADDED = 'Your passkey is added: you can now sign in with it, without your password.';
const REMOVED = 'Your passkey is removed: it no longer signs you in. ' +
  'You can also delete it from your device or password manager.';

// The 4xx the tests ask for (Chromium logs each); anything else is a defect.
function unexpected(errors) {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of 40[0-9]/.test(e));
}

const path = (r) => new URL(r.url()).pathname;
const base64url = (b64) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

// A virtual authenticator on `page`.
async function authenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal',
      hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
    // Off: a request waits for a touch that never comes (the browser's
    // offer in the username field then stays pending, as a person who does
    // not pick it leaves it).
    async presence(enabled) {
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
    },
  };
}

// Registers on the page, confirms from the emailed link, comes back to /account.
async function registerAndConfirm(page, username, email) {
  await page.goto(`${server.base}/account`);
  const register = page.locator('#register');
  await register.getByLabel('Username').fill(username);
  await register.getByLabel('Full name').fill('Pat Key');
  await register.getByLabel('Email').fill(email);
  await register.getByLabel('Password').fill(PASSWORD);
  await register.getByRole('button', { name: 'Create my account' }).click();
  await expectText(page, '#register .status', 'Check your email: we sent a link to confirm your address.');
  await page.goto(await server.linkTo(email, '/confirm_email/'));
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await expectText(page, '#status', 'Your email has been confirmed.');
  await page.goto(`${server.base}/account`);
  await page.locator('#signed-out').waitFor();
}

async function signIn(page, username) {
  const login = page.locator('#login');
  await login.getByLabel('Username').fill(username);
  await login.getByLabel('Password').fill(PASSWORD);
  await login.getByRole('button', { name: 'Sign in', exact: true }).click();
}

const passkeyNames = (page) => page.locator('#passkeys li .passkey-name').allTextContents();
const passkeyDates = (page) => page.locator('#passkeys li .hint').allTextContents();

test('add a passkey, sign in with it by the button and by the browser\'s offer, remove it: then it is refused', async () => {
  const username = 'passkeyer';
  const { page, context, errors, shot } = await newPage(browser, 'passkeys');
  const auth = await authenticator(context, page);

  // Register, confirm, sign in with the password: no passkeys yet.
  await registerAndConfirm(page, username, 'passkeyer@example.com');
  assert.equal(await page.locator('#login-username').getAttribute('autocomplete'), 'username webauthn');
  assert.equal(await page.locator('#login-passkey').isVisible(), true, 'the sign-in form offers a passkey');
  await signIn(page, username);
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#passkeys-none', 'You have no passkeys yet.');
  assert.equal(await page.locator('#passkeys-unusable').isVisible(), false);
  await shot('signed-in');

  // Add one: a wrong password first, then the right one and a name.
  await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
  const form = page.locator('#passkey-form');
  await form.getByLabel('Name').fill('  Laptop  ');
  await form.getByLabel('Password').fill('not-the-password');
  await form.getByRole('button', { name: 'Add a passkey' }).click();
  await expectText(page, '#passkey-form-pwd-error', 'This is not your password. Check it and try again.');
  assert.equal((await auth.credentials()).length, 0, 'no passkey made before the password is right');
  await form.getByLabel('Password').fill(PASSWORD);
  await shot('adding');
  const [finish] = await Promise.all([
    page.waitForRequest((r) => path(r) === '/api/passkeys/register/finish'),
    form.getByRole('button', { name: 'Add a passkey' }).click(),
  ]);
  await expectText(page, '#passkeys-status', ADDED);
  const sent = JSON.parse(finish.postData());
  assert.equal(sent.name, 'Laptop');
  assert.equal(typeof sent.ceremony, 'string');
  assert.equal(sent.credential.type, 'public-key');
  assert.ok(sent.credential.response.attestationObject && sent.credential.response.clientDataJSON);
  assert.equal(await form.isVisible(), false);
  assert.deepEqual(await passkeyNames(page), ['Laptop']);
  assert.match((await passkeyDates(page))[0], /^Added \d+ [A-Z][a-z]{2} \d{4}, \d\d:\d\d · not used yet$/);
  // On the authenticator: one discoverable passkey for localhost, under an
  // opaque user handle (not the username), with the id the API keeps.
  const [credential, ...others] = await auth.credentials();
  assert.equal(others.length, 0);
  assert.equal(credential.isResidentCredential, true);
  assert.equal(credential.rpId, 'localhost');
  assert.equal(base64url(credential.credentialId), sent.credential.id);
  const handle = Buffer.from(credential.userHandle, 'base64');
  assert.equal(handle.length, 16, 'a 16-byte user handle');
  assert.ok(!handle.toString('latin1').includes(username));
  await shot('added');

  // Sign out with the authenticator not answering: the form offers the
  // passkey in the username field (pending) and by the button.
  await auth.presence(false);
  const [offered] = await Promise.all([
    page.waitForRequest((r) => path(r) === '/api/passkey_login/start'),
    page.getByRole('button', { name: 'Sign out', exact: true }).click(),
  ]);
  assert.ok(offered);
  await expectText(page, '#status', 'You are signed out.');
  await page.waitForTimeout(500);
  assert.equal(await page.locator('#signed-in').isVisible(), false, 'nothing signs in by itself');
  await shot('signed-out');

  // "Sign in with a passkey", remembered for 30 days.
  await auth.presence(true);
  await page.getByLabel('Remember me for 30 days').check();
  const [byButton] = await Promise.all([
    page.waitForRequest((r) => path(r) === '/api/passkey_login/finish'),
    page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
  ]);
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#status', 'You are signed in.');
  const login = JSON.parse(byButton.postData());
  assert.equal(login.remember, true);
  assert.equal(login.credential.id, sent.credential.id);
  assert.ok(login.credential.response.signature && login.credential.response.authenticatorData);
  assert.equal((await page.locator('[data-profile="username"]').textContent()).trim(), username);
  const access = (await context.cookies()).find((c) => c.name === 'access_token_cookie');
  assert.ok(access && access.httpOnly && access.expires > Date.now() / 1000 + 29 * 24 * 3600, 'a 30-day session');
  // The list, read as the page signs in, says when it was last used.
  await page.waitForFunction(() => /· last used /.test(document.querySelector('#passkeys li .hint')?.textContent));
  assert.match((await passkeyDates(page))[0], /· last used \d+ [A-Z][a-z]{2} \d{4}, \d\d:\d\d$/);
  await shot('signed-in-by-button');

  // Sign out with the authenticator answering: the browser's offer in the
  // username field signs in at once (a person picks the passkey there).
  const [, , byOffer] = await Promise.all([
    page.waitForResponse((r) => path(r) === '/api/logout'),
    page.getByRole('button', { name: 'Sign out', exact: true }).click(),
    page.waitForResponse((r) => path(r) === '/api/passkey_login/finish'),
  ]);
  assert.equal(byOffer.status(), 200);
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#status', 'You are signed in.');
  await shot('signed-in-by-offer');

  // Remove it: the password, and the list is empty.
  await page.getByRole('button', { name: 'Remove the passkey Laptop' }).click();
  await expectText(page, '#passkey-form-about',
    'Remove the passkey "Laptop"? It will no longer sign you in. Enter your password to confirm.');
  assert.equal(await form.getByLabel('Name').isVisible(), false);
  await form.getByLabel('Password').fill(PASSWORD);
  await shot('removing');
  const [removal] = await Promise.all([
    page.waitForRequest((r) => path(r) === '/api/passkeys/remove'),
    form.getByRole('button', { name: 'Remove the passkey' }).click(),
  ]);
  assert.deepEqual(JSON.parse(removal.postData()), { id: sent.credential.id, pwd: PASSWORD });
  await expectText(page, '#passkeys-status', REMOVED);
  assert.deepEqual(await passkeyNames(page), []);
  await expectText(page, '#passkeys-none', 'You have no passkeys yet.');
  await shot('removed');

  // The authenticator still has it: signing in with it is refused, in plain
  // words, by the browser's offer and by the button.
  assert.equal((await auth.credentials()).length, 1);
  const [, refusedOffer] = await Promise.all([
    page.getByRole('button', { name: 'Sign out', exact: true }).click(),
    page.waitForResponse((r) => path(r) === '/api/passkey_login/finish'),
  ]);
  assert.equal(refusedOffer.status(), 401);
  assert.equal((await refusedOffer.json()).msg, 'passkey not accepted');
  await expectText(page, '#login .status', REFUSED);
  assert.equal(await page.locator('#signed-in').isVisible(), false);
  const [refusedButton] = await Promise.all([
    page.waitForResponse((r) => path(r) === '/api/passkey_login/finish'),
    page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
  ]);
  assert.equal(refusedButton.status(), 401);
  await expectText(page, '#login .status', REFUSED);
  assert.equal(await page.locator('#signed-in').isVisible(), false);
  assert.ok(!(await context.cookies()).some((c) => c.name === 'access_token_cookie'), 'no session');
  await shot('removed-refused');

  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

// A code from the app for a 30-second step after the last one used (the
// API takes each step's code once per account, and the next step's too).
async function freshCode(app) {
  for (;;) {
    const step = Math.floor(Date.now() / 30000);
    for (const s of [step, step + 1]) {
      if (s > app.lastStep) {
        app.lastStep = s;
        return app.totp.generate({ timestamp: s * 30000 });
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('with two-factor sign-in on: a passkey is added with a code, and is the second step of a password sign-in', async () => {
  const username = 'twosteps';
  const { page, context, errors, shot } = await newPage(browser, 'passkeys-2fa');
  const auth = await authenticator(context, page);
  await registerAndConfirm(page, username, 'twosteps@example.com');
  await signIn(page, username);
  await page.locator('#signed-in').waitFor();

  // Two-factor sign-in on (through the page's own API calls; mfa.test.js
  // walks its buttons), then the page read again.
  const secret = await page.evaluate(async (pwd) => (await ua.api('POST', 'mfa/totp/setup', { pwd })).data.secret, PASSWORD);
  const app = { totp: new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }), lastStep: 0 };
  const code = await freshCode(app);
  assert.equal(await page.evaluate(async (c) => (await ua.api('POST', 'mfa/totp/confirm', { code: c })).status, code), 200);
  await page.reload();
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#mfa-state',
    'On: signing in asks for your password and a code from your authenticator app. Recovery codes left: 10.');

  // Adding a passkey asks for a code too.
  await page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
  const form = page.locator('#passkey-form');
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add a passkey' }).click();
  await expectText(page, '#passkey-form-code-error', 'Enter your code.');
  await form.getByLabel('Code from your authenticator app, or a recovery code').fill(await freshCode(app));
  await shot('adding-with-code');
  const [start] = await Promise.all([
    page.waitForRequest((r) => path(r) === '/api/passkeys/register/start'),
    form.getByRole('button', { name: 'Add a passkey' }).click(),
  ]);
  assert.deepEqual(Object.keys(JSON.parse(start.postData())).sort(), ['code', 'pwd']);
  await expectText(page, '#passkeys-status', ADDED);
  assert.deepEqual(await passkeyNames(page), ['Passkey'], 'the default name');
  await shot('added');

  // Sign out; the password answers "second factor required" with a passkey
  // offered: "Use a passkey" signs in, without a code.
  await auth.presence(false); // the browser's offer in the username field stays pending
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectText(page, '#status', 'You are signed out.');
  const [first] = await Promise.all([
    page.waitForResponse((r) => path(r) === '/api/login'),
    signIn(page, username),
  ]);
  const asked = await first.json();
  assert.equal(first.status(), 401);
  assert.equal(asked.msg, 'second factor required');
  assert.deepEqual(asked.data.methods, ['totp', 'recovery_code', 'passkey']);
  assert.deepEqual(Object.keys(asked.data.passkey).sort(), ['ceremony', 'publicKey']);
  await page.locator('#login-mfa').waitFor();
  assert.equal(await page.locator('#login-mfa-passkey').isVisible(), true);
  await expectText(page, '#login-mfa-passkey-hint', 'Or use one of your passkeys instead of a code.');
  await shot('second-step');
  await auth.presence(true);
  const [second] = await Promise.all([
    page.waitForRequest((r) => path(r) === '/api/login/mfa'),
    page.getByRole('button', { name: 'Use a passkey' }).click(),
  ]);
  const body = JSON.parse(second.postData());
  assert.deepEqual(Object.keys(body).sort(), ['ceremony', 'credential', 'mfa_token']);
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#status', 'You are signed in.');
  await shot('signed-in-second-step');

  // A passkey alone is a full sign-in, two-factor or not: the browser's
  // offer signs in at once after signing out.
  const [, , byOffer] = await Promise.all([
    page.waitForResponse((r) => path(r) === '/api/logout'),
    page.getByRole('button', { name: 'Sign out', exact: true }).click(),
    page.waitForResponse((r) => path(r) === '/api/passkey_login/finish'),
  ]);
  assert.equal(byOffer.status(), 200);
  await page.locator('#signed-in').waitFor();
  assert.equal(await page.locator('#login-mfa').isVisible(), false);
  await shot('signed-in-by-offer');

  assert.deepEqual(unexpected(errors), []);
  await context.close();
});
