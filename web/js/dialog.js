// The page's one modal dialog (#dialog): preview, examples, confirmations, the notice and
// the inbox all open in it, one at a time. On closing, the focus goes back to where it was.
import { $, append, clear, h } from './dom.js';

const dialog = $('#dialog');
let returnFocus = null;

// kind: what the dialog shows, for a module that fills it later (isOpen('inbox')).
export function openDialog(title, body, buttons, kind = '') {
  if (!dialog.open) returnFocus = document.activeElement;
  clear(dialog);
  dialog.dataset.kind = kind;
  append(dialog,
    h('div', { class: 'dialog-head' },
      h('h2', { id: 'dialog-title' }, title),
      h('button', { type: 'button', class: 'dialog-close', 'aria-label': '关闭', onclick: closeDialog }, '×')),
    // Focusable: the body scrolls on its own when it is taller than the screen, and a
    // keyboard must be able to scroll it too.
    h('div', { class: 'dialog-body', tabindex: '0' }, body),
    h('div', { class: 'dialog-actions' }, buttons));
  if (!dialog.open) dialog.showModal();
  const first = dialog.querySelector('[autofocus]') || dialog.querySelector('.dialog-actions button');
  if (first) first.focus();
}

export function closeDialog() {
  if (dialog.open) dialog.close();
}

// Whether the dialog is open (and showing `kind`, when given).
export function isOpen(kind) {
  return dialog.open && (kind === undefined || dialog.dataset.kind === kind);
}

// Whether the focus is inside the open dialog (the page behind it is then redrawn
// without moving the focus).
export function holdsFocus() {
  return dialog.open && dialog.contains(document.activeElement);
}

// Once, when the dialog now open closes: an object URL it showed is released.
export function whenClosed(callback) {
  dialog.addEventListener('close', callback, { once: true });
}

// A button put first among the open dialog's buttons (a choice that became possible
// while it was open).
export function prependAction(button) {
  dialog.querySelector('.dialog-actions').prepend(button);
}

dialog.addEventListener('close', () => {
  const active = document.activeElement;
  if (active && active !== document.body && !dialog.contains(active)) {
    returnFocus = null; // the browser already put the focus back (or the page moved it on)
    return;
  }
  const key = returnFocus && returnFocus.dataset ? returnFocus.dataset.key : null;
  const target = (returnFocus && returnFocus.isConnected && returnFocus)
    || (key && document.querySelector(`[data-key="${key}"]`));
  returnFocus = null;
  if (target && !target.disabled) target.focus();
});

dialog.addEventListener('click', (event) => {
  if (event.target === dialog) closeDialog(); // a click on the backdrop
});
