"""Prometheus metrics every service exposes at /metrics/{service}."""
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency",
    ["service", "route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENTS_PUBLISHED = Counter(
    "events_published_total", "Events published from the outbox", ["service", "event_type"])
EVENTS_HANDLED = Counter(
    "events_handled_total", "Event deliveries handled", ["service", "handler", "outcome"])


def exposition():
    return generate_latest(), CONTENT_TYPE_LATEST
