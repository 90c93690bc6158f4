"""The region administrator's use cases in review: the overview and the outcome export.

Scope is that of the queue (scope.area): a region administrator sees their region's
sites only, a national one any. Every export is written to the audit log."""
import time

from common import errors
from services.review import domain, scope
from services.review.admin import exports, overview

MAX_EXPORT_ROWS = 200_000
MAX_SITES_ASKED = 200
REVIEW_TIME_DAYS = 7  # what candidates are shown: "本考点近7天平均审核用时"
EXPORT_FIELDS = {"candidate_id": 1, "candidate": 1, "region": 1, "site": 1, "category": 1, "attempt": 1,
                 "status": 1, "submitted_at": 1, "decision": 1, "lease_until": 1, "queue_key": 1,
                 "type_names": 1}


class Administration:
    def __init__(self, repo, caller, status_counts, regions=None, clock=time.time):
        self.repo = repo
        self.regions = regions  # regions.RegionSettings from materials: the sites' names
        self.tallies = repo.tallies
        self.status_counts = status_counts  # tallies.StatusCounts, shared by the workers
        self.caller = caller
        self.clock = clock

    def overview(self, principal, region=None, site=None, days=14):
        area = scope.area(principal, _code(region, "region"), _code(site, "site"))
        now = self.clock()
        shown = overview.days_back(domain.beijing_date_of(now).isoformat(), days)
        tallies = self.tallies.between(area, shown[0], shown[-1])
        counts, counted_at = self.status_counts.get(self.tallies, area, now)
        result = overview.summarise(tallies, counts, shown)
        return dict(result, region=area.get("region"), site=area.get("site"), counts_at=domain.iso(counted_at))

    def site_review_times(self, sites, days=REVIEW_TIME_DAYS):
        """For materials (candidates' pages): each site's typical review time over the last
        `days` Beijing days, from the tallies alone (a few small documents per site)."""
        if not isinstance(sites, list) or len(sites) > MAX_SITES_ASKED or not all(
                isinstance(site, str) and domain.SITE.match(site) for site in sites):
            raise errors.ValidationError(f"sites 须为至多 {MAX_SITES_ASKED} 个四位考点代码")
        shown = overview.days_back(domain.beijing_date_of(self.clock()).isoformat(), days)
        tallies = []
        for region in sorted({site[:2] for site in sites}):
            area = {"region": region, "site": {"$in": sorted(s for s in sites if s[:2] == region)}}
            tallies.extend(self.tallies.between(area, shown[0], shown[-1]))
        return overview.review_times(tallies, sites, shown)

    def export(self, principal, site=None, fmt="xlsx", region=None, since=None, until=None, status=None):
        """One site's outcomes, or the whole scope's (a region administrator's region, a
        site administrator's sites; a national one names the region), optionally only
        those submitted between two Beijing dates and those of one status. Audited."""
        if fmt not in exports.FORMATS:
            raise errors.ValidationError("format 须为 xlsx 或 csv")
        site, region = _code(site, "site"), _code(region, "region")
        if site is None and region is None and principal.is_national:
            raise errors.ValidationError("请指定要导出的考区（两位代码）或考点（四位代码）")
        area = scope.area(principal, region, site)
        now = self.clock()
        query = dict(area, **scope.submitted_between(since, until))
        if status is not None:
            query.update(scope.by_status(status, now))
        cases = sorted(self.repo.find_for_export(query, EXPORT_FIELDS, MAX_EXPORT_ROWS),
                       key=lambda c: (c.get("queue_key") or "", c["_id"]))
        names = {}
        for code in sorted({c["region"] for c in cases}):
            names.update(self.regions.site_names(code))
        rows = [exports.row(case, now, names) for case in cases]
        where = area.get("site") if isinstance(area.get("site"), str) else area["region"]
        self.repo.audit.append({
            "at": domain.iso(now), "actor": principal.sub, "role": principal.role,
            "action": "export", "outcome": "ok", "package_id": None, "attempt": None,
            "region": area["region"], "site": area.get("site") if isinstance(area.get("site"), str) else None,
            "client": self.caller.get("client"), "via": self.caller.get("via"),
            "details": {"format": fmt, "rows": len(rows), "since": since, "until": until, "status": status,
                        "sites": area["site"]["$in"] if isinstance(area.get("site"), dict) else None}})
        title = f"考点{where}审核结果" if isinstance(area.get("site"), str) else f"考区{where}审核结果"
        return exports.file(rows, where, fmt, domain.beijing_date_of(now).strftime("%Y%m%d"), title)


def _code(value, what):
    if value is None or isinstance(value, str):
        return value
    raise errors.ValidationError(f"{what} 须为字符串")
