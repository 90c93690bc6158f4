"""notify service (walking skeleton; grows with its issue)."""
from common import service as base


class NotifyService(base.ServiceBase):
    name = "notify"
