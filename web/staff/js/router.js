// A hash router: #/queue, #/case/PKG, ... (routes.js). One screen at a time; leaving a
// screen runs its cleanup before the next one renders.
import { clear, h } from '/js/dom.js';
import { HOME, ROUTES, allowed } from './routes.js';

let leave = null;
let current = 0;

export function match(hash) {
  for (const route of ROUTES) {
    const found = route.pattern.exec(hash);
    if (found) return { route, params: found.slice(1) };
  }
  return null;
}

export function navItems(who) {
  return ROUTES.filter((route) => route.nav && allowed(route, who));
}

// Run the current screen's cleanup (release its claim, stop its timers), once.
export async function leaveScreen() {
  if (!leave) return;
  const done = leave;
  leave = null;
  try { await done(); } catch (e) { /* leaving never blocks what comes next */ }
}

async function show(root, who, announce) {
  const ticket = ++current;
  await leaveScreen();
  const found = match(window.location.hash);
  if (!found || !allowed(found.route, who)) {
    window.location.replace(`/staff/${HOME[who.role] || '#/queue'}`);
    return;
  }
  const module = await found.route.load();
  if (ticket !== current) return; // another navigation overtook this one
  // Each screen draws into its own element: a screen still finishing its awaits after
  // the reviewer moved on appends to a detached element, never onto the next screen.
  const screen = h('div', { class: 'screen' });
  clear(root).append(screen);
  document.title = `${found.route.label} - 材料审核工作台`;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === `/staff/${found.route.href}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const navigate = (hash) => { window.location.hash = hash; };
  try {
    const cleanup = (await module.render(screen, { ...(found.route.options || {}), params: found.params, who, navigate, announce, refresh })) || null;
    if (ticket === current) {
      leave = cleanup;
    } else if (cleanup) {
      await cleanup(); // left while it was still opening: release what it took at once
    }
  } catch (e) {
    screen.append(h('p', { class: 'alert error', role: 'alert' }, e.message || '页面加载失败，请刷新重试'));
  }
}

let started = null;

// Draw the current screen again (its cleanup first), e.g. after an undone decision.
export function refresh() {
  return started ? show(...started) : Promise.resolve();
}

export function startRouter(root, who, announce) {
  started = [root, who, announce];
  window.addEventListener('hashchange', () => show(root, who, announce));
  // Leaving the page releases what the screen holds (best effort; the lease also runs out).
  window.addEventListener('pagehide', () => { if (leave) leave({ unloading: true }); });
  return show(root, who, announce);
}
