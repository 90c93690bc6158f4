"""Composition: materials' use cases built over one worker's resources, every argument
spelled out (cosmicpython's bootstrap). The service's entrypoints call these objects
(`self.use_cases.packages.view(...)`); dependencies.MaterialsUseCases calls `build` for
each worker with what the providers hold."""
from dataclasses import dataclass

from services.materials.live import LiveStreams
from services.materials.packages import Packages
from services.materials.regions import Regions
from services.materials.repository import PackageRepository


@dataclass(frozen=True)
class UseCases:
    packages: Packages  # the candidate's package and images, review outcomes, retention, sweeping
    regions: Regions    # region settings: in force, changed by administrators, their history
    live: LiveStreams   # decisions on an open page: tickets, streams, announcements


def build(db, images, hub, catalogue, regions, review_times):
    """The use cases over `db` (the materials database), `images` (storage.ImageStore),
    `hub` (live.LiveHub: the signal and this instance's streams), the `catalogue`
    (domain.Catalogue), the instance's `regions` (regions.RegionCache) and
    `review_times` (review_times.ReviewTimes)."""
    repo = PackageRepository(db)
    return UseCases(packages=Packages(repo, images, catalogue, regions, review_times),
                    regions=Regions(repo, catalogue, regions),
                    live=LiveStreams(hub, db))
