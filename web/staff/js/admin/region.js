// Region settings (issue 19 item 7): uploading on/off, window, the site's contact and
// notice, respond-by days, image limits, sites, extra required types per category; every
// save is a new version (optimistic: a stale edit is refused and the admin reloads), and
// the history shows who changed what and when.
import { append, clear, h } from '/js/dom.js';
import { call } from '../rpc.js';
import { timeText } from '../format.js';
import { catalogueInfo } from '../reference.js';
import {
  fieldName, fromLocalInput, messages, regionOf, siteScoped, toLocalInput, valueText,
} from './common.js';

let chosenRegion = null;

function field(id, label, input, hint) {
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input,
    hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

function numberInput(value, min, max, step = 1) {
  return h('input', { type: 'number', min, max, step, value: value ?? '', inputmode: 'numeric' });
}

function siteRows(sites, region, onRemove) {
  const body = h('tbody');
  const add = (code = '', name = '') => {
    const codeInput = h('input', { type: 'text', value: code, maxlength: 4, pattern: `${region}\\d{2}`, 'aria-label': '考点代码', class: 'code' });
    const nameInput = h('input', { type: 'text', value: name, maxlength: 20, 'aria-label': '考点名称' });
    const remove = h('button', { type: 'button', class: 'btn link', 'aria-label': `删除考点 ${code}` }, '删除');
    const row = h('tr', {}, h('td', {}, codeInput), h('td', {}, nameInput), h('td', {}, remove));
    remove.addEventListener('click', () => { row.remove(); onRemove(); });
    body.append(row);
  };
  for (const [code, name] of Object.entries(sites || {}).sort()) add(code, name);
  return { body, add };
}

function categoryTable(region, categoryNames) {
  const national = new Set(region.national_required);
  const extras = region.catalogue.filter((t) => !national.has(t.material_type));
  const boxes = [];
  const rows = Object.entries(categoryNames).map(([code, name]) => {
    const required = new Set((region.categories[code] || {}).required || []);
    return h('tr', {}, h('th', { scope: 'row' }, name), extras.map((t) => {
      const box = h('input', { type: 'checkbox', checked: required.has(t.material_type),
        'aria-label': `${name}须上传${t.name}`, dataset: { category: code, type: t.material_type } });
      boxes.push(box);
      return h('td', {}, box);
    }));
  });
  const table = h('table', { class: 'grid categories' },
    h('caption', {}, `国家规定的必传材料（${region.catalogue.filter((t) => national.has(t.material_type)).map((t) => t.name).join('、')}）始终必传；勾选本考区对各类别另外要求的材料。`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '考试类别'), extras.map((t) => h('th', { scope: 'col' }, t.name)))),
    h('tbody', {}, rows));
  const value = () => {
    const out = {};
    for (const box of boxes) {
      if (!box.checked) continue;
      const entry = out[box.dataset.category] || (out[box.dataset.category] = { required: [...national] });
      entry.required.push(box.dataset.type);
    }
    return out;
  };
  return { table, value };
}

function shown(fieldKey, value) {
  return fieldKey.startsWith('window.') && value ? timeText(value) : valueText(value);
}

function historyList(history, categoryNames) {
  if (!history.length) return h('p', { class: 'muted' }, '尚无修改记录');
  return h('ol', { class: 'history', 'data-testid': 'region-history', reversed: true },
    history.map((v) => h('li', {},
      h('p', { class: 'history-head' }, h('strong', {}, `第 ${v.version} 版`), ' ',
        h('span', {}, (v.updated_by || '').replace(/^staff:/, '')), ' ',
        h('time', { datetime: v.updated_at }, timeText(v.updated_at))),
      v.changes.length ? h('ul', { class: 'changes' }, v.changes.map((c) => h('li', {},
        h('span', { class: 'change-field' }, fieldName(c.field, categoryNames)), '：',
        h('del', {}, shown(c.field, c.before)), ' → ', h('ins', {}, shown(c.field, c.after)))))
        : h('p', { class: 'muted' }, '未改变任何设置'))));
}

// One text box per material type, one check per line (at most 8, each up to 40 characters).
function checklistFields(current) {
  const boxes = (current.catalogue || []).map((t) => {
    const box = h('textarea', { id: `cl-${t.material_type}`, rows: 3, 'data-type': t.material_type });
    box.value = ((current.checklists || {})[t.material_type] || []).join('\n');
    return field(`cl-${t.material_type}`, t.name, box, null);
  });
  return {
    el: h('div', { class: 'checklists', 'aria-describedby': 'cl-hint' },
      h('p', { class: 'hint', id: 'cl-hint' }, '每行一项，例如“姓名与报名信息一致”“印章清晰”；每类至多 8 项，留空则该类不设核对清单。'), boxes),
    value: () => Object.fromEntries(boxes.map((f) => f.querySelector('textarea'))
      .map((box) => [box.dataset.type, box.value.split('\n').map((line) => line.trim()).filter(Boolean)])
      .filter(([, items]) => items.length)),
  };
}

export async function render(root, { who, announce }) {
  const region = regionOf(who, chosenRegion);
  const note = messages();
  const readOnly = siteScoped(who);
  const picker = who.region === '*' ? h('form', { class: 'filters', 'aria-label': '选择考区' },
    h('label', { for: 'r-code' }, '考区代码'),
    h('input', { id: 'r-code', type: 'text', value: region, maxlength: 2, pattern: '\\d{2}', class: 'code' }),
    h('button', { class: 'btn', type: 'submit' }, '载入')) : null;
  if (picker) {
    picker.addEventListener('submit', (e) => {
      e.preventDefault();
      chosenRegion = picker.querySelector('input').value.trim();
      render(clear(root), { who, announce });
    });
  }
  append(root, h('div', { class: 'page-head' }, h('h1', {}, `考区设置 · ${region}`), picker), note.box);

  let current;
  try {
    current = await call('materials', 'get_region', { region });
  } catch (e) {
    note.show('error', e.message);
    return;
  }
  const enabled = h('input', { type: 'checkbox', checked: current.upload_enabled, id: 's-enabled' });
  const start = h('input', { type: 'datetime-local', value: toLocalInput(current.window.start) });
  const end = h('input', { type: 'datetime-local', value: toLocalInput(current.window.end) });
  const contact = h('input', { type: 'text', value: current.contact || '', maxlength: 200 });
  const notice = h('textarea', { maxlength: 500, rows: 3 });
  notice.value = current.notice || '';
  const respondDays = numberInput(current.respond_days, 1, 60);
  const maxKb = numberInput(Math.round(current.max_bytes / 1024), 10, 10240);
  const minSide = numberInput(current.min_short_side, 100, 4000);
  const maxPixels = numberInput(current.max_pixels, 100000, 100000000, 100000);
  const name = h('input', { type: 'text', value: current.name || '', maxlength: 20 });
  const sites = siteRows(current.sites, region, () => announce('已删除一个考点，保存后生效'));
  const addSite = h('button', { type: 'button', class: 'btn' }, '添加考点');
  addSite.addEventListener('click', () => sites.add());
  const categoryNames = (await catalogueInfo()).categories;
  if (!Object.keys(categoryNames).length) { // a table without rows would save no category's extras
    note.show('error', '暂时无法读取考试类别，请稍后刷新页面重试');
    return;
  }
  const categories = categoryTable(current, categoryNames);
  const checklists = checklistFields(current);
  const saved = messages(); // beside the button, where the administrator is looking
  const save = h('button', { class: 'btn primary', type: 'submit', 'data-testid': 'save-region', disabled: readOnly },
    `保存为第 ${current.version + 1} 版`);

  const form = h('form', { class: 'settings', 'aria-label': '考区设置', novalidate: true },
    h('fieldset', {}, h('legend', {}, '网上上传'),
      h('div', { class: 'field check' }, enabled, h('label', { for: 's-enabled' }, '开放网上上传（关闭后考生页面显示下方的联系方式与公告）')),
      h('div', { class: 'row' }, field('s-start', '开始时间（北京时间）', start), field('s-end', '结束时间（北京时间）', end)),
      field('s-contact', '考点联系方式', contact, '例如：常州考点 0519-8888 0000（工作日 9:00–17:00）'),
      field('s-notice', '暂停上传时的公告', notice, '考生在无法上传时看到的说明，最多 500 字'),
      field('s-days', '补正期限（天）', respondDays, '退回材料时默认的补正截止天数')),
    h('fieldset', {}, h('legend', {}, '图片要求'),
      h('div', { class: 'row' }, field('s-kb', '单张上限（KB）', maxKb), field('s-side', '最短边（像素）', minSide),
        field('s-pixels', '最大像素数', maxPixels)),
      field('s-name', '考区名称', name)),
    h('fieldset', {}, h('legend', {}, '考点'),
      h('table', { class: 'grid sites' }, h('thead', {}, h('tr', {}, ['代码', '名称', '操作'].map((t) => h('th', { scope: 'col' }, t)))), sites.body),
      addSite),
    h('fieldset', {}, h('legend', {}, '各类别另外必传的材料'), categories.table),
    h('fieldset', {}, h('legend', {}, '审核核对清单（审核员审核每类材料时逐项勾选，随审核结论保存）'), checklists.el),
    h('div', { class: 'actions sticky' }, save,
      readOnly ? h('span', { class: 'muted' }, '考区设置须由全考区管理员修改，您只能查看。') : null, saved.box));

  // Scrolls on its own: focusable, so keyboard users can scroll it too.
  const history = h('section', { class: 'panel history-panel', 'aria-labelledby': 'h-title', tabindex: 0 },
    h('h2', { id: 'h-title' }, '修改记录'), h('p', { class: 'muted' }, '加载中…'));
  append(root, h('div', { class: 'admin-columns' }, form, readOnly ? null : history));

  async function loadHistory() {
    try {
      const found = await call('materials', 'region_history', { region, limit: 20 });
      history.replaceChildren(h('h2', { id: 'h-title' }, '修改记录'), historyList(found, categoryNames));
    } catch (e) {
      history.replaceChildren(h('h2', { id: 'h-title' }, '修改记录'), h('p', { class: 'alert error' }, e.message));
    }
  }
  if (!readOnly) loadHistory();

  function config() {
    const siteMap = {};
    for (const row of sites.body.querySelectorAll('tr')) {
      const [code, siteName] = row.querySelectorAll('input');
      if (code.value.trim()) siteMap[code.value.trim()] = siteName.value.trim();
    }
    const out = {
      name: name.value.trim(), upload_enabled: enabled.checked,
      // Untouched times keep their stored value (the input shows only minutes).
      window: {
        start: start.value === toLocalInput(current.window.start) ? current.window.start : fromLocalInput(start.value),
        end: end.value === toLocalInput(current.window.end) ? current.window.end : fromLocalInput(end.value),
      },
      max_bytes: Number(maxKb.value) * 1024, min_short_side: Number(minSide.value),
      max_pixels: Number(maxPixels.value), sites: siteMap, categories: categories.value(),
      respond_days: Number(respondDays.value), contact: contact.value.trim(), notice: notice.value.trim(),
      checklists: checklists.value(),
    };
    if (current.min_sharpness !== null && current.min_sharpness !== undefined) out.min_sharpness = current.min_sharpness;
    return out;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    saved.clear();
    try {
      const stored = await call('materials', 'configure_region', { region, config: config(), expected_version: current.version });
      saved.show('ok', `已保存为第 ${stored.version} 版，考生页面将在数秒内生效。`);
      announce(`考区设置已保存为第 ${stored.version} 版`);
      current = await call('materials', 'get_region', { region });
      save.textContent = `保存为第 ${current.version + 1} 版`;
      loadHistory();
    } catch (err) {
      saved.show('error', err.message);
      if (err.kind === 'conflict') {
        const reload = h('button', { type: 'button', class: 'btn' }, '载入最新版本');
        reload.addEventListener('click', () => render(clear(root), { who, announce }));
        saved.box.append(reload);
      }
    } finally {
      save.disabled = readOnly;
    }
  });
}
