// The days left to a return's respond-by date (a Beijing calendar date, YYYY-MM-DD),
// counted in Beijing days whatever the phone's time zone, and from the server's time
// rather than the phone's clock (which may be wrong): each package view carries the
// server's `now`, and the page keeps the difference. The deadline day itself is the last.
const BEIJING_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
});
const DAY_MS = 24 * 3600 * 1000;
const TICK_MS = 60 * 1000;

let offsetMs = 0;   // the server's clock minus this phone's
let ticking = null;

export function beijingDate(ms) {
  const parts = Object.fromEntries(BEIJING_DAY.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function dayNumber(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

export function daysLeft(respondBy, nowMs) {
  return dayNumber(String(respondBy).slice(0, 10)) - dayNumber(beijingDate(nowMs));
}

export function countdownText(respondBy, nowMs) {
  const days = daysLeft(respondBy, nowMs);
  if (days > 1) return `还剩${days}天`;
  if (days === 1) return '明天截止';
  if (days === 0) return '今天截止';
  return `已过截止日期${-days}天，请尽快修改并提交，或联系考点`;
}

// The server's `now` (ISO 8601) as a view brought it.
export function syncClock(serverNow) {
  const at = Date.parse(serverNow);
  if (!Number.isNaN(at)) offsetMs = at - Date.now();
}

export function serverNow() {
  return Date.now() + offsetMs;
}

// Every element with data-countdown="YYYY-MM-DD" shows its count, kept current while the
// page stays open (the Beijing day turns at midnight without a reload).
export function keepCounting() {
  const update = () => document.querySelectorAll('[data-countdown]').forEach((el) => {
    const days = daysLeft(el.dataset.countdown, serverNow());
    el.textContent = countdownText(el.dataset.countdown, serverNow());
    el.classList.toggle('urgent', days <= 2);
  });
  update();
  if (!ticking) ticking = window.setInterval(update, TICK_MS);
}
