"""notify: the candidate's in-app inbox and SMS, one of each for every outcome (DESIGN §1
step 8, §4, §6, §8).

Handlers record; they never call the SMS provider. `deliver_sms` rounds send (see
courier.py), so a slow or hanging provider cannot hold up event handling.

Category or site changes: the issue asks for a message when `CandidateProfileChanged`
reopens a package, but only materials knows whether a change reopened one (and which
types it now needs). So notify listens to materials' `PackageReopened`, which materials
sends exactly then, instead of guessing from the auth event.

The same events are the registration system's outcomes (DESIGN §4a): each is stored
once (feed.py), numbered by one sequencer, read through the pull feed
`GET /integration/v1/outcomes` and pushed as Standard Webhooks to the subscribers a
national administrator registered (dispatcher.py).
"""
from nameko.timer import timer

from common import service as base
from common.messaging import event_handler
from common.rpc import ServiceRpc, rpc
from common.web import http, json_response
from services.notify import policy
from services.notify.bootstrap import UseCases
from services.notify.dependencies import NotifyDatabase, NotifyUseCases, SmsGateway, delivery_timer
from services.notify.settings import SmsDelivery


class NotifyService(base.ServiceBase):
    name = "notify"

    # Resources, one provider each (dependencies.py), built in setup() from settings.py.
    database = NotifyDatabase()
    sms = SmsGateway()
    # Contacts at send time; the timeout bounds a round when auth is down.
    auth_rpc = ServiceRpc("auth", timeout=SmsDelivery.contact_timeout_s, tokens="auth")
    # Each worker's use cases over them (bootstrap.build): what the entrypoints call.
    use_cases: UseCases = NotifyUseCases(database="database", sms="sms", contacts="auth_rpc")

    # -- candidate HTTP API (DESIGN §4) ---------------------------------------------------------
    @http("GET", "/api/v1/messages")
    def list_messages(self, request):
        principal = self.auth.from_request(request, "candidate")
        return json_response(self.use_cases.inbox.list(principal.sub, request.args.get("limit")))

    @http("POST", "/api/v1/messages/<string:message_id>/read")
    def read_message(self, request, message_id):
        principal = self.auth.from_request(request, "candidate")
        return json_response(self.use_cases.inbox.read(principal.sub, message_id))

    # -- the registration system (DESIGN §4a) -----------------------------------------------------
    @http("GET", "/integration/v1/outcomes")
    def outcomes(self, request):
        principal = self.auth.from_request(request, "registration", "admin")
        return json_response(self.use_cases.feed.page(principal, request.args.get("after"),
                                                      request.args.get("limit")))

    @rpc(https=True)
    def webhook_subscribers(self):
        return self.use_cases.subscribers.list(self.auth.from_context("admin"))

    @rpc(https=True)
    def add_webhook_subscriber(self, url, regions=None, description=None):
        """The new subscriber and its `secret` (whsec_…), shown this once."""
        return self.use_cases.subscribers.add(self.auth.from_context("admin"), url, regions,
                                              description)

    @rpc(https=True)
    def remove_webhook_subscriber(self, subscriber_id):
        return self.use_cases.subscribers.remove(self.auth.from_context("admin"), subscriber_id)

    @rpc(https=True)
    def failed_webhooks(self, limit=100):
        return self.use_cases.subscribers.failed(self.auth.from_context("admin"), limit)

    @rpc(https=True)
    def replay_webhook(self, delivery_id):
        return self.use_cases.subscribers.replay(self.auth.from_context("admin"), delivery_id)

    # -- operators (RPC, admin) -----------------------------------------------------------------
    @rpc(https=True)
    def pending(self, limit=100):
        principal = self.auth.from_context("admin")
        return self.use_cases.inbox.deliveries(principal, (policy.PENDING, policy.SENDING), limit)

    @rpc(https=True)
    def failed(self, limit=100):
        """Deliveries that will not go without an operator: failed, and suppressed by the
        hourly limit (their in-app message stands)."""
        principal = self.auth.from_context("admin")
        return self.use_cases.inbox.deliveries(principal, policy.RETRYABLE_BY_OPERATOR, limit)

    @rpc(https=True)
    def retry(self, message_id):
        return self.use_cases.inbox.retry(self.auth.from_context("admin"), message_id)

    @rpc(https=True)
    def messages_of(self, candidate_id):
        """What a candidate was told, by which channel, and when they read it."""
        return self.use_cases.inbox.of_candidate(self.auth.from_context("admin"), candidate_id)

    # -- events consumed (DESIGN §6); idempotent on event_id -------------------------------------
    @event_handler("materials", "PackageSubmitted")
    def on_package_submitted(self, payload):
        self._outcome("submitted", payload)

    @event_handler("materials", "SubmissionWithdrawn")
    def on_submission_withdrawn(self, payload):
        self._outcome("withdrawn", payload)

    @event_handler("review", "MaterialReturned")
    def on_material_returned(self, payload):
        self._outcome("returned", payload)

    @event_handler("review", "PackageApproved")
    def on_package_approved(self, payload):
        self._outcome("approved", payload)

    @event_handler("review", "PackageRejected")
    def on_package_rejected(self, payload):
        self._outcome("rejected", payload)

    @event_handler("materials", "PackageReopened")
    def on_package_reopened(self, payload):
        self._outcome("reopened", payload)

    def _outcome(self, kind, payload):
        """The registration system's record first, then the candidate's messages; each is
        idempotent on event_id, so a retried event completes whichever is missing."""
        self.use_cases.feed.record(kind, payload)
        self.use_cases.inbox.record(kind, payload)

    # -- delivery rounds: every NOTIFY.POLL_S, and at once when woken (dependencies.py) ---------
    @delivery_timer
    def deliver_sms(self):
        self.use_cases.courier.run()

    @delivery_timer
    def number_outcomes(self):
        """Outcomes to the registration system: numbered, and their webhook deliveries made."""
        self.use_cases.sequencer.run()

    @delivery_timer
    def deliver_webhooks(self):
        self.use_cases.dispatcher.run()

    # -- housekeeping (no TTL indexes: common/mongo.py) -------------------------------------------
    @timer(interval=300, eager=True)
    def purge_sms_limits(self):
        """Hourly-limit records nobody can hit any more."""
        self.use_cases.courier.purge_limits()

    @timer(interval=3600, eager=True)
    def purge_outcomes(self):
        """Outcomes and deliveries past the exam year and the one after (DESIGN §4a)."""
        self.use_cases.feed.purge()
