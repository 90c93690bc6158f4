"""Time as the system writes and reads it (pure, stdlib only).

Instants travel and are stored as UTC ISO 8601 with milliseconds and `Z`
(`2026-05-20T02:00:00.000Z`: events, APIs and stored fields, DESIGN §6); people read
dates and deadlines in Beijing time, the exam's one time zone."""
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


def utcnow():
    return datetime.now(timezone.utc)


def iso(moment):
    """`2026-05-20T02:00:00.000Z`; an aware moment is converted to UTC first (our database
    client is time-zone aware, so naive moments do not occur and are written as they are)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_from_epoch(epoch):
    """The same format for seconds since the epoch (review keeps its times so)."""
    return iso(datetime.fromtimestamp(epoch, timezone.utc))


def utcnow_iso():
    return iso(utcnow())


def beijing_date(moment):
    """The Beijing calendar date of an instant (a naive moment is taken as UTC, as our
    stored times are)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BEIJING).date()


def beijing_today():
    """Today as the exam counts it: from 16:00 to 24:00 UTC this is the machine's
    tomorrow, so nothing (tests included) may take "today" from `date.today()`. For
    deadlines, a tally's day, an export's date range."""
    return beijing_date(utcnow())


def parse_iso(value):
    """The inverse of `iso`, and any other ISO 8601 text (`Z` or an offset, or none)."""
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def parse_beijing(value):
    """`parse_iso`, but a text without an offset is Beijing wall-clock time (what an
    administrator types for a region's window, what a deadline means): always aware."""
    moment = parse_iso(value)
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment


def beijing_wall(value):
    """An ISO instant as Beijing wall-clock time without a zone: what a spreadsheet cell
    holds (spreadsheets have no time zones), or what a person reads."""
    return parse_iso(value).astimezone(BEIJING).replace(tzinfo=None)
