"""The site's typical review time as materials keeps it (services/materials/review_times.py):
learnt from review over RPC off the candidate's request, kept and renewed per site."""
from services.materials.review_times import MAX_AGE_S, REFRESH_S, ReviewTimes

FIGURE = {"days": 7, "decisions": 12, "average_hours": 5.5}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Review:
    """Stands in for review's RPC: records the sites asked, answers or fails."""

    def __init__(self, fail=False):
        self.asked, self.fail = [], fail

    def __call__(self, sites):
        self.asked.append(list(sites))
        if self.fail:
            raise TimeoutError("review did not answer")
        return {site: dict(FIGURE) for site in sites}


def test_a_site_is_asked_about_off_the_request_and_its_figure_shown_once_learnt():
    clock, review = Clock(), Review()
    times = ReviewTimes(clock=clock)
    assert times.of("3204") is None                     # a page asks: nothing known, nothing waits
    assert review.asked == []
    times.refresh(review)                               # the timer
    assert review.asked == [["3204"]]
    assert times.of("3204") == FIGURE
    times.refresh(review)                               # fresh: nobody asked again
    assert review.asked == [["3204"]]


def test_a_figure_is_renewed_after_a_while_and_dropped_when_review_stays_away():
    clock, review = Clock(), Review()
    times = ReviewTimes(clock=clock)
    times.of("3204")
    times.refresh(review)
    clock.now += REFRESH_S + 1
    assert times.of("3204") == FIGURE                    # still shown while it is renewed
    down = Review(fail=True)
    times.refresh(down)
    assert down.asked == [["3204"]] and times.of("3204") == FIGURE
    clock.now += MAX_AGE_S
    assert times.of("3204") is None                      # too old to show
    times.refresh(review)
    assert times.of("3204") == FIGURE


def test_many_sites_are_asked_about_in_batches_and_only_those_pages_looked_at():
    clock, review = Clock(), Review()
    times = ReviewTimes(clock=clock, batch=2)
    for site in ("3201", "3204", "1101"):
        times.of(site)
    times.refresh(review)
    assert sorted(site for call in review.asked for site in call) == ["1101", "3201", "3204"]
    assert max(len(call) for call in review.asked) == 2
