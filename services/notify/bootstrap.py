"""Composition: notify's use cases built over one worker's resources, every argument
spelled out (cosmicpython's bootstrap). The service's entrypoints call these objects
(`self.use_cases.inbox.list(...)`); dependencies.NotifyUseCases calls `build` for each
worker with what the other providers hold."""
from dataclasses import dataclass

from services.notify.courier import Courier, contact_lookup
from services.notify.dispatcher import Dispatcher
from services.notify.feed import Feed, Sequencer
from services.notify.feed_repository import FeedRepository
from services.notify.hooks_repository import HooksRepository
from services.notify.inbox import Inbox
from services.notify.repository import NotifyRepository
from services.notify.subscribers import Subscribers


@dataclass(frozen=True)
class UseCases:
    inbox: Inbox              # the candidate's messages; operators' view of deliveries
    feed: Feed                # the registration system's outcomes: recorded, paged, purged
    subscribers: Subscribers  # webhook subscribers and failed deliveries (administrators)
    courier: Courier          # an SMS delivery round
    sequencer: Sequencer      # a round numbering outcomes and fanning them out to webhooks
    dispatcher: Dispatcher    # a webhook delivery round


def build(db, sms, get_contact, settings, cursor_keys, *, wake, ready, indexed, holder,
          stopping):
    """The use cases over `db` (the notify database), `sms` (sms.SmsClient) and
    `get_contact` (auth's RPC, at send time), with `settings` (settings.NotifySettings)
    and the outcome feed's `cursor_keys`. `wake()` starts this instance's delivery rounds
    now, `ready()` waits for the indexes idempotency rests on (or raises Unavailable),
    `indexed()` says whether they exist, `holder` names this instance in the sequencer's
    lease, `stopping()` says whether the service is stopping (rounds end early)."""
    messages, outcomes, hooks = NotifyRepository(db), FeedRepository(db), HooksRepository(db)
    return UseCases(
        inbox=Inbox(messages, on_new=wake, ready=ready),
        feed=Feed(outcomes, hooks, cursor_keys, on_new=wake),
        subscribers=Subscribers(hooks, settings.webhooks, on_change=wake),
        courier=Courier(messages, sms, contact_lookup(get_contact), settings.delivery,
                        settings.keys.hash_key, stopping=stopping),
        sequencer=Sequencer(outcomes, hooks, settings.webhooks.horizon_s, holder=holder,
                            ready=indexed, on_numbered=wake),
        # webhook rounds look for due work at least twice a second while busy
        dispatcher=Dispatcher(hooks, settings.webhooks, stopping=stopping,
                              poll_s=min(settings.delivery.poll_s, 0.5)),
    )
