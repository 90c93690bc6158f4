"""auth's own pages (Chinese, server-rendered, no script): the staff sign-in form of the
authorization endpoint, and what a candidate sees when the sign-in at the registration
system cannot finish (its answer refused, registration data not here yet, the system
unreachable). Candidates have no form here: they sign in at the registration system."""
from html import escape

from werkzeug.wrappers import Response

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 医师资格考试报名材料上传</title>
<style>
body{{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f3f6fa;margin:0;color:#1d2733}}
main{{max-width:380px;margin:8vh auto;background:#fff;border-radius:12px;padding:28px 24px;box-shadow:0 2px 12px rgba(0,0,0,.08)}}
h1{{font-size:20px;margin:0 0 6px}} p.sub{{color:#5a6778;font-size:14px;margin:0 0 20px}}
label{{display:block;font-size:14px;margin:14px 0 6px}}
input[type=text],input[type=password]{{width:100%;box-sizing:border-box;min-height:44px;font-size:16px;padding:10px 12px;border:1px solid #c5ceda;border-radius:8px}}
input:focus,button:focus{{outline:3px solid #7aa7ff;outline-offset:1px}}
button{{width:100%;min-height:48px;margin-top:22px;font-size:16px;padding:11px;border:0;border-radius:8px;background:#1565c0;color:#fff;cursor:pointer}}
a{{display:inline-flex;align-items:center;min-height:44px;color:#1565c0}}
.error{{background:#fdecea;color:#a32117;border-radius:8px;padding:10px 12px;font-size:14px;margin-bottom:8px}}
.note{{color:#5a6778;font-size:14px;margin-top:18px;line-height:1.6}}
a.button{{display:flex;align-items:center;justify-content:center;min-height:44px;margin-top:22px;font-size:16px;border-radius:8px;background:#1565c0;color:#fff;text-decoration:none}}
a.button:focus{{outline:3px solid #7aa7ff;outline-offset:1px}}
</style></head><body><main>{body}</main></body></html>"""

_STAFF_FORM = """<h1>审核人员登录</h1>
<p class="sub">考点审核员与考区管理员使用本系统分配的账号登录</p>
{error}
<form method="post" action="/auth/authorize" autocomplete="on">
{hidden}
<label for="username">用户名</label>
<input id="username" name="username" type="text" required maxlength="32" value="{username}" autocomplete="username" autofocus>
<label for="password">密码</label>
<input id="password" name="password" type="password" required maxlength="128" autocomplete="current-password">
<label for="otp">动态验证码（管理员必填；也可填写一次性恢复码）</label>
<input id="otp" name="otp" type="text" maxlength="32" inputmode="numeric" autocomplete="one-time-code">
<button type="submit">登录</button>
</form>
<p class="note">账号由考区管理员开通。动态验证码每30秒更新，每个只能使用一次。</p>"""


def _response(body, status, title, headers=None):
    response = Response(_PAGE.format(title=escape(title), body=body), status=status,
                        mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def login_form(params, csrf, error=None, username="", status=200):
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in sorted(dict(params, csrf_token=csrf).items()))
    error_html = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    return _response(_STAFF_FORM.format(hidden=hidden, error=error_html, username=escape(username)),
                     status, "登录")


def error_page(message, status=400):
    return _response(f'<h1>无法登录</h1><div class="error" role="alert">{escape(message)}</div>',
                     status, "错误")


def not_arrived_page():
    """A candidate the registration system vouches for, whose registration data has not
    reached us yet (its feed runs in batches)."""
    return _response(
        '<h1>报名信息尚未同步</h1><p class="sub" role="alert">您已在报名系统完成授权，但您的报名信息尚未同步到材料上传系统。</p>'
        '<p class="note">报名信息一般在报名成功后数小时内同步。请稍后回到报名系统，再次点击“上传相关材料”。'
        '如超过一天仍无法登录，请联系您所在考点。</p>', 403, "报名信息尚未同步")


def unavailable_page(retry_url, retry_after=5):
    """The registration system did not answer: try again (our authorization endpoint with
    the page's own request, so the page's sign-in continues)."""
    return _response(
        '<h1>报名系统暂时无法访问</h1><p class="sub" role="alert">暂时无法连接医师资格考试网上报名系统，无法完成授权登录。</p>'
        f'<p class="note">请稍候片刻再试。</p><a class="button" href="{escape(retry_url)}">重试</a>',
        503, "暂时无法登录", headers={"Retry-After": str(retry_after)})
