"""MongoDB adapter base: one MongoClient per service container.

A service subclasses `MongoDependency`, names its repository class, and gets a
repository injected into each worker. Indexes are created in the background and retried
until the server answers, so a service starts (and reports itself unhealthy) while
MongoDB is down, and heals when it comes back.

The subset of MongoDB the services use, served alike by MongoDB 7 (production) and by
dev/mongo (local and tests, mongo-java-server with our indexes; tests/load/README.md says
why that one). Stay inside it:

- every state change is ONE guarded single-document write (`find_one_and_update` or
  `update_one` whose filter is the state machine's guard); no multi-document
  transactions or sessions, no change streams;
- filters: equality, `$in`, `$ne`, `$exists`, `$lt/$lte/$gt/$gte`, `$or`; sorts,
  `limit`, `skip`, inclusion or exclusion projections;
- updates: `$set`, `$unset`, `$inc`, `$push`, `$setOnInsert`, upserts; a sub-document
  changed in place is a map keyed by id (`outbox.<event_id>`), never an array element
  (no positional `$`, no `arrayFilters`);
- aggregation: `$match` then `$group` with `$sum` (counts), and `count_documents`;
- indexes: ascending/descending, compound, unique; no TTL indexes (expiry is swept by the
  services' own timers), no partial or text indexes. A hot read must be an `_id` lookup
  or an equality/`$in` prefix of a declared index, with a range or sort on the next key
  (dev/mongo plans queries exactly that way; anything else scans the collection);
- data: no keys with `.` or leading `$`; datetimes are UTC.
"""
import logging

import eventlet
from nameko.extensions import DependencyProvider
import pymongo
from pymongo import MongoClient

from common.config import db_name

log = logging.getLogger(__name__)


def make_client(config, app_name):
    """A client whose every operation has a deadline (pymongo's timeoutMS): a database that
    accepts connections but answers nothing (SIGSTOP) fails an operation in seconds, so a
    candidate's request answers 503 within 5 s instead of waiting (README, "Deadlines"). Work that
    may legitimately take longer runs in `without_deadline()`."""
    mongo = config["MONGO"]
    pool = int(config.get("max_workers", 10)) + 10
    return MongoClient(
        mongo["URI"], appname=app_name, tz_aware=True, maxPoolSize=pool,
        serverSelectionTimeoutMS=int(mongo.get("SELECT_TIMEOUT_MS", 3000)),
        connectTimeoutMS=2000, timeoutMS=int(mongo.get("TIMEOUT_MS", 4000)), retryWrites=True)


def without_deadline():
    """For maintenance (index builds, retention, sweeps): no per-operation deadline."""
    return pymongo.timeout(None)


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
                with without_deadline():  # building an index on a large collection takes time
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
        with pymongo.timeout(2):
            ping(self.db)

    def get_dependency(self, worker_ctx):
        return self.repository_class(self.db)
