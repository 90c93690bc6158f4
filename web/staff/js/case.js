// The case screen (filled in by later commits).
import { append, h } from '/js/dom.js';
import { call } from './rpc.js';

export async function render(root, { params }) {
  append(root, h('h1', {}, `材料包 ${params[0]}`));
  try {
    await call('review', 'claim', { package_id: params[0] });
  } catch (e) {
    append(root, h('p', { class: 'alert error', role: 'alert' }, e.message));
  }
}
