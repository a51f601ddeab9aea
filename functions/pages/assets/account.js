// The account page: sign in, register and reset when signed out; the
// profile and every account action when signed in. The session is the
// HttpOnly cookie the login sets; writes repeat the CSRF cookie in a header
// (common.js).
'use strict';

(function () {
  const status = document.getElementById('status');
  const signedOut = document.getElementById('signed-out');
  const signedIn = document.getElementById('signed-in');

  // Everything one user's visit left on the page: messages, field errors,
  // form values, the profile and the sessions.
  function forget() {
    for (const form of document.querySelectorAll('form')) {
      form.reset();
      ua.clearErrors(form);
    }
    for (const el of document.querySelectorAll('.status')) ua.say(el, '');
    for (const el of document.querySelectorAll('[data-profile]')) el.textContent = '';
    document.getElementById('sessions').replaceChildren();
  }

  function show(profile) {
    signedOut.hidden = profile !== null;
    signedIn.hidden = profile === null;
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
      ua.say(status, res.msg + ' Reload the page to try again.', false);
      return;
    }
    show(res.data);
    await loadSessions();
  }

  async function loadSessions() {
    const list = document.getElementById('sessions');
    const res = await ua.api('GET', 'sessions');
    list.replaceChildren();
    if (!res.ok) {
      ua.say(document.getElementById('sessions-status'), res.msg, false);
      return;
    }
    for (const s of res.data.sessions) {
      const item = document.createElement('li');
      const text = document.createElement('span');
      text.textContent = 'Signed in ' + new Date(s.created_at).toLocaleString() +
        ', until ' + new Date(s.expires_at).toLocaleString() +
        (s.remember ? ' (remembered)' : '') + (s.current ? ' - this browser' : '');
      item.append(text);
      if (!s.current) {
        const end = document.createElement('button');
        end.type = 'button';
        end.className = 'secondary small';
        end.textContent = 'End';
        end.setAttribute('aria-label', 'End the session ' + text.textContent);
        end.addEventListener('click', () => ua.busy(end, async () => {
          const r = await ua.api('DELETE', 'sessions/' + encodeURIComponent(s.id));
          if (r.status === 401) return;
          ua.say(document.getElementById('sessions-status'), r.msg, r.ok);
          await loadSessions();
        }));
        item.append(' ', end);
      }
      list.append(item);
    }
  }

  // After this browser's session ended: by an answer here (ok), or found
  // ended by a call (signed out elsewhere, expired, ended by a password
  // change or a revert).
  function signedOutWith(res, ok) {
    if (signedIn.hidden && !signedOut.hidden && !ok) return;
    forget();
    show(null);
    ua.say(status, ok ? res.msg : 'Your session has ended. Sign in again.', ok);
    status.focus();
  }
  ua.hooks.sessionEnded = (res) => {
    if (!signedIn.hidden) signedOutWith(res, false);
  };

  ua.onSubmit(document.getElementById('login'), 'POST', 'login', async (res) => {
    if (res.ok) {
      forget();
      ua.say(status, 'You are signed in.', true);
      await load();
      document.getElementById('profile-title').focus();
    }
  });
  ua.onSubmit(document.getElementById('register'), 'POST', 'registration', (res, form) => {
    if (res.ok) form.reset();
  });
  ua.onSubmit(document.getElementById('reset-request'), 'POST', 'reset_password_request');
  ua.onSubmit(document.getElementById('profile'), 'POST', 'profile_settings', (res) => {
    if (res.ok) show(res.data);
  });
  ua.onSubmit(document.getElementById('change-password'), 'POST', 'change_password', async (res, form) => {
    if (res.ok) {
      form.reset();
      await loadSessions();
    }
  });
  ua.onSubmit(document.getElementById('change-email'), 'POST', 'change_email', (res, form) => {
    if (res.ok) form.reset();
  });
  ua.onSubmit(document.getElementById('delete'), 'POST', 'delete_account', (res) => {
    if (res.ok) signedOutWith(res, true);
  }, (form) => {
    if (!form.elements.sure.checked) {
      ua.fieldError(form, 'sure', 'Tick the box to confirm.');
      form.elements.sure.focus();
      return false;
    }
    return true;
  });

  // A button that calls the API once per press, never twice at a time.
  function onClick(id, action) {
    const button = document.getElementById(id);
    button.addEventListener('click', () => ua.busy(button, action));
  }
  onClick('logout', async () => {
    // POST, so the session cookie's CSRF header goes with it (common.js).
    const res = await ua.api('POST', 'logout');
    if (res.ok) signedOutWith(res, true);
    else if (res.status !== 401) ua.say(status, res.msg, false);
  });
  onClick('logout-all', async () => {
    const res = await ua.api('POST', 'logout_all', {});
    if (res.ok) signedOutWith(res, true);
    else if (res.status !== 401) ua.say(document.getElementById('sessions-status'), res.msg, false);
  });
  onClick('resend', async () => {
    const res = await ua.api('POST', 'resend_confirmation', {});
    if (res.status !== 401) ua.say(document.getElementById('resend-status'), res.msg, res.ok);
  });
  // The export asks for the password (as the deletion does); the answer
  // downloads as a file and never shows on the page.
  ua.onSubmit(document.getElementById('export'), 'POST', 'account_export', (res, form) => {
    if (!res.ok) return;
    form.reset();
    const blob = new Blob([JSON.stringify(res.data, null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'account-export.json';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    ua.say(form.querySelector('.status'), 'Your data is downloading as account-export.json.', true);
  });

  load();
})();
