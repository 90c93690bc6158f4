"""materials' settings: every config key it reads, declared once with its type, default
and bounds (common/settings.py). The providers load them in setup(); nothing else in
materials reads the config (the S3 client's own keys are common/s3.py's).

A key config.yaml leaves out or empty takes the default declared here."""
from dataclasses import dataclass

from common.settings import setting


@dataclass(frozen=True)
class MaterialsSettings:
    # Region rules are read on every request and change rarely: each instance keeps them
    # this long, so a configure_region takes effect everywhere within it (packages.py).
    region_cache_s: float = setting("MATERIALS.REGION_CACHE_S", float, 2.0, minimum=0.0)
    # A comment line this often keeps a quiet Server-Sent Events stream open through
    # proxies and finds pages that went away (live.py).
    live_heartbeat_s: float = setting("LIVE.HEARTBEAT_S", float, 20.0, minimum=0.1)
    # The images' bucket (storage.py); none: the service does not start.
    bucket: str = setting("S3.BUCKET", str, None)
