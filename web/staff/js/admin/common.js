// What the administrators' screens share: the region being administered, names of
// fields (the categories' names come from the public catalogue, reference.js), files
// to and from base64, and a message area.
import { h } from '/js/dom.js';

export const FIELD_NAMES = {
  name: '考区名称', upload_enabled: '网上上传', 'window.start': '上传开始时间', 'window.end': '上传结束时间',
  max_bytes: '单张图片上限（字节）', min_short_side: '最短边像素', max_pixels: '最大像素数',
  min_sharpness: '清晰度下限', respond_days: '补正期限（天）', contact: '考点联系方式', notice: '暂停上传公告',
};

// The exam regions (考区): the provinces' two-digit codes (GB/T 2260), for a national
// administrator's picker.
export const REGION_NAMES = {
  11: '北京', 12: '天津', 13: '河北', 14: '山西', 15: '内蒙古', 21: '辽宁', 22: '吉林', 23: '黑龙江',
  31: '上海', 32: '江苏', 33: '浙江', 34: '安徽', 35: '福建', 36: '江西', 37: '山东', 41: '河南',
  42: '湖北', 43: '湖南', 44: '广东', 45: '广西', 46: '海南', 50: '重庆', 51: '四川', 52: '贵州',
  53: '云南', 54: '西藏', 61: '陕西', 62: '甘肃', 63: '青海', 64: '宁夏', 65: '新疆',
};

// A national administrator picks a region; everyone else administers their own.
export function regionOf(who, chosen) {
  return who.region === '*' ? (chosen || '32') : who.region;
}

// Whether this administrator covers only some sites of the region.
export function siteScoped(who) {
  return who.region !== '*' && who.sites.length > 0 && !who.sites.includes('*');
}

export function fieldName(field, categories = {}) {
  if (FIELD_NAMES[field]) return FIELD_NAMES[field];
  const [head, key, rest] = field.split('.');
  if (head === 'sites') return `考点 ${key} 名称`;
  if (head === 'checklists') return `核对清单（${key}）`;
  if (head === 'categories') return `${categories[key] || key} ${rest === 'required' ? '必传材料' : '可选材料'}`;
  return field;
}

export function valueText(value) {
  if (value === null || value === undefined) return '（未设置）';
  if (value === '') return '（空）';
  if (value === true) return '开启';
  if (value === false) return '关闭';
  if (Array.isArray(value)) return value.join('、') || '（无）';
  return String(value);
}

export function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(new Error('无法读取该文件'));
    reader.readAsDataURL(file);
  });
}

// Save an RPC file result ({filename, content_type, data}) through the browser's download.
export function download(file) {
  const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: file.content_type }));
  const link = h('a', { href: url, download: file.filename, class: 'visually-hidden' }, file.filename);
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// One message area per screen: role=alert for errors, status for the rest.
export function messages() {
  const box = h('div', { class: 'messages', 'data-testid': 'messages' });
  return {
    box,
    show(kind, text) {
      box.replaceChildren(h('p', { class: `alert ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text));
    },
    clear() { box.replaceChildren(); },
  };
}

// Beijing wall-clock time for <input type="datetime-local"> and back to ISO 8601.
export function toLocalInput(iso) {
  if (!iso) return '';
  const t = new Date(Date.parse(iso) + 8 * 3600 * 1000);
  return t.toISOString().slice(0, 16);
}

export function fromLocalInput(value) {
  return value ? `${value}:00+08:00` : null;
}

// The administrators' screens bring their own stylesheet (a linked file: the CSP
// admits no inline styles).
if (!document.querySelector('link[data-admin-css]')) {
  document.head.append(h('link', { rel: 'stylesheet', href: '/staff/css/admin.css', 'data-admin-css': '' }));
}
