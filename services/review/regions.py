"""Region settings that review reads from materials, which owns them (DESIGN §2): the
days a candidate gets to answer a return when the reviewer names no date, and the
names of the region's sites (exports, the case screen)."""
import logging
import time

from common import errors
from services.review import domain

log = logging.getLogger(__name__)

CACHE_S = 60.0  # settings change rarely; a return should not wait on an RPC each time


class RegionSettings:
    """`materials.get_region` through this service's own token, kept a minute per region."""

    def __init__(self, materials_rpc, cache, clock=time.monotonic):
        self.materials_rpc = materials_rpc
        self.cache = cache  # {region: (fetched_at, settings)}, shared by the workers
        self.clock = clock

    def settings(self, region):
        """The region's settings as materials gives them; raises what the call raised."""
        at, found = self.cache.get(region, (None, None))
        if found is not None and self.clock() - at < CACHE_S:
            return found
        found = self.materials_rpc.get_region(region=region) or {}
        self.cache[region] = (self.clock(), found)
        return found

    def respond_days(self, region):
        try:
            return domain.respond_days_of(self.settings(region))
        except Exception as exc:  # RemoteError, Unavailable, timeouts
            # A guessed default could shorten a region's longer deadline: refuse instead.
            log.warning("region settings unavailable: %s", type(exc).__name__)
            raise errors.Unavailable("暂时无法读取考区的补正期限，请稍后重试，或指定 respond_by") from None

    def site_names(self, region):
        """{site: name} of the region, or {} when materials cannot be asked (codes then)."""
        try:
            return dict(self.settings(region).get("sites") or {})
        except Exception as exc:
            log.warning("region settings unavailable: %s", type(exc).__name__)
            return {}

    def checklists(self, region):
        """{material_type: [item]} the region asks reviewers to tick, or {} when materials
        cannot be asked (the case still opens; the reviewer checks by eye)."""
        try:
            return dict(self.settings(region).get("checklists") or {})
        except Exception as exc:
            log.warning("region settings unavailable: %s", type(exc).__name__)
            return {}
