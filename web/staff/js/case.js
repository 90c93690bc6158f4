// The case screen, built around the images: every material type with its images large
// (ID front and back side by side), image facts and duplicate matches, the previous
// attempt's returned images beside the new ones with the reason then, the masked
// snapshot, the history, the lease countdown, and the decision panel.
//   #/case/PKG  claims the case (renewed while the reviewer works, released on leave)
//   #/view/PKG  reads it without claiming (a duplicate's other package, a decided case)
import { append, clear, h } from '/js/dom.js';
import { call } from './rpc.js';
import { thumbnailStrip, viewer } from './viewer.js';
import { confirmPanel, decisionPanel } from './decisions.js';
import { openFlags } from './confirm.js';
import { nextPackage } from './queue.js';
import { attemptText, bytesText, timeText } from './format.js';
import { lease } from './lease.js';
import { catalogueInfo, inCatalogueOrder, reasonList, respondByDefault, siteText } from './reference.js';

// A message carried over a redraw of the screen (after an undone decision).
let flash = null;

const DECIDED = { approve: '已审核通过', return_materials: '已退回修改', reject: '已提出不通过意见，等待另一位审核员复核',
  confirm_reject: '已确认不通过', decline_reject: '已退回待审队列' };

function facts(image) {
  const parts = [image.format ? image.format.toUpperCase() : null, bytesText(image.bytes),
    image.width ? `${image.width}×${image.height} 像素` : null,
    image.sharpness !== undefined && image.sharpness !== null ? `清晰度 ${Number(image.sharpness).toFixed(1)}` : null,
    image.uploaded_at ? `上传于 ${timeText(image.uploaded_at)}` : null];
  const SHOWN = 3; // the closest few; the rest are counted
  const all = image.duplicates || [];
  const matches = all.slice(0, SHOWN).map((d) => h('li', { class: 'match' },
    d.kind === 'previously_returned' ? '与上次退回的图片' : '与其他考生的材料',
    d.identical ? '完全相同' : `相似（差异 ${d.distance} 位）`,
    d.package_id ? h('a', { href: `/staff/#/view/${d.package_id}` }, ` 查看材料包 ${d.package_id}`) : null));
  if (all.length > SHOWN) matches.push(h('li', { class: 'match' }, `另有 ${all.length - SHOWN} 处相似`));
  return [h('span', { class: 'facts' }, parts.filter(Boolean).join(' · ')),
    matches.length ? h('ul', { class: 'matches', 'aria-label': '疑似重复' }, matches) : null];
}

// The region's checks for this type (考区设置 → 核对清单), ticked while looking at its images;
// what is ticked goes with the decision (`checklist`).
function checklistOf(item, name, checks, readOnly) {
  if (!checks || !checks.length) return null;
  const boxes = checks.map((text, i) => h('input', { type: 'checkbox', id: `chk-${item.material_type}-${i}`, value: text, disabled: readOnly }));
  const set = h('fieldset', { class: 'checklist', 'data-type': item.material_type, 'aria-label': `核对清单：${name}` },
    h('legend', {}, '核对清单'), boxes.map((b, i) => h('label', { for: b.id, class: 'check' }, b, checks[i])));
  set.ticks = () => Object.fromEntries(boxes.map((b) => [b.value, b.checked]));
  return set;
}

function typeSection(item, name, previous, viewers, checklist) {
  const images = item.images.map((image, i) => {
    const label = `${name} 第${i + 1}张（共${item.images.length}张）`;
    const v = viewer(image, label, facts(image));
    viewers.push(Object.assign(v, { image, label }));
    return v.figure;
  });
  const before = previous ? h('div', { class: 'before' },
    h('h3', {}, `上次退回的图片（第${previous.attempt}次提交）`),
    h('p', { class: 'reason-then' }, `当时的原因：${previous.reason}`),
    previous.images.map((image, i) => {
      const deleted = image.deleted_by_candidate
        ? h('span', { class: 'badge warn', 'data-testid': 'deleted-by-candidate' }, image.url ? '考生已删除（审核结束前保留）' : '考生已删除') : null;
      const label = `${name} 上次退回的第${i + 1}张`;
      const v = viewer(image, label, [deleted, ...facts(image)]);
      viewers.push(Object.assign(v, { image, label }));
      return v.figure;
    })) : null;
  return h('section', { class: 'type', 'data-type': item.material_type, 'aria-labelledby': `t-${item.material_type}` },
    h('h2', { id: `t-${item.material_type}` }, name, h('span', { class: 'muted' }, ` ${item.images.length} 张`),
      previous ? h('span', { class: 'badge warn' }, '上次退回，本次已更换') : null),
    checklist,
    h('div', { class: before ? 'compare' : '' },
      h('div', { class: `images n${Math.min(item.images.length, 2)}` }, images), before));
}

// Notes reviewers leave each other on the package (review.add_note): never in an event,
// never shown to the candidate.
function notesPanel(packageId, notes) {
  const list = h('ol', { class: 'notes', 'data-testid': 'notes' });
  const draw = (all) => {
    list.replaceChildren(...all.map((n) => h('li', {}, h('p', { class: 'note-meta' },
      h('strong', {}, String(n.by || '').replace(/^staff:/, '')), ' ', h('time', { datetime: n.at }, timeText(n.at)),
      n.attempt ? ` · 第${n.attempt}次提交` : ''), h('p', { class: 'note-text' }, n.text))));
    if (!all.length) list.append(h('li', { class: 'muted' }, '暂无备注'));
  };
  draw(notes || []);
  const text = h('textarea', { id: 'note-text', maxlength: '500' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  const add = h('button', { type: 'button', class: 'btn' }, '添加备注');
  add.addEventListener('click', async () => {
    if (!text.value.trim()) { error.textContent = '请填写备注内容'; text.focus(); return; }
    add.disabled = true;
    try {
      draw(await call('review', 'add_note', { package_id: packageId, text: text.value.trim() }));
      text.value = '';
      error.textContent = '';
    } catch (e) {
      error.textContent = e.message;
    } finally {
      add.disabled = false;
    }
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'notes-title' },
    h('h2', { id: 'notes-title' }, '内部备注', h('span', { class: 'muted small-title' }, '（仅审核人员可见，考生看不到）')),
    list, h('label', { for: 'note-text' }, '添加内部备注'), text, error, add);
}

const VERDICTS = { match: '与报名信息一致', mismatch: '与报名信息不一致', unreadable: '无法识别' };

// The ID card read automatically and compared by auth: verdicts only, a hint for the
// reviewer's own check, never a decision.
function idCheckPanel(check, flags) {
  const rows = check ? [
    ['证件号码', VERDICTS[check.id_number] || check.id_number],
    ['姓名', VERDICTS[check.name] || check.name],
    ['有效期至', check.long_term ? '长期' : (check.expires || '未识别')],
    ['考试时是否过期', check.expired === null || check.expired === undefined ? '未识别' : (check.expired ? '已过期' : '未过期')],
    ['识别', `${check.engine || ''}，置信度 ${Math.round((check.confidence || 0) * 100)}%`],
  ] : [];
  return h('section', { class: 'panel', 'aria-labelledby': 'idcheck-title', 'data-testid': 'id-check' },
    h('h2', { id: 'idcheck-title' }, '证件自动核验'),
    check ? h('dl', { class: 'snapshot' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))
      : h('p', { class: 'muted' }, '身份证明图片尚未识别（上传后自动识别）。'),
    flags.length ? h('p', {}, flags.map((f) => h('span', { class: 'badge warn' }, f))) : null,
    h('p', { class: 'muted' }, '自动识别仅供参考，请以人工核对为准。'));
}

// The candidate's facts: the category and the site by name, the status as it now is
// (drawn again after a decision).
function candidatePanel(view, labels) {
  const c = view.candidate || {};
  const rows = [['姓名', c.name], ['报名号', view.candidate_id], ['证件号码', c.id_number_masked],
    ['手机号码', c.phone_masked], ['考点', labels.site || view.site], ['考试类别', labels.categories[view.category] || view.category],
    ['提交', attemptText(view.attempt)], ['提交时间', timeText(view.submitted_at)], ['状态', view.status_name]];
  return h('section', { class: 'panel', 'aria-labelledby': 'who-title', 'data-testid': 'candidate-panel' },
      h('h2', { id: 'who-title' }, '考生信息'),
    h('dl', { class: 'snapshot' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v || '—')])),
    view.flag_names.length ? h('p', {}, view.flag_names.map((f) => h('span', { class: 'badge warn' }, f))) : null);
}

function sidePanel(view, labels) {
  return [
    candidatePanel(view, labels),
    idCheckPanel(view.id_check, view.id_flags || []),
    h('section', { class: 'panel', 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, '审核记录'),
      h('ol', { class: 'history' }, view.history.map((line) => h('li', {},
        h('time', {}, timeText(line.at)), ' ', line.action_name,
        line.by ? ` · ${line.by.replace(/^staff:/, '')}` : '', line.attempt ? ` · 第${line.attempt}次提交` : '')))),
  ];
}

// Someone else holds the case: who, until when (Beijing), and the ways on (`refresh`
// draws the screen again, which claims it once it is free).
function heldNotice(view, refresh) {
  const claim = view.claim || {};
  const holder = String(claim.reviewer_id || '').replace(/^staff:/, '') || '其他审核员';
  const until = claim.lease_until ? new Date(claim.lease_until).toLocaleTimeString('zh-CN',
    { timeZone: 'Asia/Shanghai', hour12: false, hour: '2-digit', minute: '2-digit' }) : '';
  const retry = h('button', { type: 'button', class: 'btn' }, '重新领取');
  retry.addEventListener('click', () => refresh());
  return h('div', { class: 'alert warn held', role: 'status', 'data-testid': 'held-by-other' },
    h('p', {}, h('strong', {}, `该材料正由 ${holder} 审核`), until ? `，领取至 ${until}（北京时间）。` : '。',
      '您可以只读查看；对方完成审核、释放或领取到期后，可以重新领取。'),
    h('div', { class: 'row' }, h('a', { href: '/staff/#/queue', class: 'btn primary' }, '返回队列'), retry));
}

export async function render(root, { params, who, navigate, announce, refresh, readOnly = false }) {
  const packageId = params[0];
  const carried = flash;
  flash = null;
  const timers = [];
  const { names, order, categories } = await catalogueInfo();
  let held = null;
  let heldByOther = false;
  if (!readOnly) {
    try {
      held = await lease(packageId, announce);
    } catch (e) {
      // Decided or awaiting confirmation: read it. Another reviewer's live claim: read it
      // too, saying whose and until when.
      if (e.kind === 'conflict') heldByOther = true;
      else if (e.kind !== 'invalid_transition') throw e;
    }
  }
  const view = await call('review', 'get_case', { package_id: packageId });
  view.items = inCatalogueOrder(view.items, order); // ID proof first, as the candidate's page
  const labels = { categories, site: await siteText(view.region, view.site) };
  const viewers = [];
  const previous = Object.fromEntries(((view.previous || {}).items || []).map((p) =>
    [p.material_type, { ...p, attempt: view.previous.attempt }]));
  const checklists = {};
  const main = h('div', { class: 'case-main' }, view.items.map((item) => {
    const name = names[item.material_type] || item.material_type;
    checklists[item.material_type] = checklistOf(item, name, (view.checklists || {})[item.material_type], readOnly || heldByOther);
    return typeSection(item, name, previous[item.material_type], viewers, checklists[item.material_type]);
  }));
  const ticked = () => {
    const found = Object.entries(checklists).filter(([, set]) => set);
    return found.length ? Object.fromEntries(found.map(([type, set]) => [type, set.ticks()])) : null;
  };
  const strip = thumbnailStrip(viewers.map((v) => ({ image: v.image, label: v.label, viewer: v })));
  if (strip) main.prepend(strip);
  const side = h('aside', { class: 'case-side', 'aria-label': '考生信息与审核' });
  const outcome = h('div', { role: 'status', class: 'outcome' });
  let current = 0;

  async function next() {
    const found = await nextPackage(packageId).catch(() => null);
    if (found) navigate(`#/case/${found}`);
    else { outcome.textContent = '队列中暂无待审材料'; navigate('#/queue'); }
  }

  // A held decision (approve, confirm_reject): the seconds left to undo it, counted from
  // the hold the server gave (release_at less the decision's own time).
  function undoWindow(after, method) {
    const d = after.decision || {};
    const holdMs = Date.parse(d.release_at) - Date.parse(method === 'confirm_reject' ? d.confirmed_at : d.at);
    if (!d.release_at || !(holdMs > 0)) return null;
    const ends = Date.now() + holdMs;
    const left = h('strong', { 'data-testid': 'undo-left' });
    const undo = h('button', { type: 'button', class: 'btn' }, '撤销');
    const note = h('p', { class: 'undo-note' }, '考生尚未收到通知，', left, ' 秒内可以', undo);
    let timer = null;
    const tick = () => {
      const seconds = Math.ceil((ends - Date.now()) / 1000);
      if (seconds > 0) { left.textContent = String(seconds); return; }
      window.clearInterval(timer);
      note.replaceChildren('撤销时限已过，已通知考生。');
    };
    timer = window.setInterval(tick, 250);
    timers.push(timer);
    tick();
    undo.addEventListener('click', async () => {
      undo.disabled = true;
      try {
        await call('review', 'undo_decision', { package_id: packageId });
        window.clearInterval(timer);
        flash = method === 'approve' ? '已撤销审核通过，材料包仍由您领取，可以重新审核。' : '已撤销确认，不通过意见回到待复核。';
        announce(flash);
        await refresh();
      } catch (e) {
        window.clearInterval(timer);
        note.replaceChildren(h('span', { class: 'alert error', role: 'alert' }, e.message));
      }
    });
    return note;
  }

  async function act(method, args) {
    const checklist = ['approve', 'return_materials', 'reject'].includes(method) ? ticked() : null;
    try {
      const after = await call('review', method, { package_id: packageId, ...args, ...(checklist ? { checklist } : {}) });
      if (held) held.done();
      const now = after.status_name;
      clear(outcome).append(h('p', { class: 'alert ok' }, DECIDED[method].includes(now) ? DECIDED[method] : `${DECIDED[method]}（${now}）`),
        undoWindow(after, method),
        h('button', { type: 'button', class: 'btn primary', id: 'next-case', onclick: next }, '下一个', h('kbd', {}, 'N')));
      for (const panel of side.querySelectorAll('.decisions')) panel.remove();
      side.querySelector('[data-testid=candidate-panel]')?.replaceWith(candidatePanel(after, labels));
      announce(DECIDED[method]);
      document.getElementById('next-case').focus();
    } catch (e) {
      clear(outcome).append(h('p', { class: 'alert error', role: 'alert' }, e.message));
    }
  }
  if (carried) outcome.append(h('p', { class: 'alert ok' }, carried));
  const flags = openFlags(view, names);

  let panel = null;
  if (held) {
    const [reasons, respondBy] = await Promise.all([reasonList(), respondByDefault(view.region)]);
    panel = decisionPanel({ view, reasons, names, respondBy, act, flags });
  }
  const state = held ? held.el : (heldByOther ? heldNotice(view, refresh)
    : h('p', { class: 'alert warn' }, readOnly ? '只读查看（未领取）' : `该材料${view.status_name}，未领取`));
  append(side, state,
    outcome, panel ? panel.el : null,
    view.status === 'confirming' && !readOnly ? confirmPanel({ view, who, act, flags }) : null,
    notesPanel(packageId, view.notes), sidePanel(view, labels));
  // The decision is far down the page in reading order: one link jumps to it.
  const skip = h('a', { href: '#decide-title', class: 'skip-decision' }, '跳到审核结论');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    const target = side.querySelector('.decisions button:not([disabled])') || side;
    if (target === side) side.setAttribute('tabindex', '-1');
    target.focus();
    target.scrollIntoView({ block: 'nearest' });
  });
  append(root,
    h('div', { class: 'case-head' },
      h('a', { href: '/staff/#/queue', class: 'back' }, '← 返回队列'),
      h('h1', {}, `${(view.candidate || {}).name || ''} 的材料包`, h('span', { class: 'muted' }, ` ${view.package_id}`)),
      h('p', { class: 'keys muted' }, '快捷键：', h('kbd', {}, 'J'), '/', h('kbd', {}, 'K'), ' 下一张/上一张 ',
        h('kbd', {}, '+'), '/', h('kbd', {}, '-'), ' 缩放 ', h('kbd', {}, 'R'), ' 旋转 ', h('kbd', {}, 'M'), ' 放大镜 ', h('kbd', {}, 'F'), ' 全屏 ', h('kbd', {}, 'A'), ' 通过 ',
        h('kbd', {}, 'T'), ' 退回 ', h('kbd', {}, 'N'), ' 下一个 ', h('kbd', {}, 'Esc'), ' 回到图片')),
    h('div', { class: 'case' }, h('div', { class: 'case-body' }, main), side));
  // right before the first image (after the thumbnail strip): Shift+Tab from it, then Enter
  main.insertBefore(skip, main.querySelector('section.type'));
  if (viewers.length) viewers[0].focus(); // J goes to the second image, not past the first

  function onKey(e) {
    if (document.querySelector('dialog[open]')) return; // the confirmation step has the keys
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
    if (e.key === 'Escape' && typing && viewers.length) { viewers[current].focus(); return; } // back to the images
    if (e.ctrlKey || e.metaKey || e.altKey || typing) return;
    const key = e.key.toLowerCase();
    const go = (step) => { current = (current + step + viewers.length) % viewers.length; viewers[current].focus(); };
    const active = () => viewers[Math.max(0, viewers.findIndex((v) => v.figure.contains(document.activeElement)))] || viewers[current];
    const actions = {
      j: () => go(1), k: () => go(-1), '+': () => active().zoom(1.25), '=': () => active().zoom(1.25),
      '-': () => active().zoom(0.8), r: () => active().rotate(), 0: () => active().reset(),
      f: () => active().fullScreen(), m: () => active().magnifier(),
      a: () => panel && panel.approve(), t: () => panel && panel.focusReturn(),
      n: () => (document.getElementById('next-case') ? next() : null),
    };
    if (actions[key] && viewers.length) {
      e.preventDefault();
      const index = viewers.findIndex((v) => v.figure.contains(document.activeElement));
      if (index >= 0) current = index;
      actions[key]();
    }
  }
  document.addEventListener('keydown', onKey);
  return async () => {
    document.removeEventListener('keydown', onKey);
    timers.forEach((t) => window.clearInterval(t));
    if (held) await held.release();
  };
}
