// The staff member's session: the OAuth code flow of client `staff-web` (PKCE, back to
// /staff/callback), reusing the candidate page's token handling in /js/auth.js.
// The screen being read (the hash, e.g. #/case/PKG) is kept across a sign-in, so an
// expired session comes back to the same case.
import * as auth from '/js/auth.js';

auth.configure({ clientId: 'staff-web', home: '/staff/', callback: '/staff/callback' });

const RETURN_TO = 'staff-web.return-to';

// Finish a sign-in if this load is the callback; then who is signed in, or null.
export async function start() {
  if (window.location.pathname === '/staff/callback') {
    await auth.completeSignIn();
    const back = sessionStorage.getItem(RETURN_TO);
    sessionStorage.removeItem(RETURN_TO);
    if (back && back.startsWith('#/')) window.history.replaceState(null, '', `/staff/${back}`);
  }
  return auth.signedIn() ? who() : null;
}

export function who() {
  const claims = auth.claims();
  if (!claims) return null;
  return {
    name: claims.name || String(claims.sub || '').replace(/^staff:/, ''),
    role: claims.role,
    region: claims.region,
    sites: Array.isArray(claims.sites) ? claims.sites : [],
  };
}

export async function signIn() {
  sessionStorage.setItem(RETURN_TO, window.location.hash || '');
  await auth.beginSignIn();
}

// The refresh token no longer works: forget the tokens but keep the hash, so signing in
// again returns to the same screen.
export function expire() {
  auth.forget();
}

export async function signOut() {
  await auth.signOut();
  sessionStorage.removeItem(RETURN_TO);
}

export const canSignIn = auth.canSignIn;
export const AuthError = auth.AuthError;
