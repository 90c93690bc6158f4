"""The stand-in registration system as a Flask application and a small WSGI server."""
import hmac
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from flask import Flask, jsonify, redirect, request, session
from werkzeug.serving import make_server

from dev.registration_standin import pages, provider
from dev.registration_standin.outcomes import WEBHOOK_PATH, BadWebhook, FeedReader, receive_webhook
from dev.registration_standin.store import Store
from dev.registration_standin.upstream import OurSystem, Unreachable

log = logging.getLogger("registration_standin")
BEIJING = timezone(timedelta(hours=8))
MAX_RECORDS = 2000


class Standin:
    """The stand-in, served by Werkzeug's threaded WSGI server; `start()` serves it from a
    background thread (the tests), `serve_forever()` in the foreground (`make run`)."""

    def __init__(self, *, mongo_uri, database, secret_key, client_id, client_secret, redirect_uris=(),
                 api_url="", upload_url="", registration_secret="", host="127.0.0.1", port=0,
                 issuer=None, feed_poll_s=2.0):
        self.server = make_server(host, port, None, threaded=True)
        self.host, self.port = host, self.server.server_address[1]
        self.issuer = (issuer or f"http://{host}:{self.port}").rstrip("/")
        self.client_id = client_id
        self.upload_url = upload_url
        self.store = Store(mongo_uri, database, secret_key)
        self.store.create_indexes()
        self.store.save_client(client_id, client_secret, redirect_uris)
        self.key = provider.signing_key(self.store)
        self.ours = OurSystem(api_url, registration_secret)
        self.feed = FeedReader(self.store, self.ours, feed_poll_s)
        self.mischief = provider.Mischief()
        self.app = create_app(self, secret_key)
        self.server.app = self.app
        self._thread = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def connect(self, api_url, redirect_uri=None, upload_url=None):
        """Point the stand-in at our system (its origin, our callback, the upload page)."""
        self.ours = self.feed.ours = OurSystem(api_url, self.ours.secret)
        if redirect_uri:
            self.store.allow_redirect(self.client_id, redirect_uri)
        if upload_url:
            self.upload_url = upload_url

    def record_outcome(self, record):
        """Keep a review outcome (DESIGN §4a record) for the 材料审核结果 section."""
        self.store.record_outcome(record)

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="registration-standin", daemon=True)
        self._thread.start()
        self.feed.start()
        return self

    @property
    def webhook_url(self):
        """Where our notify delivers outcomes to this stand-in (a subscriber's URL)."""
        return f"{self.url}{WEBHOOK_PATH}"

    def serve_forever(self):
        self.feed.start()
        self.server.serve_forever()

    def stop(self):
        self.feed.stop()
        if self._thread is not None:  # shutdown() waits for a serve_forever that must be running
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()
        self.store.close()


def create_app(standin, secret_key):
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key, SESSION_COOKIE_NAME="standin_session",
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      MAX_CONTENT_LENGTH=4 * 1024 * 1024,
                      OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": 300})
    oidc = provider.make_server(app, standin)
    store = standin.store

    def csrf():
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(24)
        return session["csrf"]

    def csrf_ok():
        sent = request.form.get("csrf_token", "")
        return bool(session.get("csrf")) and hmac.compare_digest(sent, session["csrf"])

    def signed_in():
        number = session.get("user")
        return store.account(number) if number else None

    # -- OpenID Connect ---------------------------------------------------------------------
    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(provider.discovery(standin.issuer))

    @app.get("/jwks.json")
    def jwks():
        return jsonify({"keys": [standin.key.as_dict(private=False)]})

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        account = signed_in()
        if account is None:
            return redirect(f"/login?{urlencode({'next': request.full_path})}")
        account = dict(account, auth_time=session.get("auth_time"))
        try:
            grant = oidc.get_consent_grant(end_user=account)
        except OAuth2Error as error:
            return pages.message("授权请求无效", f"授权请求无效（{error.error}）", account=account, csrf=csrf())
        if request.method == "GET":
            return pages.consent(account, csrf(), request.full_path)
        if not csrf_ok():
            return pages.message("页面已过期", "页面已过期，请返回重新操作", account=account, csrf=csrf())
        allowed = request.form.get("decision") == "allow"
        return oidc.create_authorization_response(grant_user=account if allowed else None, grant=grant)

    @app.post("/token")
    def token():
        return oidc.create_token_response()

    # -- signing in -------------------------------------------------------------------------
    @app.get("/")
    def home():
        return redirect("/registration")

    @app.route("/login", methods=["GET", "POST"])
    def login():
        next_url = _local(request.values.get("next"))
        if request.method == "GET":
            return pages.login(csrf(), next_url)
        if not csrf_ok():
            return pages.login(csrf(), next_url, error="页面已过期，请重新登录", status=400)
        account = store.check_password(request.form.get("login", "")[:32], request.form.get("password", "")[:128])
        if account is None:
            return pages.login(csrf(), next_url, login=request.form.get("login", "")[:32],
                               error="报名号（身份证号）或密码错误", status=401)
        session.clear()
        session.update(user=account["_id"], auth_time=int(time.time()), csrf=secrets.token_urlsafe(24))
        return redirect(next_url)

    @app.post("/logout")
    def logout():
        if csrf_ok():
            session.clear()
        return redirect("/login")

    # -- the candidate's registration ---------------------------------------------------------
    @app.get("/registration")
    def registration():
        account = signed_in()
        if account is None:
            return redirect(f"/login?{urlencode({'next': '/registration'})}")
        # `returned_items`, not `items`: for a record without items (a submission), Jinja's
        # o["items"] falls back to the dict's own items() method
        outcomes = [dict(o, occurred=_beijing(o.get("occurred_at")), returned_items=o.get("items") or [])
                    for o in store.outcomes_of(account["_id"])]
        return pages.registration(account, csrf(), _upload_state(standin, account["region"]),
                                  standin.upload_url, outcomes)

    @app.get("/healthz")
    def healthz():
        try:
            store.db.command("ping")
        except Exception:  # noqa: BLE001 - any failure means not usable
            return jsonify({"status": "unavailable", "failing": "mongodb"}), 503
        return jsonify({"status": "ok"})

    # -- for tests and scripts -----------------------------------------------------------------
    @app.post("/_standin/candidates")
    def candidates():
        """The import_candidates record(s) plus `password`: keep the accounts, then feed the
        records (without passwords) to us; 201 with the import's result. `?feed=0` keeps
        the accounts only (registration data that has not reached us yet)."""
        body = request.get_json(silent=True)
        records = body if isinstance(body, list) else [body]
        if not records or len(records) > MAX_RECORDS or not all(
                isinstance(r, dict) and r.get("registration_number") and isinstance(r.get("password"), str)
                and r["password"] for r in records):
            return _error(400, "invalid_request",
                          f"请求体须为考生记录（或至多{MAX_RECORDS}条记录的列表），每条含 registration_number 与 password")
        for record in records:
            store.save_account(record, record["password"])
        if request.args.get("feed") == "0":
            return jsonify({"created": 0, "updated": 0, "unchanged": 0, "errors": [], "fed": False}), 201
        feed = [{k: v for k, v in r.items() if k != "password"} for r in records]
        try:
            status, answer = standin.ours.import_candidates(feed)
        except Unreachable as exc:
            log.warning("import_candidates failed: %s", exc)
            return _error(502, "unavailable", "材料上传系统暂时无法访问，考生账号已保存，请稍后重试导入")
        if status != 200:
            return jsonify(answer), status
        return jsonify(answer["result"]), 201

    @app.post(WEBHOOK_PATH)
    def webhook():
        """Our notify's outcome webhooks (Standard Webhooks), verified and kept once."""
        try:
            receive_webhook(store, request.get_data(), dict(request.headers))
        except LookupError:
            return _error(503, "unavailable", "尚未配置推送密钥")
        except BadWebhook as exc:
            log.warning("webhook refused: %s", exc)
            return _error(400, "invalid_signature", "推送签名无效")
        return "", 204

    @app.route("/_standin/webhook-secret", methods=["GET", "POST"])
    def webhook_secret():
        """The secret a national administrator was shown when registering this stand-in as a
        subscriber (an operator's step; dev/seed.py does it locally). GET says whether one is
        set and where to deliver, never the secret."""
        if request.method == "POST":
            secret = (request.get_json(silent=True) or {}).get("secret")
            if not isinstance(secret, str) or not secret.startswith("whsec_"):
                return _error(400, "invalid_request", "secret 须为 whsec_ 开头的推送密钥")
            store.set_setting("webhook_secret", secret)
        return jsonify({"configured": bool(store.setting("webhook_secret")), "url": standin.webhook_url})

    @app.route("/_standin/mode", methods=["GET", "POST"])
    def mode():
        if request.method == "POST":
            body = request.get_json(silent=True) or {}
            try:
                standin.mischief.set(str(body.get("id_token", "ok")), int(body.get("times", 1)))
            except ValueError:
                return _error(400, "invalid_request", f"id_token 须为 ok 或 {', '.join(provider.MISCHIEF)}")
        return jsonify(standin.mischief.describe())

    return app


def _error(status, code, message):
    return jsonify({"error": {"code": code, "message": message}}), status


def _local(next_url):
    """Only a path on this server: never an open redirector."""
    if not next_url or not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
        return "/registration"
    return next_url


def _parse(value):
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _beijing(value):
    parsed = _parse(value)
    return parsed.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if parsed else ""


def _upload_state(standin, region):
    """Whether the region offers the 上传相关材料 button now, as our settings say."""
    try:
        settings = standin.ours.region(region)
    except Unreachable as exc:
        log.warning("region settings unavailable: %s", exc)
        return {"state": "unknown"}
    window = settings.get("window") or {}
    start, end = _parse(window.get("start")), _parse(window.get("end"))
    view = {"notice": settings.get("notice") or "", "contact": settings.get("contact") or "",
            "region_name": settings.get("name") or "", "site_names": settings.get("sites") or {},
            "start": _beijing(window.get("start")), "end": _beijing(window.get("end")),
            # the material types' names, for the outcomes' returned items
            "type_names": {t["material_type"]: t["name"] for t in settings.get("catalogue") or []}}
    now = datetime.now(timezone.utc)
    if not settings.get("upload_enabled"):
        return dict(view, state="disabled")
    if start is None or end is None or now < start:
        return dict(view, state="before")
    if now > end:
        return dict(view, state="after")
    return dict(view, state="open")
