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

  // Calls the API; never throws. `ok` is the envelope's status, `msg` what to show.
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
      return { ok: false, status: 0, msg: 'The service could not be reached. Check your connection and try again.' };
    }
    let envelope = null;
    try {
      envelope = await resp.json();
    } catch (e) {
      envelope = null;
    }
    let msg = envelope && typeof envelope.msg === 'string'
      ? envelope.msg
      : 'Unexpected answer from the service (' + resp.status + ').';
    const retry = resp.headers.get('Retry-After');
    if (resp.status === 429 && retry) msg += ' Try again in ' + retry + ' seconds.';
    const res = {
      ok: resp.ok && envelope !== null && envelope.status === 'OK',
      status: resp.status,
      msg,
      data: envelope ? envelope.data : undefined,
    };
    // A 401 other than a wrong password means the session is gone.
    if (resp.status === 401 && msg !== 'wrong password' && typeof hooks.sessionEnded === 'function') {
      hooks.sessionEnded(res);
    }
    return res;
  }

  // Set by a page that keeps a session (account.js).
  const hooks = { sessionEnded: null };

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
  // ("new_pwd must be 8-128 characters.") goes next to that field.
  function showAnswer(form, res) {
    if (!res.ok) {
      const name = res.msg.split(' ')[0];
      const input = form.elements.namedItem(name);
      if (input && input.name === name && fieldError(form, name, res.msg)) {
        input.focus();
        return;
      }
    }
    say(form.querySelector('.status'), res.msg, res.ok);
  }

  // Sends a form as JSON on submit. `check` may stop it with field errors;
  // `done` gets the answer after it is shown.
  function onSubmit(form, method, path, done, check) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      if (check && !check(form)) return;
      const button = form.querySelector('button[type="submit"]');
      await busy(button, async () => {
        const res = await api(method, typeof path === 'function' ? path() : path, fields(form));
        showAnswer(form, res);
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
  };
})();
