// Shared wording of the staff screens: attempts, waits, times, sizes. The names of
// review's statuses, flags and actions come from review itself, with the data
// (`status_name`, `flag_names`, `action_name`) or as review.labels (reference.js).
export function attemptText(attempt) {
  return attempt > 1 ? `再次提交（第${attempt}次）` : '首次提交';
}

export function waitingText(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
  if (minutes < 60) return `${minutes}分钟`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}小时${minutes % 60 ? `${minutes % 60}分` : ''}`;
  return `${Math.floor(hours / 24)}天${hours % 24 ? `${hours % 24}小时` : ''}`;
}

export function timeText(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
}

export function bytesText(n) {
  if (n === null || n === undefined) return '';
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
}
