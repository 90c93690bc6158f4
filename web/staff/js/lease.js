// The claim on the open case: a visible countdown, renewed while the reviewer works
// (a key or pointer in the last 5 minutes), released when the screen is left.
import { h } from '/js/dom.js';
import { call } from './rpc.js';

// Renew once less than this is left, if the reviewer did something this recently. For
// a shorter lease (REVIEW.LEASE_S) both shrink with it, in the same proportions (2/3,
// 1/3 of the 15-minute default), so a short lease is neither renewed at every tick
// nor lost while the reviewer works.
const RENEW_BELOW_S = 600;
const ACTIVE_WITHIN_S = 300;
const DEFAULT_LEASE_S = 900;

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export async function lease(packageId, announce) {
  let claimed = await call('review', 'claim', { package_id: packageId });
  let until = Date.parse(claimed.claim.lease_until);
  // the lease's length by the server's own clock (claimed_at is set at every claim)
  const leaseS = (until - Date.parse(claimed.claim.claimed_at)) / 1000;
  const share = Number.isFinite(leaseS) ? Math.min(1, Math.max(leaseS, 1) / DEFAULT_LEASE_S) : 1;
  const renewBelowS = RENEW_BELOW_S * share;
  const activeWithinS = ACTIVE_WITHIN_S * share;
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
    } else if (remaining < renewBelowS && Date.now() - lastActive < activeWithinS * 1000 && !renewing) {
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
