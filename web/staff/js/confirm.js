// The confirmation step before a decision the candidate will hear of (approve, confirm a
// rejection): a modal dialog that repeats what is being decided and lists the package's
// open flags and notes, each to be ticked. Enter confirms (once every item is ticked),
// Esc cancels. Resolves to the ticked labels, or null when cancelled; the labels go to
// review as `acknowledged` and into the audit log.
import { h } from '/js/dom.js';

export function confirmDecision({ title, summary, items, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    const before = document.activeElement;
    const error = h('p', { class: 'field-error', role: 'alert' });
    const boxes = items.map((text, i) => h('input', { type: 'checkbox', id: `ack-${i}`, value: text }));
    const list = items.length
      ? h('fieldset', { class: 'acks' }, h('legend', {}, `请逐项确认以下 ${items.length} 项提示：`),
        boxes.map((box, i) => h('label', { for: box.id, class: 'check ack' }, box, items[i])))
      : h('p', { class: 'muted' }, '该材料包没有待确认的提示或标记。');
    const confirm = h('button', { type: 'button', class: danger ? 'btn danger primary' : 'btn good' },
      confirmLabel, h('kbd', {}, 'Enter'));
    const cancel = h('button', { type: 'button', class: 'btn' }, '取消', h('kbd', {}, 'Esc'));
    const dialog = h('dialog', { class: 'confirm-dialog', 'aria-labelledby': 'confirm-dialog-title',
      'aria-describedby': 'confirm-dialog-summary' },
    h('h2', { id: 'confirm-dialog-title' }, title),
    h('div', { id: 'confirm-dialog-summary' }, summary),
    list, error, h('div', { class: 'row' }, confirm, cancel));

    let settled = false;
    function finish(value) {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (before && before.isConnected) before.focus();
      resolve(value);
    }
    function tryConfirm() {
      const open = boxes.filter((box) => !box.checked);
      if (open.length) {
        error.textContent = `请先逐项确认上面的提示（还有 ${open.length} 项未确认）`;
        open[0].focus();
        return;
      }
      finish(boxes.map((box) => box.value));
    }
    confirm.addEventListener('click', tryConfirm);
    cancel.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); finish(null); }); // Esc
    dialog.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing && e.target !== cancel) {
        e.preventDefault();
        tryConfirm();
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    (boxes[0] || confirm).focus();
  });
}

// What the confirmation lists for a case: the queue's flags, the ID card check's flags and
// each image's duplicate notes, as the screen shows them.
export function openFlags(view, names) {
  const found = [...(view.flag_names || []), ...(view.id_flags || [])];
  for (const item of view.items) {
    const name = names[item.material_type] || item.material_type;
    item.images.forEach((image, i) => {
      // One line per image and kind of match, the closest one (identical over similar).
      for (const kind of ['previously_returned', 'other_candidate']) {
        const matches = (image.duplicates || []).filter((d) => (d.kind === 'previously_returned') === (kind === 'previously_returned'));
        if (!matches.length) continue;
        const what = kind === 'previously_returned' ? '与上次退回的图片' : '与其他考生的材料';
        found.push(`${name} 第${i + 1}张：${what}${matches.some((d) => d.identical) ? '完全相同' : '相似'}`);
      }
    });
  }
  return found;
}
