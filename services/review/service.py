"""review: the reviewers' queue, claims, decisions and the audit log (DESIGN §5, §6, §8)."""
from common import arguments, service as base
from common.messaging import event_handler
from common.rpc import rpc
from services.review import bootstrap, domain, views
from services.review.idcheck import reader
from services.review.dependencies import (
    AuthProfiles, CallOrigin, CaseDatabase, IdCardReader, ImageBucket, MaterialsRegions, Settings,
    StatusCountCache, TallyingRelay)

STAFF = ("reviewer", "admin")


class ReviewService(base.ServiceBase):
    name = "review"

    # One provider per resource (dependencies.py); use_cases() builds the use cases from
    # what they inject (bootstrap.py). The relay names its database's attribute
    # (common/wiring.py).
    cases = CaseDatabase()
    relay = TallyingRelay(["cases"], database="cases")
    bucket = ImageBucket()  # S3, read-only: presigned image URLs, ID card images' bytes
    ocr = IdCardReader()  # the ID card reader's OCR worker processes
    # Short: a snapshot is a nicety; a case is built (and opened) without one if auth is slow.
    profiles = AuthProfiles(timeout=5)
    # A return without a date takes the region's default days from materials' settings.
    regions = MaterialsRegions(timeout=5)
    counts = StatusCountCache()
    settings = Settings()
    caller = CallOrigin()

    def use_cases(self):
        return bootstrap.use_cases(self.cases, self.bucket, self.ocr, self.profiles, self.regions,
                                   self.counts, self.settings, self.caller)

    # -- RPC (DESIGN §5) ---------------------------------------------------------------------------
    @rpc(https=True)
    def list_queue(self, site=None, status=domain.PENDING, limit=50, after=None, sort=None,
                   attempt=None, flag=None):
        principal = self.auth.from_context(*STAFF)
        return self.use_cases().reviews.list_queue(principal, site, status, limit, after, sort, attempt, flag)

    @rpc(https=True)
    def search_cases(self, query, limit=20):
        """The caller's cases by 报名号, full ID number (auth's keyed hash) or name; audited."""
        return self.use_cases().reviews.search(self.auth.from_context(*STAFF), query, limit)

    @rpc(https=True)
    def my_claims(self):
        """The caller's live claims."""
        return self.use_cases().reviews.my_claims(self.auth.from_context(*STAFF))

    @rpc(https=True)
    def claim(self, package_id):
        return self.use_cases().reviews.claim(self.auth.from_context(*STAFF), package_id)

    @rpc(https=True)
    def release(self, package_id):
        return self.use_cases().reviews.release(self.auth.from_context(*STAFF), package_id)

    @rpc(https=True)
    def get_case(self, package_id):
        return self.use_cases().reviews.get_case(self.auth.from_context(*STAFF), package_id)

    @rpc(https=True)
    def approve(self, package_id, note=None, acknowledged=None, hold=False, checklist=None):
        """`acknowledged`: the flags ticked in the confirmation step (kept, audited);
        `hold`: the event waits REVIEW.HOLD_S seconds, undoable with undo_decision;
        `checklist`: the region's per-type checks as ticked ({type: {item: bool}})."""
        return self.use_cases().reviews.approve(self.auth.from_context(*STAFF), package_id, note,
                                                acknowledged, hold, checklist)

    @rpc(https=True)
    def reject(self, package_id, reason, checklist=None):
        return self.use_cases().reviews.reject(self.auth.from_context(*STAFF), package_id, reason, checklist)

    @rpc(https=True)
    def confirm_reject(self, package_id, acknowledged=None, hold=False):
        """The second reviewer confirms a proposed rejection (never the proposer)."""
        return self.use_cases().reviews.confirm_reject(self.auth.from_context(*STAFF), package_id,
                                                       acknowledged, hold)

    @rpc(https=True)
    def undo_decision(self, package_id):
        """Take back one's own held decision before its event leaves (its hold)."""
        return self.use_cases().reviews.undo_decision(self.auth.from_context(*STAFF), package_id)

    @rpc(https=True)
    def decline_reject(self, package_id, note=None):
        return self.use_cases().reviews.decline_reject(self.auth.from_context(*STAFF), package_id, note)

    @rpc(https=True)
    def return_materials(self, package_id, items, respond_by=None, checklist=None):
        """`items`: [{"material_type", "reason" (a code, {"code", "text"} or {"codes": [...],
        "text"}), "image_ids" (optional: only these images of the type)}]."""
        principal = self.auth.from_context(*STAFF)
        return self.use_cases().reviews.return_materials(principal, package_id, items, respond_by, checklist)

    @rpc(https=True)
    def add_note(self, package_id, text):
        """An internal note for the package's other reviewers; never shown to the candidate."""
        return self.use_cases().reviews.add_note(self.auth.from_context(*STAFF), package_id, text)

    @rpc(https=True)
    def stats(self, region=None, site=None):
        return self.use_cases().reviews.stats(self.auth.from_context(*STAFF), region, site)

    @rpc(https=True)
    def overview(self, region=None, site=None, days=14):
        """Administrators' overview: per-site counts, per-day flow, medians, reasons."""
        return self.use_cases().admin.overview(self.auth.from_context("admin"), region, site, days)

    @rpc
    def site_review_times(self, sites, days=7):
        """For materials only (a service token; not served over HTTPS): each site's mean time
        from first submission to first decision over the last `days` days, for candidates'
        pages ("本考点近7天平均审核用时"); materials never reads review's tallies itself."""
        self.auth.from_context("service")
        return self.use_cases().admin.site_review_times(sites, arguments.integer(days, "days"))

    @rpc(https=True)
    def export_outcomes(self, site=None, format="xlsx", region=None, since=None, until=None, status=None):
        """A site's or the whole scope's outcomes as an XLSX or CSV file (base64): Beijing
        times, names not codes, ID numbers masked; by submission dates and status; audited."""
        return self.use_cases().admin.export(self.auth.from_context("admin"), site, format, region,
                                             since, until, status)

    @rpc(https=True)
    def audit(self, package_id):
        return self.use_cases().reviews.audit_trail(self.auth.from_context("admin"), package_id)

    @rpc(https=True)
    def reasons(self):
        """The return-reason catalogue, for reviewers' tools."""
        self.auth.from_context(*STAFF)
        return views.reasons()

    @rpc(https=True)
    def labels(self):
        """The names of review's statuses, flags, attempt filters and actions, for staff
        tools' filters and counts (the data carries its own names besides)."""
        self.auth.from_context(*STAFF)
        return views.labels()

    # -- events consumed (DESIGN §6); each idempotent on event_id (see ingest.py) ---------------
    @event_handler("materials", "PackageSubmitted")
    def on_package_submitted(self, payload):
        self.use_cases().ingest.submitted(payload)

    @event_handler("materials", "SubmissionWithdrawn")
    def on_submission_withdrawn(self, payload):
        self.use_cases().ingest.withdrawn(payload)

    @event_handler("materials", "PackageReopened")
    def on_package_reopened(self, payload):
        self.use_cases().ingest.reopened(payload)

    @event_handler("materials", "MaterialUploaded")
    def on_material_uploaded(self, payload):
        self.use_cases().ingest.uploaded(payload)

    @event_handler("materials", "MaterialUploaded", prefetch=reader.prefetch)
    def read_id_card(self, payload):
        """The OCR cross-check of an ID card image (issue 21), on its own queue so that
        reading never holds up the image metadata above, and with a prefetch of its
        own so that a backlog waits in the broker."""
        self.use_cases().id_checks.uploaded(payload)

    @event_handler("materials", "MaterialDeleted")
    def on_material_deleted(self, payload):
        self.use_cases().ingest.deleted(payload)

    @event_handler("auth", "CandidateProfileChanged")
    def on_profile_changed(self, payload):
        self.use_cases().ingest.profile_changed(payload)
