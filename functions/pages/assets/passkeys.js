// Passkeys on the account page: the list, adding one (the password first,
// and a code while two-factor sign-in is on) and removing one; signing in
// with one, by the button or by the browser's own offer in the username
// field (conditional mediation), and a passkey as the second step of a
// sign-in. The API's options are WebAuthn JSON: the browser's own helpers
// (parseCreationOptionsFromJSON, parseRequestOptionsFromJSON, toJSON) turn
// them into what navigator.credentials takes, and the passkey back. Loaded
// before account.js, which calls ua.passkeys and gives back ua.account.
'use strict';

(function () {
  const PKC = window.PublicKeyCredential;
  // Passkeys need WebAuthn with its JSON helpers, in a secure context, and
  // a page opened by a host name: a passkey is never bound to an IP address.
  const host = location.hostname;
  const ipHost = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[');
  const supported = window.isSecureContext === true && typeof PKC === 'function' &&
    typeof PKC.parseCreationOptionsFromJSON === 'function' &&
    typeof PKC.parseRequestOptionsFromJSON === 'function' && !!navigator.credentials;
  const usable = supported && !ipHost;

  const $ = (id) => document.getElementById(id);
  const signedOut = $('signed-out');
  const login = $('login');
  const loginMfa = $('login-mfa');
  const list = $('passkeys');
  const form = $('passkey-form');
  const sectionStatus = $('passkeys-status');
  const loginStatus = () => login.querySelector('.status');

  // Whatever the page said before goes as an action starts (account.js).
  function actionStarts() {
    if (typeof ua.hooks.actionStarts === 'function') ua.hooks.actionStarts();
  }

  // ---- Signing in with a passkey ------------------------------------------
  // The browser's offer in the username field: a request with mediation
  // 'conditional', pending while the sign-in form shows (renewed before its
  // ceremony's 5 minutes end), aborted before any other passkey request.
  let offer = null; // { abort: AbortController, timer }
  const RENEW_MS = 4 * 60 * 1000;

  function stopOffer() {
    if (offer === null) return;
    clearTimeout(offer.timer);
    offer.abort.abort();
    offer = null;
  }

  function signInShows() {
    return !signedOut.hidden && !login.hidden;
  }

  // Starts or stops the offer as the sign-in form shows or not.
  function sync() {
    if (!signInShows()) {
      stopOffer();
      return;
    }
    if (offer === null) startOffer();
  }

  async function startOffer() {
    if (!usable || typeof PKC.isConditionalMediationAvailable !== 'function') return;
    const mine = { abort: new AbortController(), timer: null };
    offer = mine;
    const gone = () => offer !== mine || mine.abort.signal.aborted;
    let available = false;
    try {
      available = await PKC.isConditionalMediationAvailable();
    } catch (e) {
      available = false;
    }
    if (gone()) return;
    if (!available) {
      offer = null;
      return;
    }
    const start = await ua.api('POST', 'passkey_login/start', {});
    if (gone()) return;
    if (!start.ok) {
      // Said nowhere: the button still works, and says why if it does not.
      offer = null;
      return;
    }
    mine.timer = setTimeout(() => {
      if (offer !== mine) return;
      stopOffer();
      sync();
    }, RENEW_MS);
    let credential;
    try {
      credential = await navigator.credentials.get({
        mediation: 'conditional',
        signal: mine.abort.signal,
        publicKey: PKC.parseRequestOptionsFromJSON(start.data.publicKey),
      });
    } catch (e) {
      // Aborted by the page, or refused by the browser: nothing to say. The
      // offer starts again with the form, or as the username field gets the
      // focus.
      if (offer === mine) stopOffer();
      return;
    }
    // A request aborted just as it resolved is not used.
    if (gone()) return;
    clearTimeout(mine.timer);
    offer = null;
    actionStarts();
    const button = login.querySelector('button[type="submit"]');
    await ua.busy(button, () => finishSignIn(start.data.ceremony, credential));
  }

  async function finishSignIn(ceremony, credential) {
    const res = await ua.api('POST', 'passkey_login/finish', {
      ceremony,
      credential: credential.toJSON(),
      remember: login.elements.remember.checked,
    });
    if (res.ok) {
      await ua.account.signedInWith(res);
      return;
    }
    ua.say(loginStatus(), ua.plain(res, 'passkey_login/finish', login).text, false);
  }

  // "Sign in with a passkey": the browser asks which passkey, and whether
  // it is you.
  async function signInWithPasskey() {
    stopOffer();
    try {
      const start = await ua.api('POST', 'passkey_login/start', {});
      if (!start.ok) {
        ua.say(loginStatus(), ua.plain(start, 'passkey_login/start', login).text, false);
        return;
      }
      let credential;
      try {
        credential = await navigator.credentials.get({
          publicKey: PKC.parseRequestOptionsFromJSON(start.data.publicKey),
        });
      } catch (e) {
        ua.say(loginStatus(), ua.passkeyRefusal(e, false), false);
        return;
      }
      await finishSignIn(start.data.ceremony, credential);
    } finally {
      sync();
    }
  }

  // A passkey as the second step of a sign-in (data.passkey of the 401
  // "second factor required": its ceremony and request options), or none.
  let second = null;
  function secondFactor(passkey) {
    second = usable && passkey && passkey.ceremony && passkey.publicKey ? passkey : null;
    $('login-mfa-passkey').hidden = second === null;
    $('login-mfa-passkey-hint').hidden = second === null;
  }

  async function secondStepWithPasskey() {
    if (second === null) return;
    const { ceremony, publicKey } = second;
    let credential;
    try {
      credential = await navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(publicKey) });
    } catch (e) {
      ua.say(loginMfa.querySelector('.status'), ua.passkeyRefusal(e, false), false);
      return;
    }
    const res = await ua.api('POST', 'login/mfa', {
      mfa_token: loginMfa.elements.mfa_token.value,
      ceremony,
      credential: credential.toJSON(),
    });
    if (res.ok) {
      await ua.account.signedInWith(res);
    } else if (res.raw === 'sign in again') {
      ua.account.passwordAgain(res);
    } else {
      // The ceremony is spent: a code still works, another passkey needs the password again.
      secondFactor(null);
      ua.say(loginMfa.querySelector('.status'), ua.plain(res, 'login/mfa', loginMfa).text, false);
    }
  }

  // A button that runs once per press, never twice at a time.
  function onPress(button, action) {
    button.addEventListener('click', () => {
      if (button.disabled) return;
      actionStarts();
      ua.busy(button, action);
    });
  }
  onPress($('login-passkey'), signInWithPasskey);
  onPress($('login-mfa-passkey'), secondStepWithPasskey);
  login.elements.username.addEventListener('focus', sync);
  $('login-passkey').hidden = !usable;

  // ---- The list, adding and removing --------------------------------------
  let mode = null; // what the form does: 'add' or 'remove'

  // Shows the form for `what` ('add', or a passkey to remove), or only the
  // list and its button (null).
  function open(what) {
    for (const field of ['id', 'name', 'pwd', 'code']) form.elements[field].value = '';
    ua.clearErrors(form);
    mode = what === null ? null : what === 'add' ? 'add' : 'remove';
    form.hidden = mode === null;
    $('passkeys-actions').hidden = mode !== null || !usable;
    $('passkey-name-field').hidden = mode !== 'add';
    form.elements.name.disabled = mode !== 'add';
    const submit = form.querySelector('button[type="submit"]');
    submit.classList.toggle('danger', mode === 'remove');
    if (mode === 'add') {
      $('passkey-form-about').textContent = 'Enter your password, then follow what your browser asks.';
      submit.textContent = 'Add a passkey';
      form.elements.name.focus();
    } else if (mode === 'remove') {
      form.elements.id.value = what.id;
      $('passkey-form-about').textContent = 'Remove the passkey "' + what.name + '"? It will no longer sign you in. ' +
        'Enter your password to confirm.';
      submit.textContent = 'Remove the passkey';
      form.elements.pwd.focus();
    }
  }

  function passkeyItem(p) {
    const item = document.createElement('li');
    const about = document.createElement('span');
    about.className = 'session';
    const name = document.createElement('span');
    name.className = 'session-summary passkey-name';
    name.textContent = p.name;
    const dates = document.createElement('span');
    dates.className = 'hint';
    dates.textContent = 'Added ' + ua.when(p.created_at) + ' \u00b7 ' +
      (p.last_used_at ? 'last used ' + ua.when(p.last_used_at) : 'not used yet');
    about.append(name, dates);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'secondary small';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', 'Remove the passkey ' + p.name);
    remove.addEventListener('click', () => {
      actionStarts();
      open(p);
    });
    item.append(about, remove);
    return item;
  }

  async function load() {
    const res = await ua.api('GET', 'passkeys');
    list.replaceChildren();
    $('passkeys-none').hidden = true;
    if (!res.ok) {
      if (!res.sessionEnded) {
        ua.say(sectionStatus, 'Your passkeys could not be listed. ' + ua.plain(res, 'passkeys').text, false);
      }
      return;
    }
    const passkeys = res.data.passkeys;
    for (const p of passkeys) list.append(passkeyItem(p));
    $('passkeys-none').hidden = passkeys.length > 0;
  }

  // Everything one user's visit left: the list, the form, a second step.
  function forget() {
    list.replaceChildren();
    $('passkeys-none').hidden = true;
    open(null);
    secondFactor(null);
  }

  // Why passkeys cannot be added here, if they cannot.
  const unusable = $('passkeys-unusable');
  unusable.hidden = usable;
  unusable.textContent = usable ? '' : !supported
    ? 'This browser cannot make or use passkeys. To add one, update it or use another browser.'
    : 'Passkeys cannot be added or used on this address of the page (' + host + '). ' +
      'Open it by its name instead of an IP address.';
  $('passkeys-actions').hidden = !usable;

  $('passkey-add').addEventListener('click', () => {
    actionStarts();
    open('add');
  });
  $('passkey-cancel').addEventListener('click', () => {
    actionStarts();
    open(null);
    $('passkeys-title').focus();
  });

  const r = ua.rules;
  const check = () => ua.checkAll(form, {
    name: (v) => r.passkeyName('name', v),
    pwd: (v) => r.required('pwd', v),
    code: (v) => r.required('code', v),
  });

  // The password (and code) the API re-asks, as sent.
  function secrets() {
    const out = { pwd: form.elements.pwd.value };
    if (!form.elements.code.disabled) out.code = form.elements.code.value;
    return out;
  }

  // Done: the form closes, the list is read again, the section says so
  // (and that the list could not be read, if it could not).
  async function done(res, call) {
    open(null);
    ua.say(sectionStatus, '');
    await Promise.all([load(), ua.account.refreshActivity()]);
    const unlisted = sectionStatus.textContent;
    ua.say(sectionStatus, ua.plain(res, call).text + (unlisted ? ' ' + unlisted : ''), !unlisted);
    $('passkeys-title').focus();
  }

  async function add() {
    const start = await ua.api('POST', 'passkeys/register/start', secrets());
    if (!start.ok) {
      ua.showAnswer(form, start, 'passkeys/register/start');
      return;
    }
    // A code works once: a retry asks for a new one (the password stays until done).
    form.elements.code.value = '';
    let credential;
    try {
      credential = await navigator.credentials.create({
        publicKey: PKC.parseCreationOptionsFromJSON(start.data.publicKey),
      });
    } catch (e) {
      ua.say(form.querySelector('.status'), ua.passkeyRefusal(e, true), false);
      return;
    }
    const body = { ceremony: start.data.ceremony, credential: credential.toJSON() };
    const name = form.elements.name.value.trim();
    if (name !== '') body.name = name;
    const res = await ua.api('POST', 'passkeys/register/finish', body);
    if (res.ok) await done(res, 'passkeys/register/finish');
    else ua.showAnswer(form, res, 'passkeys/register/finish');
  }

  async function remove() {
    const res = await ua.api('POST', 'passkeys/remove', { id: form.elements.id.value, ...secrets() });
    if (res.ok) {
      await done(res, 'passkeys/remove');
      return;
    }
    ua.showAnswer(form, res, 'passkeys/remove');
    if (res.raw === 'passkey not found') await load();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button.disabled || mode === null) return;
    actionStarts();
    ua.clearErrors(form);
    if (!check()) return;
    ua.busy(button, mode === 'add' ? add : remove);
  });

  ua.passkeys = { sync, secondFactor, load, forget };
})();
