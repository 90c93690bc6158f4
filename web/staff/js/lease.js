// The claim on the open case: a visible countdown, renewed while the reviewer works
// (a key or pointer in the last 5 minutes), released when the screen is left.
import { h } from '/js/dom.js';
import { call } from './rpc.js';

const RENEW_BELOW_S = 600; // renew once less than this is left...
const ACTIVE_WITHIN_S = 300; // ...if the reviewer did something this recently

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export async function lease(packageId, announce) {
  let claimed = await call('review', 'claim', { package_id: packageId });
  let until = Date.parse(claimed.claim.lease_until);
  let lastActive = Date.now();
  let renewing = false;
  let finished = false;
  const left = h('strong', { 'data-testid': 'lease' });
  const el = h('p', { class: 'lease', role: 'timer', 'aria-label': '领取剩余时间' }, '已领取，剩余 ', left);
  const touch = () => { lastActive = Date.now(); };
  for (const type of ['keydown', 'pointerdown', 'wheel']) document.addEventListener(type, touch, { passive: true });

  async function renew() {
    renewing = true;
    try {
      claimed = await call('review', 'claim', { package_id: packageId });
      until = Date.parse(claimed.claim.lease_until);
    } catch (e) {
      el.className = 'lease alert error';
      el.textContent = `领取未能续期：${e.message}`;
      finished = true;
    } finally {
      renewing = false;
    }
  }
  const timer = window.setInterval(() => {
    if (finished) return;
    const remaining = (until - Date.now()) / 1000;
    left.textContent = clock(remaining);
    el.classList.toggle('ending', remaining < 120);
    if (remaining <= 0) {
      finished = true;
      el.className = 'lease alert error';
      el.textContent = '领取已超时，其他审核员可以领取该材料。请返回队列重新领取。';
      announce('领取已超时');
    } else if (remaining < RENEW_BELOW_S && Date.now() - lastActive < ACTIVE_WITHIN_S * 1000 && !renewing) {
      renew();
    }
  }, 1000);
  left.textContent = clock((until - Date.now()) / 1000);

  function stop() {
    window.clearInterval(timer);
    for (const type of ['keydown', 'pointerdown', 'wheel']) document.removeEventListener(type, touch);
  }
  return {
    el,
    done() { // decided: the claim ended with the decision
      finished = true;
      stop();
      el.textContent = '审核已完成';
    },
    async release() {
      stop();
      if (finished) return;
      finished = true;
      try { await call('review', 'release', { package_id: packageId }); } catch (e) { /* the lease runs out anyway */ }
    },
  };
}
