"""SPEC X4: the window of days Molar deals in, and day ranges for filters.

Visits fall between FIRST_DAY and LAST_DAY (patients.models.validate_visit_start
holds that rule for every door: page, API, import, command line). A filter's
days (audit report, invites, bulk selections, the measure) are clamped into
the same window before they become datetimes: a day as far out as 9999-12-31
or 0001-01-01 selects what it would anyway, and "the day after" can never
overflow Python's year 9999 or a time zone's offset."""

import datetime

from django.utils import timezone

FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)
WINDOW_TEXT = f"between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"


def in_window(day: datetime.date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def clamp_day(day: datetime.date) -> datetime.date:
    return min(max(day, FIRST_DAY), LAST_DAY)


def day_start(day: datetime.date, zone=None) -> datetime.datetime:
    """Midnight starting `day` (clamped) in `zone` (the practice's by default)."""
    zone = zone or timezone.get_current_timezone()
    return datetime.datetime.combine(clamp_day(day), datetime.time(), zone)


def day_after(day: datetime.date, zone=None) -> datetime.datetime:
    """Midnight ending `day` (clamped): an `end` filter includes its whole day."""
    return day_start(clamp_day(day), zone) + datetime.timedelta(days=1)


END_BEFORE_START = "The end date is before the start date."


def window_refusal(
    start: datetime.date | None,
    end: datetime.date | None,
    *,
    reversed_text: str = END_BEFORE_START,
    most_days: int | None = None,
    too_long_text: str = "",
) -> str | None:
    """The one rule for a window of days that pages, the API and commands
    take: its end is not before its start (an open end never is), and it
    spans at most `most_days`. Returns the refusal, in the caller's words
    (a page names its labels, the API its parameters), or None."""
    if start is None or end is None:
        return None
    if end < start:
        return reversed_text
    if most_days is not None and (end - start).days > most_days:
        return too_long_text
    return None
