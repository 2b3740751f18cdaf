"""Business days for the dashboard (SPEC E1): weekends and the practice
country's public holidays (the `holidays` package) are skipped."""

import datetime
from functools import lru_cache

import holidays

BUSINESS_DAYS = 4


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[datetime.date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:  # a country the package does not know: weekends only
        return frozenset()


def is_business_day(day: datetime.date, country: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


@lru_cache(maxsize=4096)
def business_deadline(day: datetime.date, country: str, days: int = BUSINESS_DAYS) -> datetime.date:
    """The day `days` business days after `day`: a Monday visit's deadline is
    Friday, a Tuesday visit's is the next Monday (SPEC section 11)."""
    current, left = day, days
    while left:
        current += datetime.timedelta(days=1)
        if is_business_day(current, country):
            left -= 1
    return current
