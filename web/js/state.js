// The page's shared state, read through these functions and changed only by them: the
// package view last read, and for each card (material type) or area ('submit', 'consent',
// 'withdraw', 'page') its error, its progress text and the bytes of an upload on its way.
// What one module alone needs stays in it: image URLs (thumbs.js), the messages
// (inbox.js), the consent tick (consent.js), where a dialog returns the focus (dialog.js).
import { request } from './api.js';
import * as countdown from './countdown.js';
import { forgetUnlisted } from './thumbs.js';

let view = null;             // GET /api/v1/package's answer; null while signed out
const errors = new Map();    // key -> {message, code, missing, toFix}
const progress = new Map();  // key -> "正在上传…" etc.
const sending = new Map();   // material type -> {loaded, total}: bytes of an upload on its way

export function packageView() {
  return view;
}

// The view an action answered with (consent, submit, withdraw), or null when signed out.
export function setPackageView(next) {
  view = next;
}

export async function reload() {
  view = await request('GET', '/api/v1/package');
  countdown.syncClock(view.now);
  errors.delete('page');
  forgetUnlisted(view);
}

// -- errors: an ApiError (or {message}) kept with what its details name ------------------------------
export function errorFor(key) {
  return errors.get(key);
}

export function setError(key, error) {
  errors.set(key, {
    message: error.message,
    code: error.code,
    missing: error.details && Array.isArray(error.details.missing) ? error.details.missing : null,
    toFix: error.details && Array.isArray(error.details.returned_unchanged) ? error.details.returned_unchanged : null,
  });
}

export function clearError(key) {
  errors.delete(key);
}

export function clearErrors() {
  errors.clear();
}

// -- progress: what a card or the submit button says while its request runs --------------------------
export function progressFor(key) {
  return progress.get(key);
}

export function setProgress(key, text) {
  progress.set(key, text);
}

export function clearProgress(key) {
  progress.delete(key);
}

// -- sending: an upload's bytes, for its bar (sending.js) ------------------------------------------------
export function sentFor(code) {
  return sending.get(code);
}

export function setSent(code, sent) {
  sending.set(code, sent);
}

export function clearSent(code) {
  sending.delete(code);
}
