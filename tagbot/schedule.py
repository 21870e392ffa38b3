"""When new pull requests may open: `schedule:` as people write it (`every weekday`, `before
6am on monday`, `after 10pm and before 5am`, `on the first day of the month`) or as cron
(`* 0-5 * * 1-5`), in the config's `timezone:`.

A schedule is a set of hours: a run lasts minutes and runs are hours apart, so finer windows
would let a run start inside one and open pull requests after it closed. Local time is what a
person means (`before 6am` in Berlin is before 6 there, in summer and in winter); hours are
walked in UTC and read locally, so a DST change skips or repeats an hour as clocks do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_HOURS = frozenset(range(24))
ALL_DAYS = frozenset(range(7))
_TIME = re.compile(r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm)?")
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "last": -1}
MAX_LOOKAHEAD = timedelta(days=400)  # a window opens within a year and a bit, or never


@dataclass(frozen=True)
class Window:
    """Hours of days: every constraint must hold (None: any)."""

    hours: frozenset[int] = ALL_HOURS
    weekdays: frozenset[int] = ALL_DAYS  # 0 is Monday
    month_days: frozenset[int] | None = None  # 1..31, -1 the last
    months: frozenset[int] | None = None  # 1..12

    def holds(self, local: datetime) -> bool:
        if local.hour not in self.hours or local.weekday() not in self.weekdays:
            return False
        if self.months is not None and local.month not in self.months:
            return False
        if self.month_days is None:
            return True
        last = (local.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return local.day in self.month_days or (-1 in self.month_days and local.day == last.day)


@dataclass(frozen=True)
class Schedule:
    texts: tuple[str, ...]  # as written, for messages
    windows: tuple[Window, ...]  # any of them
    zone: ZoneInfo | dt_timezone = dt_timezone.utc

    def allows(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        return any(window.holds(local) for window in self.windows)

    def next_opening(self, now: datetime) -> datetime | None:
        """The first whole hour after `now` the schedule allows, or None within MAX_LOOKAHEAD."""
        hour = now.astimezone(dt_timezone.utc).replace(minute=0, second=0, microsecond=0)
        for step in range(1, int(MAX_LOOKAHEAD / timedelta(hours=1))):
            candidate = hour + timedelta(hours=step)
            if self.allows(candidate):
                return candidate
        return None

    def describe(self) -> str:
        zone = getattr(self.zone, "key", "UTC")
        return f"{' or '.join(self.texts)} ({zone})"


ANY_TIME = Schedule(("at any time",), (Window(),))


def parse_schedule(texts: list[str] | tuple[str, ...], zone_name: str | None = None) -> Schedule:
    """A checked schedule; ValueError naming the text that cannot be read."""
    zone = parse_timezone(zone_name) if zone_name else dt_timezone.utc
    windows = tuple(_window(text) for text in texts)
    return Schedule(tuple(texts), windows, zone)


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (Europe/Berlin, America/New_York, UTC)") from None


def _window(text: str) -> Window:
    phrase = " ".join(text.lower().split())
    if not phrase:
        raise ValueError("an empty schedule")
    if _is_cron(phrase):
        return _cron(phrase, text)
    return _words(phrase, text)


# --- words ------------------------------------------------------------------------------------

_PARTS = re.compile(
    r"(?P<anytime>at any time)"
    r"|(?:every )?(?P<weekday>weekdays?)|(?:every )?(?P<weekend>weekends?)|every (?P<everyday>day)"
    r"|(?:weekly )?on (?P<days>(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?(?:,? and |, | )?)+)"
    r"|every (?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|(?:every month )?on the (?P<ordinal>first|1st|second|2nd|third|3rd|last) day of the month"
    r"|before (?P<before>[\d:]+\s*(?:am|pm)?)|after (?P<after>[\d:]+\s*(?:am|pm)?)"
    r"|(?P<and>and)"
)


def _words(phrase: str, text: str) -> Window:
    weekdays: frozenset[int] = ALL_DAYS
    month_days: frozenset[int] | None = None
    before = after = None
    position = 0
    while position < len(phrase):
        match = _PARTS.match(phrase, position)
        if match is None:
            raise ValueError(f"{text!r}: cannot read {phrase[position:]!r} (write, say, \"before 6am on monday\", "
                             "\"every weekday\", \"on the first day of the month\", or cron \"* 0-5 * * 1-5\")")
        if match.group("weekday"):
            weekdays &= frozenset(range(5))
        elif match.group("weekend"):
            weekdays &= frozenset({5, 6})
        elif match.group("days") or match.group("day"):
            named = re.findall(r"monday|tuesday|wednesday|thursday|friday|saturday|sunday",
                               match.group("days") or match.group("day"))
            weekdays &= frozenset(DAYS.index(day) for day in named)
        elif match.group("ordinal"):
            month_days = frozenset({_ORDINALS[match.group("ordinal")]})
        elif match.group("before"):
            before = _hour(match.group("before"), text)
        elif match.group("after"):
            after = _hour(match.group("after"), text)
        position = match.end()
        while position < len(phrase) and phrase[position] == " ":
            position += 1
    if not weekdays:
        raise ValueError(f"{text!r}: no day is both")
    return Window(_hours(before, after), weekdays, month_days)


def _hour(written: str, text: str) -> int:
    match = _TIME.fullmatch(written.strip())
    if match is None:
        raise ValueError(f"{text!r}: {written!r} is not a time (6am, 18:00)")
    hour, half = int(match.group("hour")), match.group("half")
    if match.group("minute") not in (None, "00"):
        raise ValueError(f"{text!r}: {written}: a schedule is by the hour (runs are hours apart), write {hour}"
                         f"{half or ':00'}")
    if half:
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r}: {written!r} is not a time")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif hour > 24:
        raise ValueError(f"{text!r}: {written!r} is not a time")
    return hour % 24 if hour != 24 else 24


def _hours(before: int | None, after: int | None) -> frozenset[int]:
    """`before 6am`: 0-5; `after 10pm`: 22-23; both: between, or around midnight when after > before."""
    low, high = after or 0, 24 if before is None else before
    if after is not None and before is not None and after >= before:
        return frozenset(range(after, 24)) | frozenset(range(0, before))
    return frozenset(range(low, high))


# --- cron -------------------------------------------------------------------------------------

def _is_cron(phrase: str) -> bool:
    fields = phrase.split(" ")
    return len(fields) == 5 and all(re.fullmatch(r"[\d*,/-]+|[a-z]{3}(?:-[a-z]{3})?", f) for f in fields)


_NAMES = {name[:3]: index for index, name in enumerate(DAYS)}


def _cron(phrase: str, text: str) -> Window:
    minute, hour, day, month, weekday = phrase.split(" ")
    if minute != "*":
        raise ValueError(f"{text!r}: the minute field must be * (a schedule is by the hour: runs are hours apart)")
    hours = _field(hour, 0, 23, text)
    month_days = None if day == "*" else _field(day, 1, 31, text)
    months = None if month == "*" else _field(month, 1, 12, text)
    # cron counts Sunday as 0 (and 7); Python, Monday as 0.
    weekdays = ALL_DAYS if weekday == "*" else frozenset((d - 1) % 7 for d in _field(weekday, 0, 7, text, _NAMES))
    return Window(hours, weekdays, month_days, months)


def _field(written: str, low: int, high: int, text: str, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in written.split(","):
        match = re.fullmatch(r"(?:(?P<all>\*)|(?P<a>\w+)(?:-(?P<b>\w+))?)(?:/(?P<step>\d+))?", part)
        if match is None:
            raise ValueError(f"{text!r}: cannot read {part!r}")
        if match.group("all"):
            start, end = low, high
        else:
            start = _number(match.group("a"), low, high, text, names)
            end = _number(match.group("b"), low, high, text, names) if match.group("b") else start
        step = int(match.group("step") or 1)
        if step < 1 or end < start:
            raise ValueError(f"{text!r}: {part!r} is an empty range")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(written: str, low: int, high: int, text: str, names: dict[str, int] | None) -> int:
    if names is not None and written in names:
        return (names[written] + 1) % 7  # cron's numbering: sun=0, mon=1
    if not written.isdigit() or not low <= int(written) <= high:
        raise ValueError(f"{text!r}: {written!r} is out of range ({low}-{high})")
    return int(written)
