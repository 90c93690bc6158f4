// Shared wording of the staff screens: statuses, flags, times.
export const STATUS_NAMES = {
  pending: '待审核', claimed: '审核中', approved: '审核通过', rejected: '审核不通过',
  returned: '退回修改', withdrawn: '考生已撤回', closed: '已关闭', confirming: '不通过待复核',
};

export const FLAG_NAMES = {
  unclear: '图片不清晰', duplicate: '疑似重复图片', returned_before: '曾被退回',
};

export const ATTEMPT_NAMES = { first: '首次提交', resubmission: '再次提交' };

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

export const ACTION_NAMES = {
  submitted: '考生提交', claim: '领取审核', release: '释放', approve: '审核通过', return: '退回修改',
  reject: '提出不通过', confirm_reject: '复核确认不通过', decline_reject: '复核不同意不通过',
  withdrawn: '考生撤回', reopened: '报考信息变更重开', profile_changed: '报考信息变更',
};
