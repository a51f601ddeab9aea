// A front end on another origin than the API, signed in with a bearer
// token: sign in, read the profile and "who am I", sign out. No cookies,
// so no CSRF header: the token, kept in memory, goes in `Authorization`.
// The API must list this page's origin in CORS_ORIGINS (in AWS, the
// template's CorsAllowOrigins); from any other origin the browser blocks
// every call and fetch rejects.
'use strict';

const API = document.querySelector('meta[name="api"]').content; // e.g. https://api.example.com

// The session: the token the login answered (in memory only).
let token = null;

// POST /api/login: the token is data.token. A refusal (401 "wrong username
// or password", 429 ...) is an answer with status "ERR" and a msg.
async function signIn(username, pwd) {
  const resp = await fetch(API + '/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, pwd }),
  });
  const answer = await resp.json();
  if (!resp.ok) {
    // 429 and 503 say how long to wait, in seconds (readable from another
    // origin: the API exposes the header to CORS).
    const wait = resp.headers.get('Retry-After');
    throw new Error(resp.status + ' ' + answer.msg + (wait ? ' (try again in ' + wait + ' s)' : ''));
  }
  return answer.data.token;
}

// A GET with the token: { status, answer } (answer: { status, msg, data }).
async function getWithToken(path) {
  const resp = await fetch(API + path, {
    headers: { Authorization: 'Bearer ' + token },
  });
  return { status: resp.status, answer: await resp.json() };
}

// POST /api/logout with the token: the session ends, the token stops working.
async function signOut() {
  const resp = await fetch(API + '/api/logout', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + token },
  });
  return { status: resp.status, answer: await resp.json() };
}

// ---- The page: what each step answered --------------------------------

function show(id, text) {
  document.getElementById(id).textContent = text;
}

async function loadProfile() {
  const profile = await getWithToken('/api/profile_settings');
  show('profile-status', profile.status + ' ' + profile.answer.msg);
  if (profile.status === 200) {
    show('profile-username', profile.answer.data.username);
    show('profile-full-name', profile.answer.data.full_name);
    show('profile-email', profile.answer.data.email);
  }
}

// Runs one step; a call the browser blocked or could not make shows here.
async function step(action) {
  show('error', '');
  try {
    await action();
  } catch (e) {
    // A CORS refusal and no network look alike to a script: a TypeError.
    show('error', 'The call failed: ' + e.name + ': ' + e.message);
  }
}

document.getElementById('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  step(async () => {
    token = await signIn(document.getElementById('username').value, document.getElementById('pwd').value);
    await loadProfile();
    const me = await getWithToken('/api/whoami');
    show('whoami', me.status === 200
      ? me.answer.data.username + ', session until ' + me.answer.data.session.expires_at
      : me.status + ' ' + me.answer.msg);
  });
});

document.getElementById('load-profile').addEventListener('click', () => step(loadProfile));

// A real front end forgets the token here (token = null); this page keeps
// it to show that the API no longer takes it ("Load my profile": 401).
document.getElementById('sign-out').addEventListener('click', () => step(async () => {
  const out = await signOut();
  show('signed-out', out.status + ' ' + out.answer.msg);
}));
