// The queue of the reviewer's sites: waiting packages oldest first, counts per status,
// filters by site, attempt and flag, keyset paging (list_queue's `next` cursor); the
// reviewer's own live claims (我认领的); a search by 报名号, name or full ID number; and
// all of it refreshed by itself every REFRESH_MS while the tab is visible.
import { append, clear, h } from '/js/dom.js';
import { call } from './rpc.js';
import { attemptText, timeText, waitingText } from './format.js';
import { reviewLabels } from './reference.js';

const PAGE = 50;
// Each refresh is a page of the queue, its counts and the reviewer's claims (measured at
// 200,000 packages: tests/load/README.md); a searched list is not re-run (each search is audited).
const REFRESH_MS = 20000;
const COUNTED = ['pending', 'claimed', 'confirming', 'returned', 'approved', 'rejected'];
const FILTERED = ['pending', 'confirming', 'claimed']; // the statuses the queue can show
const COLUMNS = ['报名号', '姓名', '考点', '提交', '已等待', '状态与标记', '操作'];
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

function row(item, navigate, who) {
  const holder = item.claim ? item.claim.reviewer_id.replace(/^staff:/, '') : null;
  const mine = holder && holder === who.name;
  const claimed = holder ? h('span', { class: 'badge info' }, mine ? '我正在审核' : `${holder} 审核中`) : null;
  const verb = mine ? '继续审核' : (item.status === 'pending' ? '领取' : '查看');
  const open = h('button', { class: 'btn primary', type: 'button', 'data-testid': 'claim',
    'aria-label': `${verb} ${item.candidate_id} ${item.name || ''}` }, verb);
  open.addEventListener('click', () => navigate(`#/case/${item.package_id}`));
  const status = item.status === 'pending' ? null : h('span', { class: 'badge' }, item.status_name);
  return h('tr', { 'data-package': item.package_id },
    h('td', {}, item.candidate_id),
    h('td', {}, item.name || '—'),
    h('td', {}, item.site),
    h('td', {}, attemptText(item.attempt)),
    h('td', {}, h('time', { datetime: item.submitted_at, title: timeText(item.submitted_at) }, waitingText(item.submitted_at))),
    h('td', {}, h('div', { class: 'flags' }, status, (item.flag_names || []).map((flag) => h('span', { class: 'badge warn' }, flag)),
      (item.id_flags || []).map((flag) => h('span', { class: 'badge warn', 'data-testid': 'id-flag' }, flag)), claimed)),
    h('td', {}, open));
}

function table(caption, testid, body) {
  return h('table', { class: 'queue', 'data-testid': testid },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', { scope: 'col' }, t)))),
    body);
}

// Redraw rows without losing the reviewer's place: the focused row's button keeps focus.
function redraw(body, items, draw, empty) {
  const focused = document.activeElement && body.contains(document.activeElement)
    ? document.activeElement.closest('tr')?.dataset.package : null;
  clear(body);
  for (const item of items) body.append(draw(item));
  if (!items.length) body.append(h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, empty)));
  if (focused) body.querySelector(`tr[data-package="${focused}"] button`)?.focus();
}

function clockText(date) {
  return date.toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
}

export async function render(root, { who, navigate }) {
  const counts = h('ul', { class: 'counts', 'aria-label': '各状态数量', 'data-testid': 'counts' });
  const rows = h('tbody');
  const status = h('p', { class: 'muted', role: 'status' });
  const prev = h('button', { class: 'btn', type: 'button' }, '上一页');
  const next = h('button', { class: 'btn', type: 'button' }, '下一页');
  const [sites, names] = await Promise.all([siteOptions(who), reviewLabels()]);
  const [siteLabel, site] = select('f-site', '考点', [['', '全部考点'], ...sites.map((s) => [s, s])], state.site);
  const [attemptLabel, attempt] = select('f-attempt', '提交次数', [['', '全部'], ...Object.entries(names.attempts)], state.attempt);
  const [flagLabel, flag] = select('f-flag', '标记', [['', '全部'], ...Object.entries(names.flags)], state.flag);
  const [statusLabel, status_] = select('f-status', '状态', FILTERED.map((s) => [s, names.statuses[s] || s]), state.status);
  const draw = (item) => row(item, navigate, who);

  // -- refreshing ------------------------------------------------------------------------------
  const refreshed = h('span', { 'data-testid': 'refreshed' }, '');
  const refreshState = h('p', { class: 'refresh-state muted', 'data-testid': 'refresh-state' },
    `自动刷新（每 ${REFRESH_MS / 1000} 秒）`, refreshed);
  const refreshNow = h('button', { class: 'btn', type: 'button' }, '立即刷新');

  // -- my claims -------------------------------------------------------------------------------
  const claimRows = h('tbody');
  const claimTitle = h('h2', { id: 'my-claims-title' }, '我认领的');
  const claimSection = h('section', { class: 'my-claims', 'data-testid': 'my-claims', 'aria-labelledby': 'my-claims-title', hidden: true },
    claimTitle, table('我认领且仍在领取期内的材料包', 'my-claims-table', claimRows));

  // -- search ----------------------------------------------------------------------------------
  const query = h('input', { type: 'search', id: 'q-search', name: 'q', autocomplete: 'off', spellcheck: 'false',
    maxlength: '50', placeholder: '报名号、姓名或完整身份证号', 'aria-describedby': 'q-hint' });
  const searchForm = h('form', { class: 'search', role: 'search', 'aria-label': '查找' },
    h('label', { for: 'q-search' }, '查找材料包'), query,
    h('button', { class: 'btn primary', type: 'submit' }, '查找'),
    h('span', { id: 'q-hint', class: 'visually-hidden' }, '身份证号须完整输入，按号码的密钥哈希比对，不显示、不记录'));
  const searchRows = h('tbody');
  const searchNote = h('p', { class: 'muted', role: 'status' });
  const clearSearch = h('button', { class: 'btn', type: 'button' }, '清除查找');
  const searchSection = h('section', { class: 'search-results', 'data-testid': 'search-results', 'aria-labelledby': 'search-title', hidden: true },
    h('div', { class: 'section-head' }, h('h2', { id: 'search-title' }, '查找结果'), searchNote, clearSearch),
    table('查找结果', 'search-table', searchRows));
  const queueSection = h('section', { class: 'queue-section', 'aria-label': '待审队列' },
    h('form', { class: 'filters', 'aria-label': '筛选', onsubmit: (e) => e.preventDefault() },
      statusLabel, status_, siteLabel, site, attemptLabel, attempt, flagLabel, flag),
    table('待审核的材料包，按提交时间从早到晚', 'queue', rows),
    h('nav', { class: 'pager', 'aria-label': '翻页' }, prev, status, next));

  append(root,
    h('div', { class: 'queue-head' }, h('h1', {}, '待审队列'), counts,
      h('div', { class: 'refresh' }, refreshState, refreshNow)),
    searchForm, searchSection, claimSection, queueSection);

  async function loadCounts() {
    try {
      const found = await call('review', 'stats', state.site ? { site: state.site } : {});
      clear(counts);
      for (const key of COUNTED) {
        counts.append(h('li', { 'data-status': key }, h('span', {}, names.statuses[key] || key), h('strong', {}, String(found[key] || 0))));
      }
    } catch (e) {
      clear(counts).append(h('li', { class: 'alert error' }, e.message));
    }
  }

  // Answers can come back out of order (the first page's, then a filter changed at once):
  // only the latest request's answer is drawn, never an older one over it.
  let latestPage = 0;
  async function loadPage() {
    const after = state.cursors[state.cursors.length - 1];
    const asked = ++latestPage;
    if (!rows.childElementCount) status.textContent = '加载中…';
    try {
      const page = await call('review', 'list_queue', after ? { ...filters(), after } : filters());
      if (asked !== latestPage) return;
      redraw(rows, page.items, draw, '没有符合条件的待审材料');
      status.textContent = `第 ${state.cursors.length} 页，本页 ${page.items.length} 个`;
      prev.disabled = state.cursors.length <= 1;
      next.disabled = !page.next;
      next.onclick = () => { state.cursors.push(page.next); loadPage(); };
    } catch (e) {
      if (asked === latestPage) status.textContent = e.message;
    }
  }

  async function loadClaims() {
    try {
      const mine = await call('review', 'my_claims');
      claimTitle.textContent = `我认领的（${mine.items.length}）`;
      redraw(claimRows, mine.items, draw, '');
      claimSection.hidden = !mine.items.length;
    } catch (e) {
      claimSection.hidden = true;
    }
  }

  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      await Promise.all([loadCounts(), searchSection.hidden ? loadPage() : null, loadClaims()]);
      refreshed.textContent = ` · 更新于 ${clockText(new Date())}`;
    } finally {
      busy = false;
    }
  }

  searchForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = query.value.trim();
    if (!text) { query.focus(); return; }
    searchNote.textContent = '查找中…';
    clear(searchRows);
    searchSection.hidden = false;
    queueSection.hidden = true;
    try {
      const found = await call('review', 'search_cases', { query: text });
      if (found.by === 'id_number') query.value = ''; // the number is not left on the screen
      const by = { registration_number: '按报名号', name: '按姓名', id_number: '按身份证号（号码不显示）' }[found.by] || '';
      searchNote.textContent = `${by}找到 ${found.items.length} 个材料包（仅限您负责的考点）`;
      redraw(searchRows, found.items, draw, '没有找到符合条件的材料包');
    } catch (err) {
      searchNote.textContent = err.message;
      clear(searchRows);
    }
  });
  clearSearch.addEventListener('click', () => {
    query.value = '';
    searchSection.hidden = true;
    queueSection.hidden = false;
    loadPage();
    query.focus();
  });
  refreshNow.addEventListener('click', refresh);
  prev.addEventListener('click', () => { state.cursors.pop(); loadPage(); });
  for (const [el, key] of [[status_, 'status'], [site, 'site'], [attempt, 'attempt'], [flag, 'flag']]) {
    el.addEventListener('change', () => {
      state[key] = el.value;
      state.cursors = [null];
      loadPage();
      if (key === 'site') loadCounts();
    });
  }
  await refresh();
  // Polls only while the tab is shown; coming back to it refreshes at once.
  const timer = window.setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  const onVisible = () => { if (!document.hidden) refresh(); };
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    window.clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
