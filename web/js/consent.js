// The personal-information notice and consent: the notice's text for the version the
// materials service names (a <template> per version in index.html), the separate consent
// to sensitive information, and the notice again from the footnote once agreed.
import { append, h } from './dom.js';
import { request } from './api.js';
import { areaError } from './alerts.js';
import { announce } from './announce.js';
import { closeDialog, openDialog } from './dialog.js';
import { redraw } from './redraw.js';
import { failed } from './session.js';
import { clearError, packageView, setError, setPackageView } from './state.js';

let checked = false; // the consent box's tick, kept when the page is redrawn

function noticeContent(version) {
  const template = document.getElementById(`notice-${version}`);
  return template ? template.content.cloneNode(true) : null;
}

export function renderConsent(pkg) {
  const version = pkg.consent_notice_version;
  const content = noticeContent(version);
  const section = h('section', { class: 'panel consent', id: 'consent', 'aria-labelledby': 'consent-title' },
    h('h2', { id: 'consent-title', class: 'section-title' }, '个人信息处理告知书'),
    h('p', null, '上传材料前，请阅读以下告知书。您上传的身份证件、学历证书等图片属于敏感个人信息，需要您单独同意。'));
  if (!content) {
    append(section, h('p', { class: 'alert error', role: 'alert' }, '告知书已更新，请刷新页面后阅读最新版本。'));
    return section;
  }
  append(section,
    h('div', { class: 'notice-text', tabindex: '0', role: 'region', 'aria-label': '告知书全文' }, content),
    h('div', { class: 'consent-row' },
      h('input', {
        type: 'checkbox', id: 'consent-check', 'data-key': 'consent-check', checked,
        onchange: (event) => { checked = event.target.checked; clearError('consent'); },
      }),
      h('label', { for: 'consent-check' },
        '我已阅读并理解《个人信息处理告知书》，单独同意为资格审核处理我上传的身份证件、学历证书等敏感个人信息。')),
    h('button', { type: 'button', class: 'btn primary', 'data-key': 'consent-accept', onclick: onConsent }, '同意并开始上传'),
    areaError('consent'));
  return section;
}

export function showNotice() {
  const content = noticeContent(packageView().consent_notice_version);
  openDialog('个人信息处理告知书', h('div', { class: 'notice-text dialog-notice' }, content || '告知书已更新，请刷新页面。'),
    [h('button', { type: 'button', class: 'btn primary', autofocus: true, onclick: closeDialog }, '关闭')]);
}

async function onConsent() {
  if (!checked) {
    setError('consent', { message: '请先勾选“我已阅读并理解《个人信息处理告知书》……”后再继续' });
    redraw('consent-check');
    return;
  }
  try {
    const pkg = await request('POST', '/api/v1/package/consent', { json: { notice_version: packageView().consent_notice_version } });
    setPackageView(pkg);
    clearError('consent');
    announce('已同意告知书，现在可以上传材料');
    const first = pkg.items.find((i) => i.count < i.max_count && !i.locked);
    redraw(first ? `upload:${first.material_type}` : 'materials');
  } catch (error) {
    if (!failed('consent', error)) redraw('consent-accept');
  }
}
