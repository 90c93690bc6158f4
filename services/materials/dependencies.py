"""Adapters of the materials service: the package desk over its database and bucket."""
from common.mongo import MongoDependency
from common.wiring import sibling
from services.materials.domain import Catalogue
from services.materials.packages import Packages, RegionCache
from services.materials.repository import PackageRepository
from services.materials.review_times import ReviewTimes
from services.materials.storage import ImageStorage


class PackageDesk(MongoDependency):
    service = "materials"
    repository_class = PackageRepository

    def __init__(self, storage):
        self.storage = storage  # the ImageStorage (attribute name) images are kept in

    def setup(self):
        super().setup()
        self._storage = sibling(self, self.storage, ImageStorage)
        self.catalogue = Catalogue.load()
        settings = self.container.config.get("MATERIALS", {})
        self.regions = RegionCache(ttl_s=float(settings.get("REGION_CACHE_S", 2)))
        self.review_times = ReviewTimes()  # learnt from review by the service's timer

    def get_dependency(self, worker_ctx):
        return Packages(PackageRepository(self.db), self._storage.get_dependency(worker_ctx),
                        self.catalogue, self.regions, self.review_times)
