// The overview (issue 19 item 8): per-site packages by status, submissions and decisions
// per day, the median time to a first decision, returns by reason, reviewer throughput,
// drawn with the vendored Apache ECharts; and one site's outcomes exported as XLSX/CSV.
import * as echarts from '/staff/vendor/echarts.esm.min.js';
import { append, clear, h } from '/js/dom.js';
import { call } from '../rpc.js';
import { reviewLabels } from '../reference.js';
import { REGION_NAMES, download, messages, regionOf, siteScoped } from './common.js';

const COLORS = ['#1565c0', '#2e7d32', '#ef6c00', '#c62828', '#6a1b9a', '#00838f', '#5d4037', '#546e7a'];
// Kept while the tab lives. `region`: a national administrator's choice ('' = 全国).
const state = { site: '', days: 14, region: '32' };

function chartBox(id, title, summary) {
  const el = h('div', { class: 'chart', 'data-testid': `chart-${id}`, role: 'img', 'aria-label': summary });
  return { el, panel: h('section', { class: 'panel chart-panel', 'aria-labelledby': `c-${id}` }, h('h2', { id: `c-${id}` }, title), el) };
}

function draw(el, option) {
  const chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: 'canvas' });
  // richText tooltips are drawn on the canvas: no inline styles, which the page's CSP forbids.
  chart.setOption({ color: COLORS, animation: false, textStyle: { fontFamily: 'sans-serif' },
    tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 48, right: 16, top: 36, bottom: 28 }, ...option }, true);
  return chart;
}

function durationText(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} 分钟`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} 小时`;
  return `${(seconds / 86400).toFixed(1)} 天`;
}

function kpis(view) {
  const t = view.totals;
  const items = [['提交', t.submitted], ['已审核', t.decided], ['通过', t.approved], ['退回', t.returned], ['不通过', t.rejected],
    ['首次审核用时中位数', durationText(view.median_first_decision_s)]];
  return h('ul', { class: 'kpis', 'data-testid': 'kpis', 'aria-label': `近 ${view.days.length} 天合计` },
    items.map(([label, value]) => h('li', {}, h('span', {}, label), h('strong', {}, String(value)))));
}

// The outcomes as XLSX or CSV (review.export_outcomes): one site or every site of the
// administrator's scope, optionally by submission dates (Beijing) and status (review's
// names for them, `statusNames`).
function exportPanel(sites, region, who, note, statusNames) {
  const wide = siteScoped(who) ? '我负责的全部考点' : `整个考区 ${region}`;
  const site = h('select', { id: 'x-site' }, h('option', { value: '' }, wide), sites.map((s) => h('option', { value: s }, s)));
  const since = h('input', { type: 'date', id: 'x-since' });
  const until = h('input', { type: 'date', id: 'x-until' });
  const status = h('select', { id: 'x-status' }, h('option', { value: '' }, '全部状态'),
    Object.entries(statusNames).map(([s, name]) => h('option', { value: s }, name)));
  const buttons = ['xlsx', 'csv'].map((format) => {
    const b = h('button', { class: 'btn', type: 'button', 'data-testid': `export-${format}` }, format === 'xlsx' ? '导出 Excel' : '导出 CSV');
    b.addEventListener('click', async () => {
      const args = { format };
      if (site.value) args.site = site.value;
      else if (who.region === '*') args.region = region;
      if (since.value) args.since = since.value;
      if (until.value) args.until = until.value;
      if (status.value) args.status = status.value;
      b.disabled = true;
      try {
        const file = await call('review', 'export_outcomes', args);
        download(file);
        const where = site.value ? `考点 ${site.value}` : (siteScoped(who) ? `考点 ${sites.join('、')}` : `考区 ${region}`);
        note.show('ok', `已导出${where}的 ${file.rows} 条审核结果（北京时间；证件号码已打码，导出已记入审计日志）。`);
      } catch (e) {
        note.show('error', e.message);
      } finally {
        b.disabled = false;
      }
    });
    return b;
  });
  return h('section', { class: 'panel export', 'aria-labelledby': 'x-title' },
    h('h2', { id: 'x-title' }, '导出审核结果'),
    h('div', { class: 'filters' }, h('label', { for: 'x-site' }, '范围'), site,
      h('label', { for: 'x-since' }, '提交日期 从'), since, h('label', { for: 'x-until' }, '至'), until,
      h('label', { for: 'x-status' }, '状态'), status, buttons));
}

async function sitesOf(who, region) {
  if (siteScoped(who)) return who.sites;
  try {
    return Object.keys((await call('materials', 'get_region', { region })).sites || {}).sort();
  } catch (e) {
    return [];
  }
}

function regionPicker(refresh) {
  const picker = h('select', { id: 'o-region' }, h('option', { value: '' }, '全国（全部考区）'),
    Object.entries(REGION_NAMES).map(([code, name]) => h('option', { value: code, selected: code === state.region }, `${code} ${name}`)));
  picker.addEventListener('change', () => {
    state.region = picker.value;
    state.site = '';
    refresh(); // the region's sites, overview and export, drawn again
  });
  return [h('label', { for: 'o-region' }, '考区'), picker];
}

export async function render(root, { who, refresh }) {
  const national = who.region === '*';
  const region = national ? state.region : regionOf(who, null); // '' only for a national administrator: 全国
  const note = messages();
  const [sites, names] = await Promise.all([region ? sitesOf(who, region) : [], reviewLabels()]);
  const site = h('select', { id: 'o-site' }, h('option', { value: '' }, '全部考点'), sites.map((s) => h('option', { value: s, selected: s === state.site }, s)));
  const days = h('select', { id: 'o-days' }, [7, 14, 30].map((d) => h('option', { value: d, selected: d === state.days }, `近 ${d} 天`)));
  const body = h('div', { class: 'overview-body' }, h('p', { class: 'muted' }, '加载中…'));
  const where = siteScoped(who) ? `考点 ${who.sites.join('、')}` : (region ? `考区 ${region}${REGION_NAMES[region] ? ` ${REGION_NAMES[region]}` : ''}` : '全国');
  append(root,
    h('div', { class: 'page-head' }, h('h1', {}, `统计概览 · ${where}`),
      h('form', { class: 'filters', 'aria-label': '统计范围', onsubmit: (e) => e.preventDefault() },
        national ? regionPicker(refresh) : null,
        h('label', { for: 'o-site' }, '考点'), site, h('label', { for: 'o-days' }, '时间'), days)),
    note.box, body, sites.length ? exportPanel(sites, region, who, note, names.statuses) : null);

  const charts = [];
  async function load() {
    const args = { days: Number(days.value) };
    if (site.value) args.site = site.value;
    else if (region) args.region = region;
    let view;
    try {
      view = await call('review', 'overview', args);
    } catch (e) {
      note.show('error', e.message);
      return;
    }
    charts.splice(0).forEach((c) => c.dispose());
    const status = chartBox('status', '各考点材料包状态', `各考点材料包数：${view.sites.map((s) => `${s.site} 共 ${s.total}`).join('，') || '无'}`);
    const daily = chartBox('daily', '每日提交与审核', `近 ${view.days.length} 天提交 ${view.totals.submitted}，审核 ${view.totals.decided}`);
    const reasons = chartBox('reasons', '退回原因', view.returns_by_reason.map((r) => `${r.label} ${r.count}`).join('，') || '暂无退回');
    const reviewers = chartBox('reviewers', '审核员工作量', view.reviewers.map((r) =>
      `${r.reviewer_id.replace(/^staff:/, '')} 审核 ${r.decisions}，复核确认 ${r.confirmations || 0}`).join('；') || '暂无审核');
    body.replaceChildren(kpis(view), h('div', { class: 'charts' }, status.panel, daily.panel, reasons.panel, reviewers.panel));
    // every status review names (in its order) that some site counts
    const statuses = Object.keys(view.status_names).filter((s) => view.sites.some((x) => x.counts[s]));
    charts.push(draw(status.el, {
      legend: { top: 0 }, xAxis: { type: 'category', data: view.sites.map((s) => s.site) }, yAxis: { type: 'value', minInterval: 1 },
      series: statuses.map((s) => ({ name: view.status_names[s], type: 'bar', stack: 'status', data: view.sites.map((x) => x.counts[s] || 0) })),
    }));
    charts.push(draw(daily.el, {
      legend: { top: 0 }, xAxis: { type: 'category', boundaryGap: true, data: view.days.map((d) => d.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '提交', type: 'bar', barMaxWidth: 24, data: view.per_day.submitted },
        { name: '通过', type: 'line', data: view.per_day.approved },
        { name: '退回', type: 'line', data: view.per_day.returned },
        { name: '不通过', type: 'line', data: view.per_day.rejected },
      ],
    }));
    charts.push(draw(reasons.el, {
      xAxis: { type: 'value', minInterval: 1 }, yAxis: { type: 'category', data: view.returns_by_reason.map((r) => r.label) },
      grid: { left: 110, right: 16, top: 16, bottom: 28 },
      series: [{ name: '退回次数', type: 'bar', data: view.returns_by_reason.map((r) => r.count) }],
    }));
    charts.push(draw(reviewers.el, {
      xAxis: { type: 'value', minInterval: 1 }, yAxis: { type: 'category', data: view.reviewers.map((r) => r.reviewer_id.replace(/^staff:/, '')) },
      grid: { left: 110, right: 16, top: 36, bottom: 28 },
      legend: { top: 0 },
      series: [{ name: '审核数', type: 'bar', stack: 'work', data: view.reviewers.map((r) => r.decisions) },
        { name: '复核确认', type: 'bar', stack: 'work', data: view.reviewers.map((r) => r.confirmations || 0) }],
    }));
  }
  site.addEventListener('change', () => { state.site = site.value; load(); });
  days.addEventListener('change', () => { state.days = Number(days.value); load(); });
  await load();
  const resize = () => charts.forEach((c) => c.resize());
  window.addEventListener('resize', resize);
  return () => {
    window.removeEventListener('resize', resize);
    charts.forEach((c) => c.dispose());
  };
}
