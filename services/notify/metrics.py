"""notify's counters, exposed with every other at /metrics/notify."""
from prometheus_client import Counter

MESSAGES = Counter("notify_messages_total", "In-app messages created", ["kind"])
MESSAGES_READ = Counter("notify_messages_read_total", "In-app messages read for the first time")
# One per provider call: sent | throttled | failed | timeout.
SMS_ATTEMPTS = Counter("notify_sms_attempts_total", "SMS provider calls by outcome", ["outcome"])
# One per delivery when it settles: sent | failed | suppressed (hourly limit).
SMS_DELIVERIES = Counter("notify_sms_deliveries_total", "SMS deliveries settled by outcome",
                         ["outcome"])
SMS_RETRIES = Counter("notify_sms_retries_total", "SMS attempts rescheduled", ["reason"])
# The outcome feed and webhooks (DESIGN §4a).
OUTCOMES = Counter("notify_outcomes_total", "Outcomes recorded for the registration system", ["status"])
OUTCOMES_NUMBERED = Counter("notify_outcomes_numbered_total", "Outcomes given their feed sequence")
# One per request to a subscriber: delivered | http_error | redirect | timeout | unreachable | refused.
WEBHOOK_ATTEMPTS = Counter("notify_webhook_attempts_total", "Webhook requests by outcome", ["outcome"])
# One per delivery when it settles for good: delivered | failed.
WEBHOOK_DELIVERIES = Counter("notify_webhook_deliveries_total", "Webhook deliveries settled", ["outcome"])
