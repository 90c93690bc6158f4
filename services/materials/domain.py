"""Materials rules, free of I/O: the catalogue, region rules, the package state machine.

Package states (DESIGN §3):

    draft --submit--> submitted --ReviewStarted--> in_review --> approved | rejected | returned
    submitted --withdraw--> draft            returned --submit--> submitted (attempt + 1)
    submitted | in_review | returned | approved --profile change needing more--> returned

The repository enforces each transition in the database: every change is one
`find_one_and_update` whose filter is the guard this module defines (`EDITABLE`, the
lock and count conditions). When a guarded update matches nothing, `refusal()` reads the
package as it now is and names the reason the candidate gets.
"""
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from common import errors
from common.categories import NAMES as category_names
from common.clock import iso, parse_beijing, utcnow  # noqa: F401 (domain.iso, domain.utcnow)
from common.phash import same_picture
from common.events import (
    MaterialDeleted, MaterialUploaded, PackageReopened, PackageSubmitted, SubmissionWithdrawn)

DRAFT, SUBMITTED, IN_REVIEW = "draft", "submitted", "in_review"
APPROVED, REJECTED, RETURNED = "approved", "rejected", "returned"
EDITABLE = (DRAFT, RETURNED)
UNDER_REVIEW = (SUBMITTED, IN_REVIEW)
FINAL = (APPROVED, REJECTED)
REOPENABLE = (SUBMITTED, IN_REVIEW, RETURNED, APPROVED)
# What the candidate's page shows for each status.
STATUS_NAMES = {DRAFT: "未提交", SUBMITTED: "已提交待审核", IN_REVIEW: "审核中",
                RETURNED: "已退回待补正", APPROVED: "审核通过", REJECTED: "审核不通过"}
MATERIAL_TYPE = re.compile(r"^[a-z][a-z_]{1,39}$")
IMAGE_ID = re.compile(r"^[0-9a-f]{32}$")
CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
DEFAULT_RESPOND_DAYS = 7  # what the staff page assumes too (web/staff/js/reference.js)
# What an administrator may set, each with its bounds (checked by validate_region_config).
REGION_KEYS = ("name", "upload_enabled", "window", "max_bytes", "min_short_side", "max_pixels",
               "min_sharpness", "sites", "categories", "respond_days", "contact", "notice", "checklists")
MAX_CHECKS, MAX_CHECK_TEXT = 8, 40  # a reviewer's checklist per material type
TEXT_LIMITS = {"contact": 200, "notice": 500}


# -- the catalogue ------------------------------------------------------------------------
@dataclass(frozen=True)
class MaterialType:
    code: str
    name: str
    requirements: str
    min_count: int
    max_count: int


@dataclass(frozen=True)
class Catalogue:
    types: dict
    required: tuple
    optional: tuple
    limits: dict
    consent_notice_version: str
    # exam category code -> Chinese name: the national list every service shares
    categories: dict = field(default_factory=lambda: dict(category_names))

    @classmethod
    def load(cls, path=CATALOGUE_FILE):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        types = {t["code"]: MaterialType(**t) for t in data["types"]}
        return cls(types=types, required=tuple(data["national_default"]["required"]),
                   optional=tuple(data["national_default"]["optional"]),
                   limits=data["limits"], consent_notice_version=data["consent_notice_version"])

    def names_of(self, codes):
        """{code: Chinese name} of the types named, for events (notify shows the names)."""
        return {code: self.types[code].name for code in codes if code in self.types}

    def get(self, code):
        if not isinstance(code, str) or not MATERIAL_TYPE.match(code) or code not in self.types:
            raise errors.NotFound("没有该类材料")
        return self.types[code]


# -- region rules -------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionRules:
    region: str
    version: int = 0
    name: str = ""
    upload_enabled: bool = False
    window_start: str | None = None
    window_end: str | None = None
    max_bytes: int = 204_800
    min_short_side: int = 600
    max_pixels: int = 40_000_000
    min_sharpness: float | None = None
    sites: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)  # category -> {"required": [...], "optional": [...]}
    respond_days: int = DEFAULT_RESPOND_DAYS  # a return's deadline when the reviewer names none
    # What candidates read when they cannot upload here (uploading off, window closed):
    # the region's own words and whom to ask.
    contact: str = ""
    notice: str = ""
    # What reviewers tick per material type while reviewing ("姓名一致", "印章清晰"), kept
    # with their decision in review: {material_type: [item, ...]}.
    checklists: dict = field(default_factory=dict)

    def window_open(self, now):
        if not (self.window_start and self.window_end):
            return False
        return parse_beijing(self.window_start) <= now <= parse_beijing(self.window_end)

    def check_edits_allowed(self, now):
        if not self.upload_enabled:
            raise errors.UploadDisabled()
        if not self.window_open(now):
            raise errors.UploadClosed()

    def requirements(self, catalogue, category):
        """{type: {"required", "min", "max"}} for a candidate of `category` here."""
        rule = self.categories.get(category) or {}
        required = set(catalogue.required) | set(rule.get("required", ()))
        optional = (set(catalogue.optional) | set(rule.get("optional", ()))) - required
        needs = {}
        for code in catalogue.types:
            if code in required or code in optional:
                t = catalogue.types[code]
                needs[code] = {"required": code in required,
                               "min": max(t.min_count, 1) if code in required else 0,
                               "max": t.max_count}
        return needs


def validate_region_config(region, config, catalogue):
    """Check an admin's region configuration; returns the normalised settings."""
    if not re.fullmatch(r"\d{2}", str(region)):
        raise errors.ValidationError("考区代码须为两位数字")
    if not isinstance(config, dict):
        raise errors.ValidationError("配置须为对象")
    unknown = set(config) - set(REGION_KEYS)
    if unknown:
        raise errors.ValidationError(f"未知配置项: {', '.join(sorted(unknown))}")
    out = {"name": str(config.get("name", ""))[:20],
           "upload_enabled": bool(config.get("upload_enabled", False))}
    window = config.get("window") or {}
    try:
        start, end = parse_beijing(window["start"]), parse_beijing(window["end"])
    except (KeyError, TypeError, ValueError):
        raise errors.ValidationError("上传时间窗须包含有效的 start 和 end") from None
    if end <= start:
        raise errors.ValidationError("上传时间窗的结束须晚于开始")
    out["window"] = {"start": start.isoformat(), "end": end.isoformat()}
    for key, low, high in (("max_bytes", 10_240, 10_485_760), ("min_short_side", 100, 4000),
                           ("max_pixels", 100_000, 100_000_000)):
        value = config.get(key, catalogue.limits[key])
        if not isinstance(value, int) or not low <= value <= high:
            raise errors.ValidationError(f"{key} 须为 {low}–{high} 之间的整数")
        out[key] = value
    if config.get("min_sharpness") is not None:
        if not isinstance(config["min_sharpness"], (int, float)) or config["min_sharpness"] < 0:
            raise errors.ValidationError("min_sharpness 须为非负数")
        out["min_sharpness"] = float(config["min_sharpness"])
    sites = config.get("sites") or {}
    if not isinstance(sites, dict) or not all(
            re.fullmatch(r"\d{4}", s) and s.startswith(region) for s in sites):
        raise errors.ValidationError("考点代码须为本考区的四位代码")
    out["sites"] = {s: str(n)[:20] for s, n in sites.items()}
    out["categories"] = _validate_categories(config.get("categories") or {}, catalogue)
    respond_days = config.get("respond_days", DEFAULT_RESPOND_DAYS)
    if not isinstance(respond_days, int) or isinstance(respond_days, bool) or not 1 <= respond_days <= 60:
        raise errors.ValidationError("补正期限（respond_days）须为 1–60 之间的整数天数")
    out["respond_days"] = respond_days
    for key, limit in TEXT_LIMITS.items():
        text = config.get(key) or ""
        if not isinstance(text, str) or len(text.strip()) > limit:
            raise errors.ValidationError(f"{key} 须为不超过 {limit} 字的文字")
        out[key] = text.strip()
    out["checklists"] = _validate_checklists(config.get("checklists") or {}, catalogue)
    return out


def _validate_checklists(checklists, catalogue):
    """{material_type: [item]}: catalogue types, at most MAX_CHECKS distinct short items each."""
    if not isinstance(checklists, dict):
        raise errors.ValidationError("checklists 须为对象（材料类型 → 核对项列表）")
    out = {}
    for code, items in checklists.items():
        if code not in catalogue.types:
            raise errors.ValidationError(f"核对清单中的材料类型未知: {str(code)[:40]}")
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise errors.ValidationError(f"{catalogue.types[code].name}的核对清单须为文字列表")
        cleaned = [i.strip() for i in items if i.strip()]
        if (len(cleaned) > MAX_CHECKS or len(set(cleaned)) != len(cleaned)
                or any(len(i) > MAX_CHECK_TEXT for i in cleaned)):
            raise errors.ValidationError(
                f"{catalogue.types[code].name}的核对清单至多 {MAX_CHECKS} 项，不可重复，每项不超过 {MAX_CHECK_TEXT} 字")
        if cleaned:
            out[code] = cleaned
    return out


def check_version(expected, current):
    """Optimistic concurrency: an edit made on an older version than the stored one is
    refused, so one administrator never silently overwrites another's change."""
    if expected is None:
        return
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
        raise errors.ValidationError("expected_version 须为非负整数")
    if expected != current:
        raise errors.Conflict(f"考区配置已被他人修改（当前为第 {current} 版，您编辑的是第 {expected} 版），"
                              "请刷新后在最新版本上修改")


def settings_diff(before, after, prefix=""):
    """[{"field", "before", "after"}] for every setting that differs, nested keys dotted
    (`window.end`, `categories.integrated_practitioner.required`)."""
    before, after = before or {}, after or {}
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        name = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict) or (old is None and isinstance(new, dict)) \
                or (new is None and isinstance(old, dict)):
            changes.extend(settings_diff(old, new, f"{name}."))
        elif old != new:
            changes.append({"field": name, "before": old, "after": new})
    return changes


def settings_of(doc):
    """The administrator-set part of a stored region document."""
    return {key: doc[key] for key in REGION_KEYS if key in (doc or {})}


def _validate_categories(categories, catalogue):
    if not isinstance(categories, dict):
        raise errors.ValidationError("categories 须为对象")
    out = {}
    for category, rule in categories.items():
        required = list((rule or {}).get("required", []))
        optional = list((rule or {}).get("optional", []))
        for code in required + optional:
            if code not in catalogue.types:
                raise errors.ValidationError(f"未知材料类型: {code}")
        dropped = sorted(set(catalogue.required) - set(required))
        if required and dropped:
            # A region may add requirements but never drop a national one.
            raise errors.ValidationError(f"考区不得减少国家规定的必传材料: {', '.join(dropped)}")
        out[category] = {"required": sorted(set(required) | set(catalogue.required)),
                         "optional": sorted(set(optional) - set(required))}
    return out


# -- the package --------------------------------------------------------------------------
def package_id_for(candidate_id, exam_year):
    return f"{candidate_id}-{exam_year}"


def new_package(profile, rules, catalogue, now):
    needs = rules.requirements(catalogue, profile["category"])
    return {
        "_id": package_id_for(profile["candidate_id"], profile["exam_year"]),
        "candidate_id": profile["candidate_id"], "exam_year": profile["exam_year"],
        "name": profile.get("name", ""), "region": profile["region"], "site": profile["site"],
        "category": profile["category"], "status": DRAFT, "attempt": 1,
        "rules_version": rules.version, "consent": None, "feedback": None, "version": 0,
        "items": {code: _new_item(need) for code, need in needs.items()},
        "created_at": iso(now), "updated_at": iso(now), "history": [],
        "applied_events": [], "outbox_n": 0, "pending_n": 0,
    }


def _new_item(need):
    return {"required": need["required"], "min": need["min"], "max": need["max"],
            "locked": False, "reason": None, "count": 0, "images": {}}


def missing(package):
    """Required types short of their minimum, for `missing_materials` and the page."""
    return [{"material_type": code, "min_count": item["min"], "count": item["count"]}
            for code, item in package["items"].items() if item["count"] < item["min"]]


def unchanged_returns(package):
    """Returned types that still hold the images they were returned with, by image id or
    by content (the same bytes or the same picture again, common/phash.py); for a return
    that named single images, those images (the type's others stay locked): sending them
    back unchanged would waste a review (`returned_unchanged`, DESIGN §4)."""
    return [code for code in returned_types(package) if _unchanged(package["items"][code])]


def _unchanged(item):
    if _holds_returned_ids(item):
        return True
    if item.get("kept"):
        kept = set(item["kept"])
        new = [image for image_id, image in item["images"].items() if image_id not in kept]
        pictures = item.get("returned_pictures") or ()
        return bool(new) and all(any(same_picture(image, old) for old in pictures) for image in new)
    return repeated_pictures(item)


def _holds_returned_ids(item):
    returned = item.get("returned_images") or []
    if item.get("kept"):
        return bool(set(returned) & set(item["images"]))
    return sorted(item["images"]) == returned


def repeated_pictures(item):
    """Whether the type's images, though uploaded anew, are the returned pictures again:
    each image one of them, and each of them there (one of two sides replaced, or a page
    added or removed, is a change). A return from before the pictures were kept has
    none: only its image ids count."""
    pictures = item.get("returned_pictures") or ()
    images = list(item["images"].values())
    if not pictures or not images:
        return False
    return (all(any(same_picture(image, old) for old in pictures) for image in images)
            and all(any(same_picture(image, old) for image in images) for old in pictures))


def sent_again(package):
    """The unchanged returned types whose images were uploaded anew: the returned pictures
    sent again, which the candidate is told to photograph or scan afresh."""
    return [code for code in unchanged_returns(package)
            if not _holds_returned_ids(package["items"][code])]


def repeats_returned(package, material_type, image):
    """Whether `image`, uploaded after a return, is a picture returned with its type: the
    page tells the candidate at once, before a submit is refused."""
    if material_type not in returned_types(package):
        return False
    item = package["items"][material_type]
    if image["image_id"] in (item.get("returned_images") or ()):
        return False  # the returned image itself, not a repeat of it
    return any(same_picture(image, old) for old in item.get("returned_pictures") or ())


def returned_types(package):
    """The types the reviewer's latest return names (a reopening by a category or site
    change asks for new types instead, which `missing` already covers)."""
    feedback = package.get("feedback") or {}
    if package["status"] != RETURNED or feedback.get("decision") != "returned":
        return []
    return [entry["material_type"] for entry in feedback.get("items", ())
            if entry["material_type"] in package["items"]]


def returned_sets(package, items):
    """The update a return makes to the package's items: unlocked, the reviewer's reason,
    and which images they held, by id and by content (to tell a replaced type from an
    unchanged one, also once the candidate deleted them)."""
    sets = {}
    for entry in items:
        item = package["items"].get(entry["material_type"])
        if item is not None:
            code = entry["material_type"]
            named = [i for i in entry.get("image_ids") or () if i in item["images"]]
            sets[f"items.{code}.locked"] = False
            sets[f"items.{code}.reason"] = entry["reason"]
            sets[f"items.{code}.reason_code"] = entry.get("reason_code")  # None from older events
            # A return may name single images: only those are to be replaced, the others
            # stay locked (`kept`); otherwise every image of the type was returned.
            returned = sorted(named or item["images"])
            sets[f"items.{code}.returned_images"] = returned
            sets[f"items.{code}.kept"] = sorted(set(item["images"]) - set(named)) if named else []
            sets[f"items.{code}.returned_pictures"] = [
                {key: item["images"][image_id].get(key) for key in ("image_id", "sha256", "phash", "dhash")}
                for image_id in returned]
    return sets


def consented(package, catalogue):
    """Whether the candidate accepted the notice now in force (DESIGN §8)."""
    consent = package.get("consent")
    return bool(consent) and consent.get("notice_version") == catalogue.consent_notice_version


def takes_another_image(package, material_type):
    """Whether an upload of `material_type` may go in: the package is editable and the
    item exists, is unlocked and has a free slot (otherwise `refusal` says why not)."""
    item = package["items"].get(material_type)
    return (item is not None and package["status"] in EDITABLE and not item["locked"]
            and item["count"] < item["max"])


def refusal(package, material_type=None, image_id=None, upload=False):
    """Why a guarded candidate edit matched nothing, judged on the package as it is now."""
    if package is None:
        return errors.NotFound()
    if material_type is not None and material_type not in package["items"]:
        return errors.NotFound("没有该类材料")
    item = package["items"].get(material_type) if material_type else None
    if image_id is not None and (item is None or image_id not in item["images"]):
        return errors.NotFound("没有该图片")
    if package["status"] not in EDITABLE:
        return errors.PackageLocked()
    if item is not None and item["locked"]:
        return errors.ItemLocked()
    if upload and item is not None and item["count"] >= item["max"]:
        return errors.SlotFull(f"该类材料最多上传{item['max']}张，请先删除再上传")
    return errors.Conflict()


def reopen_plan(package, needs):
    """What a profile change does to a package: item updates, newly required types.

    Types newly required (absent, or optional before) are unlocked; nothing already
    there is removed (images of types no longer needed stay, just not required)."""
    updates, reopened = {}, []
    for code, need in needs.items():
        item = package["items"].get(code)
        if item is None:
            updates[f"items.{code}"] = _new_item(need)
            if need["required"]:
                reopened.append(code)
            continue
        if (item["required"], item["min"], item["max"]) != (need["required"], need["min"], need["max"]):
            updates[f"items.{code}.required"] = need["required"]
            updates[f"items.{code}.min"] = need["min"]
            updates[f"items.{code}.max"] = need["max"]
            if need["required"] and not item["required"] and item["count"] < need["min"]:
                reopened.append(code)
    for code, item in package["items"].items():
        if code not in needs and item["required"]:
            updates[f"items.{code}.required"] = False
            updates[f"items.{code}.min"] = 0
    return updates, reopened


REOPEN_REASON = "报考信息变更，请补充此项材料"


def reopened_sets(package, sets, reopened, now):
    """`sets` (a profile change and its `reopen_plan` updates) plus, when `reopened` types
    reach a package past drafting, its return to the candidate: status `returned`, the
    reason on each reopened item, the feedback the page shows. Returns (sets, whether
    the package was reopened, so a `PackageReopened` is due)."""
    if not reopened or package["status"] not in REOPENABLE:
        return sets, False
    sets = dict(sets, status=RETURNED)
    for code in reopened:
        if f"items.{code}" in sets:
            sets[f"items.{code}"] = dict(sets[f"items.{code}"], reason=REOPEN_REASON)
        else:
            sets[f"items.{code}.locked"] = False
            sets[f"items.{code}.reason"] = REOPEN_REASON
            sets[f"items.{code}.reason_code"] = None  # not a reviewer's: no earlier code applies
    sets["feedback"] = {"decision": "reopened", "items": [
        {"material_type": code, "reason": REOPEN_REASON} for code in reopened], "at": iso(now)}
    return sets, True


# -- events -------------------------------------------------------------------------------
def uploaded_event(package, material_type, image):
    return MaterialUploaded(
        package_id=package["_id"], candidate_id=package["candidate_id"], region=package["region"],
        site=package["site"], material_type=material_type, image_id=image["image_id"],
        sha256=image["sha256"], bytes=image["bytes"], format=image["format"],
        width=image["width"], height=image["height"], sharpness=image["sharpness"],
        phash=image["phash"])


def deleted_event(package, material_type, image_id):
    return MaterialDeleted(package_id=package["_id"], candidate_id=package["candidate_id"],
                           material_type=material_type, image_id=image_id)


def submitted_event(package, attempt, catalogue):
    items = [{"material_type": code, "image_ids": sorted(item["images"])}
             for code, item in sorted(package["items"].items()) if item["images"]]
    return PackageSubmitted(
        package_id=package["_id"], candidate_id=package["candidate_id"], region=package["region"],
        site=package["site"], category=package["category"], attempt=attempt, items=items,
        type_names=catalogue.names_of(package["items"]))


def withdrawn_event(package):
    return SubmissionWithdrawn(package_id=package["_id"], candidate_id=package["candidate_id"],
                               region=package["region"], site=package["site"],
                               attempt=package["attempt"])


def reopened_event(package, site, region, types, catalogue):
    return PackageReopened(package_id=package["_id"], candidate_id=package["candidate_id"],
                           region=region, site=site, attempt=package["attempt"],
                           items=sorted(types), reason="报考信息变更，需补充材料",
                           type_names=catalogue.names_of(types))


# -- the candidate's view -------------------------------------------------------------------
def view(package, catalogue, rules, now):
    """The body of GET /api/v1/package (DESIGN §4)."""
    short = {m["material_type"] for m in missing(package)}
    unchanged = set(unchanged_returns(package))
    returned = set(returned_types(package))
    editable = package["status"] in EDITABLE
    items = []
    for code, item in package["items"].items():
        t = catalogue.types[code]
        items.append({
            "material_type": code, "name": t.name, "requirements": t.requirements,
            "required": item["required"], "min_count": item["min"], "max_count": item["max"],
            "count": item["count"], "locked": item["locked"] or not editable,
            "reason": item.get("reason"), "reason_code": item.get("reason_code"),
            "example_url": f"/examples/{code}.svg",
            # a returned type: still as returned (to fix) or its images replaced
            "returned": code in returned, "replaced": code in returned and code not in unchanged,
            # a return naming single images keeps the type's others (`kept`) locked
            "images": [image_view(package, code, image, item["locked"] or not editable
                                  or image["image_id"] in (item.get("kept") or ()),
                                  repeats_returned(package, code, image))
                       for image in sorted(item["images"].values(), key=lambda i: i["uploaded_at"])],
        })
    items.sort(key=lambda i: (not i["required"], list(catalogue.types).index(i["material_type"])))
    window_open = rules.window_open(now)
    return {
        "package_id": package["_id"], "status": package["status"],
        "status_name": STATUS_NAMES[package["status"]], "attempt": package["attempt"],
        # The server's time: the page counts days to a deadline from it, not the phone's clock.
        "now": iso(now),
        "upload_enabled": rules.upload_enabled,
        "window": {"start": rules.window_start, "end": rules.window_end, "open": window_open},
        "region_notice": rules.notice, "region_contact": rules.contact,
        "can_submit": (editable and not short and not unchanged and rules.upload_enabled and window_open
                       and package.get("consent") is not None),
        "missing": [dict(m, name=catalogue.types[m["material_type"]].name) for m in missing(package)],
        "to_fix": [{"material_type": code, "name": catalogue.types[code].name} for code in sorted(unchanged)],
        "feedback": package.get("feedback"),
        "consent": package.get("consent"),
        "consent_notice_version": catalogue.consent_notice_version,
        "candidate": {"name": package.get("name", ""), "category": package["category"],
                      "category_name": catalogue.categories.get(package["category"], ""),
                      "region": package["region"], "region_name": rules.name,
                      "site": package["site"], "site_name": rules.sites.get(package["site"], "")},
        "limits": {"max_bytes": rules.max_bytes, "formats": ["jpg", "jpeg", "png"],
                   "min_short_side": rules.min_short_side},
        "items": items,
    }


def image_view(package, material_type, image, locked, same_as_returned=False):
    return {"image_id": image["image_id"], "bytes": image["bytes"], "width": image["width"],
            "height": image["height"], "uploaded_at": image["uploaded_at"], "locked": locked,
            "same_as_returned": same_as_returned,
            "url": f"/api/v1/package/items/{material_type}/images/{image['image_id']}"}


def object_key(package, material_type, image_id, extension):
    """DESIGN §7 key layout; every part is validated or generated by us."""
    return (f"{package['region']}/{package['site']}/{package['candidate_id']}/"
            f"{material_type}/{image_id}.{extension}")
