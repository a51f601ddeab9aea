// The account page's words: every answer of the API in plain words
// (plain()), and the API's rules for fields, checked before a form is sent
// (rules, checkAll()). Loaded after common.js, whose `ua` it adds to.
'use strict';

(function () {
  const { say, fieldError } = ua;

  // ---- The API's messages in plain words --------------------------------
  // Every `msg` the account page's calls can get, as a sentence a person
  // understands. The same words can mean different things after different
  // calls ("success", "Check your email..."), so successes are looked up by
  // the call; errors are the same after any call. `{when}` becomes how long
  // a 429 or 503 asks to wait ("in about 2 minutes"), `{noun}` the page's
  // name for the field the message is about ("password").

  // Successes, by call (the API path, `sessions/{id}` as `end_session`).
  const SUCCESS = {
    login: { success: 'You are signed in.' },
    registration: { 'Check your email...': 'Check your email: we sent a link to confirm your address.' },
    reset_password_request: { 'Check your email...': 'Check your email: we sent a link to choose a new password.' },
    profile_settings: { success: 'Your profile is saved.' },
    logout: { 'user logout': 'You are signed out.' },
    logout_all: { 'user logout': 'You are signed out everywhere: every session of your account has ended.' },
    change_password: {
      'Your password has been changed.': 'Your password is changed. Every other session of your account was signed out.',
    },
    change_email: {
      'Check your email...': 'Check the inbox of your new address and open the link we sent there. ' +
        'Until you do, your account keeps its current address.',
    },
    resend_confirmation: { 'Check your email...': 'Check your email: we sent a new link to confirm your address.' },
    end_session: { 'session ended': 'The session has ended: that browser or device is signed out.' },
    account_export: { success: 'Your data is downloading as account-export.json.' },
    delete_account: { 'Your account has been deleted.': 'Your account and its data have been deleted.' },
    'login/mfa': { success: 'You are signed in.' },
    'mfa/totp/setup': {
      'Add the key to your authenticator app, then confirm with a code.':
        'Add the key to your authenticator app, then enter the code it shows to confirm.',
    },
    'mfa/totp/confirm': { 'Two-factor sign-in is on.': 'Two-factor sign-in is on: signing in now also asks for a code.' },
    'mfa/recovery_codes': {
      'New recovery codes made; the old ones no longer work.': 'Here are your new recovery codes. The old ones no longer work.',
    },
    'mfa/disable': { 'Two-factor sign-in is off.': 'Two-factor sign-in is off: signing in asks only for your password.' },
    'passkeys/register/finish': {
      'Your passkey has been added.': 'Your passkey is added: you can now sign in with it, without your password.',
    },
    'passkeys/remove': {
      'Your passkey has been removed.': 'Your passkey is removed: it no longer signs you in. ' +
        'You can also delete it from your device or password manager.',
    },
    'passkey_login/finish': { success: 'You are signed in.' },
  };

  const TRY_AGAIN = 'Reload the page and try again.';
  const PAGE_FAULT = 'This page and the service did not understand each other. ' + TRY_AGAIN;

  // Errors that mean something else after one call than after the others.
  const CALL_ERRORS = {
    'passkey_login/finish': { 'sign in again': { text: 'Signing in took too long. Try again.' } },
    'login/mfa': {
      'passkey not accepted': {
        text: 'This passkey was not accepted. Enter a code instead, or go back and sign in again to use another passkey.',
      },
    },
  };

  // Errors after any call. `field`: the form field the message is about.
  const ERRORS = {
    'wrong username or password': { text: 'The username or password is not right. Check both and try again.' },
    'wrong password': { field: 'pwd', text: 'This is not your {noun}. Check it and try again.' },
    'wrong code': { field: 'code', text: 'This code is not right, or it was already used. Check it and try again.' },
    'second factor required': { text: 'Your password is right. Now enter a code from your authenticator app.' },
    'sign in again': { text: 'Signing in took too long, or too many codes were wrong. Sign in again.' },
    'no two-factor setup to confirm.': { text: 'There is no setup to confirm. Start again with "Turn on".' },
    'two-factor sign-in is off.': { text: 'Two-factor sign-in is already off.' },
    'mfa_token is required.': { text: PAGE_FAULT },
    'start again.': { text: 'Adding the passkey took too long. Try again.' },
    'passkey not accepted.': {
      text: 'Your device made a passkey we cannot check, so it was not added. Try again, or use another device ' +
        'or password manager.',
    },
    'this passkey is already registered.': { text: 'This passkey is already added to an account.' },
    'passkey not found': { text: 'This passkey was already removed.' },
    'passkey not accepted': {
      text: 'This passkey was not accepted: it may have been removed from your account. ' +
        'Sign in with your password, or use another passkey.',
    },
    'ceremony is required.': { text: PAGE_FAULT },
    'credential is required.': { text: PAGE_FAULT },
    'id is required.': { text: PAGE_FAULT },
    'user not found': { field: 'username', text: 'No account has this username. Check it and try again.' },
    'authentication required': { text: 'Your session has ended. Sign in again.' },
    'missing or invalid CSRF token': {
      text: 'This browser\'s session could not be verified, so for your safety you are signed out. Sign in again.',
    },
    'email is already confirmed.': { text: 'Your email address is already confirmed.' },
    'session not found': { text: 'That session had already ended.' },
    'give at least one of full_name, phone, contacts.': { text: 'There is nothing to save: fill in at least one field.' },
    'too many failed login attempts, try again later.': {
      text: 'Too many wrong passwords or codes were tried for this account, so signing in is paused. Try again {when}.',
    },
    'too many requests, try again later.': { text: 'Too many attempts in a short time. Try again {when}.' },
    'too many emails, try again later.': { text: 'We have sent you too many emails for now. Try again {when}.' },
    'too many reset emails for this user, try again later.': {
      text: 'We have already sent several reset links for this account. ' +
        'Check your inbox and spam folder, or try again {when}.',
    },
    'service temporarily unavailable, try again later': {
      text: 'The service is unavailable for a moment. Try again {when}.',
    },
    'internal server error': {
      text: 'Something went wrong on our side. Try again in a moment; if it keeps happening, contact support.',
    },
    'request body too large': { text: 'What you entered is too long to send. Shorten it and try again.' },
    'request body must be a JSON object.': { text: PAGE_FAULT },
    'request body is not valid JSON.': { text: PAGE_FAULT },
    'Content-Type must be application/json.': { text: PAGE_FAULT },
    'not found': { text: PAGE_FAULT },
    'method not allowed': { text: PAGE_FAULT },
    'request URI too long': { text: PAGE_FAULT },
    'request headers too large': { text: 'This browser sent too much data (too many cookies?). ' + TRY_AGAIN },
  };

  // A field's errors ("pwd is too common."): the field's name, then one of these.
  const FIELD_ERRORS = {
    'is required.': 'Enter your {noun}.',
    'must be a string.': 'This page sent your {noun} in a form the service does not take. ' + TRY_AGAIN,
    'must be a string or null.': 'This page sent your {noun} in a form the service does not take. ' + TRY_AGAIN,
    'must be a boolean.': 'This page sent your {noun} in a form the service does not take. ' + TRY_AGAIN,
    // The page checks the syntax first: from the API this is a reserved name.
    'is not allowed.': 'This username is reserved. Choose another one.',
    'is already taken.': 'This username is already taken. Choose another one.',
    'must be 8-128 characters.': 'Your {noun} must be 8 to 128 characters long.',
    'must not be the username.': 'Your {noun} must not be your username.',
    'is too common.': 'This password is too easy to guess. Choose a longer or less common one.',
    'must be 1-100 characters.': 'Your {noun} must be 1 to 100 characters long.',
    'must be 0-32 characters.': 'Your {noun} can be at most 32 characters long.',
    'must be 0-1000 characters.': 'Your {noun} can be at most 1000 characters long.',
    'must not contain control characters.': 'Your {noun} contains a hidden control character, which is not ' +
      'allowed. Type it again instead of pasting it.',
    'is not a valid email address.': 'This is not a valid email address. Check it: an address looks like ' +
      'name@example.com.',
    'must be at most 254 characters.': 'Your {noun} is too long: it can be at most 254 characters.',
    'must be at most 64 characters.': 'Your {noun} is too long: it can be at most 64 characters.',
    'is already the account\'s address.': 'This is already your account\'s email address.',
  };

  // How the pages name the API's fields (an input's data-noun says it otherwise).
  const NOUNS = {
    username: 'username',
    full_name: 'full name',
    email: 'email address',
    new_email: 'new email address',
    phone: 'phone number',
    contacts: 'contacts',
    pwd: 'password',
    new_pwd: 'new password',
    remember: '"remember me" choice',
    code: 'code',
    name: 'passkey name',
  };

  // A wait in words: "in a few seconds", "in about 2 minutes", "in about an hour".
  function inWords(secs) {
    if (secs === null || secs === undefined) return 'later';
    if (secs <= 5) return 'in a few seconds';
    if (secs < 50) return 'in about ' + Math.ceil(secs / 10) * 10 + ' seconds';
    const minutes = Math.max(1, Math.round(secs / 60));
    if (minutes === 1) return 'in about a minute';
    if (minutes < 55) return 'in about ' + minutes + ' minutes';
    const hours = Math.max(1, Math.round(secs / 3600));
    if (hours === 1) return 'in about an hour';
    if (hours < 24) return 'in about ' + hours + ' hours';
    const days = Math.round(secs / 86400);
    return days === 1 ? 'in about a day' : 'in about ' + days + ' days';
  }

  // "5 Dec 2026, 12:40" in this browser's time zone.
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function when(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const two = (n) => String(n).padStart(2, '0');
    return d.getDate() + ' ' + MONTHS[d.getMonth()] + ' ' + d.getFullYear() + ', ' +
      two(d.getHours()) + ':' + two(d.getMinutes());
  }

  // What the browser answered when asked to make (`making`) or use a
  // passkey: a DOMException's name in plain words.
  function passkeyRefusal(error, making) {
    const name = error && error.name;
    if (name === 'NotAllowedError') {
      return (making ? 'No passkey was made' : 'No passkey was used') +
        ': it was cancelled, or it took too long. Try again when you are ready.';
    }
    if (name === 'InvalidStateError' && making) {
      return 'This device or password manager already has a passkey for your account.';
    }
    if (name === 'SecurityError') {
      return 'Passkeys do not work on this address of the page. Open it by its usual address and try again.';
    }
    if (name === 'NotSupportedError' || name === 'ConstraintError') {
      return 'This device or browser cannot ' + (making ? 'make' : 'use') + ' a passkey of the kind we take ' +
        '(one that checks it is you, with a screen lock, a fingerprint or your face). ' +
        'Try another device or password manager.';
    }
    if (name === 'TypeError') return PAGE_FAULT;
    return 'Your browser could not ' + (making ? 'make' : 'use') + ' a passkey. Try again, or use another device.';
  }

  // An answer in plain words: { text, field } (field when the answer is
  // about one of the form's fields). `call`: the API path the answer came
  // from; `form`: where the fields are (for their names), if any.
  function plain(res, call, form) {
    const noun = (field) => {
      const input = form && form.elements.namedItem(field);
      return (input && input.dataset && input.dataset.noun) || NOUNS[field] || field.replace(/_/g, ' ');
    };
    const fill = (text, field) => text
      .replace('{when}', inWords(res.retryAfter))
      .replace('{noun}', field ? noun(field) : '');
    if (res.status === 0) {
      return { text: 'The service could not be reached. Check your internet connection and try again.' };
    }
    if (res.raw === null || res.raw === undefined) {
      return { text: 'The service gave an unexpected answer (error ' + res.status + '). Try again in a moment.' };
    }
    const key = /^sessions\/./.test(call) ? 'end_session' : call;
    if (res.ok) {
      const said = SUCCESS[key] && SUCCESS[key][res.raw];
      return { text: said || 'Done. The service said: "' + res.raw + '"' };
    }
    // An outage or a bug reads the same whatever its message.
    if (res.status === 503) return { text: fill(ERRORS['service temporarily unavailable, try again later'].text) };
    if (res.status >= 500) return { text: fill(ERRORS['internal server error'].text) };
    const known = (CALL_ERRORS[key] && CALL_ERRORS[key][res.raw]) || ERRORS[res.raw];
    if (known) return { text: fill(known.text, known.field), field: known.field };
    const named = /^([a-z_]+) (.+)$/.exec(res.raw);
    if (named && FIELD_ERRORS[named[2]]) {
      return { text: fill(FIELD_ERRORS[named[2]], named[1]), field: named[1] };
    }
    if (res.status === 429) return { text: fill('Too many attempts. Try again {when}.') };
    if (res.status === 401) return { text: ERRORS['authentication required'].text };
    return { text: 'Something went wrong. The service said: "' + res.raw + '"' };
  }

  // ---- The API's rules for fields, checked before sending ---------------
  // Each returns the message the API would answer (then put in plain words
  // by plain()), or '' when the value passes. Lengths count characters
  // (code points), as the API does, not UTF-16 units or bytes.
  const count = (s) => Array.from(s).length;
  const CONTROL = /\p{Cc}/u;
  const rules = {
    required(field, value) {
      return value === '' ? field + ' is required.' : '';
    },
    // 3-32 of A-Z a-z 0-9 _ - . starting with a letter or digit (the API
    // answers "username is not allowed."; reserved and taken names only
    // the API knows). Which part of the rule failed, in the page's words.
    username(field, value) {
      if (value === '') return field + ' is required.';
      if (!/^[A-Za-z0-9_.-]*$/.test(value)) {
        return own('A username can only have letters (a-z, A-Z), digits, underscores (_), hyphens (-) and dots (.).');
      }
      if (!/^[A-Za-z0-9]/.test(value)) return own('A username starts with a letter or a digit.');
      if (value.length < 3 || value.length > 32) return own('A username has 3 to 32 characters.');
      return '';
    },
    // Valid syntax with a dotted domain, a plain ASCII local part, at most
    // 254 characters (what mail can be sent to is the API's to judge).
    email(field, value) {
      if (value === '') return field + ' is required.';
      if (count(value) > 254) return field + ' must be at most 254 characters.';
      return emailSyntax(value) ? '' : field + ' is not a valid email address.';
    },
    // 8-128 characters, not the username in any case (common passwords
    // only the API knows).
    password(field, value, username) {
      if (value === '') return field + ' is required.';
      const n = count(value);
      if (n < 8 || n > 128) return field + ' must be 8-128 characters.';
      if (username && value.toLowerCase() === username.toLowerCase()) return field + ' must not be the username.';
      return '';
    },
    // 1-100 characters once trimmed, no control characters.
    fullName(field, value) {
      const trimmed = value.trim();
      if (trimmed === '') return field + ' is required.';
      if (count(trimmed) > 100) return field + ' must be 1-100 characters.';
      return CONTROL.test(trimmed) ? field + ' must not contain control characters.' : '';
    },
    // Optional (empty is none): at most 32 characters, no control characters.
    phone(field, value) {
      if (value.trim() === '') return '';
      if (count(value) > 32) return field + ' must be 0-32 characters.';
      return CONTROL.test(value) ? field + ' must not contain control characters.' : '';
    },
    // Optional (empty is "Passkey"): at most 64 characters once trimmed.
    passkeyName(field, value) {
      return count(value.trim()) > 64 ? field + ' must be at most 64 characters.' : '';
    },
    // Optional: at most 1000 characters; line breaks and tabs allowed.
    contacts(field, value) {
      if (value.trim() === '') return '';
      if (count(value) > 1000) return field + ' must be 0-1000 characters.';
      return CONTROL.test(value.replace(/[\n\r\t]/g, '')) ? field + ' must not contain control characters.' : '';
    },
  };

  // The address syntax the API takes (RFC 5322 dot-atom, no quoted local
  // part, no display name, no [literal] domain, at least two labels).
  function emailSyntax(value) {
    const at = value.lastIndexOf('@');
    if (at < 1) return false;
    const local = value.slice(0, at);
    const domain = value.slice(at + 1);
    const atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
    if (local.length > 64 || !new RegExp('^' + atom + '(\\.' + atom + ')*$').test(local)) return false;
    const bytes = (s) => new TextEncoder().encode(s).length;
    if (domain === '' || bytes(domain) > 254) return false;
    const labels = domain.split('.');
    const label = /^[\p{L}\p{N}]([\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]|[^\x00-\x7F])*$/u;
    const ends = /[\p{L}\p{N}]$/u;
    return labels.length >= 2 && labels.every((l) => l !== '' && bytes(l) <= 63 && label.test(l) && ends.test(l));
  }

  // A check's message in the page's own words (not one of the API's).
  function own(text) {
    return { text };
  }

  // Checks a form's fields by `checks` ({ field: (value, form) => message })
  // and marks every invalid one at once; true when all pass. The first
  // invalid field gets the focus, the form's status says how many.
  function checkAll(form, checks) {
    const bad = [];
    for (const [field, check] of Object.entries(checks)) {
      const input = form.elements.namedItem(field);
      if (input.disabled) continue; // not sent either (fields())
      const value = input.type === 'checkbox' ? input.checked : input.value;
      const msg = check(value, form);
      if (!msg) continue;
      // An API message in plain words, or the page's own words (own()).
      const text = typeof msg === 'string'
        ? plain({ ok: false, status: 400, raw: msg, retryAfter: null }, '', form).text
        : msg.text;
      if (fieldError(form, field, text)) bad.push(input);
    }
    if (bad.length === 0) return true;
    bad[0].focus();
    say(form.querySelector('.status'), bad.length === 1
      ? 'Check the marked field.'
      : 'Check the ' + bad.length + ' marked fields.', false);
    return false;
  }

  Object.assign(ua, { plain, inWords, when, passkeyRefusal, rules, own, checkAll });
})();
