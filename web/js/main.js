// The candidate's upload page (DESIGN §1, §4): sign in, read the notice and consent, upload
// the materials type by type, submit for review, follow the outcome. The state it reads and
// changes is in state.js; what the package allows in rules.js; the dialog in dialog.js.
import { $, append, clear, h } from './dom.js';
import * as auth from './auth.js';
import { ApiError, request } from './api.js';
import { announce } from './announce.js';
import * as countdown from './countdown.js';
import { closeDialog, holdsFocus, isOpen, openDialog, prependAction, whenClosed } from './dialog.js';
import { formatDeadline, formatTime } from './format.js';
import { returnGuidance } from './guidance.js';
import * as imagefix from './imagefix.js';
import * as live from './live.js';
import { drawWith, redraw, redrawActions } from './redraw.js';
import { consented, EDITABLE, FINAL, itemEditable, itemName, pkgEditable, SUBMITTED_BANNER, toFix, unavailable, WAITING } from './rules.js';
import { sendingBar, showSent } from './sending.js';
import { clearError, clearErrors, clearProgress, clearSent, errorFor, packageView, progressFor, reload, sentFor, setError, setPackageView, setProgress, setSent } from './state.js';
import { forgetAll, loadThumbs, thumbUrl } from './thumbs.js';

const app = $('#app');
const actions = $('#actions');

function renderSignIn(message) {
  setPackageView(null);
  clear(actions);
  clear(app);
  const button = h('button', {
    type: 'button', class: 'btn primary large', 'data-key': 'signin',
    onclick: async () => {
      if (!auth.canSignIn()) {
        renderSignIn('当前浏览器不支持安全登录，请使用新版浏览器并通过 https 访问本页面');
        return;
      }
      button.disabled = true;
      button.textContent = '正在前往登录页…';
      await auth.beginSignIn();
    },
  }, '使用报名系统账号登录');
  append(app, h('section', { class: 'panel signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, '医师资格考试报名材料上传'),
    h('p', null, '请使用医师资格考试网上报名系统的账号（报名号或身份证号）授权登录。本系统不单独注册账号。'),
    message ? h('p', { class: 'alert error', role: 'alert' }, message) : null,
    button,
    h('ol', { class: 'steps' },
      h('li', null, '登录后阅读并同意《个人信息处理告知书》'),
      h('li', null, '按材料清单逐项拍照或扫描上传（jpg/jpeg/png，每张不超过200KB）'),
      h('li', null, '全部必传材料上传后点击“提交审核”'),
      h('li', null, '审核结果通过短信和站内消息通知您')),
  ));
  button.focus();
}

// The page could not start (not a lost sign-in): the reason, and 重试 (retry: start again).
function renderFatal(message, retry) {
  clear(actions);
  clear(app);
  append(app, h('section', { class: 'panel' },
    h('p', { class: 'alert error', role: 'alert' }, message),
    h('button', { type: 'button', class: 'btn primary', 'data-key': 'retry', onclick: () => retry() }, '重试')));
}

// Whatever went wrong in an action: a lost sign-in goes back to the sign-in screen,
// anything else is shown next to the card (or area) it belongs to. True when signed out.
function failed(key, error) {
  if (error instanceof ApiError && error.code === 'unauthenticated') {
    auth.forget();
    renderSignIn(error.message);
    return true;
  }
  setError(key, error instanceof ApiError ? error : { message: error.message || '操作失败，请重试' });
  return false;
}

async function onSignOut() {
  live.stop();
  await auth.signOut();
  forgetAll();
  forgetInbox();
  clearErrors();
  renderSignIn('您已退出登录。');
}

// fallbackKey: a data-key, or a list of them, to focus when the focused element is gone.
function render(fallbackKey) {
  const active = document.activeElement;
  const inDialog = holdsFocus();
  const key = !inDialog && active && active.dataset ? active.dataset.key : null;
  renderActions();
  clear(app);
  const pkg = packageView();
  if (pkg) append(app, renderPackage(pkg));
  countdown.keepCounting();
  if (!inDialog) {
    const keys = [key, ...[].concat(fallbackKey || [])].filter(Boolean);
    const target = keys.map((k) => document.querySelector(`[data-key="${k}"]`)).find((el) => el && !el.disabled);
    if (target) target.focus();
  }
  loadThumbs(pkg);
}

// keepFocus: a button of the bar that had the focus has it again (the bar alone is
// redrawn, for a new unread count, while the candidate may be on it).
function renderActions({ keepFocus = false } = {}) {
  const key = keepFocus && actions.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  draw();
  if (key) {
    const target = actions.querySelector(`[data-key="${key}"]`);
    if (target) target.focus();
  }
}

function draw() {
  clear(actions);
  const pkg = packageView();
  if (!pkg) return;
  const unread = unreadCount();
  append(actions,
    h('button', {
      type: 'button', class: 'btn inbox-btn', 'data-key': 'inbox', onclick: openInbox,
      'aria-label': unread ? `消息，${unread}条未读` : '消息',
    }, '消息', unread ? h('span', { class: 'count-badge', 'aria-hidden': 'true' }, String(unread)) : null),
  );
  const open = pkgEditable(pkg);
  if (!open && EDITABLE.has(pkg.status)) return; // uploading off or closed: nothing to submit
  if (FINAL.has(pkg.status)) return;             // decided: a greyed 提交审核 would only puzzle
  const incomplete = open && !pkg.can_submit;
  append(actions, h('button', {
    type: 'button',
    class: ['btn', 'primary', 'submit-btn', incomplete && 'is-incomplete'],
    'data-key': 'submit',
    // Not disabled while incomplete (a disabled button explains nothing): it looks
    // unfinished, and pressing it shows the API's missing_materials list.
    disabled: !open,
    'aria-describedby': incomplete ? 'progress' : null,
    title: incomplete ? (toFix(pkg).length ? '还有退回的材料未更换' : '还有必传材料未上传') : null,
    onclick: onSubmit,
  }, progressFor('submit') || '提交审核'));
}

function renderPackage(pkg) {
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

// How long the site has been taking (review's figure, learnt by materials): a hint of the
// wait, shown only when review had enough decisions to say.
function renderReviewTime(figure) {
  if (!figure || typeof figure.average_hours !== 'number') return null;
  const hours = figure.average_hours;
  let took = `约${Math.round(hours / 24)}天`;
  if (hours < 1) took = '不到1小时';
  else if (hours < 48) took = `约${Math.round(hours)}小时`;
  return h('p', { class: 'review-time' },
    `本考点近${figure.days}天平均审核用时${took}（共审核${figure.decisions}份）。`);
}

function renderBanner(pkg) {
  const feedback = pkg.feedback || {};
  if (WAITING.has(pkg.status)) {
    // Waiting, not done: say whose turn it is and what comes next.
    const submitted = pkg.status === 'submitted';
    const canWithdraw = submitted && pkg.upload_enabled && pkg.window && pkg.window.open;
    return h('section', { class: 'banner locked', role: 'status', tabindex: '-1', 'data-key': 'banner' },
      h('h2', null, submitted ? SUBMITTED_BANNER : '考点正在审核'),
      h('p', null, submitted
        ? `材料已锁定（第${pkg.attempt}次提交），正在排队等待考点审核。`
        : `考点正在审核您的材料（第${pkg.attempt}次提交），材料已锁定。`),
      renderReviewTime(pkg.site_review_time),
      h('p', null, '审核结果将通过短信和站内消息通知您：通过则无需再做任何操作；如被退回，请按退回原因修改后重新提交。'),
      canWithdraw ? h('p', null, '审核开始前如需修改，可撤回提交。') : null,
      canWithdraw ? h('button', { type: 'button', class: 'btn', 'data-key': 'withdraw', onclick: onWithdraw }, '撤回提交') : null,
      areaError('withdraw'));
  }
  if (pkg.status === 'approved') {
    return h('section', { class: 'banner ok', role: 'status', tabindex: '-1', 'data-key': 'banner' },
      h('h2', null, '审核通过'),
      h('p', null, '您的报名材料已审核通过，无需再做任何操作。材料已存档，不能再修改。'));
  }
  if (pkg.status === 'rejected') {
    const contact = pkg.region_contact;
    return h('section', { class: 'banner bad', role: 'status', tabindex: '-1', 'data-key': 'banner' },
      h('h2', null, '审核不通过'),
      feedback.reason ? h('p', null, h('strong', null, '原因：'), feedback.reason) : null,
      contact
        ? h('p', null, '如有疑问，请联系：', h('strong', { class: 'contact' }, contact))
        : h('p', null, '如有疑问，请联系您报考的考点。'));
  }
  if (pkg.status === 'returned') {
    const reopened = feedback.decision === 'reopened';
    const items = Array.isArray(feedback.items) ? feedback.items : [];
    const deadline = feedback.respond_by || pkg.respond_by;
    return h('section', { class: 'banner returned', role: 'status', tabindex: '-1', 'data-key': 'banner' },
      h('h2', null, reopened ? '报考信息已变更，请补充材料' : '材料被退回，请补正后重新提交'),
      deadline ? h('p', { class: 'deadline' }, h('strong', null, '补正截止：'), `请于${formatDeadline(deadline)}前完成修改并重新提交审核。`) : null,
      deadline ? h('p', { class: 'countdown', 'data-countdown': String(deadline).slice(0, 10) },
        countdown.countdownText(deadline, countdown.serverNow())) : null,
      items.length ? h('p', null, '需要补正：', items.map((entry, i) => [i ? '、' : '',
        h('a', { href: `#card-${entry.material_type}` }, itemName(pkg, entry.material_type))]),
      '（退回原因见对应材料）') : null,
      h('p', null, '只有需要补正的材料可以修改，其余材料已锁定，无需重新上传。'));
  }
  return null;
}

function areaError(key) {
  const error = errorFor(key);
  return error ? h('p', { class: 'card-error', role: 'alert' }, error.message) : null;
}

function missingList(entries) {
  const pkg = packageView();
  return h('ul', { class: 'missing-list' }, entries.map((m) => {
    const short = Math.max(0, (m.min_count || 0) - (m.count || 0));
    return h('li', null, h('a', { href: `#card-${m.material_type}` }, m.name || itemName(pkg, m.material_type)),
      `：还差${short}张（需至少${m.min_count}张）`);
  }));
}

// Each returned type still to fix, with what to do about it: by the reason's code, or, when
// the upload is the returned picture again, to take a new one.
function fixList(entries) {
  const pkg = packageView();
  return h('ul', { class: 'missing-list' }, entries.map((m) => {
    const item = pkg && pkg.items.find((i) => i.material_type === m.material_type);
    let todo = '请按退回原因修改后再提交';
    if (item && item.images.some((image) => image.same_as_returned)) todo = '重新上传的图片与被退回的相同，请重新拍摄或扫描后上传';
    else if (item) todo = returnGuidance(item, pkg.region_contact);
    return h('li', null, h('a', { href: `#card-${m.material_type}` }, m.name || itemName(pkg, m.material_type)), `：${todo}`);
  }));
}

function submitError() {
  const error = errorFor('submit');
  if (!error) return null;
  return h('section', { class: 'alert error submit-error', id: 'submit-error', role: 'alert', tabindex: '-1', 'data-key': 'submit-error' },
    h('p', null, h('strong', null, '未能提交：'), error.message),
    error.missing && error.missing.length ? missingList(error.missing) : null,
    error.toFix && error.toFix.length ? fixList(error.toFix) : null);
}

let checked = false; // the consent box's tick, kept when the page is redrawn

function noticeContent(version) {
  const template = document.getElementById(`notice-${version}`);
  return template ? template.content.cloneNode(true) : null;
}

function renderConsent(pkg) {
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

function showNotice() {
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

const EXAMPLE_ALT = {
  id_card: '身份证明示例图：居民身份证人像面与国徽面各一张，四角完整、正向摆放、字迹清晰',
  degree_certificate: '学历证书示例图：毕业证书整页，证书编号、姓名、专业清晰可辨',
  degree_verification: '学历认证报告示例图：教育部学历证书电子注册备案表整页，含验证码',
  probation_certificate: '试用期考核证明示例图：考核证明整页，签字、日期和公章齐全',
  registration_form: '报名/审核表示例图：本人签字、单位及审核意见处盖章的报名/审核表',
  practice_certificate: '执业助理医师资格证书示例图：证书内页，姓名、编号清晰',
  work_certificate: '工作证明示例图：单位出具并加盖公章的工作证明，注明工作起止时间',
  other: '其他材料示例图：完整、正向、清晰的证明材料',
};

function renderCard(pkg, item) {
  const code = item.material_type;
  const editable = itemEditable(pkg, item);
  const canUpload = editable && item.count < item.max_count;
  const busy = progressFor(code);
  const sent = sentFor(code);
  const submitError = errorFor('submit');
  const flagged = submitError && [].concat(submitError.missing || [], submitError.toFix || [])
    .some((m) => m.material_type === code);
  const returned = pkg.status === 'returned' && !item.locked && item.reason;
  let returnTag = null;
  if (item.returned && item.replaced) returnTag = h('span', { class: 'tag replaced' }, '已更换，待重新提交');
  else if (item.returned) returnTag = h('span', { class: 'tag to-fix' }, '待补正');
  const input = h('input', {
    type: 'file', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true',
    accept: 'image/jpeg,image/png,.jpg,.jpeg,.png', 'data-input': code,
    onchange: (event) => {
      const file = event.target.files && event.target.files[0];
      event.target.value = '';
      if (file) chooseFile(item, file);
    },
  });
  const shortBy = item.required ? Math.max(0, item.min_count - item.count) : 0;
  let note = null;
  if (!consented(pkg) && pkgEditable(pkg) && !item.locked) note = '同意《个人信息处理告知书》后可上传';
  else if (item.locked && pkgEditable(pkg)) note = '此项材料已锁定，无需修改';
  else if (editable && item.count >= item.max_count) note = `已达上限${item.max_count}张；如需更换，请先删除`;
  return h('section', {
    class: ['card', returned && 'returned', item.locked && 'locked', flagged && 'flagged'],
    id: `card-${code}`, 'data-key': `card:${code}`, 'data-type': code, tabindex: '-1',
    'aria-labelledby': `title-${code}`,
  },
  h('header', { class: 'card-head' },
    h('h3', { id: `title-${code}` }, item.name),
    h('span', { class: ['tag', item.required ? 'required' : 'optional'] }, item.required ? '必传' : '选传'),
    item.locked ? h('span', { class: 'tag lock' }, '已锁定') : null,
    returnTag,
    h('span', { class: 'count', 'data-testid': 'count', 'aria-label': `已上传${item.count}张，最多${item.max_count}张` },
      `${item.count}/${item.max_count}`)),
  returned ? h('div', { class: 'reason', role: 'note' },
    h('p', null, h('strong', null, '退回原因：'), item.reason),
    item.returned && !item.replaced && editable
      ? h('p', { class: 'guidance', 'data-reason': item.reason_code || 'general' },
        h('strong', null, '怎么改：'), returnGuidance(item, pkg.region_contact)) : null,
    pkg.feedback && pkg.feedback.respond_by
      ? h('p', { class: 'deadline' }, h('strong', null, '补正截止：'), `${formatDeadline(pkg.feedback.respond_by)}前`) : null) : null,
  h('p', { class: 'requirements' }, item.requirements),
  h('p', { class: 'quantity' },
    item.min_count === item.max_count ? `需上传${item.min_count}张` : `${item.min_count ? `至少${item.min_count}张，` : ''}最多${item.max_count}张`,
    shortBy && pkgEditable(pkg) ? h('span', { class: 'short' }, `，还需上传${shortBy}张`) : null),
  item.images.length ? h('ul', { class: 'thumbs', 'aria-label': `${item.name}已上传的图片` },
    item.images.map((image, index) => renderThumb(item, image, index, editable))) : null,
  h('div', { class: 'card-actions' },
    h('button', { type: 'button', class: 'btn', 'data-key': `example:${code}`, 'aria-label': `${item.name}示例`,
      onclick: () => showExample(item) }, '示例'),
    canUpload ? h('button', {
      type: 'button', class: 'btn primary upload-btn', 'data-key': `upload:${code}`, disabled: Boolean(busy),
      'aria-label': `上传${item.name}`,
      onclick: () => input.click(),
    }, '上传') : null,
    canUpload ? input : null,
    busy && !sent ? h('span', { class: 'busy', role: 'status' }, busy) : null),
  sent ? sendingBar(code, item.name, sent) : null,
  note ? h('p', { class: 'card-note' }, note) : null,
  renderRepeated(pkg, item),
  areaError(code));
}

// An upload that is a returned picture again (the same file, or a copy of it): said as soon
// as it is stored, since a submit would be refused (returned_unchanged).
function renderRepeated(pkg, item) {
  const repeated = item.images.filter((image) => image.same_as_returned);
  if (!repeated.length || !toFix(pkg).some((m) => m.material_type === item.material_type)) return null;
  const which = repeated.map((image) => `第${item.images.indexOf(image) + 1}张`).join('、');
  return h('p', { class: 'same-as-returned', role: 'note' },
    `${which}与被退回的图片相同（同一文件或它的副本），这样重新提交会被拒绝。请删除它，重新拍摄或扫描后上传。`);
}

function renderThumb(item, image, index, editable) {
  const code = item.material_type;
  const label = `${item.name}第${index + 1}张`;
  const url = thumbUrl(image.image_id);
  const img = url === 'failed'
    ? h('span', { class: 'thumb-failed' }, '无法显示')
    : h('img', {
      alt: `${label}（${image.width}×${image.height}像素）`,
      'data-image': image.image_id, width: '96', height: '72',
      src: url && url.startsWith('blob:') ? url : null,
    });
  return h('li', { class: 'thumb' },
    h('button', { type: 'button', class: 'thumb-view', 'data-key': `view:${image.image_id}`, 'aria-label': `查看${label}大图`,
      onclick: () => showImage(item, image, label) }, img),
    image.same_as_returned ? h('span', { class: 'tag same' }, '与退回的相同') : null,
    editable && !image.locked ? h('button', {
      type: 'button', class: 'thumb-delete', 'data-key': `delete:${image.image_id}`, 'aria-label': `删除${label}`,
      disabled: Boolean(progressFor(code)), onclick: () => confirmDelete(item, image, label),
    }, '删除') : null);
}

function showImage(item, image, label) {
  const url = thumbUrl(image.image_id);
  const body = url && url.startsWith('blob:')
    ? h('img', { class: 'preview', src: url, alt: `${label}（${image.width}×${image.height}像素）` })
    : h('p', null, '图片加载中，请稍后再试。');
  openDialog(label, h('div', null, body,
    h('p', { class: 'muted' }, `${image.width}×${image.height}像素，${imagefix.formatBytes(image.bytes)}，上传于${formatTime(image.uploaded_at)}`)),
  [h('button', { type: 'button', class: 'btn primary', autofocus: true, onclick: closeDialog }, '关闭')]);
}

function showExample(item) {
  const limits = packageView().limits || {};
  const kb = Math.floor((limits.max_bytes || 204800) / 1024);
  const formats = (limits.formats || ['jpg', 'jpeg', 'png']).join('/');
  openDialog(`${item.name}示例`, h('div', { class: 'example' },
    h('img', { class: 'example-img', src: item.example_url || `/examples/${item.material_type}.svg`,
      alt: EXAMPLE_ALT[item.material_type] || `${item.name}示例图` }),
    h('h3', null, '要求'),
    h('p', null, item.requirements),
    h('ul', { class: 'rules' },
      h('li', null, `格式：${formats}`),
      h('li', null, `大小：每张不超过${kb}KB`),
      h('li', null, '方向：正向，不得翻转、旋转'),
      h('li', null, '清晰：四角完整，文字清晰可辨，无反光、阴影'),
      h('li', null, item.min_count === item.max_count ? `数量：${item.min_count}张` : `数量：${item.min_count ? `至少${item.min_count}张，` : ''}最多${item.max_count}张`)),
    h('p', { class: 'muted' }, '照片过大或方向不正时，本页面会先在您的手机或电脑上摆正、压缩，请您确认后再上传，不会上传原图。')),
  [h('button', { type: 'button', class: 'btn primary', autofocus: true, onclick: closeDialog }, '知道了')]);
}

async function chooseFile(item, file) {
  const code = item.material_type;
  const limits = packageView().limits;
  clearError(code);
  clearError('submit');
  setProgress(code, '正在检查图片…');
  redraw();
  let result;
  try {
    result = await imagefix.inspect(file, limits);
  } catch (error) {
    result = { corrupt: true, format: null, otherImage: false };
  }
  clearProgress(code);
  if (result.corrupt) {
    setError(code, { message: unreadableMessage(result) });
    redraw(`upload:${code}`);
    return;
  }
  if (result.tooSmall) {
    setError(code, { message: `图片分辨率过低（${result.width}×${result.height}像素），短边至少需要${limits.min_short_side}像素，请上传更清晰的图片` });
    redraw(`upload:${code}`);
    return;
  }
  redraw(`upload:${code}`);
  if (result.problems.length) offerFix(item, result);
  else offerUpload(item, result);
}

// Judged by the content, whatever the file's name claims.
function unreadableMessage(result) {
  if (result.format) return '图片已损坏或无法识别，请重新拍摄或扫描后上传';
  if (result.otherImage) return '仅支持jpg、jpeg、png格式的图片，本浏览器也无法转换这张图片，请另存为jpg或png后重新选择';
  return '所选文件不是有效的图片（文件内容不是照片或扫描件），请重新选择jpg或png格式的图片';
}

function uploadRules(limits) {
  const kb = Math.floor(limits.max_bytes / 1024);
  const formats = (limits.formats || ['jpg', 'jpeg', 'png']).join('、');
  return h('div', { class: 'upload-rules' },
    h('h3', null, '上传要求'),
    h('ul', { class: 'rules' },
      h('li', null, `格式：${formats}`),
      h('li', null, `大小：每张不超过${kb}KB`),
      h('li', null, `像素：较短一边至少${limits.min_short_side}像素`),
      h('li', null, '正向摆放，四角完整，文字清晰，无反光、阴影'),
      h('li', null, '照片过大或方向不正时，本页会先在您的设备上摆正、压缩，不上传原图')));
}

// Size and pixels of what would be sent, each against its limit.
function fileFacts(bytes, width, height, limits) {
  const kb = Math.floor(limits.max_bytes / 1024);
  const sizeOk = bytes <= limits.max_bytes;
  const pixelsOk = Math.min(width, height) >= limits.min_short_side;
  return h('dl', { class: 'file-facts' },
    h('div', null, h('dt', null, '文件大小'), h('dd', { class: sizeOk ? 'ok' : 'bad' },
      `${imagefix.formatBytes(bytes)}（上限${kb}KB）`, sizeOk ? '，符合' : '，超出上限')),
    h('div', null, h('dt', null, '像素'), h('dd', { class: pixelsOk ? 'ok' : 'bad' },
      `${width}×${height}（短边至少${limits.min_short_side}）`, pixelsOk ? '，符合' : '，不足')));
}

function uploadButton(item, blob, name, label, autofocus) {
  return h('button', {
    type: 'button', class: 'btn primary', 'data-role': 'confirm-upload', autofocus,
    onclick: () => { closeDialog(); upload(item, blob, name); },
  }, label);
}

function chooseAgainButton(item) {
  return h('button', {
    type: 'button', class: 'btn', 'data-role': 'choose-again',
    onclick: () => {
      closeDialog();
      const input = document.querySelector(`[data-input="${item.material_type}"]`);
      if (input) input.click();
    },
  }, '重新选择');
}

function offerUpload(item, result) {
  const limits = packageView().limits;
  const url = URL.createObjectURL(result.file);
  const name = result.file.name || 'image.jpg';
  openDialog(`上传${item.name}`, h('div', { class: 'upload-preview' },
    h('img', { class: 'preview', src: url, alt: `${item.name}待上传图片预览（${result.width}×${result.height}像素）` }),
    h('p', { class: 'file-name' }, name),
    fileFacts(result.size, result.width, result.height, limits),
    uploadRules(limits),
    h('p', null, '请确认图片方向正确、文字清晰、四角完整后再提交。')),
  [uploadButton(item, result.file, name, '提交', true), chooseAgainButton(item),
    h('button', { type: 'button', class: 'btn', onclick: closeDialog }, '取消')]);
  whenClosed(() => URL.revokeObjectURL(url));
}

function offerFix(item, result) {
  const limits = packageView().limits;
  const problems = imagefix.describeProblems(result, limits);
  const status = h('p', { class: 'busy', role: 'status' }, '正在本机处理图片，请稍候…');
  const body = h('div', { class: 'fix' },
    h('p', null, result.originalOk ? '这张图片可以直接上传，但建议先处理：' : '这张图片不能直接上传：'),
    h('ul', null, problems.map((p) => h('li', null, p))),
    status,
    uploadRules(limits));
  const cancel = h('button', { type: 'button', class: 'btn', onclick: closeDialog }, '取消');
  const buttons = [chooseAgainButton(item), cancel];
  if (result.originalOk) {
    buttons.unshift(h('button', { type: 'button', class: 'btn', onclick: () => { closeDialog(); upload(item, result.file, result.file.name || 'image.jpg'); } }, '仍上传原图'));
  }
  openDialog('图片需要处理', body, buttons);
  imagefix.fix(result, limits).then((fixed) => {
    // The candidate may have closed the dialog, or opened another, while the photo was fixed.
    if (!isOpen() || !body.isConnected) return;
    const url = URL.createObjectURL(fixed.blob);
    whenClosed(() => URL.revokeObjectURL(url));
    const done = [];
    if (result.problems.includes('rotated')) done.push('已按拍摄方向摆正');
    if (fixed.width !== result.width || fixed.height !== result.height) done.push(`已缩小到${fixed.width}×${fixed.height}像素`);
    done.push(`已压缩为${imagefix.formatBytes(fixed.blob.size)}的jpg图片，不含拍摄地点等信息`);
    status.replaceWith(
      h('p', null, `已在本机处理：${done.join('，')}。请确认图片方向正确、文字清晰：`),
      h('img', { class: 'preview fix-preview', src: url, alt: `${item.name}处理后的图片预览（${fixed.width}×${fixed.height}像素）` }),
      fileFacts(fixed.blob.size, fixed.width, fixed.height, limits));
    const name = (result.file.name || 'image').replace(/\.[^.]*$/, '') + '.jpg';
    const accept = uploadButton(item, new File([fixed.blob], name, { type: 'image/jpeg' }), name, '使用处理后的图片上传', false);
    accept.dataset.role = 'accept-fix';
    prependAction(accept);
    accept.focus();
  }).catch((error) => {
    if (!isOpen() || !body.isConnected) return;
    status.replaceWith(h('p', { class: 'alert error', role: 'alert' }, error.message && /[\u4e00-\u9fff]/.test(error.message)
      ? error.message : '这张图片无法在本机处理，请换一张照片或使用扫描件。'));
  });
}

// One change to a card: its progress shown, the API called, the package read again and the
// focus kept. True when the API accepted the change (a refusal is shown next to the card).
async function changeCard(code, doing, call) {
  clearError(code);
  setProgress(code, doing);
  redraw();
  let ok = false;
  try {
    await call();
    ok = true;
  } catch (error) {
    if (failed(code, error)) return false;
  }
  clearProgress(code);
  try {
    await reload();
  } catch (error) {
    if (failed('page', error)) return false;
  }
  redraw([`upload:${code}`, `card:${code}`]);
  return ok;
}

async function upload(item, blob, name) {
  const code = item.material_type;
  const form = new FormData();
  form.append('file', blob, name);
  setSent(code, { loaded: 0, total: blob.size });
  const onProgress = (loaded, total) => {
    setSent(code, { loaded, total });
    showSent(code, sentFor(code));
  };
  const ok = await changeCard(code, '正在上传…', async () => {
    try {
      return await request('POST', `/api/v1/package/items/${encodeURIComponent(code)}/images`, { form, onProgress });
    } finally {
      clearSent(code); // answered (or failed): the card is drawn again without the bar
    }
  });
  if (ok) {
    const fresh = packageView().items.find((i) => i.material_type === code);
    let said = fresh && fresh.count >= fresh.max_count
      ? `${item.name}上传成功，已上传${fresh.count}张，已达上限`
      : `${item.name}上传成功`;
    if (fresh && fresh.images.some((image) => image.same_as_returned)) said += '，但这张图片与被退回的图片相同';
    announce(said);
  }
}

// A deleted image is gone from the server at once (nothing to undo there), so the
// candidate confirms first, seeing which one; 取消 has the focus, a slip deletes nothing.
function confirmDelete(item, image, label) {
  const url = thumbUrl(image.image_id);
  openDialog(`删除${label}？`, h('div', null,
    url && url.startsWith('blob:') ? h('img', { class: 'preview delete-preview', src: url, alt: `${label}（${image.width}×${image.height}像素）` }) : null,
    h('p', null, '删除后如需要，请重新上传。')),
  [
    h('button', { type: 'button', class: 'btn danger', 'data-role': 'confirm-delete',
      onclick: () => { closeDialog(); onDelete(item, image); } }, '删除'),
    h('button', { type: 'button', class: 'btn', autofocus: true, onclick: closeDialog }, '取消'),
  ]);
}

async function onDelete(item, image) {
  const code = item.material_type;
  await changeCard(code, '正在删除…', async () => {
    await request('DELETE', `/api/v1/package/items/${encodeURIComponent(code)}/images/${encodeURIComponent(image.image_id)}`);
    announce(`已删除${item.name}的一张图片`);
  });
}

function onSubmit() {
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

async function onWithdraw() {
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

let inbox = null;           // {messages, serverUnread, unread} or {unavailable: true}; null before the first read
const readHere = new Set(); // message ids marked read on this page (a list fetched earlier may not know)

// The count for the 消息 button: 0 while unknown.
function unreadCount() {
  return inbox && !inbox.unavailable ? inbox.unread : 0;
}

// Signed out: the next candidate's inbox is read afresh.
function forgetInbox() {
  inbox = null;
}

async function loadInbox() {
  if (!packageView()) return;
  try {
    const body = await request('GET', '/api/v1/messages');
    const messages = Array.isArray(body.messages) ? body.messages : [];
    let adjusted = 0;
    for (const message of messages) {
      if (!message.read && readHere.has(message.message_id)) {
        message.read = true; // read here, and this list was read before the server knew
        adjusted += 1;
      }
    }
    inbox = { messages, serverUnread: Math.max(0, (Number(body.unread) || 0) - adjusted) };
    inbox.unread = countUnread(inbox);
  } catch (error) {
    inbox = { unavailable: true };
  }
  if (packageView()) redrawActions({ keepFocus: true });
  if (isOpen('inbox')) fillInbox();
}

function openInbox() {
  openDialog('消息', h('div', { class: 'inbox', id: 'inbox-list' }, h('p', { class: 'muted' }, '正在加载…')),
    [h('button', { type: 'button', class: 'btn', onclick: closeDialog }, '关闭')], 'inbox');
  fillInbox();
  loadInbox();
}

function fillInbox() {
  const list = $('#inbox-list');
  if (!list) return;
  const expanded = new Set([...list.querySelectorAll('details[open]')].map((d) => d.dataset.id));
  const focused = list.contains(document.activeElement) && document.activeElement.closest('details')
    ? document.activeElement.closest('details').dataset.id : null;
  clear(list);
  if (!inbox) {
    append(list, h('p', { class: 'muted' }, '正在加载…'));
    return;
  }
  if (inbox.unavailable) {
    append(list, h('p', { class: 'alert warn' }, '消息暂时无法获取，请稍后再试。审核结果也会以短信通知您。'));
    return;
  }
  if (!inbox.messages.length) {
    append(list, h('p', { class: 'muted' }, '暂无消息。提交审核和审核结果都会在这里通知您。'));
    return;
  }
  append(list, h('p', { class: 'muted inbox-summary' }, inbox.unread ? `${inbox.unread}条未读，点击标题查看` : '全部已读'));
  append(list, h('ul', { class: 'messages' }, inbox.messages.map((message) => {
    const details = h('details', { class: ['message', !message.read && 'unread'], 'data-id': message.message_id,
      open: expanded.has(message.message_id) },
      h('summary', null,
        h('span', { class: 'message-title' }, message.title || '通知'),
        !message.read ? h('span', { class: 'tag unread-tag' }, '未读') : null,
        h('span', { class: 'message-time' }, formatTime(message.created_at))),
      h('p', { class: 'message-body' }, message.body || ''));
    details.addEventListener('toggle', () => { if (details.open && !message.read) markRead(message); });
    return h('li', null, details);
  })));
  const summary = focused && list.querySelector(`details[data-id="${focused}"] summary`);
  if (summary) summary.focus();
}

// The unread count: the list's own when it holds every message (the count and the list
// come from two queries, so they can disagree for a moment), the server's beyond that.
const INBOX_PAGE = 50;
function countUnread(box) {
  const listed = box.messages.filter((m) => !m.read).length;
  return box.messages.length < INBOX_PAGE ? listed : Math.max(listed, box.serverUnread);
}

async function markRead(message) {
  const id = message.message_id;
  try {
    await request('POST', `/api/v1/messages/${encodeURIComponent(id)}/read`);
  } catch (error) {
    return; // not marked: it stays unread and is tried again when opened next time
  }
  readHere.add(id);
  const current = inbox && inbox.messages ? inbox.messages.find((m) => m.message_id === id) : null;
  if (!current || current.read) return;
  current.read = true;
  inbox.serverUnread = Math.max(0, inbox.serverUnread - 1);
  inbox.unread = countUnread(inbox);
  const summary = $('.inbox-summary');
  if (summary) summary.textContent = inbox.unread ? `${inbox.unread}条未读，点击标题查看` : '全部已读';
  const list = $('#inbox-list');
  const details = list && list.querySelector(`details[data-id="${id}"]`);
  if (details) {
    details.classList.remove('unread');
    const tag = details.querySelector('.unread-tag');
    if (tag) tag.remove();
  }
  redrawActions({ keepFocus: true });
}

const POLL_MS = 60 * 1000;

let poller = null;

async function refreshAll() {
  const pkg = packageView();
  if (!pkg || !auth.signedIn()) return;
  if (WAITING.has(pkg.status) && !isOpen()) {
    try {
      await reload();
      render();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'unauthenticated') failed('page', error);
    }
  }
  loadInbox();
}

async function start() {
  clear(app);
  append(app, h('p', { class: 'loading' }, '加载中…'));
  try {
    await auth.completeSignIn();
  } catch (error) {
    renderSignIn(error.message);
    return;
  }
  if (!auth.signedIn()) {
    renderSignIn();
    return;
  }
  try {
    await reload();
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unauthenticated') {
      auth.forget();
      renderSignIn(error.message);
    } else {
      renderFatal(error.message || '页面加载失败，请稍后重试', start);
    }
    return;
  }
  render();
  // Signed in: the reader starts at the main heading (who is signed in), not at the top bar.
  const heading = app.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  loadInbox();
  if (!poller) {
    // Decisions within seconds through the stream; the poll is the fallback while it is down.
    poller = window.setInterval(() => { if (!live.connected()) refreshAll(); }, POLL_MS);
    live.follow(refreshAll);
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refreshAll(); });
  }
}

drawWith({ page: render, actions: renderActions });
start();
