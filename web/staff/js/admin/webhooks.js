// Outcomes pushed to the registration system (DESIGN §4a), for national administrators:
// the webhook subscribers (list, add, remove), the signing secret of a new one shown
// once with a copy button (notify keeps it to sign, and never shows it again), and the
// deliveries that failed after 72 hours of retries, each sent again with 重发 under its
// own webhook-id (the receiver deduplicates by it, so a replay never applies twice).
import { append, h } from '/js/dom.js';
import { call } from '../rpc.js';
import { timeText } from '../format.js';
import { messages } from './common.js';

const OUTCOMES = { submitted: '提交审核', withdrawn: '撤回提交', returned: '退回修改', approved: '审核通过',
  rejected: '审核不通过', reopened: '报考信息变更' };
const SUBSCRIBER_COLUMNS = ['推送地址', '考区', '说明', '添加人', '添加时间', '待发送', '发送失败', '操作'];
const FAILED_COLUMNS = ['推送地址', '审核结果', '材料包', '考区/考点', '序号', '尝试次数', '说明', '最后尝试', '操作'];

function emptyRow(columns, text) {
  return h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, text));
}

function regionsOf(text) {
  const codes = text.split(/[\s,，、]+/).filter(Boolean);
  return codes.length ? codes : null;
}

// The secret, once: a read-only field (selectable), a copy button, and what to do with it.
function secretPanel(added, announce) {
  const field = h('input', { id: 'w-secret', type: 'text', readonly: true, value: added.secret, class: 'secret',
    'aria-describedby': 'w-secret-hint', 'data-testid': 'webhook-secret', spellcheck: 'false' });
  const copy = h('button', { class: 'btn', type: 'button', 'data-testid': 'copy-secret' }, '复制密钥');
  const copied = h('span', { class: 'hint', role: 'status' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(added.secret);
      copied.textContent = '已复制到剪贴板';
      announce('密钥已复制');
    } catch (e) {
      field.select();
      copied.textContent = '无法自动复制，已选中密钥，请按 Ctrl+C 复制';
    }
  });
  return h('section', { class: 'panel secret-panel', 'aria-labelledby': 'w-secret-title', 'data-testid': 'secret-panel' },
    h('h2', { id: 'w-secret-title' }, '新订阅的签名密钥（只显示这一次）'),
    h('p', { id: 'w-secret-hint' }, `请现在复制并交给报名系统（${added.url}）保存：它用此密钥按 Standard Webhooks 规范校验 webhook-signature。离开本页后无法再查看；遗失时请删除该订阅后重新添加。`),
    h('div', { class: 'field' }, h('label', { for: 'w-secret' }, '签名密钥'), field),
    h('div', { class: 'actions' }, copy, copied));
}

export async function render(root, { announce }) {
  const note = messages();
  const subscribersBody = h('tbody');
  const failedBody = h('tbody');
  const secretSlot = h('div');
  const url = h('input', { id: 'w-url', type: 'url', required: true, placeholder: 'https://', 'aria-describedby': 'w-url-hint' });
  const regions = h('input', { id: 'w-regions', type: 'text', class: 'regions', 'aria-describedby': 'w-regions-hint' });
  const description = h('input', { id: 'w-description', type: 'text', maxlength: 100 });
  const addButton = h('button', { class: 'btn primary', type: 'submit', 'data-testid': 'add-subscriber' }, '添加订阅');
  const form = h('form', { class: 'panel subscriber-form', 'aria-labelledby': 'w-add-title' },
    h('h2', { id: 'w-add-title' }, '添加订阅'),
    h('div', { class: 'row' },
      h('div', { class: 'field wide' }, h('label', { for: 'w-url' }, '推送地址'), url,
        h('span', { class: 'hint', id: 'w-url-hint' }, '须为 https 地址；不能指向内网、回环或链路本地地址，也不跟随重定向。')),
      h('div', { class: 'field' }, h('label', { for: 'w-regions' }, '考区（可选）'), regions,
        h('span', { class: 'hint', id: 'w-regions-hint' }, '考区代码，以逗号分隔；不填表示全部考区。')),
      h('div', { class: 'field' }, h('label', { for: 'w-description' }, '说明（可选）'), description)),
    h('div', { class: 'actions' }, addButton));
  const refresh = h('button', { class: 'btn', type: 'button' }, '刷新');
  append(root, h('div', { class: 'page-head' }, h('h1', {}, '结果推送'), refresh),
    h('p', { class: 'hint' }, '每个审核结果（提交、撤回、退回、通过、不通过、重新开放）都以 Standard Webhooks 签名推送给下列订阅地址，失败时按退避重试 72 小时；报名系统也可随时通过 /integration/v1/outcomes 拉取。'),
    note.box, secretSlot,
    h('section', { 'aria-labelledby': 'w-list-title' }, h('h2', { id: 'w-list-title' }, '订阅地址'),
      h('table', { class: 'grid', 'data-testid': 'webhook-subscribers' },
        h('caption', {}, '当前接收审核结果推送的地址'),
        h('thead', {}, h('tr', {}, SUBSCRIBER_COLUMNS.map((t) => h('th', { scope: 'col' }, t)))), subscribersBody)),
    form,
    h('section', { class: 'failed-webhooks', 'aria-labelledby': 'w-failed-title' }, h('h2', { id: 'w-failed-title' }, '发送失败的推送'),
      h('table', { class: 'grid', 'data-testid': 'failed-webhooks' },
        h('caption', {}, '重试 72 小时仍未送达的推送；问题排除后可重发（使用原 webhook-id，接收方不会重复处理）'),
        h('thead', {}, h('tr', {}, FAILED_COLUMNS.map((t) => h('th', { scope: 'col' }, t)))), failedBody)));

  function subscriberRow(s) {
    const counts = s.deliveries || {};
    const remove = h('button', { class: 'btn danger', type: 'button', 'aria-label': `删除订阅：${s.url}` }, '删除');
    const tr = h('tr', { 'data-subscriber': s.subscriber_id },
      h('td', { class: 'url' }, s.url), h('td', {}, s.regions ? s.regions.join('、') : '全部'),
      h('td', {}, s.description || '—'), h('td', {}, (s.created_by || '').replace(/^staff:/, '')), h('td', {}, timeText(s.created_at)),
      h('td', {}, String((counts.pending || 0) + (counts.sending || 0))), h('td', {}, String(counts.failed || 0)),
      h('td', {}, remove));
    remove.addEventListener('click', async () => {
      if (!window.confirm(`删除订阅 ${s.url}？尚未送达的推送将不再发送。`)) return;
      remove.disabled = true;
      try {
        const done = await call('notify', 'remove_webhook_subscriber', { subscriber_id: s.subscriber_id });
        if (secretSlot.dataset.subscriber === s.subscriber_id) secretSlot.replaceChildren();  // its secret is void
        note.show('ok', `已删除订阅 ${s.url}（取消 ${done.cancelled} 条未送达的推送）`);
        announce('已删除订阅');
        await loadAll();
      } catch (e) {
        note.show('error', e.message);
        if (e.kind === 'not_found') await loadAll();
        else remove.disabled = false;
      }
    });
    return tr;
  }

  function failedRow(d) {
    const replay = h('button', { class: 'btn', type: 'button', 'aria-label': `重发推送：${OUTCOMES[d.outcome] || d.outcome}（材料包 ${d.package_id}）` }, '重发');
    const tr = h('tr', { 'data-delivery': d.delivery_id },
      h('td', { class: 'url' }, d.url || d.subscriber_id), h('td', {}, OUTCOMES[d.outcome] || d.outcome),
      h('td', {}, d.package_id || '—'), h('td', {}, [d.region, d.site].filter(Boolean).join(' / ') || '—'),
      h('td', {}, String(d.sequence ?? '')), h('td', {}, String(d.attempts ?? '')),
      h('td', { class: 'error-text' }, d.note || ''), h('td', {}, timeText(d.updated_at)), h('td', {}, replay));
    const drop = () => {
      tr.remove();
      if (!failedBody.rows.length) failedBody.append(emptyRow(FAILED_COLUMNS, '没有发送失败的推送'));
    };
    replay.addEventListener('click', async () => {
      replay.disabled = true;
      try {
        await call('notify', 'replay_webhook', { delivery_id: d.delivery_id });
        drop();
        note.show('ok', '已重发该推送；若仍失败，它会在重试期满后再次出现在这里。');
        announce('已重发该推送');
      } catch (e) {
        note.show('error', e.message);
        if (e.kind === 'invalid_transition' || e.kind === 'not_found') drop();
        else replay.disabled = false;
      }
    });
    return tr;
  }

  async function loadSubscribers() {
    subscribersBody.replaceChildren(emptyRow(SUBSCRIBER_COLUMNS, '加载中…'));
    try {
      const rows = (await call('notify', 'webhook_subscribers')).filter((s) => s.status === 'active');
      subscribersBody.replaceChildren(...(rows.length ? rows.map(subscriberRow) : [emptyRow(SUBSCRIBER_COLUMNS, '尚无订阅')]));
    } catch (e) {
      subscribersBody.replaceChildren();
      note.show('error', `订阅列表无法读取。${e.message}`);
    }
  }

  async function loadFailed() {
    failedBody.replaceChildren(emptyRow(FAILED_COLUMNS, '加载中…'));
    try {
      const rows = await call('notify', 'failed_webhooks', { limit: 100 });
      failedBody.replaceChildren(...(rows.length ? rows.map(failedRow) : [emptyRow(FAILED_COLUMNS, '没有发送失败的推送')]));
    } catch (e) {
      failedBody.replaceChildren();
      note.show('error', `发送失败的推送无法读取。${e.message}`);
    }
  }

  const loadAll = () => Promise.all([loadSubscribers(), loadFailed()]);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    note.clear();
    addButton.disabled = true;
    try {
      const added = await call('notify', 'add_webhook_subscriber', {
        url: url.value.trim(), regions: regionsOf(regions.value), description: description.value.trim() || null });
      secretSlot.replaceChildren(secretPanel(added, announce));
      secretSlot.dataset.subscriber = added.subscriber_id;
      form.reset();
      note.show('ok', `已添加订阅 ${added.url}`);
      announce('已添加订阅，请复制签名密钥');
      await loadSubscribers();
      secretSlot.querySelector('input').focus();
    } catch (err) {
      note.show('error', err.message);
    } finally {
      addButton.disabled = false;
    }
  });
  refresh.addEventListener('click', loadAll);
  await loadAll();
}
