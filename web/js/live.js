// Decisions on an open page within seconds (DESIGN §4): a Server-Sent Events stream from
// materials (services/materials/live.py) says when the package changed; the page then
// reloads as its poll would. EventSource cannot send the Bearer token, so each stream
// is opened with a ticket: POST …/events/ticket (with the token) sets a short-lived
// HttpOnly cookie for the stream's path only. If streams are unavailable the page's
// 60 s poll still runs, so nothing is lost but time.
import { request } from './api.js';
import * as auth from './auth.js';

const STREAM = '/api/v1/package/events';
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 60 * 1000;

let source = null;
let timer = null;
let lastId = null;   // the package version last heard of: a new stream catches up from it
let failures = 0;
let onChange = null;

// follow(callback): call `callback` whenever the candidate's package changes.
export function follow(callback) {
  onChange = callback;
  if (typeof window.EventSource !== 'function' || source || timer) return;
  open();
}

export function stop() {
  window.clearTimeout(timer);
  timer = null;
  if (source) source.close();
  source = null;
}

// Whether a stream is open now (the page may then poll less often).
export function connected() {
  return Boolean(source && source.readyState === window.EventSource.OPEN);
}

async function open() {
  timer = null;
  if (!auth.signedIn()) return;
  try {
    await request('POST', `${STREAM}/ticket`);
  } catch (error) {
    retryLater();
    return;
  }
  const url = lastId === null ? STREAM : `${STREAM}?last_event_id=${encodeURIComponent(lastId)}`;
  source = new window.EventSource(url);
  source.addEventListener('ready', (event) => heard(event, false));
  source.addEventListener('changed', (event) => heard(event, true));
  source.onerror = () => {
    // EventSource reconnects by itself (with Last-Event-ID) while its ticket is good;
    // once it gives up (a refused reconnect: the ticket or the token expired), ask anew.
    if (source && source.readyState === window.EventSource.CLOSED) {
      source = null;
      retryLater();
    }
  };
}

function heard(event, changed) {
  failures = 0;
  if (event.lastEventId) lastId = event.lastEventId;
  if (changed && onChange) onChange();
}

function retryLater() {
  failures += 1;
  const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1));
  timer = window.setTimeout(open, wait * (0.5 + Math.random() / 2));  // spread a herd out
}
