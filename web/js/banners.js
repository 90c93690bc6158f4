// The banner under the candidate's details: whose turn it is while waiting (with the
// site's typical review time and 撤回提交), the decision, or what a return asks for and
// by when.
import { h } from './dom.js';
import { areaError } from './alerts.js';
import * as countdown from './countdown.js';
import { formatDeadline } from './format.js';
import { SUBMITTED_BANNER, WAITING, itemName } from './rules.js';
import { onWithdraw } from './submit.js';

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

export function renderBanner(pkg) {
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
