// The page drawn again from the state: the top bar's buttons and the package, the focus
// kept on the element with the same data-key (or put on a fallback), thumbnails fetched.
import { $, append, clear } from './dom.js';
import { renderActions } from './actions.js';
import * as countdown from './countdown.js';
import { holdsFocus } from './dialog.js';
import { renderPackage } from './package.js';
import { packageView } from './state.js';
import { loadThumbs } from './thumbs.js';

const app = $('#app');

// fallbackKey: a data-key, or a list of them, to focus when the focused element is gone.
export function render(fallbackKey) {
  const active = document.activeElement;
  const inDialog = holdsFocus();
  const key = !inDialog && active && active.dataset ? active.dataset.key : null;
  renderActions();
  clear(app);
  const pkg = packageView();
  if (pkg) append(app, renderPackage(pkg));
  countdown.keepCounting();
  if (!inDialog) {
    const keys = [key, ...[].concat(fallbackKey || [])].filter(Boolean);
    const target = keys.map((k) => document.querySelector(`[data-key="${k}"]`)).find((el) => el && !el.disabled);
    if (target) target.focus();
  }
  loadThumbs(pkg);
}
