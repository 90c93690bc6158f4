"""Who sees which cases, and which of them a reviewer asked for, as MongoDB filters (pure).

A reviewer's token names a region and sites (or "*" for the whole region); an admin's
a region or, national, none. Every read and decision checks `principal.covers(region,
site)` on the case itself; the queue and the counts turn the same scope into a filter,
so a list can never show what opening would refuse."""
import re
from datetime import date, datetime, timedelta

from common import errors
from common.clock import BEIJING
from common.idnumber import is_valid as is_valid_id_number
from services.review import domain

SORTS = {None: "queue_key", "oldest": "queue_key", "quality": "quality_key"}
CURSOR_TAGS = {"queue_key": "t", "quality_key": "q"}
MAX_LIMIT = 200


def area(principal, region=None, site=None):
    """Filter on region/site for what the caller asked, refusing what they may not see."""
    if site is not None:
        if not isinstance(site, str) or not domain.SITE.match(site):
            raise errors.ValidationError("考点代码须为四位数字")
        if region is not None and region != site[:2]:
            raise errors.ValidationError("考点不属于该考区")
        if not principal.covers(site[:2], site):
            raise errors.Forbidden("无权查看该考点的材料")
        return {"region": site[:2], "site": site}
    if region is not None:
        if not (principal.is_national or principal.region == str(region)):
            raise errors.Forbidden("无权查看该考区的材料")
        # a site reviewer or site administrator still sees only their own sites
        return dict(principal.area(), region=str(region))
    return principal.area()


def by_status(status, now):
    """Filter for one status as the reviewer sees it (expired claims are pending)."""
    if status == domain.PENDING:
        return {"status": {"$in": list(domain.IN_QUEUE)}, "lease_until": {"$lt": now}}
    if status == domain.CLAIMED:
        return {"status": domain.CLAIMED, "lease_until": {"$gte": now}}
    if status in domain.STATUSES:
        return {"status": status}
    raise errors.ValidationError(f"status 须为以下之一: {', '.join(domain.STATUSES)}")


def page(sort, limit, after):
    """(sort field, limit, cursor filter) for a page of the queue."""
    if sort not in SORTS:
        raise errors.ValidationError("sort 须为 oldest 或 quality")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise errors.ValidationError(f"limit 须为 1–{MAX_LIMIT} 之间的整数")
    field = SORTS[sort]
    if after is None:
        return field, limit, {}
    prefix = f"{CURSOR_TAGS[field]}~"
    if not isinstance(after, str) or not after.startswith(prefix) or len(after) > 200:
        raise errors.ValidationError("after 不是本排序方式给出的翻页位置")
    return field, limit, {field: {"$gt": after[len(prefix):]}}


def cursor(field, key):
    """An opaque-enough cursor that also remembers which ordering it belongs to."""
    return f"{CURSOR_TAGS[field]}~{key}"


# -- search ------------------------------------------------------------------------------------
MAX_QUERY = 50
REGISTRATION_NUMBER = re.compile(r"^\d{10,20}$")


def search_terms(query):
    """(kind, value) of what a reviewer typed: a full ID number (matched by auth's keyed
    hash, never kept), a registration number (报名号), or else the start of a name."""
    if not isinstance(query, str) or not query.strip() or len(query.strip()) > MAX_QUERY:
        raise errors.ValidationError(f"请输入报名号、姓名或完整的身份证号（不超过{MAX_QUERY}字）")
    text = query.strip()
    if is_valid_id_number(text.upper()):
        return "id_number", text.upper()
    if REGISTRATION_NUMBER.match(text):
        return "registration_number", text
    return "name", text


def name_prefix(name):
    """A range on the name index: every name that starts with `name`."""
    return {"$gte": name, "$lt": name + "\uffff"}


# -- an export's dates ------------------------------------------------------------------------
def submitted_between(since, until):
    """A filter on the submission time for the Beijing calendar days `since`..`until`
    (YYYY-MM-DD, each optional, both included), as UTC ISO bounds on `submitted_at`."""
    bounds = {}
    days = []
    for value, what in ((since, "since"), (until, "until")):
        if value is None:
            days.append(None)
            continue
        try:
            days.append(date.fromisoformat(str(value)))
        except ValueError:
            raise errors.ValidationError(f"{what} 须为 YYYY-MM-DD 格式的日期") from None
    start, end = days
    if start and end and start > end:
        raise errors.ValidationError("起始日期不能晚于结束日期")
    if start:
        bounds["$gte"] = _beijing_midnight(start)
    if end:
        bounds["$lt"] = _beijing_midnight(end + timedelta(days=1))
    return {"submitted_at": bounds} if bounds else {}


def _beijing_midnight(day):
    return domain.iso(datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp())
