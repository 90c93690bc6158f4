"""Webhook subscribers and failed deliveries, use case by use case, for national
administrators (DESIGN §4a): list, add (the secret shown once), remove, the failed
deliveries, and replaying one of them. Who did what is kept on the documents
(`created_by`, `removed_by`, a replay's entry in the delivery's `log`)."""
import logging
import re
import socket
import time
from datetime import datetime

import eventlet

from common import errors
from common.clock import iso, iso_from_epoch, utcnow
from services.notify import hooks, targets

log = logging.getLogger(__name__)

ID = re.compile(r"^(sub|msg)_[0-9a-f]{24,32}$")
MAX_LIMIT = 200


def _when(value):
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (int, float)):
        return iso_from_epoch(value)
    return value


def subscriber_view(doc, counts=None):
    view = {"subscriber_id": doc["_id"], "url": doc["url"], "regions": doc.get("regions"),
            "description": doc.get("description", ""), "status": doc.get("status"),
            "created_at": _when(doc.get("created_at")), "created_by": doc.get("created_by"),
            "removed_at": _when(doc.get("removed_at")), "removed_by": doc.get("removed_by")}
    if counts is not None:
        view["deliveries"] = counts
    return view


def delivery_view(doc, subscriber=None):
    return {"delivery_id": doc["_id"], "webhook_id": doc["_id"], "subscriber_id": doc["subscriber_id"],
            "url": (subscriber or {}).get("url"), "description": (subscriber or {}).get("description", ""),
            "event_id": doc["event_id"], "sequence": doc.get("sequence"), "outcome": doc.get("outcome"),
            "package_id": doc.get("package_id"), "region": doc.get("region"), "site": doc.get("site"),
            "status": doc["status"], "attempts": doc.get("attempts", 0), "note": doc.get("note"),
            "last_status": doc.get("last_status"), "created_at": _when(doc.get("created_at")),
            "updated_at": _when(doc.get("updated_at")), "delivered_at": _when(doc.get("delivered_at")),
            "expires_at": _when(doc.get("expires_at")),
            "log": [{k: _when(v) for k, v in entry.items()} for entry in doc.get("log") or []]}


def _national(principal):
    if not principal.is_national:
        raise errors.Forbidden("只有全国管理员可以管理审核结果推送")
    return principal


def _limit(value):
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise errors.ValidationError("limit 须为整数") from None
    return min(max(limit, 1), MAX_LIMIT)


class Subscribers:
    def __init__(self, repo, settings, resolver=socket.getaddrinfo, clock=time.time, on_change=None):
        self.repo = repo
        self.settings = settings
        self.resolver = resolver
        self.clock = clock
        self.on_change = on_change

    def list(self, principal):
        _national(principal)
        return [subscriber_view(doc, self.repo.counts(doc["_id"]) if doc.get("status") == "active" else None)
                for doc in self.repo.subscribers()]

    def add(self, principal, url, regions=None, description=None):
        """The new subscriber with its `secret`: the only time anyone sees it."""
        _national(principal)
        regions = hooks.regions_filter(regions)
        description = hooks.description_text(description)
        # A name server that never answers must not hold the administrator's call.
        with eventlet.Timeout(self.settings.send_timeout_s,
                              targets.TargetRefused("推送地址的主机名解析超时，请稍后重试")):
            target, _ = targets.check(url, self.settings.local_development, self.resolver)
        url = url.strip()
        if self.repo.active_with_url(url) is not None:
            raise errors.Conflict("该推送地址已登记；如需更换密钥，请先删除原订阅再重新添加")
        doc = {"_id": hooks.new_subscriber_id(), "url": url, "regions": regions,
               "description": description, "secret": hooks.new_secret(), "status": "active",
               "created_at": utcnow(), "created_by": principal.sub}
        self.repo.add_subscriber(doc)
        log.info("webhook subscriber added subscriber_id=%s host=%s by=%s", doc["_id"], target.host,
                 principal.sub)
        return dict(subscriber_view(doc), secret=doc["secret"])

    def remove(self, principal, subscriber_id):
        _national(principal)
        subscriber_id = self._id(subscriber_id, "sub", "没有该订阅")
        doc = self.repo.remove_subscriber(subscriber_id, principal.sub, utcnow())
        if doc is None:
            raise errors.NotFound("没有该订阅（可能已被删除）")
        cancelled = self.repo.cancel_open(subscriber_id, utcnow())
        log.info("webhook subscriber removed subscriber_id=%s by=%s cancelled=%d", subscriber_id,
                 principal.sub, cancelled)
        return dict(subscriber_view(doc), cancelled=cancelled)

    def failed(self, principal, limit=100):
        _national(principal)
        subscribers = {}
        views = []
        for doc in self.repo.failed(_limit(limit)):
            sid = doc["subscriber_id"]
            if sid not in subscribers:
                subscribers[sid] = self.repo.subscriber(sid)
            views.append(delivery_view(doc, subscribers[sid]))
        return views

    def replay(self, principal, delivery_id):
        """A failed delivery sent again under its own webhook-id, with a fresh horizon."""
        _national(principal)
        delivery_id = self._id(delivery_id, "msg", "没有该推送记录")
        now = self.clock()
        current = self.repo.get(delivery_id)
        if current is None:
            raise errors.NotFound("没有该推送记录")
        subscriber = self.repo.subscriber(current["subscriber_id"])
        if subscriber is None or subscriber.get("status") != "active":
            raise errors.InvalidTransition("该订阅已删除，不能重发")
        doc = self.repo.replay(delivery_id, principal.sub, now, now + self.settings.horizon_s, utcnow())
        if doc is None:
            status = self.repo.get(delivery_id)["status"]
            raise errors.InvalidTransition(
                f"该推送当前状态为“{hooks.STATUS_NAMES.get(status, status)}”，只有发送失败的推送可以重发")
        log.info("webhook replay requested delivery_id=%s by=%s", delivery_id, principal.sub)
        if self.on_change is not None:
            self.on_change()
        return delivery_view(doc, subscriber)

    @staticmethod
    def _id(value, kind, missing):
        if not isinstance(value, str) or not ID.match(value) or not value.startswith(kind + "_"):
            raise errors.NotFound(missing)
        return value
