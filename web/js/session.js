// Signing in and out on the page: the sign-in screen, what a lost sign-in does to an
// action, signing out, and the screen of a start that failed.
import { $, append, clear, h } from './dom.js';
import * as auth from './auth.js';
import { ApiError } from './api.js';
import * as live from './live.js';
import { forgetInbox } from './inbox.js';
import { clearErrors, setError, setPackageView } from './state.js';
import { forgetAll } from './thumbs.js';

const app = $('#app');
const actions = $('#actions');

export function renderSignIn(message) {
  setPackageView(null);
  clear(actions);
  clear(app);
  const button = h('button', {
    type: 'button', class: 'btn primary large', 'data-key': 'signin',
    onclick: async () => {
      if (!auth.canSignIn()) {
        renderSignIn('当前浏览器不支持安全登录，请使用新版浏览器并通过 https 访问本页面');
        return;
      }
      button.disabled = true;
      button.textContent = '正在前往登录页…';
      await auth.beginSignIn();
    },
  }, '使用报名系统账号登录');
  append(app, h('section', { class: 'panel signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, '医师资格考试报名材料上传'),
    h('p', null, '请使用医师资格考试网上报名系统的账号（报名号或身份证号）授权登录。本系统不单独注册账号。'),
    message ? h('p', { class: 'alert error', role: 'alert' }, message) : null,
    button,
    h('ol', { class: 'steps' },
      h('li', null, '登录后阅读并同意《个人信息处理告知书》'),
      h('li', null, '按材料清单逐项拍照或扫描上传（jpg/jpeg/png，每张不超过200KB）'),
      h('li', null, '全部必传材料上传后点击“提交审核”'),
      h('li', null, '审核结果通过短信和站内消息通知您')),
  ));
  button.focus();
}

// The page could not start (not a lost sign-in): the reason, and 重试 (retry: start again).
export function renderFatal(message, retry) {
  clear(actions);
  clear(app);
  append(app, h('section', { class: 'panel' },
    h('p', { class: 'alert error', role: 'alert' }, message),
    h('button', { type: 'button', class: 'btn primary', 'data-key': 'retry', onclick: () => retry() }, '重试')));
}

// Whatever went wrong in an action: a lost sign-in goes back to the sign-in screen,
// anything else is shown next to the card (or area) it belongs to. True when signed out.
export function failed(key, error) {
  if (error instanceof ApiError && error.code === 'unauthenticated') {
    auth.forget();
    renderSignIn(error.message);
    return true;
  }
  setError(key, error instanceof ApiError ? error : { message: error.message || '操作失败，请重试' });
  return false;
}

export async function onSignOut() {
  live.stop();
  await auth.signOut();
  forgetAll();
  forgetInbox();
  clearErrors();
  renderSignIn('您已退出登录。');
}
