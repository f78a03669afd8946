"""ISO weeks: the key of an issue ("2010-W52") and the span of lesson dates it covers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from newsletter.errors import WeekError

_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Read "2010-W52"; a malformed or impossible week is a WeekError that says how to write one."""
        match = _WEEK.match(text.strip())
        if match is None:
            raise WeekError(f"week must look like 2010-W52 (got {text!r})")
        year, week = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise WeekError(f"{year} has no ISO week {week:02d} (got {text!r})") from None
        return cls(year, week)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def last_complete(cls, today: date) -> IsoWeek:
        """The most recent week that has fully ended before `today`."""
        return cls.of(today - timedelta(days=today.isoweekday()))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.monday <= day <= self.sunday

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
