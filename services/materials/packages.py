"""The candidate's package, use case by use case.

service.py turns HTTP and events into calls here; this module combines the rules of
domain.py with the repository (guarded updates), the image store and intake.
"""
import logging
import time
import uuid

from eventlet import tpool

from common import errors
from services.materials import domain, intake
from services.materials.regions import RegionCache
from services.materials.repository import PackageRepository
from services.materials.review_times import ReviewTimes
from services.materials.storage import StorageTimeout

log = logging.getLogger(__name__)

UPLOAD_RATE_WINDOW_S = 60
UPLOADS_PER_WINDOW = 30
ORPHAN_AGE_S = 600
REPEATED_MESSAGE = ("重新上传的图片与被退回的图片相同（同一文件或同一图片的副本），"
                    "请重新拍摄或扫描后上传，再提交")


def limits_for(rules):
    values = {"max_bytes": rules.max_bytes, "min_short_side": rules.min_short_side,
              "max_pixels": rules.max_pixels}
    if rules.min_sharpness is not None:
        values["min_sharpness"] = rules.min_sharpness
    return intake.IntakeLimits(**values)


class Packages:
    def __init__(self, repo: PackageRepository, images, catalogue, regions: RegionCache,
                 review_times: ReviewTimes = None):
        self.repo = repo
        self.images = images
        self.catalogue = catalogue
        self.regions = regions
        self.review_times = review_times or ReviewTimes()

    # -- reading ------------------------------------------------------------------------------
    def rules(self, region):
        return self.regions.get(self.repo, region)

    def package_for(self, principal):
        """The candidate's package for their exam year, created on first sight."""
        exam_year = principal.claims.get("exam_year")
        package = self.repo.get(domain.package_id_for(principal.sub, exam_year))
        if package is not None:
            return package  # profile changes reach existing packages through events
        profile = self._profile(principal)
        rules = self.rules(profile["region"])
        return self.repo.create(domain.new_package(profile, rules, self.catalogue, domain.utcnow()))

    def _profile(self, principal):
        claims = principal.claims
        profile = {"candidate_id": principal.sub, "exam_year": claims.get("exam_year"),
                   "name": claims.get("name", ""), "region": principal.region,
                   "site": (principal.sites or [None])[0], "category": claims.get("category")}
        if not all(profile[k] for k in ("exam_year", "region", "site", "category")):
            raise errors.Forbidden("账号缺少报考信息，请联系考点")
        # The registration system may have changed the profile since the token was issued.
        known = self.repo.get_profile(principal.sub)
        if known:
            profile.update({k: known[k] for k in ("region", "site", "category") if k in known})
        return profile

    def view(self, principal):
        package = self.package_for(principal)
        view = domain.view(package, self.catalogue, self.rules(package["region"]), domain.utcnow())
        # What review says of the site's pace, as last learnt (review_times.py); None until then.
        view["site_review_time"] = self.review_times.of(package["site"])
        return view

    def refresh_review_times(self, review_rpc):
        self.review_times.refresh(lambda sites: review_rpc.site_review_times(sites=sites))

    def catalogue_view(self):
        return {"types": [{
            "material_type": t.code, "name": t.name, "requirements": t.requirements,
            "min_count": t.min_count, "max_count": t.max_count,
            "required_by_default": t.code in self.catalogue.required,
            "example_url": f"/examples/{t.code}.svg"} for t in self.catalogue.types.values()],
            "rules": {"formats": ["jpg", "jpeg", "png"], "max_bytes": self.catalogue.limits["max_bytes"],
                      "orientation": "正向，不得翻转或旋转", "legibility": "清晰可辨"},
            "consent_notice_version": self.catalogue.consent_notice_version,
            "categories": [{"code": code, "name": name} for code, name in self.catalogue.categories.items()]}

    # -- consent -------------------------------------------------------------------------------
    def consent(self, principal, notice_version):
        if notice_version != self.catalogue.consent_notice_version:
            raise errors.ValidationError("告知书版本不符，请刷新页面后重新阅读")
        package = self.package_for(principal)
        self.repo.record_consent(package["_id"], notice_version)
        return self.view(principal)

    # -- uploading -----------------------------------------------------------------------------
    def prepare_upload(self, principal, material_type):
        """Every refusal that needs no image bytes; returns (package, rules)."""
        self.catalogue.get(material_type)
        package = self.package_for(principal)
        rules = self.rules(package["region"])
        rules.check_edits_allowed(domain.utcnow())
        if not domain.consented(package, self.catalogue):
            raise errors.ConsentRequired()
        if not domain.takes_another_image(package, material_type):
            raise domain.refusal(package, material_type, upload=True)
        uploads, now = self.repo.uploads(UPLOADS_PER_WINDOW, UPLOAD_RATE_WINDOW_S), time.time()
        if not uploads.take(principal.sub, now):  # at the limit, or (None) lost its last slots to parallel uploads
            raise errors.RateLimited("上传过于频繁，请稍后再试", retry_after=uploads.retry_after(principal.sub, now))
        return package, rules

    def store_upload(self, package, rules, material_type, data):
        accepted = self._inspect(data, rules)
        image_id = uuid.uuid4().hex
        key = domain.object_key(package, material_type, image_id, accepted.extension)
        if not self.repo.reserve_upload(package["_id"], material_type, image_id, key):
            raise domain.refusal(self.repo.get(package["_id"]), material_type, upload=True)
        try:
            self.images.put(key, accepted.data, accepted.content_type)
        except StorageTimeout:
            raise  # the object may yet appear: the pending note stays for the orphan sweeper
        except Exception:
            self.repo.release_pending(package["_id"], image_id)
            raise
        image = {"image_id": image_id, "key": key, "format": accepted.format,
                 "content_type": accepted.content_type, "bytes": len(accepted.data),
                 "width": accepted.width, "height": accepted.height, "sha256": accepted.sha256,
                 "sharpness": round(accepted.sharpness, 2), "phash": accepted.phash,
                 "dhash": accepted.dhash, "uploaded_at": domain.iso(domain.utcnow())}
        updated = self.repo.add_image(package, material_type, image,
                                      domain.uploaded_event(package, material_type, image))
        if updated is None:
            # Lost a race (slot taken, package submitted): the object goes, then the note.
            self.images.remove(key)
            self.repo.release_pending(package["_id"], image_id)
            raise domain.refusal(self.repo.get(package["_id"]), material_type, upload=True)
        # Judged on the package the upload was checked against: a return arriving meanwhile
        # is impossible (the package was editable, so not under review).
        return domain.image_view(updated, material_type, image, False,
                                 domain.repeats_returned(package, material_type, image))

    @staticmethod
    def _inspect(data, rules):
        try:
            # CPU-bound: off the event loop so heartbeats and other requests go on.
            return tpool.execute(intake.inspect_image, data, limits_for(rules))
        except intake.IntakeRefused as refused:
            raise errors.HTTP_CODES[refused.code](refused.message) from None

    # -- deleting and reading images ------------------------------------------------------------
    def delete_image(self, principal, material_type, image_id):
        self._check_image_id(image_id)
        package = self.package_for(principal)
        image = self._own_image(package, material_type, image_id)
        self.rules(package["region"]).check_edits_allowed(domain.utcnow())
        if image_id in (package["items"][material_type].get("kept") or ()):
            # the reviewer returned other images of this type, not this one
            raise errors.ItemLocked("该图片未被退回，无需更换")
        updated, retained = self.repo.remove_image(
            package["_id"], material_type, image_id, lambda pkg: domain.deleted_event(pkg, material_type, image_id))
        if updated is None:
            raise domain.refusal(self.repo.get(package["_id"]), material_type, image_id)
        if retained:
            return  # gone for the candidate; the reviewer's comparison keeps the object a while
        self.images.remove(image["key"])
        self.repo.release_pending(package["_id"], image_id)

    def read_image(self, principal, material_type, image_id):
        self._check_image_id(image_id)
        package = self.package_for(principal)
        image = self._own_image(package, material_type, image_id)
        return image, self.images.get(image["key"], image["sha256"])

    def _own_image(self, package, material_type, image_id):
        image = package["items"].get(material_type, {}).get("images", {}).get(image_id)
        if image is None:
            # 404 whether it exists elsewhere or not: ids are never confirmed.
            log.warning("image not found in candidate's own package",
                        extra={"package_id": package["_id"], "image_id": image_id[:32]})
            raise errors.NotFound("没有该图片")
        return image

    @staticmethod
    def _check_image_id(image_id):
        if not domain.IMAGE_ID.match(image_id or ""):
            raise errors.NotFound("没有该图片")

    # -- submitting and withdrawing --------------------------------------------------------------
    def submit(self, principal):
        package = self.package_for(principal)
        if package["status"] in domain.UNDER_REVIEW:
            return self.view(principal)  # a double click: already submitted, once
        rules = self.rules(package["region"])
        rules.check_edits_allowed(domain.utcnow())
        for _ in range(5):
            if package["status"] not in domain.EDITABLE:
                raise errors.PackageLocked()
            short = domain.missing(package)
            if short:
                raise errors.MissingMaterials(missing=[
                    dict(m, name=self.catalogue.types[m["material_type"]].name) for m in short])
            unchanged = domain.unchanged_returns(package)
            if unchanged:
                again = domain.sent_again(package)
                raise errors.ReturnedUnchanged(REPEATED_MESSAGE if again else None, returned_unchanged=[
                    {"material_type": code, "name": self.catalogue.types[code].name} for code in unchanged])
            if self.repo.submit(package, self._submitted_event) is not None:
                return self.view(principal)
            package = self.repo.get(package["_id"])  # changed meanwhile: judge again
            if package["status"] in domain.UNDER_REVIEW:
                return self.view(principal)
        raise errors.Conflict()

    def _submitted_event(self, package, attempt):
        return domain.submitted_event(package, attempt, self.catalogue)

    def withdraw(self, principal):
        package = self.package_for(principal)
        if package["status"] == domain.DRAFT:
            return self.view(principal)
        if package["status"] != domain.SUBMITTED:
            raise errors.PackageLocked("审核已开始，不能撤回")
        self.rules(package["region"]).check_edits_allowed(domain.utcnow())
        if self.repo.withdraw(package, domain.withdrawn_event) is None:
            current = self.repo.get(package["_id"])
            if current["status"] != domain.DRAFT:
                raise errors.PackageLocked("审核已开始，不能撤回")
        return self.view(principal)

    # -- review outcomes ------------------------------------------------------------------------
    def review_started(self, event):
        self.repo.apply_review_event(event, (domain.SUBMITTED,), {"status": domain.IN_REVIEW},
                                     "review_started")

    def materials_returned(self, event):
        package = self.repo.get(event["package_id"])
        if package is None:
            return
        sets = {"status": domain.RETURNED, "respond_by": event.get("respond_by"),
                "feedback": {"decision": "returned", "items": event["items"],
                             "respond_by": event.get("respond_by"), "at": event["occurred_at"]}}
        sets.update(domain.returned_sets(package, event["items"]))
        self.repo.apply_review_event(event, domain.UNDER_REVIEW, sets, "returned")

    def approved(self, event):
        self.repo.apply_review_event(event, domain.UNDER_REVIEW, {
            "status": domain.APPROVED, "feedback": {"decision": "approved", "at": event["occurred_at"]}},
            "approved")

    def rejected(self, event):
        self.repo.apply_review_event(event, domain.UNDER_REVIEW, {
            "status": domain.REJECTED,
            "feedback": {"decision": "rejected", "reason": event["reason"], "at": event["occurred_at"]}},
            "rejected")

    # -- the registration system changed the candidate's profile --------------------------------
    def profile_changed(self, event):
        candidate_id = event["candidate_id"]
        fields = {"region": event["region"], "site": event["site"], "category": event["category"]}
        self.repo.save_profile(candidate_id, fields, event["occurred_at"])
        for _ in range(5):
            package = self.repo.latest_package_of(candidate_id)
            if package is None or event["event_id"] in package.get("applied_events", []):
                return
            sets, events = self._reopen_change(package, fields)
            if self.repo.reopen(package, sets, events, event["event_id"]) is not None:
                return
        raise errors.Conflict("package kept changing while applying a profile change")

    def _reopen_change(self, package, fields):
        needs = self.rules(fields["region"]).requirements(self.catalogue, fields["category"])
        updates, reopened = domain.reopen_plan(package, needs)
        sets, reopens = domain.reopened_sets(package, dict(fields, **updates), reopened,
                                             domain.utcnow())
        if not reopens:
            return sets, []
        return sets, [domain.reopened_event(package, fields["site"], fields["region"], reopened,
                                            self.catalogue)]

    # -- retention (DESIGN §8) ---------------------------------------------------------------
    def purge_exam_year(self, exam_year, current_year):
        """Delete every image and package of a closed exam year: objects first, so a
        crash leaves packages to retry, never objects nobody points to."""
        if exam_year >= current_year:
            raise errors.ValidationError("只能清除已结束考试年度的数据")
        removed = {"packages": 0, "images": 0}
        while True:
            batch = self.repo.packages_of_year(exam_year)
            if not batch:
                return removed
            for package in batch:
                keys = [image["key"] for item in package["items"].values()
                        for image in item["images"].values()]
                keys += [entry["key"] for entry in (package.get("pending") or {}).values()]
                keys += [entry["key"] for entry in (package.get("retained") or {}).values()]
                for key in keys:
                    self.images.remove(key)
                self.repo.delete_package(package["_id"])
                removed["packages"] += 1
                removed["images"] += len(keys)

    # -- housekeeping ----------------------------------------------------------------------------
    def purge_upload_counts(self, now=None):
        """Drop upload-limit records nobody can hit any more (no TTL indexes: common/mongo.py)."""
        self.repo.purge_counters(time.time() if now is None else now)

    def sweep_orphans(self, now=None):
        """Objects written for uploads that never got their record (a crash between the two),
        objects whose record is gone but the object outlived it, and returned images the
        candidate deleted, kept for the reviewer until their package became final."""
        now = now or time.time()
        swept = 0
        for package_id, image_id, key in list(self.repo.stale_pending(now - ORPHAN_AGE_S)):
            if key not in self.repo.image_keys(package_id):
                self.images.remove(key)
            self.repo.release_pending(package_id, image_id)
            swept += 1
        for package_id, image_id, key in list(self.repo.retained_done()):
            self.images.remove(key)  # object first: a crash between leaves the entry to retry
            self.repo.release_retained(package_id, image_id)
            swept += 1
        return swept

