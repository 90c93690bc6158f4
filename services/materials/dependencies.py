"""Adapters of the materials service: the package desk over its database and bucket."""
from common.mongo import MongoDependency
from services.materials.domain import Catalogue
from services.materials.packages import Packages, RegionCache
from services.materials.repository import PackageRepository
from services.materials.storage import ImageStorage


class PackageDesk(MongoDependency):
    service = "materials"
    repository_class = PackageRepository

    def setup(self):
        super().setup()
        self.catalogue = Catalogue.load()
        settings = self.container.config.get("MATERIALS", {})
        self.regions = RegionCache(ttl_s=float(settings.get("REGION_CACHE_S", 2)))

    def get_dependency(self, worker_ctx):
        storage = next(dep for dep in self.container.dependencies if isinstance(dep, ImageStorage))
        return Packages(PackageRepository(self.db), storage.get_dependency(worker_ctx),
                        self.catalogue, self.regions)
