"""Review's composition (cosmicpython's bootstrap): its use cases, built for one worker
with explicit arguments from what the providers of dependencies.py inject. service.py
calls `use_cases(...)` and then the use case's method, so following a call from an
entrypoint leads straight to the code that does the work."""
from dataclasses import dataclass

from services.review.admin.administration import Administration
from services.review.cases import Reviews
from services.review.idcheck.checks import IdChecks
from services.review.ingest import Ingest


@dataclass(frozen=True)
class UseCases:
    reviews: Reviews  # the reviewers' queue, search, claims, decisions, notes, audit trail
    admin: Administration  # the overview, sites' review times for materials, exports
    ingest: Ingest  # what materials and auth announce, applied to cases and images
    id_checks: IdChecks  # the ID card cross-check of uploaded id_card images


def use_cases(repo, bucket, reader, profiles, regions, counts, settings, caller):
    """`repo` CaseRepository, `bucket` ReadOnlyImages, `reader` OcrPool, `profiles` auth's
    Profiles, `regions` materials' RegionSettings, `counts` StatusCounts, `settings`
    ReviewSettings, `caller` where the call came from (for the audit log)."""
    return UseCases(
        reviews=Reviews(repo, bucket, profiles, settings, caller, regions),
        admin=Administration(repo, caller, counts, regions),
        ingest=Ingest(repo, profiles),
        id_checks=IdChecks(repo.id_checks, bucket, reader, profiles),
    )
