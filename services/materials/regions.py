"""Region settings, use case by use case: the rules in force (kept a moment in each
instance), an administrator's change (versioned, every version kept), their history,
and what get_region answers (DESIGN §5)."""
import time

from pymongo.errors import DuplicateKeyError

from common import errors
from services.materials import domain


def rules_from_doc(region, doc):
    if doc is None:
        return domain.RegionRules(region=region)
    window = doc.get("window") or {}
    return domain.RegionRules(
        region=region, version=doc["version"], name=doc.get("name", ""),
        upload_enabled=doc.get("upload_enabled", False), window_start=window.get("start"),
        window_end=window.get("end"), max_bytes=doc["max_bytes"],
        min_short_side=doc["min_short_side"], max_pixels=doc["max_pixels"],
        min_sharpness=doc.get("min_sharpness"), sites=doc.get("sites", {}),
        categories=doc.get("categories", {}),
        respond_days=doc.get("respond_days", domain.DEFAULT_RESPOND_DAYS),
        contact=doc.get("contact", ""), notice=doc.get("notice", ""), checklists=doc.get("checklists", {}))


class RegionCache:
    """Region rules change rarely and are read on every request: keep them a moment
    (`ttl_s`: the service's MATERIALS.REGION_CACHE_S; none outside it)."""

    def __init__(self, ttl_s=0.0):
        self.ttl_s = ttl_s
        self._entries = {}

    def get(self, repo, region):
        at, rules = self._entries.get(region, (0.0, None))
        if rules is None or time.monotonic() - at > self.ttl_s:
            rules = rules_from_doc(region, repo.get_region(region))
            self._entries[region] = (time.monotonic(), rules)
        return rules

    def forget(self, region):
        self._entries.pop(region, None)


class Regions:
    def __init__(self, repo, catalogue, cache: RegionCache):
        self.repo = repo
        self.catalogue = catalogue
        self.cache = cache  # the one Packages reads: a change is seen there at once

    def rules(self, region):
        return self.cache.get(self.repo, region)

    def view(self, region):
        """A region's settings as get_region answers them (DESIGN §5), with the catalogue."""
        rules = self.rules(region)
        return {"region": rules.region, "configured": rules.version > 0, "version": rules.version,
                "name": rules.name, "upload_enabled": rules.upload_enabled,
                "window": {"start": rules.window_start, "end": rules.window_end},
                "max_bytes": rules.max_bytes, "min_short_side": rules.min_short_side,
                "max_pixels": rules.max_pixels, "min_sharpness": rules.min_sharpness,
                "sites": rules.sites, "categories": rules.categories,
                "respond_days": rules.respond_days, "contact": rules.contact, "notice": rules.notice,
                "checklists": rules.checklists,
                "catalogue": [{"material_type": t.code, "name": t.name}
                              for t in self.catalogue.types.values()],
                "national_required": list(self.catalogue.required)}

    def configure(self, region, config, actor, expected_version=None):
        settings = domain.validate_region_config(region, config, self.catalogue)
        current = self.repo.get_region(region)
        domain.check_version(expected_version, (current or {}).get("version", 0))
        try:
            version = self.repo.save_region(region, settings, actor, current)
        except DuplicateKeyError:
            raise errors.Conflict("考区配置已被他人同时修改，请刷新后在最新版本上修改") from None
        self.cache.forget(region)
        return version

    def history(self, region, limit=20):
        """The newest versions, each with who, when and its diff against the one before."""
        versions = self.repo.region_versions(region, limit + 1)
        history = []
        for newer, older in zip(versions, versions[1:] + [None]):
            if len(history) == limit:
                break
            history.append({"version": newer["version"], "updated_by": newer.get("updated_by"),
                            "updated_at": newer.get("updated_at"),
                            "changes": domain.settings_diff(domain.settings_of(older),
                                                            domain.settings_of(newer))})
        return history
