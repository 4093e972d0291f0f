"""When a scheduled report falls due: daily, weekly, monthly or a 5-field cron expression, at a
wall-clock time of one IANA time zone. Plain Python (no Django), so it is tested on its own.

Every rule is turned into the occurrences of one *local day* (:meth:`Recurrence.on_day`); the next
occurrence after an instant, and the latest one at or before it, are found by walking days forward
or backward. Working per local day keeps daylight saving time right without special cases:

* a wall time that does not exist (the hour skipped in spring) runs when the clocks say it would
  have been, shifted by the gap: 02:30 on the day Rome skips from 02:00 to 03:00 runs at 03:30;
* a wall time that happens twice (the hour repeated in autumn) runs once, the first time.

So a daily schedule runs exactly once every local day, whatever the clocks do.

Cron fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), day of
week (0-7 or sun-sat; 0 and 7 are Sunday), each ``*``, a number, a range ``a-b``, a step ``*/n``
or ``a-b/n``, and lists of those with commas. As in every cron, when both the day of month and
the day of week are restricted a day matches either.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field

UTC = dt.UTC
EVERY = ("daily", "weekly", "monthly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTH_NAMES = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
# Cron counts Sunday as 0 (and 7); Python's weekday() counts Monday as 0.
DOW_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
# How far to look for an occurrence: "0 0 29 2 *" (29 February) waits up to eight years.
HORIZON_DAYS = 8 * 366 + 2


class RecurrenceError(ValueError):
    """A rule that cannot be used; the message says why, in words."""


@dataclass(frozen=True)
class CronField:
    """One field of a cron expression: the values it allows, and whether it was ``*``."""

    values: frozenset[int]
    any: bool


def _cron_value(text: str, names: dict[str, int], low: int, high: int, label: str) -> int:
    text = text.strip().lower()
    if text in names:
        return names[text]
    if not text.isdigit():
        raise RecurrenceError(f"{text!r} is not a {label}")
    value = int(text)
    if not low <= value <= high:
        raise RecurrenceError(f"{label} {value} is out of range {low}-{high}")
    return value


def parse_field(text: str, low: int, high: int, label: str, names: dict[str, int] | None = None) -> CronField:
    """One cron field: ``*``, ``n``, ``a-b``, ``*/s``, ``a-b/s``, ``n/s`` (n to the top), lists."""
    names = names or {}
    values: set[int] = set()
    if not text:
        raise RecurrenceError(f"the {label} field is empty")
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise RecurrenceError(f"step {step_text!r} in the {label} field is not a positive number")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _cron_value(a, names, low, high, label), _cron_value(b, names, low, high, label)
            if first > last:
                raise RecurrenceError(f"the range {base} in the {label} field runs backwards")
        else:
            first = _cron_value(base, names, low, high, label)
            last = high if slash else first
        values.update(range(first, last + 1, step))
    return CronField(frozenset(values), any=text == "*")


@dataclass(frozen=True)
class Cron:
    """A parsed 5-field cron expression (see the module's doc)."""

    minutes: CronField
    hours: CronField
    days: CronField
    months: CronField
    weekdays: CronField  # cron numbering: 0 = Sunday

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise RecurrenceError(f"a cron expression has 5 fields (minute hour day month weekday), "
                                  f"{text!r} has {len(parts)}")
        weekdays = parse_field(parts[4], 0, 7, "day of week", DOW_NAMES)
        # 7 is Sunday too.
        weekdays = CronField(frozenset(v % 7 for v in weekdays.values), weekdays.any)
        return cls(parse_field(parts[0], 0, 59, "minute"), parse_field(parts[1], 0, 23, "hour"),
                   parse_field(parts[2], 1, 31, "day of month"), parse_field(parts[3], 1, 12, "month", MONTH_NAMES),
                   weekdays)

    def day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months.values:
            return False
        in_month = day.day in self.days.values
        in_week = (day.isoweekday() % 7) in self.weekdays.values
        if self.days.any or self.weekdays.any:
            return in_month and in_week
        return in_month or in_week

    def times(self) -> list[dt.time]:
        return [dt.time(h, m) for h in sorted(self.hours.values) for m in sorted(self.minutes.values)]


def wall_instant(day: dt.date, at: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """The UTC instant of wall time ``at`` on ``day`` in ``zone``: the first of a repeated time,
    a skipped time shifted by the gap (see the module's doc)."""
    return dt.datetime.combine(day, at, tzinfo=zone).replace(fold=0).astimezone(UTC)


def parse_time(text: str) -> dt.time:
    """``HH:MM`` (24 hours) → time; RecurrenceError otherwise."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", (text or "").strip())
    if not match:
        raise RecurrenceError(f"{text!r} is not a time of day as HH:MM (24 hours)")
    return dt.time(int(match.group(1)), int(match.group(2)))


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(f"{name!r} is not an IANA time zone (such as Europe/Rome)") from None


@dataclass(frozen=True)
class Recurrence:
    """A schedule's rule: ``every`` daily, weekly (on ``weekday``, 0 = Monday), monthly (on
    ``day``, 1-31, the month's last day when it is shorter) at ``at``; or ``every`` "cron" with
    ``cron`` the expression (``at`` unused). ``zone`` is an IANA zone name."""

    every: str
    zone: str = "UTC"
    at: dt.time = dt.time(0, 0)
    weekday: int = 0
    day: int = 1
    cron: str = ""
    _parsed: Cron | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.every not in (*EVERY, "cron"):
            raise RecurrenceError(f"{self.every!r} is not daily, weekly, monthly or a cron expression")
        zone_of(self.zone)
        if self.every == "cron":
            object.__setattr__(self, "_parsed", Cron.parse(self.cron))
        if not 0 <= self.weekday <= 6:
            raise RecurrenceError("the weekday is 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.day <= 31:
            raise RecurrenceError("the day of the month is 1 to 31")

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zone_of(self.zone)

    def on_day(self, day: dt.date) -> list[dt.datetime]:
        """The occurrences (UTC instants, sorted) of one local day."""
        zone = self.tz
        if self.every == "cron":
            cron = self._parsed
            if not cron.day_matches(day):
                return []
            return sorted({wall_instant(day, at, zone) for at in cron.times()})
        if self.every == "weekly" and day.weekday() != self.weekday:
            return []
        if self.every == "monthly" and day.day != min(self.day, calendar.monthrange(day.year, day.month)[1]):
            return []
        return [wall_instant(day, self.at, zone)]

    def next_after(self, instant: dt.datetime) -> dt.datetime:
        """The first occurrence strictly after ``instant`` (aware)."""
        # From the day before: a skipped wall time of yesterday may land after ``instant``.
        day = instant.astimezone(self.tz).date() - dt.timedelta(days=1)
        found: dt.datetime | None = None
        for offset in range(HORIZON_DAYS):
            later = [at for at in self.on_day(day + dt.timedelta(days=offset)) if at > instant]
            if later and (found is None or later[0] < found):
                found = later[0]
            elif found is not None:
                # One day past the first day with an occurrence: nothing later can come earlier.
                return found
        if found is not None:
            return found
        raise RecurrenceError("this rule never falls due (a day that never comes, such as 31 February)")

    def latest_at_or_before(self, instant: dt.datetime) -> dt.datetime | None:
        """The last occurrence at or before ``instant``; None if there is none within the horizon."""
        day = instant.astimezone(self.tz).date() + dt.timedelta(days=1)
        found: dt.datetime | None = None
        for offset in range(HORIZON_DAYS):
            earlier = [at for at in self.on_day(day - dt.timedelta(days=offset)) if at <= instant]
            if earlier and (found is None or earlier[-1] > found):
                found = earlier[-1]
            elif found is not None:
                return found
        return found

    def describe(self) -> str:
        """The rule in words: ``every Monday at 07:00 (Europe/Rome)``."""
        if self.every == "cron":
            return f"cron {self.cron} ({self.zone})"
        at = self.at.strftime("%H:%M")
        if self.every == "daily":
            return f"every day at {at} ({self.zone})"
        if self.every == "weekly":
            return f"every {WEEKDAYS[self.weekday].capitalize()} at {at} ({self.zone})"
        return f"on day {self.day} of every month at {at} ({self.zone})"
