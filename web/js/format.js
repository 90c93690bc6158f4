// Times and dates as the candidate reads them: in Beijing time, whatever the phone's zone.
const DATE_TIME = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
});

export function formatTime(value) {
  if (!value) return '';
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? String(value) : DATE_TIME.format(moment);
}

// A respond-by date is a Beijing calendar day (YYYY-MM-DD), shown as that day; anything
// else as a time.
export function formatDeadline(value) {
  if (!value) return '';
  const text = String(value);
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) return `${Number(day[1])}年${Number(day[2])}月${Number(day[3])}日`;
  return formatTime(text);
}
