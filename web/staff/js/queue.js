// The queue of the reviewer's sites: waiting packages oldest first, counts per status,
// filters by site, attempt and flag, keyset paging (list_queue's `next` cursor).
import { append, clear, h } from '/js/dom.js';
import { call } from './rpc.js';
import { ATTEMPT_NAMES, FLAG_NAMES, STATUS_NAMES, attemptText, timeText, waitingText } from './format.js';

const PAGE = 50;
const COUNTED = ['pending', 'claimed', 'confirming', 'returned', 'approved', 'rejected'];
// Kept while the tab lives: back from a case, the reviewer finds the same filters.
const state = { site: '', attempt: '', flag: '', status: 'pending', cursors: [null] };

function select(id, label, options, value) {
  const el = h('select', { id, name: id },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return [h('label', { for: id }, label), el];
}

async function siteOptions(who) {
  if (who.role === 'reviewer' && !who.sites.includes('*')) return who.sites;
  if (who.region === '*') return [];
  try {
    const region = await call('materials', 'get_region', { region: who.region });
    return Object.keys(region.sites || {}).sort();
  } catch (e) {
    return [];
  }
}

function filters() {
  const args = { limit: PAGE, status: state.status };
  if (state.site) args.site = state.site;
  if (state.attempt) args.attempt = state.attempt;
  if (state.flag) args.flag = state.flag;
  return args;
}

// The oldest waiting package under the reviewer's current filters, or null ("next case").
export async function nextPackage(skip) {
  const page = await call('review', 'list_queue', { ...filters(), limit: 5 });
  const found = page.items.find((item) => item.package_id !== skip && !item.claim);
  return found ? found.package_id : null;
}

function row(item, navigate) {
  const claimed = item.claim ? h('span', { class: 'badge info' }, `${item.claim.reviewer_id.replace(/^staff:/, '')} 审核中`) : null;
  const verb = item.status === 'pending' ? '领取' : '查看';
  const open = h('button', { class: 'btn primary', type: 'button', 'data-testid': 'claim',
    'aria-label': `${verb} ${item.candidate_id} ${item.name || ''}` }, verb);
  open.addEventListener('click', () => navigate(`#/case/${item.package_id}`));
  return h('tr', { 'data-package': item.package_id },
    h('td', {}, item.candidate_id),
    h('td', {}, item.name || '—'),
    h('td', {}, item.site),
    h('td', {}, attemptText(item.attempt)),
    h('td', {}, h('time', { datetime: item.submitted_at, title: timeText(item.submitted_at) }, waitingText(item.submitted_at))),
    h('td', {}, h('div', { class: 'flags' }, (item.flags || []).map((flag) => h('span', { class: 'badge warn' }, FLAG_NAMES[flag] || flag)),
      (item.id_flags || []).map((flag) => h('span', { class: 'badge warn', 'data-testid': 'id-flag' }, flag)), claimed)),
    h('td', {}, open));
}

export async function render(root, { who, navigate }) {
  const counts = h('ul', { class: 'counts', 'aria-label': '各状态数量', 'data-testid': 'counts' });
  const table = h('tbody');
  const status = h('p', { class: 'muted', role: 'status' });
  const prev = h('button', { class: 'btn', type: 'button' }, '上一页');
  const next = h('button', { class: 'btn', type: 'button' }, '下一页');
  const sites = await siteOptions(who);
  const [siteLabel, site] = select('f-site', '考点', [['', '全部考点'], ...sites.map((s) => [s, s])], state.site);
  const [attemptLabel, attempt] = select('f-attempt', '提交次数', [['', '全部'], ...Object.entries(ATTEMPT_NAMES)], state.attempt);
  const [flagLabel, flag] = select('f-flag', '标记', [['', '全部'], ...Object.entries(FLAG_NAMES)], state.flag);
  const [statusLabel, status_] = select('f-status', '状态', [['pending', '待审核'], ['confirming', '不通过待复核'], ['claimed', '审核中']], state.status);

  append(root,
    h('div', { class: 'queue-head' }, h('h1', {}, '待审队列'), counts),
    h('form', { class: 'filters', 'aria-label': '筛选', onsubmit: (e) => e.preventDefault() },
      statusLabel, status_, siteLabel, site, attemptLabel, attempt, flagLabel, flag),
    h('table', { class: 'queue', 'data-testid': 'queue' },
      h('caption', { class: 'visually-hidden' }, '待审核的材料包，按提交时间从早到晚'),
      h('thead', {}, h('tr', {}, ['报名号', '姓名', '考点', '提交', '已等待', '标记', '操作'].map((t) => h('th', { scope: 'col' }, t)))),
      table),
    h('nav', { class: 'pager', 'aria-label': '翻页' }, prev, status, next));

  async function loadCounts() {
    try {
      const found = await call('review', 'stats', state.site ? { site: state.site } : {});
      clear(counts);
      for (const key of COUNTED) {
        counts.append(h('li', { 'data-status': key }, h('span', {}, STATUS_NAMES[key]), h('strong', {}, String(found[key] || 0))));
      }
    } catch (e) {
      clear(counts).append(h('li', { class: 'alert error' }, e.message));
    }
  }

  async function loadPage() {
    const after = state.cursors[state.cursors.length - 1];
    status.textContent = '加载中…';
    try {
      const page = await call('review', 'list_queue', after ? { ...filters(), after } : filters());
      clear(table);
      for (const item of page.items) table.append(row(item, navigate));
      if (!page.items.length) table.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, '没有符合条件的待审材料')));
      status.textContent = `第 ${state.cursors.length} 页，本页 ${page.items.length} 个`;
      prev.disabled = state.cursors.length <= 1;
      next.disabled = !page.next;
      next.onclick = () => { state.cursors.push(page.next); loadPage(); };
    } catch (e) {
      status.textContent = e.message;
    }
  }

  prev.addEventListener('click', () => { state.cursors.pop(); loadPage(); });
  for (const [el, key] of [[status_, 'status'], [site, 'site'], [attempt, 'attempt'], [flag, 'flag']]) {
    el.addEventListener('change', () => {
      state[key] = el.value;
      state.cursors = [null];
      loadPage();
      if (key === 'site') loadCounts();
    });
  }
  await Promise.all([loadCounts(), loadPage()]);
}
