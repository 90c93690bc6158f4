"""Every config key review reads, declared once with its type, default and bounds
(common/settings.py); config.yaml names the environment variable that sets each one.
Only providers' setup() (dependencies.py) and the ID card handler's prefetch load it."""
from dataclasses import dataclass

from common.settings import setting

MAX_URL_TTL_S = 600  # DESIGN §8: presigned URLs live at most 10 minutes
MAX_HOLD_S = 30.0  # a held decision keeps the candidate waiting at most this long


@dataclass(frozen=True)
class ReviewSettings:
    # A reviewer's claim on a case.
    lease_s: float = setting("REVIEW.LEASE_S", float, 900.0, minimum=1.0)
    # Presigned image links: never longer than DESIGN allows, whatever is configured.
    url_ttl_s: int = setting("REVIEW.URL_TTL_S", int, MAX_URL_TTL_S, minimum=1, maximum=MAX_URL_TTL_S)
    # The overview's per-site counts by status are reused this long (tallies.StatusCounts).
    counts_ttl_s: float = setting("REVIEW.COUNTS_TTL_S", float, 60.0)
    # A held decision's undo window before its event leaves.
    hold_s: float = setting("REVIEW.HOLD_S", float, 5.0, minimum=1.0, maximum=MAX_HOLD_S)
    # The bucket of materials' images, read (and presigned) with review's read-only keys.
    bucket: str = setting("S3.BUCKET", str, "materials")

    # The ID card reader (idcheck/reader.py): worker processes per instance (0 switches the
    # reader off), their nice level (19, the lowest, uses what requests leave; 0 keeps them at
    # requests' priority, without the idle scheduling class), and the CPU seconds one read
    # may use before it fails and is retried (a read takes 0.7 s on average:
    # benchmarks/README.md).
    ocr_workers: int = setting("OCR.WORKERS", int, 1, minimum=0)
    ocr_nice: int = setting("OCR.NICE", int, 19, minimum=0, maximum=19)
    ocr_cpu_limit_s: float = setting("OCR.CPU_LIMIT_S", float, 10.0)
    # A read waits while the CPU is contended (Linux PSI: percent of the last 10 s in which
    # some task waited for a CPU) above this, for at most ocr_max_defer_s, then reads anyway.
    ocr_defer_above: float = setting("OCR.DEFER_ABOVE_CPU_PRESSURE", float, 10.0)
    ocr_max_defer_s: float = setting("OCR.MAX_DEFER_S", float, 300.0, minimum=0.0)
