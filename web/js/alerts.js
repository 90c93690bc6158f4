// Errors where they happened: under a card or an area, and a refused submit with what is
// still missing or still to fix, each linked to its card.
import { h } from './dom.js';
import { returnGuidance } from './guidance.js';
import { itemName } from './rules.js';
import { errorFor, packageView } from './state.js';

export function areaError(key) {
  const error = errorFor(key);
  return error ? h('p', { class: 'card-error', role: 'alert' }, error.message) : null;
}

export function missingList(entries) {
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

export function submitError() {
  const error = errorFor('submit');
  if (!error) return null;
  return h('section', { class: 'alert error submit-error', id: 'submit-error', role: 'alert', tabindex: '-1', 'data-key': 'submit-error' },
    h('p', null, h('strong', null, '未能提交：'), error.message),
    error.missing && error.missing.length ? missingList(error.missing) : null,
    error.toFix && error.toFix.length ? fixList(error.toFix) : null);
}
