"""materials' providers: its database (the images' bucket is storage.py's ImageStorage,
the decisions' signal live.py's LiveHub), and the one that hands each worker its use
cases (bootstrap.build) over them."""
from nameko.extensions import DependencyProvider

from common.mongo import MongoDependency
from common.settings import load
from common.wiring import sibling
from services.materials import bootstrap
from services.materials.domain import Catalogue
from services.materials.live import LiveHub
from services.materials.regions import RegionCache
from services.materials.repository import PackageRepository
from services.materials.review_times import ReviewTimes
from services.materials.settings import MaterialsSettings
from services.materials.storage import ImageStorage


class PackageDatabase(MongoDependency):
    """The `materials` database: regions, packages, upload counts, stream tickets."""
    service = "materials"
    repository_class = PackageRepository


class MaterialsUseCases(DependencyProvider):
    """Each worker's use cases (bootstrap.UseCases), over the providers it names. What
    outlives a worker is kept here: the catalogue, region rules a moment, review times."""

    def __init__(self, database, storage, live):
        # attribute names of the service's PackageDatabase, ImageStorage and LiveHub
        self.database, self.storage, self.live = database, storage, live

    def setup(self):
        self._database = sibling(self, self.database, PackageDatabase)
        self._storage = sibling(self, self.storage, ImageStorage)
        self._live = sibling(self, self.live, LiveHub)
        settings = load(MaterialsSettings, self.container.config)
        self.catalogue = Catalogue.load()
        self.regions = RegionCache(ttl_s=settings.region_cache_s)
        self.review_times = ReviewTimes()  # learnt from review by the service's timer

    def get_dependency(self, worker_ctx):
        return bootstrap.build(self._database.db, self._storage.get_dependency(worker_ctx),
                               self._live.get_dependency(worker_ctx), self.catalogue,
                               self.regions, self.review_times)
