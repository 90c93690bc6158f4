"""MongoDB adapter base: one MongoClient per service container.

A service subclasses `MongoDependency`, names its repository class, and gets a
repository injected into each worker. Indexes are created in the background and retried
until the server answers, so a service starts (and reports itself unhealthy) while
MongoDB is down, and heals when it comes back.
"""
import logging

import eventlet
from nameko.extensions import DependencyProvider
from pymongo import MongoClient

from common.config import db_name

log = logging.getLogger(__name__)


def make_client(config, app_name):
    mongo = config["MONGO"]
    pool = int(config.get("max_workers", 10)) + 10
    return MongoClient(
        mongo["URI"], appname=app_name, tz_aware=True, maxPoolSize=pool,
        serverSelectionTimeoutMS=int(mongo.get("SELECT_TIMEOUT_MS", 3000)),
        connectTimeoutMS=2000, socketTimeoutMS=10000, retryWrites=True)


def ping(db):
    db.command("ping")


class MongoDependency(DependencyProvider):
    """Subclasses set `service` (database owner) and `repository_class`.

    The repository class takes a pymongo Database and may define
    `create_indexes(db)` as a staticmethod/classmethod."""
    service = None
    repository_class = None

    def setup(self):
        self.client = make_client(self.container.config, self.container.service_name)
        self.db = self.client[db_name(self.container.config, self.service)]
        self._indexes = None

    def start(self):
        self._indexes = self.container.spawn_managed_thread(self._ensure_indexes)

    def _ensure_indexes(self):
        create = getattr(self.repository_class, "create_indexes", None)
        if create is None:
            return
        delay = 0.5
        while True:
            try:
                create(self.db)
                return
            except Exception as exc:  # server down at start: keep trying, never crash
                log.warning("creating %s indexes failed (%s); retrying", self.service,
                            type(exc).__name__)
                eventlet.sleep(delay)
                delay = min(delay * 2, 10)

    def stop(self):
        if self._indexes is not None:
            self._indexes.kill()
        self.client.close()

    def kill(self):
        self.stop()

    @property
    def health_name(self):
        return "mongodb"

    def health_check(self):
        ping(self.db)

    def get_dependency(self, worker_ctx):
        return self.repository_class(self.db)
