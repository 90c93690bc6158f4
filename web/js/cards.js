// A card per material type: its requirements and count, a returned card's reason and
// what to do, its thumbnails (each opens large, each deletable while the card is), 示例
// and 上传, an upload's byte bar.
import { h } from './dom.js';
import { areaError } from './alerts.js';
import { closeDialog, openDialog } from './dialog.js';
import { formatDeadline, formatTime } from './format.js';
import { returnGuidance } from './guidance.js';
import { confirmDelete } from './images.js';
import * as imagefix from './imagefix.js';
import { consented, itemEditable, pkgEditable, toFix } from './rules.js';
import { sendingBar } from './sending.js';
import { errorFor, packageView, progressFor, sentFor } from './state.js';
import { thumbUrl } from './thumbs.js';
import { chooseFile } from './upload-dialog.js';

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

export function renderCard(pkg, item) {
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
