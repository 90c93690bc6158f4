"""The stand-in's pages (Chinese, server-rendered, no script): sign-in, consent (授权), the
candidate's 报名信息 with the 上传相关材料 button and the 材料审核结果, and error pages.
Jinja templates with autoescaping; WCAG 2.2 AA: landmarks, labels, 44 px targets."""
from flask import render_template_string
from markupsafe import Markup

CATEGORY_NAMES = {
    "clinical_practitioner": "临床执业医师", "clinical_assistant": "临床执业助理医师",
    "integrated_practitioner": "中西医结合执业医师", "integrated_assistant": "中西医结合执业助理医师",
    "tcm_practitioner": "中医执业医师", "tcm_assistant": "中医执业助理医师",
    "dental_practitioner": "口腔执业医师", "dental_assistant": "口腔执业助理医师",
    "public_health_practitioner": "公共卫生执业医师", "public_health_assistant": "公共卫生执业助理医师"}
STATUS_NAMES = {"submitted": "已提交审核", "withdrawn": "已撤回提交", "returned": "退回修改",
                "approved": "审核通过", "rejected": "审核未通过", "reopened": "需补充材料"}

_LAYOUT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - 医师资格考试网上报名系统</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f6f9;color:#1d2733;font-size:16px;line-height:1.6}
header.top{background:#0b4a8b;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px}
header.top .brand{font-size:18px;font-weight:600;margin-right:auto}
header.top .standin{font-size:14px;background:#fff;color:#0b4a8b;border-radius:4px;padding:0 6px}
header.top nav a,header.top button{color:#fff;background:none;border:1px solid rgba(255,255,255,.7);border-radius:6px;font-size:15px;min-height:44px;min-width:44px;padding:0 12px;display:inline-flex;align-items:center;text-decoration:none;cursor:pointer}
main{max-width:720px;margin:16px auto;padding:0 12px}
.panel{background:#fff;border-radius:10px;padding:20px;margin-bottom:16px;box-shadow:0 1px 6px rgba(0,0,0,.08)}
h1{font-size:22px;margin:0 0 12px} h2{font-size:18px;margin:0 0 10px}
label{display:block;margin:14px 0 6px;font-size:15px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;font-size:16px;min-height:44px;padding:8px 12px;border:1px solid #8895a7;border-radius:8px}
a:focus,input:focus,button:focus{outline:3px solid #f5a623;outline-offset:2px}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px;padding:0 20px;font-size:16px;border-radius:8px;border:1px solid #0b4a8b;background:#fff;color:#0b4a8b;text-decoration:none;cursor:pointer;box-sizing:border-box}
.btn.primary{background:#0b4a8b;color:#fff}
.actions{display:flex;gap:12px;flex-wrap:wrap;margin-top:18px}
.error{background:#fdecea;color:#8c1d13;border-radius:8px;padding:10px 12px}
.note{color:#4a5666;font-size:14px}
dl.facts{display:grid;grid-template-columns:7em 1fr;gap:6px 12px;margin:0}
dl.facts dt{color:#4a5666} dl.facts dd{margin:0}
ol.outcomes{list-style:none;padding:0;margin:0}
ol.outcomes>li{border-top:1px solid #e1e6ed;padding:10px 0}
.status{font-weight:600}
footer{max-width:720px;margin:0 auto 24px;padding:0 12px;color:#4a5666;font-size:14px}
</style></head><body>
<header class="top"><span class="brand">医师资格考试网上报名系统</span><span class="standin">本地模拟</span>
{% if account %}<nav aria-label="账号"><a href="/registration">报名信息</a></nav>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{ csrf }}"><button type="submit">退出登录</button></form>{% endif %}
</header>
<main id="main">{{ body }}</main>
<footer><p>本页面是开发与测试使用的报名系统模拟服务，仅含演示数据。</p></footer>
</body></html>"""

_LOGIN = """<section class="panel" aria-labelledby="login-title">
<h1 id="login-title">考生登录</h1>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label for="login">报名号或身份证号</label>
<input id="login" name="login" type="text" required maxlength="32" value="{{ login }}" autocomplete="username" autofocus>
<label for="password">密码</label>
<input id="password" name="password" type="password" required maxlength="128" autocomplete="current-password">
<div class="actions"><button class="btn primary" type="submit">登录</button></div>
</form></section>"""

_CONSENT = """<section class="panel" aria-labelledby="consent-title">
<h1 id="consent-title">授权登录</h1>
<p><strong>医师资格考试报名材料上传系统</strong>请求使用您的报名系统账号登录。</p>
<p>授权后，该系统将获得您的<strong>报名号</strong>，用于确认您的身份并显示您的报名材料。</p>
<p class="note">当前账号：{{ account.name }}（报名号 {{ account._id }}）</p>
<form method="post" action="{{ action }}">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<div class="actions">
<button class="btn primary" type="submit" name="decision" value="allow">授权</button>
<button class="btn" type="submit" name="decision" value="deny">拒绝</button>
</div></form></section>"""

_REGISTRATION = """<h1>报名信息</h1>
<section class="panel" aria-labelledby="facts-title">
<h2 id="facts-title">考生信息</h2>
<dl class="facts">
<dt>报名号</dt><dd>{{ account._id }}</dd>
<dt>姓名</dt><dd>{{ account.name }}</dd>
<dt>证件号码</dt><dd>{{ account.id_masked }}</dd>
<dt>考区</dt><dd>{{ account.region }}{% if upload.region_name %} {{ upload.region_name }}{% endif %}</dd>
<dt>考点</dt><dd>{{ account.site }}{% if upload.site_names and upload.site_names.get(account.site) %} {{ upload.site_names.get(account.site) }}{% endif %}</dd>
<dt>考试类别</dt><dd>{{ category }}</dd>
<dt>考试年度</dt><dd>{{ account.exam_year }}</dd>
</dl></section>
<section class="panel" aria-labelledby="upload-title">
<h2 id="upload-title">报名材料上传</h2>
{% if upload.state == "open" %}
<p>请在 {{ upload.end }}（北京时间）前上传资格审核所需材料。</p>
<p><a class="btn primary" href="{{ upload_url }}">上传相关材料</a></p>
<p class="note">将前往材料上传系统，并使用本系统账号授权登录。</p>
{% elif upload.state == "unknown" %}
<p role="status">暂时无法获取本考区的材料上传安排，请稍后刷新本页。</p>
{% elif upload.state == "disabled" %}
<p>本考区不开展网上材料上传。</p>
{% if upload.notice %}<p>{{ upload.notice }}</p>{% endif %}
{% if upload.contact %}<p class="note">咨询：{{ upload.contact }}</p>{% endif %}
{% else %}
<p>材料上传时间为 {{ upload.start }} 至 {{ upload.end }}（北京时间），{{ "尚未开始" if upload.state == "before" else "已经结束" }}。</p>
{% if upload.contact %}<p class="note">咨询：{{ upload.contact }}</p>{% endif %}
{% endif %}
</section>
<section class="panel" aria-labelledby="outcomes-title">
<h2 id="outcomes-title">材料审核结果</h2>
{% if outcomes %}
<ol class="outcomes">
{% for o in outcomes %}<li>
<span class="status">{{ status_names.get(o.status, o.status) }}</span>
（第{{ o.attempt }}次提交，{{ o.occurred }}）
{% if o.returned_items %}<ul>{% for item in o.returned_items %}<li>{{ type_names.get(item.material_type, item.material_type) }}：{{ item.reason }}</li>{% endfor %}</ul>{% endif %}
{% if o.respond_by %}<p class="note">请于 {{ o.respond_by }} 前在材料上传系统重新提交。</p>{% endif %}
{% if o.reason %}<p>原因：{{ o.reason }}</p>{% endif %}
</li>{% endfor %}
</ol>
{% else %}
<p>暂无审核结果。提交材料并经考点审核后，结果将显示在这里。</p>
{% endif %}
</section>"""

_MESSAGE = """<section class="panel" aria-labelledby="message-title">
<h1 id="message-title">{{ heading }}</h1>
<p class="error" role="alert">{{ message }}</p>
<div class="actions"><a class="btn" href="/registration">返回报名信息</a></div>
</section>"""


def _page(title, body_template, account=None, csrf="", status=200, **values):
    body = render_template_string(body_template, account=account, csrf=csrf, **values)
    html = render_template_string(_LAYOUT, title=title, body=Markup(body), account=account, csrf=csrf)
    return html, status, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                          # no form-action: the consent's answer redirects to the client's origin
                          "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                          "frame-ancestors 'none'; base-uri 'none'"}


def login(csrf, next_url, login="", error=None, status=200):
    return _page("考生登录", _LOGIN, csrf=csrf, next=next_url, login=login, error=error, status=status)


def consent(account, csrf, action):
    return _page("授权登录", _CONSENT, account=account, csrf=csrf, action=action)


def registration(account, csrf, upload, upload_url, outcomes):
    return _page("报名信息", _REGISTRATION, account=account, csrf=csrf, upload=upload,
                 upload_url=upload_url, outcomes=outcomes, status_names=STATUS_NAMES,
                 type_names=upload.get("type_names", {}),
                 category=CATEGORY_NAMES.get(account.get("category"), account.get("category")))


def message(heading, text, status=400, account=None, csrf=""):
    return _page(heading, _MESSAGE, account=account, csrf=csrf, heading=heading, message=text,
                 status=status)
