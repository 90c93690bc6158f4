"""notify's settings: every config key it reads, declared once with its type, default and
bounds (common/settings.py). The providers load them in setup() (dependencies.py);
nothing else in notify reads the config.

A key config.yaml leaves out or empty takes the default declared here."""
from dataclasses import dataclass, replace

from common.settings import load, setting


@dataclass(frozen=True)
class SmsDelivery:
    """How SMS deliveries are made and retried (policy.py, courier.py)."""
    # first retry after about this long, doubling after; the longest wait between attempts
    # (the provider's "try again in N s" included)
    retry_base_s: float = setting("NOTIFY.RETRY_BASE_S", float, 2.0, minimum=0.01)
    retry_max_s: float = setting("NOTIFY.RETRY_MAX_S", float, 300.0, minimum=0.01)
    max_attempts: int = setting("NOTIFY.MAX_ATTEMPTS", int, 5, minimum=1)
    # hard limit on one provider call (eventlet.Timeout); none: SMS.TIMEOUT + 2 (load_settings)
    send_timeout_s: float = setting("NOTIFY.SEND_TIMEOUT_S", float, None, minimum=0.1)
    hourly_limit: int = setting("NOTIFY.HOURLY_LIMIT", int, 5, minimum=1)  # SMS per phone, rolling hour
    # how often an idle instance looks for due work (every delivery timer's interval)
    poll_s: float = setting("NOTIFY.POLL_S", float, 1.0, minimum=0.01)
    senders: int = setting("NOTIFY.SENDERS", int, 10, minimum=1)  # provider calls at once
    tick_s: float = setting("NOTIFY.TICK_S", float, 30.0, minimum=0.1)  # one round claims this long
    # After a send that got no answer, wait at least this long before the next attempt,
    # so the provider's status report of that send can arrive and be asked for first.
    report_wait_s: float = setting("NOTIFY.REPORT_WAIT_S", float, 60.0, minimum=0.0)
    # Not configurable: auth.get_contact's deadline (the ServiceRpc's) and the limit's window.
    contact_timeout_s: float = 5.0
    limit_window_s: float = 3600.0

    @property
    def lease_s(self):
        """Long enough for one whole attempt; a crashed sender's claim then lapses."""
        return self.contact_timeout_s + self.send_timeout_s + 30.0


@dataclass(frozen=True)
class Webhooks:
    """Outcomes pushed to the registration system (hooks.py, dispatcher.py, targets.py)."""
    retry_base_s: float = setting("WEBHOOKS.RETRY_BASE_S", float, 5.0, minimum=0.01)
    retry_max_s: float = setting("WEBHOOKS.RETRY_MAX_S", float, 3600.0, minimum=0.01)
    # retried this long after the outcome, then failed (listed for administrators)
    horizon_s: float = setting("WEBHOOKS.HORIZON_S", float, 72 * 3600.0, minimum=1.0)
    # per request: the TCP (and TLS) connection, each wait for the receiver's bytes, and
    # a hard limit on the whole attempt, DNS and a trickle included
    connect_timeout_s: float = setting("WEBHOOKS.CONNECT_TIMEOUT_S", float, 3.0, minimum=0.1)
    read_timeout_s: float = setting("WEBHOOKS.READ_TIMEOUT_S", float, 5.0, minimum=0.1)
    send_timeout_s: float = setting("WEBHOOKS.SEND_TIMEOUT_S", float, 10.0, minimum=0.1)
    senders: int = setting("WEBHOOKS.SENDERS", int, 10, minimum=1)  # requests at once per instance
    per_subscriber: int = setting("WEBHOOKS.PER_SUBSCRIBER", int, 2, minimum=1)  # of them to one subscriber
    tick_s: float = setting("WEBHOOKS.TICK_S", float, 30.0, minimum=0.1)  # one round claims this long
    # http:// and loopback/private targets allowed: local development only (targets.py)
    local_development: bool = setting("WEBHOOKS.LOCAL_DEVELOPMENT", bool, False)
    ca_file: str = setting("WEBHOOKS.CA_FILE", str, None)  # receivers' CAs; none: the system's

    @property
    def lease_s(self):
        """A claimed delivery is another instance's again after this long."""
        return self.send_timeout_s + 30.0


@dataclass(frozen=True)
class SmsProvider:
    """Tencent Cloud SMS (sms.py); locally the stand-in dev/sms_standin.py. No default for
    the endpoint and credentials: without them the service does not start."""
    endpoint: str = setting("SMS.ENDPOINT", str, None)  # host[:port]
    scheme: str = setting("SMS.SCHEME", str, "https")  # http only to a loopback endpoint
    secret_id: str = setting("SMS.SECRET_ID", str, None)
    secret_key: str = setting("SMS.SECRET_KEY", str, None)
    app_id: str = setting("SMS.APP_ID", str, None)
    sign_name: str = setting("SMS.SIGN_NAME", str, None)
    region: str = setting("SMS.REGION", str, "ap-guangzhou")
    timeout_s: float = setting("SMS.TIMEOUT", float, 5.0, minimum=0.1)  # the SDK's socket timeout
    # Tencent: accounts verified as individuals get at most 12 characters per variable
    # (enterprise accounts more); every character counts 1. Stay inside the stricter rule.
    param_max_len: int = setting("SMS.PARAM_MAX_LEN", int, 12)
    # {kind: {id, params}}, the pre-approved templates; none: the stand-in's (sms.DEFAULT_TEMPLATES)
    templates: dict = setting("SMS.TEMPLATES", dict, None)


@dataclass(frozen=True)
class Keys:
    """HMAC keys: the outcome feed's cursors (outcomes.py: the first signs, all verify;
    none configured: one derived from PII.HASH_KEY) and the SMS limit's phone hash."""
    cursor_keys: tuple = setting("NOTIFY.CURSOR_KEYS", tuple, ())
    hash_key: str = setting("PII.HASH_KEY", str, None)


@dataclass(frozen=True)
class NotifySettings:
    delivery: SmsDelivery
    webhooks: Webhooks
    sms: SmsProvider
    keys: Keys


def load_settings(config):
    """notify's settings from the (nameko) config dict."""
    sms = load(SmsProvider, config)
    delivery = load(SmsDelivery, config)
    if delivery.send_timeout_s is None:  # the SDK's own timeout, and 2 s for the rest of the call
        delivery = replace(delivery, send_timeout_s=sms.timeout_s + 2)
    return NotifySettings(delivery=delivery, webhooks=load(Webhooks, config), sms=sms,
                          keys=load(Keys, config))
