// The top bar's buttons: 消息 with its unread count, and 提交审核 while there is
// something to submit.
import { $, append, clear, h } from './dom.js';
import { openInbox, unreadCount } from './inbox.js';
import { EDITABLE, FINAL, pkgEditable, toFix } from './rules.js';
import { packageView, progressFor } from './state.js';
import { onSubmit } from './submit.js';

const actions = $('#actions');

// keepFocus: a button of the bar that had the focus has it again (the bar alone is
// redrawn, for a new unread count, while the candidate may be on it).
export function renderActions({ keepFocus = false } = {}) {
  const key = keepFocus && actions.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  draw();
  if (key) {
    const target = actions.querySelector(`[data-key="${key}"]`);
    if (target) target.focus();
  }
}

function draw() {
  clear(actions);
  const pkg = packageView();
  if (!pkg) return;
  const unread = unreadCount();
  append(actions,
    h('button', {
      type: 'button', class: 'btn inbox-btn', 'data-key': 'inbox', onclick: openInbox,
      'aria-label': unread ? `消息，${unread}条未读` : '消息',
    }, '消息', unread ? h('span', { class: 'count-badge', 'aria-hidden': 'true' }, String(unread)) : null),
  );
  const open = pkgEditable(pkg);
  if (!open && EDITABLE.has(pkg.status)) return; // uploading off or closed: nothing to submit
  if (FINAL.has(pkg.status)) return;             // decided: a greyed 提交审核 would only puzzle
  const incomplete = open && !pkg.can_submit;
  append(actions, h('button', {
    type: 'button',
    class: ['btn', 'primary', 'submit-btn', incomplete && 'is-incomplete'],
    'data-key': 'submit',
    // Not disabled while incomplete (a disabled button explains nothing): it looks
    // unfinished, and pressing it shows the API's missing_materials list.
    disabled: !open,
    'aria-describedby': incomplete ? 'progress' : null,
    title: incomplete ? (toFix(pkg).length ? '还有退回的材料未更换' : '还有必传材料未上传') : null,
    onclick: onSubmit,
  }, progressFor('submit') || '提交审核'));
}
