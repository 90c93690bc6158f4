// Same-origin API calls with the candidate's Bearer token. Every refusal becomes an
// ApiError carrying the API's stable code and its Chinese message (DESIGN §4).
import { AuthError, accessToken, refresh } from './auth.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

const FALLBACK = {
  400: '请求有误，请刷新页面后重试',
  401: '登录已失效，请重新登录',
  403: '无权进行此操作',
  404: '未找到',
  409: '操作冲突，请刷新后重试',
  413: '图片大小超过限制，请压缩后重新上传',
  415: '仅支持jpg、jpeg、png格式的图片',
  429: '操作过于频繁，请稍后再试',
};

async function refusal(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  const error = body && typeof body.error === 'object' && body.error ? body.error : null;
  if (error && typeof error.message === 'string') {
    const { code, message, ...details } = error;
    return new ApiError(response.status, code || 'error', message, details);
  }
  const message = FALLBACK[response.status]
    || (response.status >= 500 ? '服务暂时不可用，请稍后再试' : `请求失败（${response.status}）`);
  return new ApiError(response.status, response.status >= 500 ? 'unavailable' : 'error', message);
}

// fetch() reports nothing while a body is sent; XMLHttpRequest does (upload progress), so
// a request that wants progress goes this way. Its answer is made a Response, so the rest
// of request() reads it as it reads fetch's.
function sendWithProgress(method, path, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.responseType = 'blob';
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      const answer = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const at = line.indexOf(':');
        if (at > 0) answer.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      const empty = xhr.status === 204 || xhr.status === 304;
      resolve(new Response(empty ? null : xhr.response, { status: xhr.status, headers: answer }));
    });
    xhr.addEventListener('error', () => reject(new TypeError('network')));
    xhr.addEventListener('abort', () => reject(new TypeError('aborted')));
    xhr.send(body);
  });
}

// request('GET', '/api/v1/package') -> parsed JSON (or null for 204, a Blob with {blob: true}).
// onProgress(sent, total): called as the body goes out (uploads on slow networks).
export async function request(method, path, { json, form, blob = false, onProgress = null } = {}) {
  for (let attempt = 0; ; attempt++) {
    let token;
    try {
      token = await accessToken();
    } catch (e) {
      throw new ApiError(401, 'unauthenticated', e.message);
    }
    const headers = { Authorization: `Bearer ${token}` };
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;
    }
    let response;
    try {
      response = onProgress
        ? await sendWithProgress(method, path, headers, body, onProgress)
        : await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
    } catch (e) {
      throw new ApiError(0, 'network', '网络连接失败，请检查网络后重试');
    }
    if (response.status === 401 && attempt === 0) {
      try {
        await refresh();
        continue;
      } catch (e) {
        if (e instanceof AuthError) throw new ApiError(401, 'unauthenticated', e.message);
        throw e;
      }
    }
    if (!response.ok) throw await refusal(response);
    if (response.status === 204) return null;
    if (blob) return response.blob();
    const type = response.headers.get('Content-Type') || '';
    if (!type.includes('json')) throw new ApiError(response.status, 'unavailable', '服务暂时不可用，请稍后再试');
    return response.json();
  }
}
