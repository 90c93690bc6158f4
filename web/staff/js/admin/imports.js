// Candidate import (issue 19 item 9): the registration system's CSV or XLSX is previewed
// first (what would be created or changed, and every row's error), then applied through
// auth's import path, which is idempotent: applying the same file again changes nothing.
import { append, clear, h } from '/js/dom.js';
import { call } from '../rpc.js';
import { messages, readAsBase64 } from './common.js';

const ACTIONS = { created: '新建', updated: '更新', unchanged: '无变化' };
const FIELD_NAMES = { name: '姓名', region: '考区', site: '考点', category: '考试类别', exam_year: '考试年度',
  phone: '手机号', id_number: '身份证号' };

function summary(result, applied) {
  const items = [['文件行数', result.rows], [applied ? '已新建' : '将新建', result.created],
    [applied ? '已更新' : '将更新', result.updated], ['无变化', result.unchanged], ['有错误', result.errors.length]];
  return h('ul', { class: 'kpis', 'data-testid': applied ? 'import-result' : 'import-preview' },
    items.map(([label, value]) => h('li', {}, h('span', {}, label), h('strong', {}, String(value ?? 0)))));
}

function changeText(change) {
  return change.fields.map((f) => {
    const d = (change.details || {})[f];
    return d ? `${FIELD_NAMES[f] || f}：${d.before} → ${d.after}` : `${FIELD_NAMES[f] || f}已变更`;
  }).join('；');
}

function changesTable(changes) {
  if (!changes.length) return null;
  return h('table', { class: 'grid', 'data-testid': 'import-changes' },
    h('caption', {}, '将要新建或更新的考生（最多列出 500 条）'),
    h('thead', {}, h('tr', {}, ['行号', '报名号', '操作', '变化'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, changes.map((c) => h('tr', {}, h('td', {}, String(c.row)), h('td', {}, c.registration_number),
      h('td', {}, ACTIONS[c.action] || c.action), h('td', {}, c.action === 'created' ? '新考生' : changeText(c))))));
}

function errorsTable(errors) {
  if (!errors.length) return null;
  return h('table', { class: 'grid errors', 'data-testid': 'import-errors' },
    h('caption', {}, '以下行有错误，不会导入；请在原文件中改正后重新导入'),
    h('thead', {}, h('tr', {}, ['行号', '报名号', '错误'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, errors.map((e) => h('tr', {}, h('td', {}, String(e.row)), h('td', {}, e.registration_number || '—'),
      // every reason the row has, one per line
      h('td', {}, (e.messages || [e.message]).length > 1 ? h('ul', { class: 'row-errors' }, e.messages.map((m) => h('li', {}, m))) : e.message)))));
}

export async function render(root, { announce }) {
  const note = messages();
  const input = h('input', { type: 'file', id: 'i-file', accept: '.csv,.xlsx', 'aria-describedby': 'i-hint' });
  const previewButton = h('button', { class: 'btn primary', type: 'submit', 'data-testid': 'import-preview-button' }, '预览');
  const result = h('div', { class: 'import-result' });
  const form = h('form', { class: 'panel import-form', 'aria-label': '选择导入文件' },
    h('div', { class: 'field' }, h('label', { for: 'i-file' }, '报名系统导出的考生名单（CSV 或 XLSX，最大 1 MB）'), input,
      h('span', { class: 'hint', id: 'i-hint' }, '首行为列名：报名号、姓名、身份证号、手机号、考区、考点、考试类别（名称如“中西医结合执业医师”或其代码）、考试年度、初始密码（或密码哈希）。')),
    previewButton);
  append(root, h('div', { class: 'page-head' }, h('h1', {}, '考生导入')), note.box, form, result);

  let file = null;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    note.clear();
    result.replaceChildren();
    if (!input.files.length) {
      note.show('error', '请先选择文件');
      return;
    }
    previewButton.disabled = true;
    try {
      file = { file_name: input.files[0].name, data: await readAsBase64(input.files[0]) };
      const preview = await call('auth', 'preview_import', file);
      const apply = h('button', { class: 'btn good', type: 'button', 'data-testid': 'import-apply',
        disabled: !(preview.created + preview.updated) }, `确认导入（新建 ${preview.created}，更新 ${preview.updated}）`);
      apply.addEventListener('click', async () => {
        apply.disabled = true;
        try {
          const done = await call('auth', 'apply_import', file);
          // append() skips the tables a clean file does not have (replaceChildren wrote "null")
          append(clear(result), h('h2', {}, '导入完成'), summary(done, true), errorsTable(done.errors));
          announce(`导入完成：新建 ${done.created}，更新 ${done.updated}`);
        } catch (err) {
          note.show('error', err.message);
          apply.disabled = false;
        }
      });
      append(clear(result), h('h2', {}, '预览（尚未导入）'), summary(preview, false),
        h('div', { class: 'actions' }, apply), errorsTable(preview.errors), changesTable(preview.changes));
      announce(`预览完成：将新建 ${preview.created}，更新 ${preview.updated}，错误 ${preview.errors.length} 行`);
    } catch (err) {
      note.show('error', err.message);
    } finally {
      previewButton.disabled = false;
    }
  });
}
