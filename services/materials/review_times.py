"""The site's typical review time on the candidate's page ("本考点近7天平均审核用时"), as
review computes it from its overview tallies (review.site_review_times, a service-only
RPC): materials never reads review's database (DESIGN §2).

Why an RPC asked by a timer, and not the candidate's request or an event: a candidate's
request must not wait on the broker (README: deadlines), so a page only notes which site
it wants and shows what is known; the service's timer asks review for every site wanted
in one call and keeps the answers a while. Carrying the figure on events was the other
way: on the decision events it would change only when that site decides something (and
stay stale exactly when reviews stall), and a periodic event of its own would be a new
event type published for every site whether anyone looks or not. A review outage costs
nothing but the figure: the last one stays for MAX_AGE_S, then the page shows none."""
import logging
import time

log = logging.getLogger(__name__)

TICK_S = 10          # how often the timer looks for sites to ask about (no call if none)
REFRESH_S = 600      # a site's figure is asked for again after this
MAX_AGE_S = 3600     # and shown at most this long after review last answered
BATCH = 200          # sites per call (review's limit)


class ReviewTimes:
    """Per-site figures kept in this instance, shared by its workers."""

    def __init__(self, clock=time.monotonic, batch=BATCH):
        self.clock = clock
        self.batch = batch
        self._known = {}     # site -> (learnt at, figure)
        self._wanted = set()

    def of(self, site):
        """The figure for `site` if known and recent enough, else None; either way the site
        is asked about at the next tick if its figure is missing or due for renewal."""
        learnt_at, figure = self._known.get(site, (None, None))
        age = None if learnt_at is None else self.clock() - learnt_at
        if age is None or age >= REFRESH_S:
            self._wanted.add(site)
        return figure if age is not None and age < MAX_AGE_S else None

    def refresh(self, ask):
        """Ask review about the sites wanted (`ask(sites)` -> {site: figure}); a failure
        leaves them wanted for the next tick."""
        wanted = sorted(self._wanted)
        for start in range(0, len(wanted), self.batch):
            sites = wanted[start:start + self.batch]
            try:
                answers = ask(sites)
            except Exception as exc:  # RemoteError, timeouts, review away: the page does without
                log.warning("site review times unavailable: %s", type(exc).__name__)
                return
            now = self.clock()
            for site in sites:
                if isinstance(answers.get(site), dict):
                    self._known[site] = (now, answers[site])
                self._wanted.discard(site)
