// Undelivered SMS, the second part of the dead-letters screen: deliveries notify will not
// send without an operator (the provider refused, attempts used up, or the phone's hourly
// limit), each with its in-app message already standing. An administrator re-sends one
// once its cause is fixed; notify puts it back to pending with fresh attempts, and a
// second re-send of the same message (from a stale screen) is refused (InvalidTransition),
// not sent twice, and its row leaves.
// Phones only ever as notify masks them (DESIGN §8).
import { h } from '/js/dom.js';
import { call } from '../rpc.js';
import { timeText } from '../format.js';

const SMS_STATUS = { failed: '失败', suppressed: '超出每小时限制' };
const COLUMNS = ['通知类型', '材料包', '考区/考点', '手机号', '状态', '尝试次数', '说明', '时间', '操作'];

// { section, load }: the section to place on the screen, and its (re)load; messages go to
// the screen's own message box (`note`).
export function undelivered({ note, announce }) {
  const body = h('tbody');
  const empty = () => h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, '没有未发出的短信'));
  const section = h('section', { class: 'undelivered', 'aria-labelledby': 'undelivered-title' },
    h('h2', { id: 'undelivered-title' }, '未发出的短信'),
    h('table', { class: 'grid', 'data-testid': 'undelivered-sms' },
      h('caption', {}, '发送失败或超出每小时限制、需要管理员重发的短信（站内消息已送达）'),
      h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', { scope: 'col' }, t)))),
      body));

  function row(d) {
    const sms = d.sms || {};
    const kind = d.title || d.kind;
    const resend = h('button', { class: 'btn', type: 'button', 'aria-label': `重发短信：${kind}（材料包 ${d.package_id || d.message_id}）` }, '重发');
    const tr = h('tr', { 'data-message': d.message_id },
      h('td', {}, kind), h('td', {}, d.package_id || '—'),
      h('td', {}, [d.region, d.site].filter(Boolean).join(' / ') || '—'),
      h('td', {}, sms.phone_masked || '—'), h('td', {}, SMS_STATUS[sms.status] || sms.status || ''),
      h('td', {}, String(sms.attempts ?? '')), h('td', { class: 'error-text' }, sms.note || ''),
      h('td', {}, timeText(d.created_at)), h('td', {}, resend));
    const drop = () => {
      tr.remove();
      if (!body.rows.length) body.append(empty());
    };
    resend.addEventListener('click', async () => {
      resend.disabled = true;
      try {
        await call('notify', 'retry', { message_id: d.message_id });
        drop();
        note.show('ok', '已重发该短信；若仍发不出，它会再次出现在这里。');
        announce('已重发该短信');
      } catch (e) {
        note.show('error', e.message);
        if (e.kind === 'invalid_transition' || e.kind === 'not_found') {
          drop();  // re-sent from another screen meanwhile: the row is stale, not retryable
        } else {
          resend.disabled = false;
        }
      }
    });
    return tr;
  }

  async function load() {
    body.replaceChildren(h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, '加载中…')));
    let rows;
    try {
      rows = await call('notify', 'failed', { limit: 100 });
    } catch (e) {
      body.replaceChildren();
      note.show('error', `未发出的短信无法读取。${e.message}`);
      return;
    }
    body.replaceChildren(...(rows.length ? rows.map(row) : [empty()]));
  }

  return { section, load };
}
