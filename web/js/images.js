// A card's images sent and deleted. Each change shows its progress on the card, calls the
// API, reads the package again and keeps the focus on the card.
import { h } from './dom.js';
import { request } from './api.js';
import { announce } from './announce.js';
import { closeDialog, openDialog } from './dialog.js';
import { redraw } from './redraw.js';
import { showSent } from './sending.js';
import { failed } from './session.js';
import {
  clearError, clearProgress, clearSent, packageView, reload, sentFor, setProgress, setSent,
} from './state.js';
import { thumbUrl } from './thumbs.js';

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

export async function upload(item, blob, name) {
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
export function confirmDelete(item, image, label) {
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
