// The candidate's own images as object URLs, for the cards' thumbnails and the dialogs.
// The API serves them only with the candidate's token (request), which an <img src>
// would not send, so each is fetched once and kept while the package still lists it.
import { request } from './api.js';
import { h } from './dom.js';

const urls = new Map();  // image_id -> object URL | 'loading' | 'failed'

export function thumbUrl(imageId) {
  return urls.get(imageId);
}

// Fetch what the package lists and this page has not yet got; each <img data-image> gets
// its picture as it arrives (the cards are not redrawn for it).
export function loadThumbs(pkg) {
  if (!pkg) return;
  for (const item of pkg.items) {
    for (const image of item.images) {
      if (urls.has(image.image_id) || !String(image.url || '').startsWith('/api/v1/')) continue;
      urls.set(image.image_id, 'loading');
      request('GET', image.url, { blob: true }).then((blob) => {
        const url = URL.createObjectURL(blob);
        urls.set(image.image_id, url);
        document.querySelectorAll(`img[data-image="${image.image_id}"]`).forEach((img) => { img.src = url; });
      }).catch(() => {
        urls.set(image.image_id, 'failed');
        document.querySelectorAll(`img[data-image="${image.image_id}"]`).forEach((img) => {
          img.replaceWith(h('span', { class: 'thumb-failed' }, '无法显示'));
        });
      });
    }
  }
}

// Forget thumbnails of deleted images (those the package no longer lists).
export function forgetUnlisted(pkg) {
  for (const [id, url] of urls) {
    const known = pkg.items.some((item) => item.images.some((image) => image.image_id === id));
    if (!known) {
      if (url.startsWith('blob:')) URL.revokeObjectURL(url);
      urls.delete(id);
    }
  }
}

// Signed out: nothing of the candidate's stays in this tab.
export function forgetAll() {
  for (const url of urls.values()) if (url.startsWith('blob:')) URL.revokeObjectURL(url);
  urls.clear();
}
