// The account page in plain words (issue 22): every answer of the API shown
// as a sentence a person understands, every invalid field marked at once
// before anything is sent, field errors next to their field, what the page
// said before gone as the next action starts, and each session shown with
// its browser and when it started. Limits, outages and a lost connection
// are rare on the dev server, so those answers are stood in by page.route.
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

// The 4xx and 5xx answers the tests ask for (Chromium logs each), and the
// connection a test cuts; anything else is a defect.
function unexpected(errors) {
  return errors.filter((e) => !/Failed to load resource: (the server responded with a status of (40[0-9]|429|50[0-9])|net::ERR_INTERNET_DISCONNECTED)/.test(e));
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
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function signIn(page, username, pwd = PASSWORD) {
  const login = page.locator('#login');
  await login.getByLabel('Username').fill(username);
  await login.getByLabel('Password').fill(pwd);
  await login.getByRole('button', { name: 'Sign in' }).click();
}

// Every field error shown in `form` (by field id), and which fields are aria-invalid.
async function fieldErrors(page, form) {
  return page.evaluate((id) => {
    const out = {};
    for (const el of document.querySelectorAll(`#${id} .error`)) {
      if (el.textContent.trim()) out[el.id.replace(/-error$/, '')] = el.textContent.trim();
    }
    const invalid = [...document.querySelectorAll(`#${id} [aria-invalid="true"]`)].map((el) => el.id);
    return { errors: out, invalid };
  }, form);
}

// Answers every request to `path` with `status`, `body` and `headers`
// instead of the API, once.
async function standIn(page, path, status, body, headers = {}) {
  await page.route(`${server.base}/api/${path}`, (route) => route.fulfill({
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }), { times: 1 });
}

test('registration: every invalid field marked at once, then the API\'s refusals next to their field', async () => {
  await register('taken', 'taken@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'plain-register');
  let sent = 0;
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/registration') sent += 1; });
  await page.goto(`${server.base}/account`);
  await page.locator('#signed-out').waitFor();
  const form = page.locator('#register');
  const create = form.getByRole('button', { name: 'Create my account' });

  // Six fields wrong at once: six messages at once, nothing sent.
  await form.getByLabel('Username').fill('_plain');
  await form.getByLabel('Full name').fill('   ');
  await form.getByLabel('Email').fill('plain@localhost');
  await form.getByLabel('Phone').fill('1'.repeat(33));
  await form.getByLabel('Contacts').fill('c'.repeat(1001));
  // Four characters (eight UTF-16 units): counted as the API counts, too short.
  await form.getByLabel('Password').fill('\u{1F511}'.repeat(4));
  await create.click();
  await expectText(page, '#register .status', 'Check the 6 marked fields.');
  assert.deepEqual(await fieldErrors(page, 'register'), {
    errors: {
      'register-username': 'A username starts with a letter or a digit.',
      'register-full_name': 'Enter your full name.',
      'register-email': 'This is not a valid email address. Check it: an address looks like name@example.com.',
      'register-phone': 'Your phone number can be at most 32 characters long.',
      'register-contacts': 'Your contacts can be at most 1000 characters long.',
      'register-pwd': 'Your password must be 8 to 128 characters long.',
    },
    invalid: ['register-username', 'register-full_name', 'register-email', 'register-phone', 'register-contacts', 'register-pwd'],
  });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'register-username', 'the first invalid field has the focus');
  await shot('every-field-at-once');

  // Fixed in part: only what is still wrong stays marked. 100 characters
  // of "é" (200 bytes) is a full name; the password may not be the
  // username in any case.
  await form.getByLabel('Username').fill('Plain.Words');
  await form.getByLabel('Full name').fill('\u00e9'.repeat(100));
  await form.getByLabel('Email').fill('plain@example.com');
  await form.getByLabel('Phone').fill('');
  await form.getByLabel('Contacts').fill('tg: @plain\nskype: plain');
  await form.getByLabel('Password').fill('pLAIN.wORDS');
  await create.click();
  await expectText(page, '#register-pwd-error', 'Your password must not be your username.');
  assert.deepEqual((await fieldErrors(page, 'register')).invalid, ['register-pwd']);
  await expectText(page, '#register .status', 'Check the marked field.');
  assert.equal(sent, 0, 'nothing is sent while a field is invalid');

  // What only the API knows comes back next to its field: a reserved
  // name, a common password, a taken name.
  await form.getByLabel('Username').fill('support');
  await form.getByLabel('Password').fill(PASSWORD);
  await create.click();
  await expectText(page, '#register-username-error', 'This username is reserved. Choose another one.');
  assert.equal(await form.getByLabel('Username').getAttribute('aria-invalid'), 'true');
  await form.getByLabel('Username').fill('Plain.Words');
  await form.getByLabel('Password').fill('password1');
  await create.click();
  await expectText(page, '#register-pwd-error', 'This password is too easy to guess. Choose a longer or less common one.');
  assert.equal(await form.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.getByLabel('Username').getAttribute('aria-invalid'), null, 'the username error went');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'register-pwd');
  await shot('too-common');
  await form.getByLabel('Username').fill('taken');
  await form.getByLabel('Password').fill(PASSWORD);
  await create.click();
  await expectText(page, '#register-username-error', 'This username is already taken. Choose another one.');
  await form.getByLabel('Username').fill('Plain.Words');
  await create.click();
  await expectText(page, '#register .status', 'Check your email: we sent a link to confirm your address.');
  assert.deepEqual(await fieldErrors(page, 'register'), { errors: {}, invalid: [] });
  assert.equal(sent, 4);
  await shot('registered');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

// The page's checks are the API's rules: the cases of shared/src/domain's
// own tests (username.rs, email.rs, password.rs, profile.rs), run in the page.
test('the page checks fields by the API\'s rules, counting characters', async () => {
  const { page, context, errors } = await newPage(browser, 'plain-rules');
  await page.goto(`${server.base}/account`);
  await page.locator('#signed-out').waitFor();
  const verdicts = await page.evaluate(() => {
    const r = window.ua.rules;
    const said = (m) => (typeof m === 'string' ? m : m.text);
    const run = (rule, values, ...more) => values.map((v) => said(r[rule]('f', v, ...more)));
    return {
      usernameOk: run('username', ['Admin', 'abc', 'a.b-c_d', '9lives', 'x'.repeat(32)]),
      usernameBad: run('username', ['', 'ab', 'x'.repeat(33), '_abc', '.abc', '-abc', 'ab c', 'ab@c', 'ab\u00e7', 'ab/c']),
      emailOk: run('email', ['t@t.t', 'dmitriyz@example.com', 'A.B+tag@Example.COM', 'x_y@sub.domain.org', 'kim@b\u00fccher.example']),
      emailBad: run('email', ['', 'plain', 'a@', '@b.c', 'a@localhost', 'a b@c.d', 'Name <a@b.c>', 'a@[127.0.0.1]',
        ' a@b.c', '"ab"@example.com', 'jos\u00e9@example.com', 'a@b.c\r\nBcc: x@y.z', `${'a'.repeat(250)}@example.com`]),
      passwordOk: run('password', ['correct horse battery staple', 'S3cure-Passw0rd!', '\u00e9'.repeat(8), '\u{1F511}'.repeat(128)], 'admin'),
      passwordBad: run('password', ['', '1234', 'Sh0rt!x', '\u{1F511}'.repeat(7), 'Ab1!'.repeat(33), 'AdminUser'], 'adminuser'),
      fullName: run('fullName', ['  Admin A.A. ', '\u00e9'.repeat(100), '', '   ', 'x'.repeat(101), 'a\u0007b', 'a\nb']),
      phone: run('phone', ['+7 (999) 123-45-67', '', '1'.repeat(33), '12\n3']),
      contacts: run('contacts', ['tg: @me\nskype: me', 'a\tb', 'c'.repeat(1001), 'a\u0000b']),
    };
  });
  const ok = (n) => Array(n).fill('');
  assert.deepEqual(verdicts, {
    usernameOk: ok(5),
    usernameBad: [
      'f is required.', 'A username has 3 to 32 characters.', 'A username has 3 to 32 characters.',
      'A username starts with a letter or a digit.', 'A username starts with a letter or a digit.',
      'A username starts with a letter or a digit.',
      ...Array(4).fill('A username can only have letters (a-z, A-Z), digits, underscores (_), hyphens (-) and dots (.).'),
    ],
    emailOk: ok(5),
    emailBad: ['f is required.', ...Array(11).fill('f is not a valid email address.'), 'f must be at most 254 characters.'],
    passwordOk: ok(4),
    passwordBad: ['f is required.', 'f must be 8-128 characters.', 'f must be 8-128 characters.',
      'f must be 8-128 characters.', 'f must be 8-128 characters.', 'f must not be the username.'],
    fullName: ['', '', 'f is required.', 'f is required.', 'f must be 1-100 characters.',
      'f must not contain control characters.', 'f must not contain control characters.'],
    phone: ['', '', 'f must be 0-32 characters.', 'f must not contain control characters.'],
    contacts: ['', '', 'f must be 0-1000 characters.', 'f must not contain control characters.'],
  });
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('banners and field errors go as the next action starts, before its answer', async () => {
  await register('clearer', 'clearer@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'plain-clear');
  await page.goto(`${server.base}/account`);
  await page.locator('#signed-out').waitFor();

  // Keyboard: Enter in the empty form marks both fields.
  await page.locator('#login-pwd').focus();
  await page.keyboard.press('Enter');
  assert.deepEqual(await fieldErrors(page, 'login'), {
    errors: { 'login-username': 'Enter your username.', 'login-pwd': 'Enter your password.' },
    invalid: ['login-username', 'login-pwd'],
  });
  await signIn(page, 'clearer', 'not-the-password');
  await expectText(page, '#login .status', 'The username or password is not right. Check both and try again.');
  await page.locator('#reset-request').getByLabel('Username').fill('nobody');
  await page.getByRole('button', { name: 'Email me a reset link' }).click();
  await expectText(page, '#reset-username-error', 'No account has this username. Check it and try again.');
  assert.equal(await page.locator('#login .status').textContent(), '', 'another form\'s banner went too');

  // The next sign-in is held at the API: while it waits, nothing of before is shown.
  let release;
  const held = new Promise((ok) => { release = ok; });
  let seen;
  const asked = new Promise((ok) => { seen = ok; });
  await page.route(`${server.base}/api/login`, async (route) => {
    seen();
    await held;
    await route.continue();
  }, { times: 1 });
  await signIn(page, 'clearer');
  await asked;
  assert.equal(await page.locator('#login .status').textContent(), '');
  assert.equal(await page.locator('#reset-username-error').textContent(), '');
  assert.equal(await page.locator('[aria-invalid="true"]').count(), 0);
  await shot('waiting-with-nothing-stale');
  release();
  await page.locator('#signed-in').waitFor();
  await expectText(page, '#status', 'You are signed in.');

  // A button does the same: the profile form's errors and the page's
  // banner go as the resend starts.
  const profile = page.locator('#profile');
  await profile.getByLabel('Full name').fill('');
  await profile.getByRole('button', { name: 'Save' }).click();
  await expectText(page, '#profile-full_name-error', 'Enter your full name.');
  await page.getByRole('button', { name: 'Send the confirmation link again' }).click();
  await expectText(page, '#resend-status', 'Check your email: we sent a new link to confirm your address.');
  assert.equal(await page.locator('#profile-full_name-error').textContent(), '');
  assert.equal(await page.locator('#status').textContent(), '');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('signed in: the profile, the password, the address and the sign-outs in plain words', async () => {
  await register('plainuser', 'plainuser@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'plain-signed-in');
  await page.goto(`${server.base}/account`);
  await signIn(page, 'plainuser');
  await page.locator('#signed-in').waitFor();

  // The profile: three fields wrong at once, then saved.
  const profile = page.locator('#profile');
  await profile.getByLabel('Full name').fill(' ');
  await profile.getByLabel('Phone').fill('+1 555 0100 '.repeat(3));
  await profile.getByLabel('Contacts').fill('x'.repeat(1001));
  await profile.getByRole('button', { name: 'Save' }).click();
  assert.deepEqual(await fieldErrors(page, 'profile'), {
    errors: {
      'profile-full_name': 'Enter your full name.',
      'profile-phone': 'Your phone number can be at most 32 characters long.',
      'profile-contacts': 'Your contacts can be at most 1000 characters long.',
    },
    invalid: ['profile-full_name', 'profile-phone', 'profile-contacts'],
  });
  await expectText(page, '#profile .status', 'Check the 3 marked fields.');
  await shot('profile-three-at-once');
  await profile.getByLabel('Full name').fill('Plain User');
  await profile.getByLabel('Phone').fill('+1 555 0100');
  await profile.getByLabel('Contacts').fill('');
  await profile.getByRole('button', { name: 'Save' }).click();
  await expectText(page, '#profile .status', 'Your profile is saved.');
  await expectText(page, '[data-profile="phone"]', '+1 555 0100');

  // The password: both empty, then the username, then a common one (the API's word).
  const change = page.locator('#change-password');
  await change.getByRole('button', { name: 'Change password' }).click();
  assert.deepEqual((await fieldErrors(page, 'change-password')).errors, {
    'change-password-pwd': 'Enter your current password.',
    'change-password-new_pwd': 'Enter your new password.',
  });
  await change.getByLabel('Current password').fill(PASSWORD);
  await change.getByLabel('New password').fill('PlainUser');
  await change.getByRole('button', { name: 'Change password' }).click();
  await expectText(page, '#change-password-new_pwd-error', 'Your new password must not be your username.');
  await change.getByLabel('New password').fill('qwertyuiop');
  await change.getByRole('button', { name: 'Change password' }).click();
  await expectText(page, '#change-password-new_pwd-error', 'This password is too easy to guess. Choose a longer or less common one.');
  await shot('new-password-too-common');

  // The address: not one, then the account's own (the API's word), then asked for.
  const email = page.locator('#change-email');
  await email.getByLabel('New email').fill('plainuser@example');
  await email.getByRole('button', { name: 'Change email' }).click();
  assert.deepEqual((await fieldErrors(page, 'change-email')).errors, {
    'change-email-new_email': 'This is not a valid email address. Check it: an address looks like name@example.com.',
    'change-email-pwd': 'Enter your current password.',
  });
  await email.getByLabel('New email').fill('plainuser@example.com');
  await email.getByLabel('Current password').fill(PASSWORD);
  await email.getByRole('button', { name: 'Change email' }).click();
  await expectText(page, '#change-email-new_email-error', 'This is already your account\'s email address.');
  await email.getByLabel('New email').fill('plain.new@example.com');
  await email.getByLabel('Current password').fill(PASSWORD);
  await email.getByRole('button', { name: 'Change email' }).click();
  await expectText(page, '#change-email .status',
    'Check the inbox of your new address and open the link we sent there. Until you do, your account keeps its current address.');

  // A mail budget spent: how long to wait, in words.
  await standIn(page, 'resend_confirmation', 429, { status: 'ERR', msg: 'too many emails, try again later.' }, { 'retry-after': '3540' });
  await page.getByRole('button', { name: 'Send the confirmation link again' }).click();
  await expectText(page, '#resend-status', 'We have sent you too many emails for now. Try again in about an hour.');

  // Signing out everywhere.
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expectText(page, '#status', 'You are signed out everywhere: every session of your account has ended.');
  await page.locator('#signed-out').waitFor();
  await shot('signed-out-everywhere');

  // A write whose CSRF cookie is gone: signed out, and told why.
  await signIn(page, 'plainuser');
  await page.locator('#signed-in').waitFor();
  await context.clearCookies({ name: 'csrf_access_token' });
  await profile.getByLabel('Full name').fill('No CSRF');
  await profile.getByRole('button', { name: 'Save' }).click();
  await expectText(page, '#status', 'This browser\'s session could not be verified, so for your safety you are signed out. Sign in again.');
  await page.locator('#signed-out').waitFor();
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

test('limits, outages, a lost connection and an unknown answer, in plain words', async () => {
  await register('limited', 'limited@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'plain-limits');
  await page.goto(`${server.base}/account`);
  await page.locator('#signed-out').waitFor();

  // The API's own lockout after five wrong passwords: when to try again, in words.
  for (let i = 0; i < 5; i++) {
    await signIn(page, 'limited', `wrong-${i}-password`);
    await expectText(page, '#login .status', 'The username or password is not right. Check both and try again.');
  }
  await signIn(page, 'limited');
  await expectText(page, '#login .status',
    'Too many wrong passwords or codes were tried for this account, so signing in is paused. Try again in about a minute.');
  await shot('locked');

  const status = '#login .status';
  const cases = [
    [429, { status: 'ERR', msg: 'too many requests, try again later.' }, { 'retry-after': '120' },
      'Too many attempts in a short time. Try again in about 2 minutes.'],
    // Retry-After may also be a date.
    [429, { status: 'ERR', msg: 'too many requests, try again later.' }, { 'retry-after': new Date(Date.now() + 300e3).toUTCString() },
      'Too many attempts in a short time. Try again in about 5 minutes.'],
    [503, { status: 'ERR', msg: 'service temporarily unavailable, try again later' }, { 'retry-after': '1' },
      'The service is unavailable for a moment. Try again in a few seconds.'],
    [500, { status: 'ERR', msg: 'internal server error' }, {},
      'Something went wrong on our side. Try again in a moment; if it keeps happening, contact support.'],
    [502, '<html><body>Bad Gateway</body></html>', { 'content-type': 'text/html' },
      'The service gave an unexpected answer (error 502). Try again in a moment.'],
    [400, { status: 'ERR', msg: 'flux capacitor overheated' }, {},
      'Something went wrong. The service said: "flux capacitor overheated"'],
  ];
  for (const [code, body, headers, said] of cases) {
    await standIn(page, 'login', code, body, headers);
    await signIn(page, 'limited');
    await expectText(page, status, said);
  }
  await page.route(`${server.base}/api/login`, (route) => route.abort('internetdisconnected'), { times: 1 });
  await signIn(page, 'limited');
  await expectText(page, status, 'The service could not be reached. Check your internet connection and try again.');
  await shot('no-connection');

  // Retry-After in words, over the range the API's limits use.
  const waits = [1, 5, 8, 30, 60, 89, 120, 2400, 3240, 3540, 3600, 5400, 7200, 86400];
  assert.deepEqual(await page.evaluate((w) => w.map((s) => window.ua.inWords(s)), waits), [
    'in a few seconds', 'in a few seconds', 'in about 10 seconds', 'in about 30 seconds', 'in about a minute',
    'in about a minute', 'in about 2 minutes', 'in about 40 minutes', 'in about 54 minutes', 'in about an hour',
    'in about an hour', 'in about 2 hours', 'in about 2 hours', 'in about a day',
  ]);

  await standIn(page, 'reset_password_request', 429,
    { status: 'ERR', msg: 'too many reset emails for this user, try again later.' }, { 'retry-after': '2400' });
  await page.locator('#reset-request').getByLabel('Username').fill('limited');
  await page.getByRole('button', { name: 'Email me a reset link' }).click();
  await expectText(page, '#reset-request .status',
    'We have already sent several reset links for this account. Check your inbox and spam folder, or try again in about 40 minutes.');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

// "5 Dec 2026, 12:40" in UTC (the contexts below run in UTC).
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function utc(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

async function sessionLines(page) {
  return page.locator('#sessions li .session-summary').allTextContents();
}

test('each session shows its browser and when it started; this browser is marked', async () => {
  await register('devices', 'devices@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'plain-sessions', undefined, { timezoneId: 'UTC' });
  await page.goto(`${server.base}/account`);
  await signIn(page, 'devices');
  await page.locator('#signed-in').waitFor();
  await page.locator('#sessions li').first().waitFor();

  // What the API lists, as the page shows it (a list stood in, so that
  // every kind of entry is there: a browser the API named, one it could not).
  await standIn(page, 'sessions', 200, {
    status: 'OK',
    msg: 'success',
    data: {
      sessions: [
        { id: 'old', created_at: '2026-11-30T08:05:00Z', expires_at: '2026-12-30T08:05:00Z', remember: true, current: false, device: null },
        { id: 'this', created_at: '2026-12-05T12:40:00Z', expires_at: '2026-12-06T12:40:00Z', remember: false, current: true, device: 'Chrome on Linux' },
        { id: 'phone', created_at: '2026-12-04T21:15:00Z', expires_at: '2026-12-05T21:15:00Z', remember: false, current: false, device: 'Safari on iPhone' },
      ],
    },
  });
  await page.reload();
  await page.locator('#sessions li').nth(2).waitFor();
  assert.deepEqual(await sessionLines(page), [
    'Chrome on Linux \u00b7 started 5 Dec 2026, 12:40 (this browser)',
    'Safari on iPhone \u00b7 started 4 Dec 2026, 21:15',
    'Unknown browser \u00b7 started 30 Nov 2026, 08:05',
  ]);
  assert.deepEqual(await page.locator('#sessions li .hint').allTextContents(), [
    'Signed in until 6 Dec 2026, 12:40',
    'Signed in until 5 Dec 2026, 21:15',
    'Remembered until 30 Dec 2026, 08:05',
  ]);
  // One End button per other session, named for the session it ends.
  assert.deepEqual(await page.locator('#sessions li button').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label'))), [
    'End the session: Safari on iPhone \u00b7 started 4 Dec 2026, 21:15',
    'End the session: Unknown browser \u00b7 started 30 Nov 2026, 08:05',
  ]);
  await shot('sessions-with-browsers');
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});

// Needs the API's `device` in GET /api/sessions (main): headless Chromium's
// user agent ("HeadlessChrome/...", "X11; Linux x86_64") is "Chrome on Linux".
test('this browser\'s own session is "Chrome on Linux", as the API names it', async () => {
  await register('mychrome', 'mychrome@example.com');
  const { page, context, errors, shot } = await newPage(browser, 'plain-own-session', undefined, { timezoneId: 'UTC' });
  await page.goto(`${server.base}/account`);
  await signIn(page, 'mychrome');
  await page.locator('#signed-in').waitFor();
  await page.locator('#sessions li').first().waitFor();
  const listed = await page.evaluate(async () => (await (await fetch('api/sessions')).json()).data.sessions);
  const mine = listed.find((s) => s.current);
  await shot('own-session');
  assert.deepEqual(await sessionLines(page), [`Chrome on Linux \u00b7 started ${utc(mine.created_at)} (this browser)`]);
  assert.deepEqual(unexpected(errors), []);
  await context.close();
});
