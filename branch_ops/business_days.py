"""Business days of a branch: its weekend (Saturday–Sunday in Europe, Friday–Saturday in
much of the Gulf, as data on the branch) and its holidays. Deadlines that run in business
days (complaint clocks) are computed here, in the branch's time zone, and stored in UTC."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from branch_ops.models import Branch, Holiday

DEFAULT_WEEKEND = (5, 6)  # Saturday, Sunday


@dataclass(frozen=True)
class Calendar:
    zone: zoneinfo.ZoneInfo
    weekend: frozenset[int]
    holidays: frozenset[dt.date]

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th business day after ``day`` (``day`` itself never counts)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        current, left = day, n
        while left:
            current += dt.timedelta(days=1)
            if self.is_business_day(current):
                left -= 1
        return current

    def close_of(self, day: dt.date) -> dt.datetime:
        """The end of ``day`` in the branch's zone (the last instant of that business day)."""
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone) - dt.timedelta(
            microseconds=1)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Business days after ``start`` up to and including ``end``."""
        count, current = 0, start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_business_day(current):
                count += 1
        return count


def branch_day(branch: Branch, now: dt.datetime | None = None) -> dt.date:
    """The branch's local date at ``now`` (default: now). After 20:00 UTC it is already
    tomorrow in Dubai: "today" for a branch is always this, never the server's date."""
    return timezone.localdate(now, timezone=zoneinfo.ZoneInfo(branch.time_zone))


def branch_calendar(branch: Branch) -> Calendar:
    weekend = frozenset(branch.weekend_days) if branch.weekend_days else frozenset(DEFAULT_WEEKEND)
    holidays = frozenset(Holiday.objects.filter(branch=branch).values_list("date", flat=True))
    return Calendar(zone=zoneinfo.ZoneInfo(branch.time_zone), weekend=weekend, holidays=holidays)
