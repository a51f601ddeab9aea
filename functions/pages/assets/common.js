// What every page shares: calling the API, showing its answers, sending forms.
// No framework, no innerHTML: every text from the API goes in with textContent.
// The account page's plain words and field rules are in words.js.
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
    // A 401 other than a wrong password or code means the session is gone;
    // `sessionEnded` when the page has said so (hooks.sessionEnded).
    const refused = ['wrong password', 'wrong username or password', 'wrong code'].includes(raw);
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
  // `plain(res, call, form)` to show answers in plain words (words.js).
  const hooks = { sessionEnded: null, actionStarts: null, plain: null };

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
  // optional fields as null; disabled fields and those marked data-local
  // stay on the page.
  function fields(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.hasAttribute('data-local')) continue;
      if (el.type === 'checkbox') out[el.name] = el.checked;
      else if (el.hasAttribute('data-nullable') && el.value.trim() === '') out[el.name] = null;
      else out[el.name] = el.value;
    }
    return out;
  }

  // Shows an API answer on a form: an error that names one of its fields
  // ("new_pwd must be 8-128 characters.") goes next to that field. In
  // plain words when the page says so (hooks.plain). A session that
  // ended was already said by the page (hooks.sessionEnded).
  function showAnswer(form, res, call) {
    if (res.sessionEnded) return;
    let text = res.msg;
    let name = res.ok ? null : res.msg.split(' ')[0];
    if (typeof hooks.plain === 'function') {
      const said = hooks.plain(res, call, form);
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

  // Downloads `text` as a file named `name`, of type `type`.
  function saveFile(name, type, text) {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type }));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
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
    api, hooks, retryable, busy, say, fieldError, clearErrors, fields, showAnswer, onSubmit, saveFile,
    takeTokenFromPath,
  };
})();
