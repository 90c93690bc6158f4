// One image, large: zoom (buttons, + / -, the wheel), pan (drag, or arrow keys once
// zoomed), rotate the *view* by quarter turns (the stored file never changes), reset;
// brightness and contrast (调节), a magnifier that follows the pointer (放大镜) and full
// screen (全屏). Every tool changes the view only, never the stored file.
import { h } from '/js/dom.js';

const STEP = 1.25;
const MIN = 0.5;
const MAX = 8;
const LENS_ZOOM = 3;

export function viewer(image, label, facts) {
  const view = { zoom: 1, turn: 0, x: 0, y: 0, brightness: 1, contrast: 1, lens: false };
  const img = h('img', { src: image.url, alt: label, draggable: 'false', 'data-image': image.image_id });
  // No link: a returned image the candidate deleted, removed once the package was decided
  // (its facts stay), or metadata not arrived yet. Never a broken image.
  const missing = image.deleted_by_candidate ? '考生已删除该图片，审核结束后不再保留；下方为其原始信息'
    : '图片信息尚未到达，请稍后刷新';
  const lens = h('div', { class: 'lens', hidden: true, 'aria-hidden': 'true', 'data-testid': 'lens' });
  const stage = h('div', { class: 'stage' }, image.url ? [img, lens] : h('p', { class: 'stage-note' }, missing));
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
    img.style.filter = view.brightness === 1 && view.contrast === 1 ? ''
      : `brightness(${view.brightness}) contrast(${view.contrast})`;
    lens.style.filter = img.style.filter;
    figure.dataset.zoom = String(Math.round(view.zoom * 100) / 100);
    figure.dataset.turn = String(view.turn);
    stage.classList.toggle('zoomed', view.zoom > 1);
    stage.classList.toggle('magnifying', view.lens);
    lensButton.setAttribute('aria-pressed', String(view.lens));
    adjustButton.setAttribute('aria-pressed', String(!adjust.hidden));
  }

  // -- brightness and contrast ------------------------------------------------------------------
  const slider = (id, name, key) => {
    const input = h('input', { type: 'range', id, min: '0.5', max: '2', step: '0.1', value: '1' });
    input.addEventListener('input', () => { view[key] = Number(input.value); apply(); });
    return [h('label', { for: id }, name), input];
  };
  const uid = `v-${image.image_id}`;
  const [brightLabel, bright] = slider(`${uid}-b`, '亮度', 'brightness');
  const [contrastLabel, contrast] = slider(`${uid}-c`, '对比度', 'contrast');
  const adjust = h('div', { class: 'adjust', hidden: true }, brightLabel, bright, contrastLabel, contrast);

  // -- the magnifier: the part under the pointer, LENS_ZOOM times, in the view's turn -----------
  function moveLens(e) {
    if (!view.lens || !img.naturalWidth) return;
    const box = img.getBoundingClientRect();
    const u = (e.clientX - box.left) / box.width;
    const v = (e.clientY - box.top) / box.height;
    if (u < 0 || u > 1 || v < 0 || v > 1) { lens.hidden = true; return; }
    // the point on the unturned image (the bounding box is of the turned one)
    const [x, y] = [[u, v], [v, 1 - u], [1 - u, 1 - v], [1 - v, u]][view.turn];
    const shown = view.turn % 2 ? box.height : box.width; // the image's own width, as drawn
    const scale = (shown / img.naturalWidth) * LENS_ZOOM;
    const stageBox = stage.getBoundingClientRect();
    lens.hidden = false;
    lens.style.left = `${e.clientX - stageBox.left - lens.offsetWidth / 2}px`;
    lens.style.top = `${e.clientY - stageBox.top - lens.offsetHeight / 2}px`;
    lens.style.backgroundSize = `${img.naturalWidth * scale}px ${img.naturalHeight * scale}px`;
    lens.style.backgroundPosition = `${lens.offsetWidth / 2 - x * img.naturalWidth * scale}px ${lens.offsetHeight / 2 - y * img.naturalHeight * scale}px`;
    lens.style.transform = `rotate(${view.turn * 90}deg)`;
  }
  lens.style.backgroundImage = image.url ? `url("${image.url}")` : '';

  const api = {
    figure,
    zoom(factor) {
      view.zoom = Math.min(MAX, Math.max(MIN, view.zoom * factor));
      if (view.zoom <= 1) { view.x = 0; view.y = 0; }
      apply();
    },
    rotate() { view.turn = (view.turn + 1) % 4; apply(); },
    reset() {
      Object.assign(view, { zoom: 1, turn: 0, x: 0, y: 0, brightness: 1, contrast: 1 });
      bright.value = '1';
      contrast.value = '1';
      apply();
    },
    pan(dx, dy) { if (view.zoom > 1) { view.x += dx; view.y += dy; apply(); } },
    focus() { figure.focus(); figure.scrollIntoView({ block: 'nearest' }); },
    magnifier() { view.lens = !view.lens; lens.hidden = true; apply(); },
    fullScreen() {
      if (document.fullscreenElement === figure) document.exitFullscreen();
      else if (figure.requestFullscreen) figure.requestFullscreen().then(() => figure.focus(), () => {});
    },
  };
  const tool = (text, name, action) => h('button', { type: 'button', class: 'btn tool', 'aria-label': `${name}：${label}`, onclick: action }, text);
  const lensButton = tool('放大镜', '放大镜', () => api.magnifier());
  const adjustButton = tool('调节', '亮度和对比度', () => { adjust.hidden = !adjust.hidden; apply(); });
  figure.append(stage,
    h('div', { class: 'tools' },
      tool('放大', '放大', () => api.zoom(STEP)), tool('缩小', '缩小', () => api.zoom(1 / STEP)),
      tool('旋转', '向右旋转查看（不改变原图）', () => api.rotate()), tool('还原', '还原视图', () => api.reset()),
      adjustButton, lensButton, tool('全屏', '全屏查看', () => api.fullScreen())),
    adjust,
    h('figcaption', {}, facts));

  stage.addEventListener('wheel', (e) => { e.preventDefault(); api.zoom(e.deltaY < 0 ? STEP : 1 / STEP); }, { passive: false });
  let drag = null;
  stage.addEventListener('pointerdown', (e) => {
    if (view.lens) return; // the magnifier follows the pointer; dragging would fight it
    drag = { x: e.clientX, y: e.clientY };
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener('pointermove', (e) => {
    moveLens(e);
    if (!drag) return;
    api.pan(e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
  });
  stage.addEventListener('pointerup', () => { drag = null; });
  stage.addEventListener('pointerleave', () => { lens.hidden = true; });
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

// Every image of the package, small, in one strip: a click (or Enter) brings that image
// up and gives it the keys.
export function thumbnailStrip(entries) {
  const shown = entries.filter((e) => e.image.url);
  if (shown.length < 2) return null;
  return h('nav', { class: 'thumbs', 'aria-label': '全部图片' },
    shown.map(({ image, label, viewer: v }) => h('button', { type: 'button', class: 'thumb', 'aria-label': `查看${label}`,
      'data-thumb': image.image_id, onclick: () => v.focus() },
    h('img', { src: image.url, alt: '', loading: 'lazy', draggable: 'false' }))));
}
