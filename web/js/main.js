// The candidate's upload page (DESIGN §1, §4): sign in, read the notice and consent, upload
// the materials type by type, submit for review, follow the outcome. This module starts the
// page and keeps it current (the stream, the poll); the parts are modules of their own:
//   state.js    the shared state, and what changes it    rules.js     what a status allows
//   page.js     the page drawn again, focus kept          actions.js   the top bar's buttons
//   package.js  the package view                          banners.js   waiting, decided, returned
//   cards.js    a card per material type                  alerts.js    errors where they happened
//   consent.js  the notice and consent                    submit.js    submit and withdraw
//   upload-dialog.js  choose, check, fix, preview         images.js    an image sent or deleted
//   inbox.js    the messages                              session.js   sign-in and sign-out
// and what they share: dialog.js, thumbs.js, redraw.js, format.js, announce.js, dom.js.
import { $, append, clear, h } from './dom.js';
import * as auth from './auth.js';
import { ApiError } from './api.js';
import { renderActions } from './actions.js';
import { isOpen } from './dialog.js';
import { loadInbox } from './inbox.js';
import * as live from './live.js';
import { render } from './page.js';
import { drawWith } from './redraw.js';
import { WAITING } from './rules.js';
import { failed, renderFatal, renderSignIn } from './session.js';
import { packageView, reload } from './state.js';

const POLL_MS = 60 * 1000;

const app = $('#app');
let poller = null;

async function refreshAll() {
  const pkg = packageView();
  if (!pkg || !auth.signedIn()) return;
  if (WAITING.has(pkg.status) && !isOpen()) {
    try {
      await reload();
      render();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'unauthenticated') failed('page', error);
    }
  }
  loadInbox();
}

async function start() {
  clear(app);
  append(app, h('p', { class: 'loading' }, '加载中…'));
  try {
    await auth.completeSignIn();
  } catch (error) {
    renderSignIn(error.message);
    return;
  }
  if (!auth.signedIn()) {
    renderSignIn();
    return;
  }
  try {
    await reload();
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unauthenticated') {
      auth.forget();
      renderSignIn(error.message);
    } else {
      renderFatal(error.message || '页面加载失败，请稍后重试', start);
    }
    return;
  }
  render();
  // Signed in: the reader starts at the main heading (who is signed in), not at the top bar.
  const heading = app.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  loadInbox();
  if (!poller) {
    // Decisions within seconds through the stream; the poll is the fallback while it is down.
    poller = window.setInterval(() => { if (!live.connected()) refreshAll(); }, POLL_MS);
    live.follow(refreshAll);
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refreshAll(); });
  }
}

drawWith({ page: render, actions: renderActions });
start();
