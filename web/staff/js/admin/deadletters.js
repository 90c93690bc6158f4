// Dead letters (issue 19 item 9): events a service's handler kept failing on, parked
// after their retries; an administrator sees those of their region or sites and replays
// one once its cause is fixed (handlers are idempotent on event_id, and a replayed
// letter leaves the list, so replaying twice is refused rather than applied twice).
// Below them, notify's undelivered SMS (undelivered.js), re-sent the same way.
import { append, h } from '/js/dom.js';
import { call } from '../rpc.js';
import { timeText } from '../format.js';
import { messages } from './common.js';
import { undelivered } from './undelivered.js';

const SERVICES = { auth: '认证', materials: '材料', review: '审核', notify: '通知' };

function handlerOf(queue) {
  // evt-<source>-<Event>--<service>.<handler>: the event and who handles it
  const found = /^evt-([a-z]+)-([A-Za-z]+)--([a-z]+)\.(\w+)$/.exec(queue || '');
  return found ? `${found[2]}（来自 ${found[1]}）` : (queue || '—');
}

export async function render(root, { announce }) {
  const note = messages();
  const body = h('tbody');
  const table = h('table', { class: 'grid', 'data-testid': 'dead-letters' },
    h('caption', {}, '处理失败、已停止重试的事件（按服务）'),
    h('thead', {}, h('tr', {}, ['服务', '事件', '材料包', '考区/考点', '发生时间', '尝试次数', '最后错误', '操作'].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  const refresh = h('button', { class: 'btn', type: 'button' }, '刷新');
  const sms = undelivered({ note, announce });
  append(root, h('div', { class: 'page-head' }, h('h1', {}, '失败事件（死信）'), refresh), note.box, table, sms.section);

  async function load() {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, '加载中…')));
    const rows = [];
    const failures = [];
    await Promise.all(Object.keys(SERVICES).map(async (service) => {
      try {
        for (const letter of await call(service, 'dead_letters', { limit: 100 })) rows.push({ service, letter });
      } catch (e) {
        failures.push(`${SERVICES[service]}：${e.message}`);
      }
    }));
    if (failures.length) note.show('error', `部分服务的死信无法读取。${failures.join('；')}`);
    body.replaceChildren();
    if (!rows.length) {
      body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, '没有失败事件')));
      return;
    }
    for (const { service, letter } of rows) {
      const replay = h('button', { class: 'btn', type: 'button', 'aria-label': `重放事件 ${letter.event_id}` }, '重放');
      const row = h('tr', { 'data-event': letter.event_id },
        h('td', {}, SERVICES[service]), h('td', {}, handlerOf(letter.queue)), h('td', {}, letter.package_id || '—'),
        h('td', {}, [letter.region, letter.site].filter(Boolean).join(' / ') || '—'),
        h('td', {}, timeText(letter.occurred_at)), h('td', {}, String(letter.attempts ?? '')),
        h('td', { class: 'error-text' }, letter.last_error || ''), h('td', {}, replay));
      replay.addEventListener('click', async () => {
        replay.disabled = true;
        try {
          await call(service, 'replay_dead_letter', { message_id: letter.event_id || letter.message_id });
          row.remove();
          note.show('ok', '已重放该事件；若仍失败，它会在重试后再次出现在这里。');
          announce('已重放该事件');
        } catch (e) {
          note.show('error', e.message);
          replay.disabled = false;
        }
      });
      body.append(row);
    }
  }
  const loadAll = () => Promise.all([load(), sms.load()]);
  refresh.addEventListener('click', loadAll);
  await loadAll();
}
