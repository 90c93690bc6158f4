// 上传 → choose the file → a preview with its size, pixels and the rules → 提交 (the guide's
// order): nothing is sent before the candidate has seen what will be sent. A photo too
// large or stored sideways is offered fixed on the device first (imagefix.js).
import { h } from './dom.js';
import { closeDialog, isOpen, openDialog, prependAction, whenClosed } from './dialog.js';
import { upload } from './images.js';
import * as imagefix from './imagefix.js';
import { redraw } from './redraw.js';
import { clearError, clearProgress, packageView, setError, setProgress } from './state.js';

export async function chooseFile(item, file) {
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
