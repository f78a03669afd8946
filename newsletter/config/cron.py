"""Crontab lines as the scheduler reads them: five fields, crontab's own weekday numbers, one firing
on the night clocks go back. The config check of `[schedule] cron` and the scheduler share this reading,
so a line that passes the check is the line that runs."""

from __future__ import annotations

from datetime import datetime, tzinfo

from apscheduler.triggers.cron import CronTrigger

# crontab counts days of the week from Sunday (0, and 7 again); APScheduler 3 counts from Monday
# (0 = mon) and would read "0 7 * * 1" as Tuesday. Names mean the same to both.
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class CrontabTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type hints
    """A crontab line in a time zone that fires once on the day a daylight-saving change repeats its
    hour: APScheduler 3 fires a time such as 01:30 twice on that night. A time the spring change
    skips fires once, an hour later in wall-clock terms (APScheduler's own behaviour)."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and _second_pass(fire):
            fire = super().get_next_fire_time(fire, fire)
        return fire


def _second_pass(moment: datetime) -> bool:
    """Whether `moment` is the second occurrence of a wall-clock time repeated when clocks go back."""
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


def crontab_trigger(expression: str, zone: tzinfo) -> CrontabTrigger:
    """A trigger for a five-field crontab line with crontab's own day-of-week numbers (0 or 7 = Sunday).

    Raises:
        ValueError: the line is not five valid fields; the message says which part is wrong.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab line has 5 fields (minute hour day month weekday), got {len(fields)}")
    fields[4] = _weekdays(fields[4])
    trigger: CrontabTrigger = CrontabTrigger.from_crontab(" ".join(fields), timezone=zone)
    return trigger


def _weekdays(field: str) -> str:
    """crontab's day-of-week field spelled with names, so APScheduler reads the days crontab means."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (_day(end, part) for end in span.split("-", 1))
        else:
            first = _day(span, part)
            last = 6 if step_text else first
        step = _number(step_text, part) if step_text else 1
        if last < first or step < 1:
            raise ValueError(f"day of week {part!r} is not a range from an earlier day to a later one")
        days.update(day % 7 for day in range(first, last + 1, step))
    # In APScheduler's order (Monday first) so the trigger reads like the week it fires in.
    return ",".join(_DAYS[day] for day in sorted(days, key=lambda day: (day + 6) % 7))


def _day(text: str, part: str) -> int:
    name = text.strip().lower()[:3]
    if name in _DAYS:
        return _DAYS.index(name)
    number = _number(text, part)
    if not 0 <= number <= 7:
        raise ValueError(f"day of week {part!r}: days are 0-7 (0 and 7 are Sunday) or mon..sun")
    return number


def _number(text: str, part: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"day of week {part!r}: days are 0-7 (0 and 7 are Sunday) or mon..sun")
    return int(text)


