// An upload's progress as a byte bar: on a slow mobile uplink a 200 KB photo takes seconds,
// and "正在上传…" alone looks the same whether it is moving or stuck. The bar is drawn
// once with the card and then updated in place as XMLHttpRequest reports bytes sent
// (api.js), so the page is not redrawn on every progress event.
import { h } from './dom.js';
import { formatBytes } from './imagefix.js';

// sent: {loaded, total} in bytes of the request as it goes out.
function words(sent) {
  if (sent.total && sent.loaded >= sent.total) return '已发送，正在检查图片…';
  const percent = sent.total ? Math.floor((sent.loaded * 100) / sent.total) : 0;
  return `正在上传 ${percent}%（${formatBytes(sent.loaded)} / ${formatBytes(sent.total)}）`;
}

export function sendingBar(code, name, sent) {
  return h('div', { class: 'upload-progress', 'data-progress': code },
    // Screen readers hear the start once and can read the bar's value; the changing
    // numbers beside it are not announced on every step.
    h('span', { class: 'visually-hidden', role: 'status' }, `${name}正在上传`),
    h('progress', { max: String(Math.max(1, sent.total)), value: String(sent.loaded), 'aria-label': `${name}上传进度` }),
    h('span', { class: 'progress-text', 'aria-hidden': 'true' }, words(sent)));
}

export function showSent(code, sent) {
  const box = document.querySelector(`[data-progress="${code}"]`);
  if (!box) return;
  const bar = box.querySelector('progress');
  bar.max = Math.max(1, sent.total);
  bar.value = sent.loaded;
  box.querySelector('.progress-text').textContent = words(sent);
}
