"""materials: catalogue, region rules, the candidate's package and its images."""
import logging

from nameko.timer import timer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from common import arguments, clock, errors, outbox
from common.messaging import broadcast_handler, event_handler
from common.rpc import ServiceRpc, rpc
from common import service as base
from common.web import http, json_response, read_json
from services.materials import review_times
from services.materials.bootstrap import UseCases
from services.materials.dependencies import MaterialsUseCases, PackageDatabase
from services.materials.live import SIGNAL, STREAM_PATH, TICKET_COOKIE, LiveHub
from services.materials.storage import ImageStorage

log = logging.getLogger(__name__)

# Room for the multipart envelope around one image (boundaries, part headers, file name).
MULTIPART_OVERHEAD = 8 * 1024


class MaterialsService(base.ServiceBase):
    name = "materials"

    # Resources, one provider each, built in setup() from settings.py; a provider that
    # uses another names it (common/wiring.py).
    database = PackageDatabase()
    storage = ImageStorage()
    live = LiveHub()
    relay = outbox.OutboxRelay(["packages"], database="database")  # publishes packages' outboxes
    # The site's typical review time on candidates' pages, asked of review by a timer.
    review_rpc = ServiceRpc("review", timeout=5, tokens="auth")
    # Each worker's use cases over them (bootstrap.build): what the entrypoints call.
    use_cases: UseCases = MaterialsUseCases(database="database", storage="storage", live="live")

    # -- candidate HTTP API (DESIGN §4) ---------------------------------------------------------
    @http("GET", "/api/v1/catalogue")
    def catalogue(self, request):
        return json_response(self.use_cases.packages.catalogue_view())

    @http("GET", "/api/v1/package")
    def get_package(self, request):
        principal = self.auth.from_request(request, "candidate")
        return json_response(self.use_cases.packages.view(principal))

    @http("POST", "/api/v1/package/consent")
    def consent(self, request):
        principal = self.auth.from_request(request, "candidate")
        body = read_json(request)
        return json_response(self.use_cases.packages.consent(principal, body.get("notice_version")))

    @http("POST", "/api/v1/package/items/<string:material_type>/images")
    def upload(self, request, material_type):
        principal = self.auth.from_request(request, "candidate")
        if request.content_length is not None and request.content_length > 10 * 1024 * 1024:
            raise errors.FileTooLarge()  # far beyond any region's limit: do not even look up rules
        package, rules = self.use_cases.packages.prepare_upload(principal, material_type)
        data = read_upload(request, rules.max_bytes)
        image = self.use_cases.packages.store_upload(package, rules, material_type, data)
        return json_response(image, status=201)

    @http("DELETE", "/api/v1/package/items/<string:material_type>/images/<string:image_id>")
    def delete_image(self, request, material_type, image_id):
        principal = self.auth.from_request(request, "candidate")
        self.use_cases.packages.delete_image(principal, material_type, image_id)
        return Response(status=204)

    @http("GET", "/api/v1/package/items/<string:material_type>/images/<string:image_id>")
    def get_image(self, request, material_type, image_id):
        principal = self.auth.from_request(request, "candidate")
        image, data = self.use_cases.packages.read_image(principal, material_type, image_id)
        return Response(data, status=200, headers={
            "Content-Type": image["content_type"],
            "Content-Disposition": f'inline; filename="{image["image_id"]}.{image["key"].rsplit(".", 1)[1]}"',
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        })

    @http("POST", "/api/v1/package/submit")
    def submit(self, request):
        principal = self.auth.from_request(request, "candidate")
        return json_response(self.use_cases.packages.submit(principal))

    @http("POST", "/api/v1/package/withdraw")
    def withdraw(self, request):
        principal = self.auth.from_request(request, "candidate")
        return json_response(self.use_cases.packages.withdraw(principal))

    # -- decisions on an open page (DESIGN §4; live.py) ----------------------------------------------
    @http("POST", STREAM_PATH + "/ticket")
    def live_ticket(self, request):
        principal = self.auth.from_request(request, "candidate")
        package = self.use_cases.packages.package_for(principal)
        ticket, lifetime = self.use_cases.live.issue_ticket(principal, package["_id"])
        response = json_response({"stream": STREAM_PATH, "expires_in": lifetime})
        response.set_cookie(TICKET_COOKIE, ticket, max_age=lifetime, path=STREAM_PATH,
                            secure=request.is_secure, httponly=True, samesite="Strict")
        return response

    @http("GET", STREAM_PATH)
    def live_events(self, request):
        last_seen = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
        stream = self.use_cases.live.open(request.cookies.get(TICKET_COOKIE), last_seen)
        request.environ["eventlet.minimum_write_chunk_size"] = 0  # each event leaves at once
        return Response(stream, mimetype="text/event-stream",
                        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})

    @broadcast_handler("materials", SIGNAL)
    def on_package_changed(self, payload):
        self.use_cases.live.deliver(payload)

    # -- RPC (DESIGN §5) ------------------------------------------------------------------------
    @rpc(https=True)
    def get_region(self, region):
        self.auth.from_context("admin", "reviewer", "service", "registration")
        return self.use_cases.regions.view(str(region))

    @rpc(https=True)
    def configure_region(self, region, config, expected_version=None):
        principal = self._region_admin(region)
        version = self.use_cases.regions.configure(str(region), config, principal.sub, expected_version)
        return {"region": region, "version": version}

    @rpc(https=True)
    def region_history(self, region, limit=20):
        """Every change of a region's settings: who, when, and what changed."""
        self._region_admin(region)
        limit = min(max(arguments.integer(limit, "limit"), 1), 100)
        return self.use_cases.regions.history(str(region), limit)

    def _region_admin(self, region):
        principal = self.auth.from_context("admin")
        if not principal.is_national and (principal.region != str(region) or not principal.whole_region):
            raise errors.Forbidden("只能查看和配置本考区（考区设置须由全考区管理员修改）")
        return principal

    @rpc
    def purge_exam_year(self, exam_year):
        """Retention (DESIGN §8): remove a closed exam year's images and packages."""
        principal = self.auth.from_context("admin")
        if not principal.is_national:
            raise errors.Forbidden("仅全国管理员可清除历史年度数据")
        exam_year = arguments.integer(exam_year, "考试年度")
        return self.use_cases.packages.purge_exam_year(exam_year, clock.beijing_today().year)  # Beijing's year

    # -- events consumed (DESIGN §6); each idempotent on event_id ----------------------------------
    @event_handler("review", "ReviewStarted")
    def on_review_started(self, payload):
        self.use_cases.packages.review_started(payload)
        self.use_cases.live.announce(payload["package_id"])

    @event_handler("review", "MaterialReturned")
    def on_material_returned(self, payload):
        self.use_cases.packages.materials_returned(payload)
        self.use_cases.live.announce(payload["package_id"])

    @event_handler("review", "PackageApproved")
    def on_package_approved(self, payload):
        self.use_cases.packages.approved(payload)
        self.use_cases.live.announce(payload["package_id"])

    @event_handler("review", "PackageRejected")
    def on_package_rejected(self, payload):
        self.use_cases.packages.rejected(payload)
        self.use_cases.live.announce(payload["package_id"])

    @event_handler("auth", "CandidateProfileChanged")
    def on_profile_changed(self, payload):
        self.use_cases.packages.profile_changed(payload)

    @timer(interval=review_times.TICK_S)
    def refresh_review_times(self):
        """Ask review about the sites candidates' pages wanted (none: no call)."""
        self.use_cases.packages.refresh_review_times(self.review_rpc)

    # -- housekeeping -----------------------------------------------------------------------------
    @timer(interval=120)
    def sweep_orphans(self):
        swept = self.use_cases.packages.sweep_orphans()
        if swept:
            log.info("orphan sweep removed %d leftovers", swept)
        self.use_cases.packages.purge_upload_counts()
        self.use_cases.live.purge_tickets()


def read_upload(request, limit):
    """The uploaded file's bytes, refusing anything over `limit` before reading it all.

    A declared length over the limit is refused at once (and the connection closed, so
    the rest is never read); a body without a length is cut off at the limit."""
    request.max_content_length = limit + MULTIPART_OVERHEAD
    request.max_form_parts = 10
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        # eventlet decodes chunked bodies and ends the stream properly; telling werkzeug
        # so makes it read such a body through its size limit instead of ignoring it.
        request.environ["wsgi.input_terminated"] = True
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise errors.FileTooLarge(too_large_message(limit)) from None
    if upload is None:
        raise errors.ValidationError("请选择要上传的图片（表单字段 file）")
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise errors.FileTooLarge(too_large_message(limit))
    return data


def too_large_message(limit):
    return f"图片大小超过{limit // 1024}KB，请压缩后重新上传"
