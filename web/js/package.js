// The package view drawn: the candidate's details, the banner, the consent, how far the
// required materials are, a card per material type; or, where this page cannot take
// uploads, the region's own notice and what was uploaded before.
import { h } from './dom.js';
import { missingList, submitError } from './alerts.js';
import { renderBanner } from './banners.js';
import { renderCard } from './cards.js';
import { renderConsent, showNotice } from './consent.js';
import { formatTime } from './format.js';
import { consented, pkgEditable, toFix, unavailable } from './rules.js';
import { onSignOut } from './session.js';
import { errorFor } from './state.js';

export function renderPackage(pkg) {
  const pageError = errorFor('page');
  if (unavailable(pkg)) {
    // Cards with upload tags and counters would only say what cannot be done here; show
    // what the region says to do instead, and what was uploaded before, if anything.
    const uploaded = pkg.items.filter((item) => item.images.length);
    return [
      renderProfile(pkg),
      pageError ? h('p', { class: 'alert error', role: 'alert' }, pageError.message) : null,
      renderAvailability(pkg),
      uploaded.length ? h('section', { id: 'materials', class: 'materials', 'aria-labelledby': 'materials-title', tabindex: '-1' },
        h('h2', { id: 'materials-title', class: 'section-title' }, '已上传的材料'),
        h('div', { class: 'cards' }, uploaded.map((item) => renderCard(pkg, item)))) : null,
    ];
  }
  return [
    renderProfile(pkg),
    pageError ? h('p', { class: 'alert error', role: 'alert' }, pageError.message) : null,
    renderBanner(pkg),
    submitError(),
    consented(pkg) || !pkgEditable(pkg) ? null : renderConsent(pkg),
    renderProgress(pkg),
    h('section', { id: 'materials', class: 'materials', 'aria-labelledby': 'materials-title', tabindex: '-1' },
      h('h2', { id: 'materials-title', class: 'section-title' }, '材料清单'),
      h('div', { class: 'cards' }, pkg.items.map((item) => renderCard(pkg, item)))),
    consented(pkg) && pkg.consent.at ? h('p', { class: 'footnote' },
      `您已于${formatTime(pkg.consent.at)}同意《个人信息处理告知书》（${pkg.consent.notice_version}版）。`,
      h('button', { type: 'button', class: 'link', 'data-key': 'notice', onclick: showNotice }, '查看告知书')) : null,
  ];
}

function renderProfile(pkg) {
  const c = pkg.candidate || {};
  const site = [c.region_name, c.site_name].filter(Boolean).join(' ');
  return h('section', { class: 'panel profile', 'aria-label': '考生信息' },
    h('div', { class: 'profile-head' },
      h('h1', { class: 'name' }, c.name || '考生'),
      h('span', { class: ['badge', `status-${pkg.status}`], 'data-testid': 'status' }, pkg.status_name || pkg.status),
      h('button', { type: 'button', class: 'link logout', 'data-key': 'logout', onclick: onSignOut }, '退出登录')),
    h('dl', { class: 'facts' },
      h('div', null, h('dt', null, '考试类别'), h('dd', null, c.category_name || c.category || '—')),
      h('div', null, h('dt', null, '考点'), h('dd', null, site ? `${site}（${c.site}）` : (c.site || '—'))),
      pkg.attempt > 1 ? h('div', null, h('dt', null, '提交次数'), h('dd', null, `第${pkg.attempt}次`)) : null,
      pkg.upload_enabled && pkg.window && pkg.window.start ? h('div', null, h('dt', null, '上传时间'),
        h('dd', null, `${formatTime(pkg.window.start)} 至 ${formatTime(pkg.window.end)}`)) : null));
}

function windowState(pkg) {
  const start = pkg.window && pkg.window.start ? new Date(pkg.window.start) : null;
  const end = pkg.window && pkg.window.end ? new Date(pkg.window.end) : null;
  const now = new Date();
  if (start && now < start) return 'before';
  if (end && now > end) return 'after';
  return 'unknown';
}

// What to do when this page cannot take uploads (unavailable(pkg)): the region's own
// notice and contact.
function renderAvailability(pkg) {
  const region = (pkg.candidate && pkg.candidate.region_name) || '本考区';
  let title;
  let lead;
  if (!pkg.upload_enabled) {
    title = `${region}未开通网上上传材料`;
    lead = '本考区不在网上收取报名材料，无需在本页上传。请按考点通知办理资格审核。';
  } else {
    const when = pkg.window && pkg.window.start ? `${formatTime(pkg.window.start)} 至 ${formatTime(pkg.window.end)}` : '';
    const phase = windowState(pkg);
    title = phase === 'before' ? '材料上传尚未开始' : phase === 'after' ? '材料上传已截止' : '当前不在材料上传时间内';
    lead = phase === 'before' ? `本考区的材料上传时间为${when}，届时请再登录上传。`
      : phase === 'after' ? `本考区的材料上传时间为${when}，现已截止，不能再上传或提交。`
        : `本考区的材料上传时间为${when || '另行通知'}。`;
  }
  return h('section', { class: 'panel availability', id: 'availability', 'aria-labelledby': 'availability-title' },
    h('h2', { id: 'availability-title' }, title),
    h('p', null, lead),
    pkg.region_notice ? h('div', { class: 'region-notice' }, h('h3', null, '考区通知'), h('p', null, pkg.region_notice)) : null,
    h('p', { class: 'contact' }, h('strong', null, '咨询：'),
      pkg.region_contact || '请联系您报考的考点（联系方式见考点公告）'));
}

function renderProgress(pkg) {
  if (!pkgEditable(pkg) || !consented(pkg)) return null;
  const shownAbove = Boolean(errorFor('submit'));
  const fixing = new Set(toFix(pkg).map((m) => m.material_type));
  const required = pkg.items.filter((i) => i.required);
  // A returned type still as it was returned is not done, however many images it holds.
  const done = required.filter((i) => i.count >= i.min_count && !fixing.has(i.material_type)).length;
  let next = '全部必传材料上传后即可提交审核。';
  if (pkg.can_submit) next = '可以提交审核。';
  else if (fixing.size) next = `还需补正：${toFix(pkg).map((m) => m.name).join('、')}。`;
  return h('section', { class: 'panel progress', id: 'progress', 'aria-label': '完成情况' },
    h('p', null, `必传材料已完成 ${done}/${required.length} 项。`, next),
    pkg.missing && pkg.missing.length && !shownAbove
      ? h('div', { class: 'missing' }, h('p', null, '尚缺：'), missingList(pkg.missing)) : null);
}
