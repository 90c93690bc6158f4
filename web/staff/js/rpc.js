// POST /rpc/{service}/{method} with the staff member's Bearer token (DESIGN §5), through
// the page's own request() (token refresh, the §4 error envelope). Every refusal becomes
// an RpcError whose message is Chinese and fit to show: the service's own words when it
// gave some, else the kind's standard text below.
import { ApiError, request } from '/js/api.js';

export const KINDS = {
  unauthenticated: '登录已失效，请重新登录',
  forbidden: '无权进行此操作或查看该考点的材料',
  not_found: '未找到该记录，可能已被处理或删除',
  conflict: '其他人刚刚修改了该记录，请刷新后重试',
  invalid_transition: '当前状态不允许此操作，请刷新后重试',
  validation_error: '填写的内容有误，请检查后重试',
  unavailable: '服务暂时不可用，请稍后再试',
  rate_limited: '操作过于频繁，请稍后再试',
  network: '网络连接失败，请检查网络后重试',
};

export class RpcError extends Error {
  constructor(kind, status, message) {
    super(message || KINDS[kind] || `请求失败（${status}）`);
    this.kind = kind;
    this.status = status;
  }
}

let onExpired = () => {};

// What to do when the session cannot be renewed (app.js: back to sign-in, same screen).
export function whenExpired(handler) {
  onExpired = handler;
}

export async function call(service, method, kwargs = {}) {
  try {
    const body = await request('POST', `/rpc/${service}/${method}`, { json: kwargs });
    return body.result;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const kind = e.code in KINDS ? e.code : (e.status >= 500 ? 'unavailable' : e.code);
    const error = new RpcError(kind, e.status, e.message || KINDS[kind]);
    if (kind === 'unauthenticated') onExpired(error);
    throw error;
  }
}
