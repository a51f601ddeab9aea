// What every page shares: calling the API, showing its answers, sending forms.
// No framework, no innerHTML: every text from the API goes in with textContent.
'use strict';

window.ua = (function () {
  const apiBase = new URL(
    document.querySelector('meta[name="api-base"]').getAttribute('content'),
    location.href);

  function cookie(name) {
    for (const part of document.cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === name) {
        return decodeURIComponent(part.slice(eq + 1).trim());
      }
    }
    return '';
  }

  // Calls the API; never throws. `ok` is the envelope's status, `msg` what to
  // show as the API said it, `raw` the API's own `msg` (null without an
  // envelope), `retryAfter` the seconds a 429 or 503 asks to wait (or null).
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (method !== 'GET') {
      // The session cookie's writes need the CSRF cookie repeated in a header.
      const csrf = cookie('csrf_access_token');
      if (csrf) headers['X-CSRF-TOKEN'] = csrf;
    }
    let resp;
    try {
      resp = await fetch(new URL(path, apiBase), init);
    } catch (e) {
      return {
        ok: false, status: 0, raw: null, retryAfter: null,
        msg: 'The service could not be reached. Check your connection and try again.',
      };
    }
    let envelope = null;
    try {
      envelope = await resp.json();
    } catch (e) {
      envelope = null;
    }
    const raw = envelope && typeof envelope.msg === 'string' ? envelope.msg : null;
    let msg = raw !== null ? raw : 'Unexpected answer from the service (' + resp.status + ').';
    const retryAfter = seconds(resp.headers.get('Retry-After'));
    if (resp.status === 429 && retryAfter !== null) msg += ' Try again in ' + retryAfter + ' seconds.';
    const res = {
      ok: resp.ok && envelope !== null && envelope.status === 'OK',
      status: resp.status,
      msg,
      raw,
      retryAfter,
      data: envelope ? envelope.data : undefined,
    };
    // A 401 other than a wrong password means the session is gone;
    // `sessionEnded` when the page has said so (hooks.sessionEnded).
    const refused = raw === 'wrong password' || raw === 'wrong username or password';
    if (resp.status === 401 && !refused && typeof hooks.sessionEnded === 'function') {
      res.sessionEnded = hooks.sessionEnded(res) === true;
    }
    return res;
  }

  // A Retry-After header in seconds: a number of seconds or an HTTP date.
  function seconds(header) {
    if (header === null || header.trim() === '') return null;
    if (/^\d+$/.test(header.trim())) return Number(header.trim());
    const at = Date.parse(header);
    return Number.isNaN(at) ? null : Math.max(0, Math.round((at - Date.now()) / 1000));
  }

  // Set by a page that keeps a session (account.js): `sessionEnded(res)`
  // after a 401 that ends it (true when it told the user so),
  // `actionStarts()` as a button's or form's request is about to go,
  // `plainWords` to show answers in plain words (plain()).
  const hooks = { sessionEnded: null, actionStarts: null, plainWords: false };

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
  };

  const TRY_AGAIN = 'Reload the page and try again.';
  const PAGE_FAULT = 'This page and the service did not understand each other. ' + TRY_AGAIN;

  // Errors after any call. `field`: the form field the message is about.
  const ERRORS = {
    'wrong username or password': { text: 'The username or password is not right. Check both and try again.' },
    'wrong password': { field: 'pwd', text: 'This is not your {noun}. Check it and try again.' },
    'user not found': { field: 'username', text: 'No account has this username. Check it and try again.' },
    'authentication required': { text: 'Your session has ended. Sign in again.' },
    'missing or invalid CSRF token': {
      text: 'This browser\'s session could not be verified, so for your safety you are signed out. Sign in again.',
    },
    'email is already confirmed.': { text: 'Your email address is already confirmed.' },
    'session not found': { text: 'That session had already ended.' },
    'give at least one of full_name, phone, contacts.': { text: 'There is nothing to save: fill in at least one field.' },
    'too many failed login attempts, try again later.': {
      text: 'Too many wrong passwords were tried for this account, so signing in is paused. Try again {when}.',
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
    const known = ERRORS[res.raw];
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

  // Whether an answer is worth retrying as it is: no answer, a limit, an outage.
  function retryable(res) {
    return res.status === 0 || res.status === 429 || res.status >= 500;
  }

  // Runs `action` with `button` disabled, so a request is never sent twice.
  async function busy(button, action) {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
    }
  }

  function say(el, text, ok) {
    el.textContent = text;
    el.classList.toggle('ok', ok === true);
    el.classList.toggle('err', ok === false);
  }

  function fieldError(form, name, text) {
    const input = form.elements.namedItem(name);
    const error = input && document.getElementById(input.id + '-error');
    if (!error) return false;
    error.textContent = text;
    input.setAttribute('aria-invalid', 'true');
    return true;
  }

  function clearErrors(form) {
    for (const el of form.querySelectorAll('.error')) el.textContent = '';
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    say(form.querySelector('.status'), '');
  }

  // The form's fields as the API's JSON: checkboxes as booleans, empty
  // optional fields as null; fields marked data-local stay on the page.
  function fields(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.hasAttribute('data-local')) continue;
      if (el.type === 'checkbox') out[el.name] = el.checked;
      else if (el.hasAttribute('data-nullable') && el.value.trim() === '') out[el.name] = null;
      else out[el.name] = el.value;
    }
    return out;
  }

  // Shows an API answer on a form: an error that names one of its fields
  // ("new_pwd must be 8-128 characters.") goes next to that field. In
  // plain words (hooks.plainWords), as plain() says it. A session that
  // ended was already said by the page (hooks.sessionEnded).
  function showAnswer(form, res, call) {
    if (res.sessionEnded) return;
    let text = res.msg;
    let name = res.ok ? null : res.msg.split(' ')[0];
    if (hooks.plainWords) {
      const said = plain(res, call, form);
      text = said.text;
      name = said.field || null;
    }
    if (name) {
      const input = form.elements.namedItem(name);
      if (input && input.name === name && fieldError(form, name, text)) {
        input.focus();
        return;
      }
    }
    say(form.querySelector('.status'), text, res.ok);
  }

  // Sends a form as JSON on submit. `check` may stop it with field errors;
  // `done` gets the answer after it is shown. What the page showed before
  // goes first (hooks.actionStarts), then this form's own errors.
  function onSubmit(form, method, path, done, check) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      if (button.disabled) return;
      if (typeof hooks.actionStarts === 'function') hooks.actionStarts();
      clearErrors(form);
      if (check && !check(form)) return;
      await busy(button, async () => {
        const call = typeof path === 'function' ? path() : path;
        const res = await api(method, call, fields(form));
        showAnswer(form, res, call);
        if (done) await done(res, form);
      });
    });
  }

  // The token at the end of this page's own address, read once: the caller
  // keeps it, and the address bar (history, bookmarks, a screen share) then
  // shows the page's path without it. Only the last segment goes, so the
  // page's relative links still resolve as before.
  function takeTokenFromPath() {
    const path = location.pathname;
    const token = path.slice(path.lastIndexOf('/') + 1);
    if (token && window.history && typeof history.replaceState === 'function') {
      try {
        history.replaceState(null, '', path.slice(0, path.length - token.length));
      } catch (e) {
        // The address keeps the token; the page works all the same.
      }
    }
    return token;
  }

  return {
    api, hooks, retryable, busy, say, fieldError, clearErrors, fields, showAnswer, onSubmit, takeTokenFromPath,
    plain, inWords, rules, own, checkAll,
  };
})();
