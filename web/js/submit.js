// Submitting for review (after a confirmation that names what was fixed) and withdrawing
// a submission before review starts.
import { h } from './dom.js';
import { request } from './api.js';
import { announce } from './announce.js';
import { closeDialog, openDialog } from './dialog.js';
import { loadInbox } from './inbox.js';
import { redraw, redrawActions } from './redraw.js';
import { SUBMITTED_BANNER, pkgEditable } from './rules.js';
import { failed } from './session.js';
import {
  clearError, clearErrors, clearProgress, packageView, progressFor, reload, setPackageView, setProgress,
} from './state.js';

export function onSubmit() {
  const pkg = packageView();
  if (!pkgEditable(pkg) || progressFor('submit')) return;
  if (!pkg.can_submit) {
    submitNow(); // the API names what is still missing or still to fix
    return;
  }
  const replaced = pkg.items.filter((i) => i.returned && i.replaced).map((i) => i.name);
  openDialog(pkg.status === 'returned' ? '重新提交审核' : '提交审核', h('div', null,
    replaced.length ? h('p', null, `已补正：${replaced.join('、')}。其余材料不变，将一并重新提交（第${pkg.attempt + 1}次提交）。`) : null,
    h('p', null, '提交后全部材料将锁定，不能再上传或删除。考点开始审核前，您可以撤回提交后修改。'),
    h('p', null, '确认所有材料方向正确、清晰完整后再提交。')),
  [
    h('button', { type: 'button', class: 'btn primary', autofocus: true, 'data-role': 'confirm-submit',
      onclick: () => { closeDialog(); submitNow(); } }, '确认提交'),
    h('button', { type: 'button', class: 'btn', onclick: closeDialog }, '再检查一下'),
  ]);
}

async function submitNow() {
  clearError('submit');
  setProgress('submit', '正在提交…');
  redrawActions();
  let focusKey = 'submit';
  try {
    setPackageView(await request('POST', '/api/v1/package/submit'));
    clearErrors();
    focusKey = 'banner';
    announce(SUBMITTED_BANNER);
    window.setTimeout(loadInbox, 1500);
  } catch (error) {
    if (failed('submit', error)) return;
    try { await reload(); } catch (e) { /* keep what we have */ }
  }
  clearProgress('submit');
  redraw();
  const target = document.querySelector(`[data-key="${focusKey}"]`);
  if (target) target.focus();
}

export async function onWithdraw() {
  clearError('withdraw');
  try {
    setPackageView(await request('POST', '/api/v1/package/withdraw'));
    announce('已撤回提交，可以修改材料');
    redraw('submit');
  } catch (error) {
    if (failed('withdraw', error)) return;
    try { await reload(); } catch (e) { /* keep what we have */ }
    redraw('withdraw');
  }
}
