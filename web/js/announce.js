// Words for screen readers, through the page's live region (#announce). The region is
// emptied first and filled a moment later, so the same words said twice are heard twice.
import { $ } from './dom.js';

const announcer = $('#announce');

export function announce(text) {
  announcer.textContent = '';
  window.setTimeout(() => { announcer.textContent = text; }, 50);
}
