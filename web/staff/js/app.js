// The staff workspace: sign-in, the header (who, which sites, sign out, nav) and the router.
import { $, append, clear, h } from '/js/dom.js';
import * as session from './session.js';
import { whenExpired } from './rpc.js';
import { leaveScreen, navItems, startRouter } from './router.js';

const ROLE_NAMES = { reviewer: '审核员', admin: '管理员' };

function announce(text) {
  const live = $('#announce');
  live.textContent = '';
  window.setTimeout(() => { live.textContent = text; }, 50);
}

export function scopeText(who) {
  if (who.role === 'admin' && who.region === '*') return '全国';
  if (who.role === 'admin' && (!who.sites.length || who.sites.includes('*'))) return `考区 ${who.region}`;
  if (who.sites.includes('*')) return `考区 ${who.region} 全部考点`;
  return `考点 ${who.sites.join('、')}`;
}

function signInScreen(message) {
  const root = clear($('#app'));
  clear($('#nav'));
  clear($('#who'));
  const button = h('button', { class: 'btn primary', type: 'button' }, '登录');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await session.signIn();
    } catch (e) {
      button.disabled = false;
      announce('无法开始登录，请刷新重试');
    }
  });
  append(root, h('section', { class: 'panel signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, '审核人员登录'),
    message ? h('p', { class: 'alert warn', role: 'alert' }, message) : null,
    h('p', {}, '请使用考点或考区分配的工作账号登录。管理员登录时还需输入动态验证码。'),
    session.canSignIn() ? button : h('p', { class: 'alert error' }, '当前浏览器不支持安全登录，请使用新版 Chrome、Edge 或 Firefox。')));
  root.focus();
}

function header(who) {
  const nav = clear($('#nav'));
  for (const route of navItems(who)) {
    nav.append(h('a', { href: `/staff/${route.href}`, class: 'nav-link' }, route.label));
  }
  const out = h('button', { class: 'btn link', type: 'button', 'data-testid': 'sign-out' }, '退出登录');
  out.addEventListener('click', async () => {
    out.disabled = true;
    // Leave the screen first: it releases a claim while the token still works.
    await leaveScreen();
    await session.signOut();
    window.location.assign('/staff/');
  });
  append(clear($('#who')),
    h('span', { class: 'who-name', 'data-testid': 'who' }, who.name),
    h('span', { class: 'who-role' }, ROLE_NAMES[who.role] || who.role),
    h('span', { class: 'who-scope', 'data-testid': 'scope' }, scopeText(who)),
    out);
}

async function main() {
  let who = null;
  try {
    who = await session.start();
  } catch (e) {
    signInScreen(e.message || '登录未完成，请重新登录');
    return;
  }
  if (!who) {
    signInScreen(null);
    return;
  }
  if (!['reviewer', 'admin'].includes(who.role)) {
    signInScreen('该账号不是审核人员账号');
    return;
  }
  whenExpired(() => {
    session.expire();
    signInScreen('登录已过期，请重新登录。登录后将回到当前页面。');
  });
  header(who);
  await startRouter($('#app'), who, announce);
}

main();
