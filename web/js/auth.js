// Sign-in with the registration-system account: OAuth 2.0 authorization code + PKCE (S256).
// Tokens live in memory and in this tab's sessionStorage (never localStorage), so a reload
// keeps the candidate signed in and closing the tab forgets them.
// The staff pages use the same flow with their own client (`configure`, web/staff/js/session.js).

let CLIENT_ID = 'upload-web';
let TOKENS = 'upload-web.tokens';
let PENDING = 'upload-web.pkce';
let HOME = '/';
let CALLBACK = '/callback';
const EARLY_S = 60; // refresh this long before the access token expires

let tokens = load();
let refreshing = null;

// Another OAuth client of the same origin (before any other call of this module).
export function configure({ clientId, home, callback }) {
  CLIENT_ID = clientId;
  TOKENS = `${clientId}.tokens`;
  PENDING = `${clientId}.pkce`;
  HOME = home;
  CALLBACK = callback;
  tokens = load();
}

// The access token's claims (who, which role and sites) for display only: the services
// verify the token; the page never trusts these for anything but showing them.
export function claims() {
  try {
    const part = tokens.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return null;
  }
}

export class AuthError extends Error {}

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS) || 'null');
  } catch (e) {
    return null;
  }
}

function save(body) {
  tokens = {
    access_token: body.access_token,
    refresh_token: body.refresh_token || (tokens && tokens.refresh_token) || null,
    expires_at: Date.now() + (Number(body.expires_in) || 300) * 1000,
  };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
}

export function forget() {
  tokens = null;
  sessionStorage.removeItem(TOKENS);
}

export function signedIn() {
  return Boolean(tokens && tokens.access_token);
}

function redirectUri() {
  return `${window.location.origin}${CALLBACK}`;
}

function base64url(bytes) {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(size) {
  const bytes = new Uint8Array(size);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

export function canSignIn() {
  return Boolean(window.crypto && crypto.subtle && crypto.getRandomValues);
}

// Off to the auth service's own sign-in page; it comes back to /callback.
export async function beginSignIn() {
  const verifier = randomString(48);
  const state = randomString(16);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
  });
  window.location.assign(`/auth/authorize?${params}`);
}

async function tokenRequest(fields) {
  let response;
  try {
    response = await fetch('/auth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new AuthError('网络连接失败，请检查网络后重试');
  }
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok || !body || !body.access_token) {
    const message = body && body.error && (body.error.message || body.error_description);
    throw new AuthError(typeof message === 'string' && message ? message : '登录失败，请重新登录');
  }
  return body;
}

// On the callback path: check the state, trade the code for tokens, return home.
// Returns true when this page load was a callback that signed the candidate in.
export async function completeSignIn() {
  if (window.location.pathname !== CALLBACK) return false;
  const query = new URLSearchParams(window.location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, '', HOME);
  if (query.get('error')) {
    throw new AuthError(query.get('error') === 'access_denied' ? '您已取消授权登录' : '授权登录未完成，请重新登录');
  }
  const code = query.get('code');
  if (!code || !pending || query.get('state') !== pending.state) {
    throw new AuthError('登录请求已过期或不完整，请重新登录');
  }
  save(await tokenRequest({
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri(),
    client_id: CLIENT_ID,
    code_verifier: pending.verifier,
  }));
  return true;
}

// One refresh at a time: the auth service rotates refresh tokens and treats a replayed one
// as theft (it revokes the whole family), so two concurrent refreshes would sign us out.
export function refresh() {
  if (!refreshing) {
    const current = tokens && tokens.refresh_token;
    refreshing = (async () => {
      if (!current) throw new AuthError('登录已失效，请重新登录');
      try {
        save(await tokenRequest({ grant_type: 'refresh_token', refresh_token: current, client_id: CLIENT_ID }));
      } catch (e) {
        forget();
        throw new AuthError('登录已失效，请重新登录');
      }
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function accessToken() {
  if (!tokens) throw new AuthError('请先登录');
  if (Date.now() > tokens.expires_at - EARLY_S * 1000) await refresh();
  return tokens.access_token;
}

export async function signOut() {
  if (!tokens) return;
  try {
    await accessToken(); // an expired access token could not revoke anything
  } catch (e) {
    return; // the refresh failed: nothing left to revoke
  }
  const current = tokens;
  forget();
  try {
    await fetch('/auth/logout', {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${current.access_token}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ refresh_token: current.refresh_token || '' }),
      cache: 'no-store',
    });
  } catch (e) {
    // Signed out here anyway; the tokens expire on their own.
  }
}
