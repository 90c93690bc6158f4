"""review service (walking skeleton; grows with its issue)."""
from common import service as base


class ReviewService(base.ServiceBase):
    name = "review"
