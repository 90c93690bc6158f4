// The inbox (消息): the candidate's in-app messages in the dialog, the unread count on the
// top bar's button, a message marked read when opened.
import { $, append, clear, h } from './dom.js';
import { request } from './api.js';
import { closeDialog, isOpen, openDialog } from './dialog.js';
import { formatTime } from './format.js';
import { redrawActions } from './redraw.js';
import { packageView } from './state.js';

let inbox = null;           // {messages, serverUnread, unread} or {unavailable: true}; null before the first read
const readHere = new Set(); // message ids marked read on this page (a list fetched earlier may not know)

// The count for the 消息 button: 0 while unknown.
export function unreadCount() {
  return inbox && !inbox.unavailable ? inbox.unread : 0;
}

// Signed out: the next candidate's inbox is read afresh.
export function forgetInbox() {
  inbox = null;
}

export async function loadInbox() {
  if (!packageView()) return;
  try {
    const body = await request('GET', '/api/v1/messages');
    const messages = Array.isArray(body.messages) ? body.messages : [];
    let adjusted = 0;
    for (const message of messages) {
      if (!message.read && readHere.has(message.message_id)) {
        message.read = true; // read here, and this list was read before the server knew
        adjusted += 1;
      }
    }
    inbox = { messages, serverUnread: Math.max(0, (Number(body.unread) || 0) - adjusted) };
    inbox.unread = countUnread(inbox);
  } catch (error) {
    inbox = { unavailable: true };
  }
  if (packageView()) redrawActions({ keepFocus: true });
  if (isOpen('inbox')) fillInbox();
}

export function openInbox() {
  openDialog('消息', h('div', { class: 'inbox', id: 'inbox-list' }, h('p', { class: 'muted' }, '正在加载…')),
    [h('button', { type: 'button', class: 'btn', onclick: closeDialog }, '关闭')], 'inbox');
  fillInbox();
  loadInbox();
}

function fillInbox() {
  const list = $('#inbox-list');
  if (!list) return;
  const expanded = new Set([...list.querySelectorAll('details[open]')].map((d) => d.dataset.id));
  const focused = list.contains(document.activeElement) && document.activeElement.closest('details')
    ? document.activeElement.closest('details').dataset.id : null;
  clear(list);
  if (!inbox) {
    append(list, h('p', { class: 'muted' }, '正在加载…'));
    return;
  }
  if (inbox.unavailable) {
    append(list, h('p', { class: 'alert warn' }, '消息暂时无法获取，请稍后再试。审核结果也会以短信通知您。'));
    return;
  }
  if (!inbox.messages.length) {
    append(list, h('p', { class: 'muted' }, '暂无消息。提交审核和审核结果都会在这里通知您。'));
    return;
  }
  append(list, h('p', { class: 'muted inbox-summary' }, inbox.unread ? `${inbox.unread}条未读，点击标题查看` : '全部已读'));
  append(list, h('ul', { class: 'messages' }, inbox.messages.map((message) => {
    const details = h('details', { class: ['message', !message.read && 'unread'], 'data-id': message.message_id,
      open: expanded.has(message.message_id) },
      h('summary', null,
        h('span', { class: 'message-title' }, message.title || '通知'),
        !message.read ? h('span', { class: 'tag unread-tag' }, '未读') : null,
        h('span', { class: 'message-time' }, formatTime(message.created_at))),
      h('p', { class: 'message-body' }, message.body || ''));
    details.addEventListener('toggle', () => { if (details.open && !message.read) markRead(message); });
    return h('li', null, details);
  })));
  const summary = focused && list.querySelector(`details[data-id="${focused}"] summary`);
  if (summary) summary.focus();
}

// The unread count: the list's own when it holds every message (the count and the list
// come from two queries, so they can disagree for a moment), the server's beyond that.
const INBOX_PAGE = 50;
function countUnread(box) {
  const listed = box.messages.filter((m) => !m.read).length;
  return box.messages.length < INBOX_PAGE ? listed : Math.max(listed, box.serverUnread);
}

async function markRead(message) {
  const id = message.message_id;
  try {
    await request('POST', `/api/v1/messages/${encodeURIComponent(id)}/read`);
  } catch (error) {
    return; // not marked: it stays unread and is tried again when opened next time
  }
  readHere.add(id);
  const current = inbox && inbox.messages ? inbox.messages.find((m) => m.message_id === id) : null;
  if (!current || current.read) return;
  current.read = true;
  inbox.serverUnread = Math.max(0, inbox.serverUnread - 1);
  inbox.unread = countUnread(inbox);
  const summary = $('.inbox-summary');
  if (summary) summary.textContent = inbox.unread ? `${inbox.unread}条未读，点击标题查看` : '全部已读';
  const list = $('#inbox-list');
  const details = list && list.querySelector(`details[data-id="${id}"]`);
  if (details) {
    details.classList.remove('unread');
    const tag = details.querySelector('.unread-tag');
    if (tag) tag.remove();
  }
  redrawActions({ keepFocus: true });
}
