// The account page: sign in (with a code when two-factor sign-in is on),
// register and reset when signed out; the profile and every account action,
// two-factor sign-in among them, and the recent security activity, when
// signed in (passkeys: passkeys.js). The session is the
// HttpOnly cookie the login sets; writes repeat the CSRF cookie in a header
// (common.js). Every answer is shown in plain words (ua.plain), every form
// is checked with the API's own rules before it is sent (ua.rules), and
// whatever the page said before goes as the next action starts.
'use strict';

(function () {
  const status = document.getElementById('status');
  const signedOut = document.getElementById('signed-out');
  const signedIn = document.getElementById('signed-in');
  const sessionsStatus = document.getElementById('sessions-status');
  const mfaStatus = document.getElementById('mfa-status');
  const login = document.getElementById('login');
  const loginMfa = document.getElementById('login-mfa');
  // The profile shown, while signed in.
  let profileNow = null;

  // Every message and field error on the page (values stay).
  function clearMessages() {
    for (const form of document.querySelectorAll('form')) ua.clearErrors(form);
    for (const el of document.querySelectorAll('.status')) ua.say(el, '');
  }

  // Everything one user's visit left on the page: messages, field errors,
  // form values, the profile, the sessions, a sign-in waiting for its code,
  // the two-factor state and any key or recovery codes shown.
  function forget() {
    for (const form of document.querySelectorAll('form')) form.reset();
    clearMessages();
    for (const el of document.querySelectorAll('[data-profile]')) el.textContent = '';
    document.getElementById('sessions').replaceChildren();
    forgetActivity();
    profileNow = null;
    loginStep(null);
    mfaShow(null);
    document.getElementById('mfa-state').textContent = '';
    ua.passkeys.forget();
  }

  ua.hooks.plain = ua.plain;
  ua.hooks.actionStarts = clearMessages;

  function show(profile) {
    profileNow = profile;
    signedOut.hidden = profile !== null;
    signedIn.hidden = profile === null;
    ua.passkeys.sync();
    if (profile === null) return;
    for (const el of document.querySelectorAll('[data-profile]')) {
      const key = el.dataset.profile;
      if (key === 'verified') {
        el.textContent = profile.is_email_verified ? 'confirmed' : 'not confirmed';
        el.classList.toggle('warn', !profile.is_email_verified);
      } else {
        el.textContent = profile[key] === null || profile[key] === undefined ? '-' : String(profile[key]);
      }
    }
    document.getElementById('resend').hidden = profile.is_email_verified;
    for (const el of document.querySelectorAll('[data-profile-value]')) {
      el.value = profile[el.dataset.profileValue] || '';
    }
    const form = document.getElementById('profile');
    form.elements.full_name.value = profile.full_name || '';
    form.elements.phone.value = profile.phone || '';
    form.elements.contacts.value = profile.contacts || '';
  }

  // Reads the profile and the sessions; a 401 means signed out.
  async function load() {
    const res = await ua.api('GET', 'profile_settings');
    if (res.status === 401) {
      show(null);
      return;
    }
    if (!res.ok) {
      ua.say(status, 'Your account could not be loaded. ' + ua.plain(res, 'profile_settings').text, false);
      return;
    }
    show(res.data);
    await Promise.all([loadSessions(), loadMfa(), ua.passkeys.load(), loadActivity()]);
  }

  const when = ua.when; // "5 Dec 2026, 12:40" (words.js)

  // One session: "Chrome on Linux · started 5 Dec 2026, 12:40 (this browser)",
  // and until when it lasts.
  function sessionItem(s) {
    const item = document.createElement('li');
    const about = document.createElement('span');
    about.className = 'session';
    const summary = document.createElement('span');
    summary.className = 'session-summary';
    summary.textContent = (s.device || 'Unknown browser') + ' \u00b7 started ' + when(s.created_at) +
      (s.current ? ' (this browser)' : '');
    const until = document.createElement('span');
    until.className = 'hint';
    until.textContent = (s.remember ? 'Remembered until ' : 'Signed in until ') + when(s.expires_at);
    about.append(summary, until);
    item.append(about);
    if (!s.current) {
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'secondary small';
      end.textContent = 'End';
      end.setAttribute('aria-label', 'End the session: ' + summary.textContent);
      onClick(end, async () => {
        const call = 'sessions/' + encodeURIComponent(s.id);
        const res = await ua.api('DELETE', call);
        if (res.sessionEnded) return;
        ua.say(sessionsStatus, ua.plain(res, call).text, res.ok);
        await Promise.all([loadSessions(), loadActivity()]);
      });
      item.append(end);
    }
    return item;
  }

  async function loadSessions() {
    const list = document.getElementById('sessions');
    const res = await ua.api('GET', 'sessions');
    list.replaceChildren();
    if (!res.ok) {
      if (!res.sessionEnded) {
        ua.say(sessionsStatus, 'Your sessions could not be listed. ' + ua.plain(res, 'sessions').text, false);
      }
      return;
    }
    // This browser first, then the newest.
    const sessions = res.data.sessions.slice().sort((a, b) =>
      (b.current - a.current) || String(b.created_at).localeCompare(String(a.created_at)));
    for (const s of sessions) list.append(sessionItem(s));
  }

  // ---- Recent security activity ------------------------------------------
  // GET /api/security_events, newest first, a page of 20 at a time: a row
  // per event (what, when, from which IP address, with which browser), and
  // "Show more" while the API gives a cursor for the next page.
  const ACTIVITY_PAGE = 20;
  const ACTIVITY_WORDS = {
    sign_in: 'Signed in',
    sign_in_failed: 'Failed sign-in',
    sign_out: 'Signed out',
    session_ended: 'Session ended',
    password_changed: 'Password changed',
    password_reset: 'Password reset',
    email_change_requested: 'Email change requested',
    email_confirmed: 'Email address confirmed',
    email_restored: 'Email address restored',
    mfa_enabled: 'Two-factor sign-in turned on',
    mfa_disabled: 'Two-factor sign-in turned off',
    recovery_codes_renewed: 'New recovery codes made',
    passkey_added: 'Passkey added',
    passkey_removed: 'Passkey removed',
    account_exported: 'Your data downloaded',
  };
  const activityList = document.getElementById('activity-list');
  const activityMore = document.getElementById('activity-more');
  const activityStatus = document.getElementById('activity-status');
  let activityCursor = null;
  // Each (re)load counts up: a page that comes back after a newer load started is dropped.
  let activityLoads = 0;

  // An event in words: "Signed in (new device)", "Password changed", and
  // a kind this page does not know yet as the API names it.
  function activityWhat(e) {
    const kind = String(e.kind);
    let what = ACTIVITY_WORDS[kind];
    if (!what) {
      const words = kind.replace(/_/g, ' ');
      what = words.charAt(0).toUpperCase() + words.slice(1);
    }
    if (kind === 'sign_in' && e.new_device === true) what += ' (new device)';
    return what;
  }

  // A row (with its ARIA roles: on a phone, pages.css shows it as a block).
  function activityRow(e) {
    const row = document.createElement('tr');
    row.setAttribute('role', 'row');
    const what = document.createElement('th');
    what.scope = 'row';
    what.setAttribute('role', 'rowheader');
    what.tabIndex = -1;
    what.textContent = activityWhat(e);
    if (e.kind === 'sign_in_failed') what.className = 'warn';
    const at = document.createElement('td');
    const time = document.createElement('time');
    time.dateTime = String(e.at);
    time.textContent = when(e.at);
    at.append(time);
    const ip = document.createElement('td');
    ip.className = 'ip';
    ip.textContent = e.ip || 'Unknown';
    const device = document.createElement('td');
    device.textContent = e.device || 'Unknown browser';
    for (const cell of [at, ip, device]) cell.setAttribute('role', 'cell');
    row.append(what, at, ip, device);
    return row;
  }

  // Reads the first page again (`more`: the next page, added below).
  async function loadActivity(more) {
    const load = more ? activityLoads : ++activityLoads;
    const cursor = more ? activityCursor : null;
    let call = 'security_events?limit=' + ACTIVITY_PAGE;
    if (more) call += '&cursor=' + encodeURIComponent(cursor);
    const res = await ua.api('GET', call);
    // Dropped: a newer first page was asked for, or came back, meanwhile.
    if (load !== activityLoads || (more && cursor !== activityCursor) || signedIn.hidden) return null;
    if (!res.ok) {
      if (!res.sessionEnded) {
        ua.say(activityStatus, 'Your recent security activity could not be listed. ' +
          ua.plain(res, 'security_events').text, false);
      }
      return null;
    }
    ua.say(activityStatus, '');
    const events = Array.isArray(res.data.events) ? res.data.events : [];
    const rows = events.map(activityRow);
    if (more) activityList.append(...rows);
    else activityList.replaceChildren(...rows);
    activityCursor = typeof res.data.cursor === 'string' && res.data.cursor !== '' ? res.data.cursor : null;
    const none = activityList.childElementCount === 0;
    document.getElementById('activity').hidden = none;
    document.getElementById('activity-none').hidden = !none;
    activityMore.parentElement.hidden = activityCursor === null;
    return rows;
  }
  // After an action that adds to the activity.
  const refreshActivity = () => loadActivity(false);

  function forgetActivity() {
    activityLoads += 1;
    activityList.replaceChildren();
    activityCursor = null;
    document.getElementById('activity').hidden = true;
    document.getElementById('activity-none').hidden = true;
    activityMore.parentElement.hidden = true;
  }

  // After this browser's session ended: by an answer here (ok), or found
  // ended by a call (signed out elsewhere, expired, ended by a password
  // change or a revert).
  function signedOutWith(res, ok, call) {
    if (signedIn.hidden && !signedOut.hidden && !ok) return;
    forget();
    show(null);
    ua.say(status, ua.plain(res, call).text, ok);
    status.focus();
  }
  ua.hooks.sessionEnded = (res) => {
    if (signedIn.hidden) return false;
    signedOutWith(res, false, '');
    return true;
  };

  // The checks of each form, in the order of its fields: the API's rules
  // (ua.rules answer with the API's own messages, shown in plain words).
  const r = ua.rules;
  const checks = (spec) => (form) => ua.checkAll(form, spec);
  const ownUsername = () => (profileNow ? profileNow.username : '');

  // Signing in: the password, then, for an account with two-factor sign-in,
  // a code (or a passkey) with the token the first step answered (`null`:
  // the first step; a passkey sign-in offered there, passkeys.js).
  function loginStep(mfaToken, passkey) {
    login.hidden = mfaToken !== null;
    loginMfa.hidden = mfaToken === null;
    if (mfaToken === null) loginMfa.reset();
    loginMfa.elements.mfa_token.value = mfaToken || '';
    ua.passkeys.secondFactor(mfaToken === null ? null : passkey);
  }
  async function signedInWith(res) {
    forget();
    ua.say(status, ua.plain(res, 'login').text, true);
    await load();
    document.getElementById('profile-title').focus();
  }
  // Back to the password: "Back", or a second step that has to start again.
  function passwordAgain(res) {
    loginStep(null);
    if (res) ua.say(login.querySelector('.status'), ua.plain(res, 'login/mfa').text, false);
    login.elements.pwd.focus();
    ua.passkeys.sync();
  }
  ua.account = { signedInWith, passwordAgain, refreshActivity };
  ua.onSubmit(login, 'POST', 'login', async (res, form) => {
    if (res.ok) {
      await signedInWith(res);
    } else if (res.status === 401 && res.data && res.data.mfa_token) {
      form.elements.pwd.value = '';
      ua.clearErrors(form);
      loginStep(res.data.mfa_token, res.data.passkey);
      ua.passkeys.sync();
      loginMfa.elements.code.focus();
    }
  }, checks({
    username: (v) => r.required('username', v),
    pwd: (v) => r.required('pwd', v),
  }));
  ua.onSubmit(loginMfa, 'POST', 'login/mfa', async (res) => {
    if (res.ok) {
      await signedInWith(res);
    } else if (res.raw === 'sign in again') {
      passwordAgain(res);
    }
  }, checks({
    code: (v) => r.required('code', v),
  }));
  document.getElementById('login-mfa-back').addEventListener('click', () => {
    clearMessages();
    passwordAgain(null);
  });
  ua.onSubmit(document.getElementById('register'), 'POST', 'registration', (res, form) => {
    if (res.ok) form.reset();
  }, checks({
    username: (v) => r.username('username', v),
    full_name: (v) => r.fullName('full_name', v),
    email: (v) => r.email('email', v),
    phone: (v) => r.phone('phone', v),
    contacts: (v) => r.contacts('contacts', v),
    pwd: (v, form) => r.password('pwd', v, form.elements.username.value),
  }));
  ua.onSubmit(document.getElementById('reset-request'), 'POST', 'reset_password_request', null, checks({
    username: (v) => r.required('username', v),
  }));
  ua.onSubmit(document.getElementById('profile'), 'POST', 'profile_settings', (res) => {
    if (res.ok) show(res.data);
  }, checks({
    full_name: (v) => r.fullName('full_name', v),
    phone: (v) => r.phone('phone', v),
    contacts: (v) => r.contacts('contacts', v),
  }));
  // The code re-asked with the password while two-factor sign-in is on
  // (disabled, so neither checked nor sent, while it is off).
  const code = (v) => r.required('code', v);
  const changePassword = {
    pwd: (v) => r.required('pwd', v),
    code,
    new_pwd: (v) => r.password('new_pwd', v, ownUsername()),
  };
  if (document.getElementById('change-password').elements.namedItem('new_pwd_again')) {
    changePassword.new_pwd_again = (v, form) =>
      (v === form.elements.new_pwd.value ? '' : ua.own('The two passwords are not the same.'));
  }
  ua.onSubmit(document.getElementById('change-password'), 'POST', 'change_password', async (res, form) => {
    if (res.ok) {
      form.reset();
      await Promise.all([loadSessions(), refreshActivity()]);
    }
  }, checks(changePassword));
  ua.onSubmit(document.getElementById('change-email'), 'POST', 'change_email', async (res, form) => {
    if (!res.ok) return;
    form.reset();
    await refreshActivity();
  }, checks({
    new_email: (v) => r.email('new_email', v),
    pwd: (v) => r.required('pwd', v),
    code,
  }));
  ua.onSubmit(document.getElementById('delete'), 'POST', 'delete_account', (res) => {
    if (res.ok) signedOutWith(res, true, 'delete_account');
  }, checks({
    pwd: (v) => r.required('pwd', v),
    code,
    sure: (checked) => (checked ? '' : ua.own('Tick the box to confirm.')),
  }));

  // A button that calls the API once per press, never twice at a time;
  // what the page said before goes as it starts.
  function onClick(button, action) {
    button.addEventListener('click', () => {
      if (button.disabled) return;
      clearMessages();
      ua.busy(button, action);
    });
  }
  onClick(document.getElementById('logout'), async () => {
    // POST, so the session cookie's CSRF header goes with it (common.js).
    const res = await ua.api('POST', 'logout');
    if (res.ok) signedOutWith(res, true, 'logout');
    else if (!res.sessionEnded) ua.say(status, ua.plain(res, 'logout').text, false);
  });
  onClick(document.getElementById('logout-all'), async () => {
    const res = await ua.api('POST', 'logout_all', {});
    if (res.ok) signedOutWith(res, true, 'logout_all');
    else if (!res.sessionEnded) ua.say(sessionsStatus, ua.plain(res, 'logout_all').text, false);
  });
  // The next page of the activity; the focus goes to its first row.
  onClick(activityMore, async () => {
    if (activityCursor === null) return;
    const rows = await loadActivity(true);
    if (rows && rows.length > 0) rows[0].querySelector('th').focus();
  });
  onClick(document.getElementById('resend'), async () => {
    const res = await ua.api('POST', 'resend_confirmation', {});
    if (!res.sessionEnded) {
      ua.say(document.getElementById('resend-status'), ua.plain(res, 'resend_confirmation').text, res.ok);
    }
  });
  // The export asks for the password (as the deletion does); the answer
  // downloads as a file and never shows on the page.
  ua.onSubmit(document.getElementById('export'), 'POST', 'account_export', async (res, form) => {
    if (!res.ok) return;
    form.reset();
    ua.saveFile('account-export.json', 'application/json', JSON.stringify(res.data, null, 2));
    await refreshActivity();
  }, checks({
    pwd: (v) => r.required('pwd', v),
    code,
  }));

  // ---- Two-factor sign-in ----------------------------------------------
  // Turning it on: the password (and a code, when it is on already, to move
  // to another app), then the key as a QR code and as text, then a code of
  // the new key to confirm, then the recovery codes, shown only this once.
  const mfaForm = document.getElementById('mfa-form');
  let mfaCall = null; // what mfaForm does: 'mfa/totp/setup', 'mfa/recovery_codes' or 'mfa/disable'

  // Shows one of the section's steps ('mfa-form', 'mfa-enrol', 'mfa-codes'),
  // or only its buttons (null). A key or codes shown before never stay.
  function mfaShow(step) {
    for (const id of ['mfa-form', 'mfa-enrol', 'mfa-codes']) document.getElementById(id).hidden = id !== step;
    document.getElementById('mfa-actions').hidden = step !== null;
    for (const id of ['mfa-qr', 'mfa-secret', 'mfa-code-list']) document.getElementById(id).replaceChildren();
  }

  async function loadMfa() {
    const res = await ua.api('GET', 'mfa');
    if (!res.ok) {
      if (!res.sessionEnded) {
        ua.say(mfaStatus, 'Your two-factor sign-in could not be read. ' + ua.plain(res, 'mfa').text, false);
      }
      return;
    }
    const on = res.data.totp === true;
    const left = res.data.recovery_codes_left;
    document.getElementById('mfa-state').textContent = on
      ? 'On: signing in asks for your password and a code from your authenticator app. Recovery codes left: ' + left +
        (left <= 3 ? '. Make new ones soon.' : '.')
      : 'Off: signing in asks only for your password. Turn it on to also ask for a code from an authenticator app.';
    document.getElementById('mfa-on').textContent = on ? 'Use another authenticator app' : 'Turn on';
    document.getElementById('mfa-new-codes').hidden = !on;
    document.getElementById('mfa-off').hidden = !on;
    // Every form that re-asks the password asks for a code too.
    for (const field of document.querySelectorAll('[data-mfa]')) {
      field.hidden = !on;
      field.querySelector('input').disabled = !on;
    }
  }

  // Each button opens the password form for its call.
  for (const [id, call, label] of [
    ['mfa-on', 'mfa/totp/setup', 'Continue'],
    ['mfa-new-codes', 'mfa/recovery_codes', 'Make new recovery codes'],
    ['mfa-off', 'mfa/disable', 'Turn off two-factor sign-in'],
  ]) {
    document.getElementById(id).addEventListener('click', () => {
      clearMessages();
      mfaCall = call;
      mfaForm.querySelector('button[type="submit"]').textContent = label;
      mfaShow('mfa-form');
      mfaForm.elements.pwd.focus();
    });
  }
  for (const button of document.querySelectorAll('[data-mfa-close]')) {
    button.addEventListener('click', () => {
      clearMessages();
      for (const form of document.querySelectorAll('#mfa-form, #mfa-confirm')) form.reset();
      mfaShow(null);
      document.getElementById('mfa-title').focus();
    });
  }

  ua.onSubmit(mfaForm, 'POST', () => mfaCall, async (res, form) => {
    if (!res.ok) return;
    form.reset();
    ua.say(mfaStatus, ua.plain(res, mfaCall).text, true);
    if (mfaCall === 'mfa/totp/setup') showKey(res.data);
    else if (mfaCall === 'mfa/recovery_codes') showCodes(res.data.recovery_codes);
    else mfaShow(null);
    // A setup is not activity yet (its confirmation is).
    await Promise.all([loadMfa(), mfaCall === 'mfa/totp/setup' ? null : refreshActivity()]);
  }, checks({
    pwd: (v) => r.required('pwd', v),
    code,
  }));

  // The key: the API's QR code (an SVG document, parsed as such and imported,
  // never run or loaded as a URL) and the key as text, in groups of four.
  function showKey(data) {
    const doc = new DOMParser().parseFromString(data.qr_svg, 'image/svg+xml');
    const svg = doc.documentElement;
    const isSvg = svg.localName === 'svg' && svg.namespaceURI === 'http://www.w3.org/2000/svg';
    const qr = document.getElementById('mfa-qr');
    mfaShow('mfa-enrol');
    if (isSvg && !doc.querySelector('parsererror')) {
      const image = document.importNode(svg, true);
      image.setAttribute('role', 'img');
      image.setAttribute('aria-label', 'QR code of the key');
      qr.replaceChildren(image);
    }
    document.getElementById('mfa-secret').textContent = data.secret.replace(/(.{4})(?!$)/g, '$1 ');
    document.getElementById('mfa-confirm-code').focus();
  }

  ua.onSubmit(document.getElementById('mfa-confirm'), 'POST', 'mfa/totp/confirm', async (res, form) => {
    if (!res.ok) return;
    form.reset();
    ua.say(mfaStatus, ua.plain(res, 'mfa/totp/confirm').text, true);
    showCodes(res.data.recovery_codes);
    await Promise.all([loadMfa(), refreshActivity()]);
  }, checks({
    code,
  }));

  function showCodes(codes) {
    mfaShow('mfa-codes');
    document.getElementById('mfa-code-list').replaceChildren(...codes.map((c) => {
      const item = document.createElement('li');
      item.textContent = c;
      return item;
    }));
    document.getElementById('mfa-copy').focus();
  }
  // The codes shown, as the text a copy or a download gives.
  function codesText() {
    const codes = Array.from(document.querySelectorAll('#mfa-code-list li'), (item) => item.textContent);
    return 'Recovery codes for ' + (profileNow ? profileNow.username : 'your account') + ' at ' + location.host + '\n' +
      'Each one signs you in once, instead of a code from your authenticator app.\n\n' + codes.join('\n') + '\n';
  }
  onClick(document.getElementById('mfa-copy'), async () => {
    try {
      await navigator.clipboard.writeText(codesText());
      ua.say(mfaStatus, 'The recovery codes are copied. Paste them somewhere safe.', true);
    } catch (e) {
      ua.say(mfaStatus, 'This browser did not let the page copy. Select the codes and copy them yourself.', false);
    }
  });
  onClick(document.getElementById('mfa-download'), async () => {
    ua.saveFile('recovery-codes.txt', 'text/plain', codesText());
    ua.say(mfaStatus, 'Your recovery codes are downloading as recovery-codes.txt.', true);
  });

  load();
})();
