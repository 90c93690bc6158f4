// The decision panel of a claimed case: approve (optional note); return chosen types,
// each with a coded reason (the candidate's text previewed) and an optional note, and a
// respond-by date; propose a rejection (a second reviewer confirms it). Approving and
// confirming a rejection go through the confirmation step (confirm.js) and are held a
// few seconds, so that they can be undone (`hold`, review's undo_decision).
import { h } from '/js/dom.js';
import { confirmDecision } from './confirm.js';

// What the candidate will read, as review's domain.explain_all() builds it: each chosen
// reason's standard text in order, the reviewer's note, and which images to upload again.
export function candidateText(chosen, note, images) {
  if (!chosen.length) return '';
  const standard = chosen.map((r) => r.explanation || '').join('');
  let text = standard ? (note ? `${standard}审核员说明：${note}` : standard) : (note || '（请在补充说明中写明原因）');
  if (images && images.picked.length && images.picked.length < images.total) {
    if (!/[。；！？.]$/.test(text)) text += '。';
    text += `需重新上传：${images.picked.map((n) => `第${n}张`).join('、')}（共${images.total}张）`;
  }
  return text;
}

// One type in the return form: ticked to return it, with one or more coded reasons, an
// optional note, and (for a type with several images) only some of its images.
function returnRow(item, name, reasons) {
  const id = `ret-${item.material_type}`;
  const box = h('input', { type: 'checkbox', id, name: 'return', value: item.material_type });
  const reasonBoxes = reasons.map((r) => h('input', { type: 'checkbox', id: `${id}-r-${r.code}`, value: r.code }));
  const reasonSet = h('fieldset', { class: 'reason-set', 'aria-label': `退回原因：${name}` },
    h('legend', {}, '退回原因（可多选）'),
    reasonBoxes.map((b, i) => h('label', { for: b.id, class: 'check' }, b, reasons[i].label)));
  const imageBoxes = item.images.length > 1 ? item.images.map((image, i) =>
    h('input', { type: 'checkbox', id: `${id}-i-${i}`, value: image.image_id, 'data-n': String(i + 1) })) : [];
  const imageSet = imageBoxes.length ? h('fieldset', { class: 'reason-set', 'aria-label': `只退回部分图片：${name}` },
    h('legend', {}, '只退回其中几张（不选则退回全部）'),
    imageBoxes.map((b, i) => h('label', { for: b.id, class: 'check' }, b, `第${i + 1}张`))) : null;
  const note = h('input', { type: 'text', id: `${id}-note`, maxlength: '200', 'aria-label': `补充说明（可选）：${name}`, placeholder: '补充说明（可选）' });
  const preview = h('p', { class: 'preview-text', 'data-testid': `preview-${item.material_type}` });
  const detail = h('div', { class: 'return-detail', hidden: true }, reasonSet, imageSet, note,
    h('p', { class: 'muted small' }, '考生将看到：'), preview);
  const codes = () => reasonBoxes.filter((b) => b.checked).map((b) => b.value);
  const picked = () => imageBoxes.filter((b) => b.checked);
  const update = () => {
    const chosen = codes().map((code) => reasons.find((r) => r.code === code));
    preview.textContent = candidateText(chosen, note.value.trim(),
      { picked: picked().map((b) => Number(b.dataset.n)), total: item.images.length });
    detail.hidden = !box.checked;
  };
  for (const el of [box, ...reasonBoxes, ...imageBoxes]) el.addEventListener('change', update);
  note.addEventListener('input', update);
  update();
  return {
    el: h('div', { class: 'return-row' }, h('label', { for: id, class: 'check' }, box, `退回「${name}」`), detail),
    box,
    name,
    missingReason: () => box.checked && !codes().length,
    firstReason: () => reasonBoxes[0],
    chosen: () => {
      if (!box.checked) return null;
      const text = note.value.trim();
      const list = codes();
      const reason = list.length > 1 ? { codes: list, text: text || null } : (text ? { code: list[0], text } : list[0]);
      const images = picked().map((b) => b.value);
      return images.length && images.length < item.images.length
        ? { material_type: item.material_type, reason, image_ids: images } : { material_type: item.material_type, reason };
    },
  };
}

export function decisionPanel({ view, reasons, names, respondBy, act, flags }) {
  const approveNote = h('textarea', { id: 'approve-note', maxlength: '500' });
  const approve = h('button', { type: 'button', class: 'btn good', 'data-key': 'a' }, '审核通过', h('kbd', {}, 'A'));
  approve.addEventListener('click', async () => {
    const note = approveNote.value.trim() || null;
    const acknowledged = await confirmDecision({
      title: '确认审核通过', confirmLabel: '确认通过',
      summary: h('p', {}, `审核通过后将以短信和站内消息通知考生${(view.candidate || {}).name || ''}，材料包不能再修改。`,
        note ? ` 审核备注：${note}` : ''),
      items: flags,
    });
    if (acknowledged) act('approve', { note, acknowledged, hold: true });
  });

  const rows = view.items.map((item) => returnRow(item, names[item.material_type] || item.material_type, reasons));
  const date = h('input', { type: 'date', id: 'respond-by', value: respondBy });
  const sendBack = h('button', { type: 'button', class: 'btn primary' }, '退回所选材料', h('kbd', {}, 'T'));
  const returnError = h('p', { class: 'field-error', role: 'alert' });
  sendBack.addEventListener('click', () => {
    const items = rows.map((row) => row.chosen()).filter(Boolean);
    if (!items.length) {
      returnError.textContent = '请至少勾选一类需要退回的材料';
      rows[0].box.focus();
      return;
    }
    const unexplained = rows.find((row) => row.missingReason());
    if (unexplained) {
      returnError.textContent = `请为「${unexplained.name}」选择至少一个退回原因`;
      unexplained.firstReason().focus();
      return;
    }
    returnError.textContent = '';
    act('return_materials', { items, respond_by: date.value || null });
  });

  const rejectReason = h('textarea', { id: 'reject-reason', maxlength: '500' });
  const reject = h('button', { type: 'button', class: 'btn danger' }, '提出不通过');
  const rejectError = h('p', { class: 'field-error', role: 'alert' });
  reject.addEventListener('click', () => {
    if (!rejectReason.value.trim()) {
      rejectError.textContent = '请填写不通过的原因';
      rejectReason.focus();
      return;
    }
    rejectError.textContent = '';
    act('reject', { reason: rejectReason.value.trim() });
  });

  const panel = h('section', { class: 'panel decisions', 'aria-labelledby': 'decide-title' },
    h('h2', { id: 'decide-title' }, '审核结论'),
    h('div', { class: 'decide-block' },
      h('label', { for: 'approve-note' }, '审核备注（可选）'), approveNote, approve),
    h('fieldset', { class: 'decide-block', id: 'return-set' },
      h('legend', {}, '退回修改（只解锁勾选的材料）'),
      rows.map((row) => row.el),
      h('label', { for: 'respond-by' }, '考生答复期限'), date, returnError, sendBack),
    h('details', { class: 'decide-block' },
      h('summary', {}, '审核不通过（须另一位审核员复核）'),
      h('label', { for: 'reject-reason' }, '不通过原因（考生将看到）'), rejectReason, rejectError, reject));
  return { el: panel, approve: () => approve.click(), focusReturn: () => rows[0] && rows[0].box.focus() };
}

// For a second reviewer: confirm or decline the rejection another reviewer proposed.
export function confirmPanel({ view, who, act, flags }) {
  const proposal = view.decision || {};
  const mine = proposal.by === `staff:${who.name}`;
  const note = h('textarea', { id: 'decline-note', maxlength: '500' });
  const confirm = h('button', { type: 'button', class: 'btn danger primary', disabled: mine }, '确认不通过');
  confirm.addEventListener('click', async () => {
    const acknowledged = await confirmDecision({
      title: '确认不通过', confirmLabel: '确认不通过', danger: true,
      summary: h('div', {},
        h('p', {}, `${String(proposal.by || '').replace(/^staff:/, '')} 提出的不通过原因（考生将看到）：`, h('strong', {}, proposal.reason || '')),
        h('p', {}, '确认后考生的材料审核结果为“审核不通过”，并以短信和站内消息通知考生。')),
      items: flags,
    });
    if (acknowledged) act('confirm_reject', { acknowledged, hold: true });
  });
  const decline = h('button', { type: 'button', class: 'btn', disabled: mine }, '不同意，退回待审队列');
  decline.addEventListener('click', () => act('decline_reject', { note: note.value.trim() || null }));
  return h('section', { class: 'panel decisions', 'aria-labelledby': 'confirm-title' },
    h('h2', { id: 'confirm-title' }, '不通过意见待复核'),
    h('p', {}, `${String(proposal.by || '').replace(/^staff:/, '')} 提出：`, h('strong', {}, proposal.reason || '')),
    mine ? h('p', { class: 'alert warn' }, '这是您提出的意见，须由另一位审核员复核确认。') : null,
    h('label', { for: 'decline-note' }, '复核意见（可选）'), note,
    h('div', { class: 'row' }, confirm, decline));
}
