// One image, large: zoom (buttons, + / -, the wheel), pan (drag, or arrow keys once
// zoomed), rotate the *view* by quarter turns (the stored file never changes), reset.
import { h } from '/js/dom.js';

const STEP = 1.25;
const MIN = 0.5;
const MAX = 8;

export function viewer(image, label, facts) {
  const view = { zoom: 1, turn: 0, x: 0, y: 0 };
  const img = h('img', { src: image.url, alt: label, draggable: 'false', 'data-image': image.image_id });
  // No link: a returned image the candidate deleted, removed once the package was decided
  // (its facts stay), or metadata not arrived yet. Never a broken image.
  const missing = image.deleted_by_candidate ? '考生已删除该图片，审核结束后不再保留；下方为其原始信息'
    : '图片信息尚未到达，请稍后刷新';
  const stage = h('div', { class: 'stage' }, image.url ? img : h('p', { class: 'stage-note' }, missing));
  const figure = h('figure', { class: 'viewer', tabindex: '0', 'aria-label': `${label}，可缩放、拖动和旋转查看`,
    'data-image-id': image.image_id, 'data-zoom': '1', 'data-turn': '0' });

  // A quarter turn swaps the image's width and height: at normal zoom a landscape scan
  // would stick out of its stage, so the turned view is scaled down to fit it.
  function fit() {
    if (view.turn % 2 === 0 || !img.offsetWidth || !img.offsetHeight) return 1;
    return Math.min(1, stage.clientWidth / img.offsetHeight, stage.clientHeight / img.offsetWidth);
  }
  function apply() {
    img.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.zoom * fit()}) rotate(${view.turn * 90}deg)`;
    figure.dataset.zoom = String(Math.round(view.zoom * 100) / 100);
    figure.dataset.turn = String(view.turn);
    stage.classList.toggle('zoomed', view.zoom > 1);
  }
  const api = {
    figure,
    zoom(factor) {
      view.zoom = Math.min(MAX, Math.max(MIN, view.zoom * factor));
      if (view.zoom <= 1) { view.x = 0; view.y = 0; }
      apply();
    },
    rotate() { view.turn = (view.turn + 1) % 4; apply(); },
    reset() { Object.assign(view, { zoom: 1, turn: 0, x: 0, y: 0 }); apply(); },
    pan(dx, dy) { if (view.zoom > 1) { view.x += dx; view.y += dy; apply(); } },
    focus() { figure.focus(); figure.scrollIntoView({ block: 'nearest' }); },
  };
  const tool = (text, name, action) => h('button', { type: 'button', class: 'btn tool', 'aria-label': `${name}：${label}`, onclick: action }, text);
  figure.append(stage,
    h('div', { class: 'tools' },
      tool('放大', '放大', () => api.zoom(STEP)), tool('缩小', '缩小', () => api.zoom(1 / STEP)),
      tool('旋转', '向右旋转查看（不改变原图）', () => api.rotate()), tool('还原', '还原视图', () => api.reset())),
    h('figcaption', {}, facts));

  stage.addEventListener('wheel', (e) => { e.preventDefault(); api.zoom(e.deltaY < 0 ? STEP : 1 / STEP); }, { passive: false });
  let drag = null;
  stage.addEventListener('pointerdown', (e) => { drag = { x: e.clientX, y: e.clientY }; stage.setPointerCapture(e.pointerId); });
  stage.addEventListener('pointermove', (e) => {
    if (!drag) return;
    api.pan(e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
  });
  stage.addEventListener('pointerup', () => { drag = null; });
  figure.addEventListener('keydown', (e) => {
    const moves = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] };
    if (e.target === figure && moves[e.key] && view.zoom > 1) {
      e.preventDefault();
      e.stopPropagation(); // panning, not the next image
      api.pan(...moves[e.key]);
    }
  });
  apply();
  return api;
}
