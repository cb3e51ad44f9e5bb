"""Change windows: when an approved action may run.

An approval can hold an action until a change window opens, e.g. ``Mon–Thu 09:00–16:00
Europe/Berlin``. A window is judged in the local wall-clock time of its zone, so 09:00–16:00
stays 09:00–16:00 local across daylight-saving changes (07:00–14:00 UTC in Berlin's summer,
08:00–15:00 UTC in its winter). Freeze dates shut whole local dates regardless of the hours.

Around a daylight-saving change the window follows the clock on the wall:

* a local time that does not exist (spring forward) is never on the clock, so a window whose
  opening time falls in the gap opens at the first instant after it (02:30 in Berlin on
  2026-03-29 opens at 03:00 CEST), and a window that lies wholly in the gap does not open
  that day;
* a local time that happens twice (fall back) is in the window both times: the window first
  opens at the first occurrence (``fold=0``), and if the clock is set back out of the window
  it opens again when the repeated hour comes back into it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ringfence.errors import ControlError

__all__ = ["ChangeWindow", "WindowError", "parse_freeze", "parse_window", "window_from_mapping"]


class WindowError(ControlError):
    """A change window is written wrongly, or was asked about a naive datetime."""


_EXAMPLE = "Mon–Thu 09:00–16:00 Europe/Berlin"
_FREEZE_EXAMPLE = '"2026-12-24..2027-01-02" or "2026-11-26"'
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS_BY_NAME = {name: i for i, name in enumerate(_FULL_NAMES)} | {n.lower(): i for i, n in enumerate(_DAY_NAMES)}
_DAY_SETS = {
    "daily": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
_DAY_HELP = "use Mon..Sun or Monday..Sunday, a range like Mon–Thu, a list like Mon,Wed,Fri, daily, weekdays or weekends"
_MINUTES_PER_DAY = 24 * 60
_DAY = timedelta(days=1)
_HORIZON = timedelta(days=400)

# A range separator: en dash, em dash, hyphen or "..".
_RANGE = r"(?:–|—|-|\.\.)"
_SEPARATOR_SPACE = re.compile(r"\s*(,|–|—|-|\.\.)\s*")
_HOURS = re.compile(rf"(\d\d):(\d\d){_RANGE}(\d\d):(\d\d)")
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_FREEZE = re.compile(rf"({_ISO_DATE})(?:\s*(?:\.\.|–|—)\s*({_ISO_DATE})|\s+-\s+({_ISO_DATE}))?")


class _Problem(Exception):
    """A detail of what is wrong; the public functions add where it is and an example."""


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """Weekly hours in a time zone during which held actions may run, minus freeze dates.

    ``start`` and ``end`` are minutes after local midnight; ``end`` is exclusive and may be
    1440 (24:00). When ``end <= start`` the window wraps past midnight and the part after
    midnight belongs to the day it started on: a Fri 22:00–02:00 window is open Sat 01:00.
    A freeze range shuts whole local dates in ``tz``, and only those: a wrapping window that
    started the evening before a frozen date shuts at its midnight, and one whose evening
    was frozen opens at the midnight after, for what is left of it.
    """

    days: frozenset[int]
    start: int
    end: int
    tz: str = "UTC"
    freeze: tuple[tuple[date, date], ...] = ()
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        if not days or not days <= frozenset(range(7)):
            raise WindowError(f"change window: days must be weekday numbers 0..6 (Monday = 0), got {sorted(days)}")
        if not 0 <= self.start < _MINUTES_PER_DAY:
            raise WindowError(f"change window: start must be 0..1439 minutes after midnight, got {self.start}")
        if not 1 <= self.end <= _MINUTES_PER_DAY:
            raise WindowError(f"change window: end must be 1..1440 minutes after midnight, got {self.end}")
        if self.start == self.end:
            raise WindowError(f"change window: start and end are both {_hhmm(self.start)}, the window would be empty")
        _zone(self.tz)
        freeze = tuple(self.freeze)
        for first, last in freeze:
            if last < first:
                raise WindowError(f"change window: freeze range {first}..{last} ends before it starts")
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "freeze", freeze)

    def is_open(self, at: datetime) -> bool:
        """Whether held actions may run at the instant ``at`` (timezone-aware)."""
        return self._open_at(_aware(at, "is_open"))

    def next_open(self, after: datetime) -> datetime | None:
        """The earliest instant >= ``after`` at which the window is open, in UTC.

        ``after`` itself when the window is open then; None when it does not open within
        400 days (every day frozen, say).
        """
        return self._next_change(_aware(after, "next_open"), want_open=True)

    def closes_at(self, at: datetime) -> datetime | None:
        """The instant, in UTC, at which the window open at ``at`` closes.

        None when the window is not open at ``at``, and also when it stays open for the next
        400 days (``daily 00:00–24:00`` without freezes never closes).
        """
        at = _aware(at, "closes_at")
        if not self._open_at(at):
            return None
        return self._next_change(at, want_open=False)

    def frozen_on(self, at: datetime) -> tuple[date, date] | None:
        """The freeze range that contains the local date of ``at`` in the window's zone, if any."""
        return self._freeze_of(_aware(at, "frozen_on").astimezone(_zone(self.tz)).date())

    def describe(self) -> str:
        """The window in words, e.g. ``Mon–Thu 09:00–16:00 Europe/Berlin (frozen 2026-12-24–2027-01-02)``."""
        text = f"{_describe_days(self.days)} {_hhmm(self.start)}–{_hhmm(self.end)} {self.tz}"
        if self.freeze:
            ranges = (str(first) if first == last else f"{first}–{last}" for first, last in self.freeze)
            text += f" (frozen {', '.join(ranges)})"
        return text

    def _freeze_of(self, day: date) -> tuple[date, date] | None:
        for first, last in self.freeze:
            if first <= day <= last:
                return (first, last)
        return None

    def _open_local(self, day: date, minute: int) -> bool:
        """Whether the window is open at wall-clock ``minute`` of the local date ``day``."""
        if self._freeze_of(day) is not None:
            return False
        weekday = day.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= minute < self.end
        return (weekday in self.days and minute >= self.start) or ((weekday - 1) % 7 in self.days and minute < self.end)

    def _open_at(self, at: datetime) -> bool:
        local = at.astimezone(_zone(self.tz))
        return self._open_local(local.date(), local.hour * 60 + local.minute)

    def _next_change(self, after: datetime, *, want_open: bool) -> datetime | None:
        """The earliest instant >= ``after`` within the horizon at which ``is_open`` is ``want_open``.

        The state can only change where the wall clock reaches a start, an end or midnight
        (walked one local date at a time, both occurrences of a repeated time tried) or where
        the zone's offset changes (found by bisection on the dates that have one). Every such
        candidate is checked against ``is_open``; the earliest that fits is the answer.
        """
        after = after.astimezone(UTC)
        if self._open_at(after) == want_open:
            return after
        zone = _zone(self.tz)
        limit = after + _HORIZON
        edges = sorted({0, self.start, self.end % _MINUTES_PER_DAY})
        day = after.astimezone(zone).date() - _DAY
        midnight = _instant(zone, day, 0, fold=0)
        best: datetime | None = None
        while midnight <= limit and (best is None or midnight - _DAY <= best):
            next_midnight = _instant(zone, day + _DAY, 0, fold=0)
            candidates = [
                _instant(zone, day, minute, fold=fold)
                for minute in edges
                if self._open_local(day, minute) == want_open
                for fold in (0, 1)
            ]
            shift = _offset_change(zone, midnight, next_midnight)
            if shift is not None:
                candidates.append(shift)
            for candidate in candidates:
                earlier = best is None or candidate < best
                if after < candidate <= limit and earlier and self._open_at(candidate) == want_open:
                    best = candidate
            day, midnight = day + _DAY, next_midnight
        return best


def parse_window(text: str, *, freeze: Iterable[str] = ()) -> ChangeWindow:
    """Parse ``DAYS HH:MM–HH:MM [ZONE]``, e.g. ``Mon–Thu 09:00–16:00 Europe/Berlin``.

    DAYS is a day (``Mon``, ``monday``), a range (``Mon–Thu``, ``Fri-Mon`` wraps), a comma
    list of those, or ``daily``, ``weekdays``, ``weekends``. Ranges take an en dash, a hyphen
    or ``..``, with optional spaces around it. ZONE is an IANA name and defaults to UTC.
    ``freeze`` items (or one string) are read by :func:`parse_freeze`.
    """
    tokens = _SEPARATOR_SPACE.sub(r"\1", text.strip()).split()
    try:
        if not tokens:
            raise _Problem("is empty; the form is DAYS HH:MM–HH:MM [ZONE]")
        if tokens[0][:1].isdigit():
            raise _Problem(f'starts with "{tokens[0]}"; name the days first')
        days = _parse_days(tokens[0])
        if len(tokens) == 1:
            raise _Problem(f'has days "{tokens[0]}" but no hours; add HH:MM–HH:MM')
        start, end = _parse_hours(tokens[1], days_hint=True)
        tz = _check_zone(tokens[2]) if len(tokens) > 2 else "UTC"
        if len(tokens) > 3:
            raise _Problem(f'has "{" ".join(tokens[3:])}" after the time zone; the form is DAYS HH:MM–HH:MM [ZONE]')
    except _Problem as problem:
        raise WindowError(f'change window "{text}": {problem}, e.g. "{_EXAMPLE}"') from None
    ranges = tuple(parse_freeze(item) for item in ([freeze] if isinstance(freeze, str) else freeze))
    return ChangeWindow(days=days, start=start, end=end, tz=tz, freeze=ranges, text=text)


def window_from_mapping(doc: Mapping[str, Any], *, where: str = "window") -> ChangeWindow:
    """Build a window from its config form.

    ``{days: [mon, tue] | "mon-thu", hours: "09:00-16:00", tz: "Europe/Berlin",
    freeze: ["2026-12-24..2027-01-02", "2026-11-26"]}``; ``tz`` and ``freeze`` are optional.
    Errors name ``where`` (e.g. ``approvals.window``). Freeze items may also be dates, which
    is what YAML makes of an unquoted ``2026-11-26``.
    """
    if not isinstance(doc, Mapping):
        raise WindowError(f"{where} must be a mapping with days, hours and optionally tz, freeze; got {_kind(doc)}")
    allowed = ("days", "hours", "tz", "freeze")
    unknown = sorted(str(key) for key in doc if key not in allowed)
    if unknown:
        raise WindowError(f"{where}: unknown key {', '.join(map(_quote, unknown))}; allowed: {', '.join(allowed)}")
    for key, example in (("days", "days: [mon, tue, wed, thu]"), ("hours", 'hours: "09:00-16:00"')):
        if key not in doc:
            raise WindowError(f'{where}: missing "{key}", e.g. {example}')

    raw_days = doc["days"]
    if isinstance(raw_days, str):
        day_items = [raw_days]
    elif isinstance(raw_days, list | tuple) and raw_days and all(isinstance(item, str) for item in raw_days):
        day_items = list(raw_days)
    else:
        raise WindowError(
            f'{where}.days must be a list of day names or a string like "mon-thu", got {_kind(raw_days)} {raw_days!r}'
        )
    days: set[int] = set()
    for item in day_items:
        try:
            days |= _parse_days(_SEPARATOR_SPACE.sub(r"\1", item.strip()))
        except _Problem as problem:
            raise WindowError(f"{where}.days: {problem}") from None

    hours = doc["hours"]
    if not isinstance(hours, str):
        raise WindowError(
            f'{where}.hours must be a quoted string like "09:00-16:00", got {_kind(hours)} {hours!r}'
            " (in YAML, quote it)"
        )
    try:
        start, end = _parse_hours(_SEPARATOR_SPACE.sub(r"\1", hours.strip()), days_hint=False)
    except _Problem as problem:
        raise WindowError(f'{where}.hours: {problem}, e.g. "09:00-16:00"') from None

    tz = doc.get("tz", "UTC")
    if not isinstance(tz, str):
        raise WindowError(f'{where}.tz must be an IANA time zone name like "Europe/Berlin", got {_kind(tz)} {tz!r}')
    try:
        tz = _check_zone(tz.strip())
    except _Problem as problem:
        raise WindowError(f"{where}.tz: {problem}") from None

    raw_freeze = doc.get("freeze", [])
    if isinstance(raw_freeze, str | date):
        raw_freeze = [raw_freeze]
    if not isinstance(raw_freeze, list | tuple):
        raise WindowError(f"{where}.freeze must be a list of dates or date ranges, e.g. [{_FREEZE_EXAMPLE}]")
    freeze: list[tuple[date, date]] = []
    for i, item in enumerate(raw_freeze):
        if isinstance(item, date) and not isinstance(item, datetime):
            freeze.append((item, item))
            continue
        if not isinstance(item, str):
            raise WindowError(f"{where}.freeze[{i}] must be a date or date range, got {_kind(item)} {item!r}")
        try:
            freeze.append(parse_freeze(item))
        except WindowError as error:
            raise WindowError(f"{where}.freeze[{i}]: {error}") from None

    text = f"{','.join(day_items)} {hours} {tz}"
    return ChangeWindow(days=frozenset(days), start=start, end=end, tz=tz, freeze=tuple(freeze), text=text)


def parse_freeze(item: str) -> tuple[date, date]:
    """Parse a freeze: ``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD`` (also with an en dash), inclusive."""
    match = _FREEZE.fullmatch(item.strip())
    if match is None:
        raise WindowError(f'freeze "{item}" must be YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, e.g. {_FREEZE_EXAMPLE}')
    first_text, last_text = match.group(1), match.group(2) or match.group(3) or match.group(1)
    dates = []
    for part in (first_text, last_text):
        try:
            dates.append(date.fromisoformat(part))
        except ValueError:
            raise WindowError(f'freeze "{item}": {part} is not a calendar date, e.g. {_FREEZE_EXAMPLE}') from None
    first, last = dates
    if last < first:
        raise WindowError(f'freeze "{item}" ends before it starts, e.g. {_FREEZE_EXAMPLE}')
    return (first, last)


def _parse_days(token: str) -> frozenset[int]:
    """Days from one token with no spaces, e.g. ``Mon–Thu,Sat``."""
    days: set[int] = set()
    for part in token.split(","):
        lowered = part.lower()
        if not part:
            raise _Problem(f'days "{token}" have an empty item; {_DAY_HELP}')
        if lowered in _DAY_SETS:
            days |= _DAY_SETS[lowered]
            continue
        ends = re.split(_RANGE, lowered)
        if len(ends) > 2:
            raise _Problem(f'days "{part}" are not a range of two days; {_DAY_HELP}')
        if "" in ends:
            raise _Problem(f'days "{part}" are a range with a day missing; {_DAY_HELP}')
        numbers = []
        for name, original in zip(ends, re.split(_RANGE, part), strict=True):
            if name not in _DAYS_BY_NAME:
                raise _Problem(f'unknown day "{original}" in "{token}"; {_DAY_HELP}')
            numbers.append(_DAYS_BY_NAME[name])
        first, last = numbers[0], numbers[-1]
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def _parse_hours(token: str, *, days_hint: bool) -> tuple[int, int]:
    """Start and end minutes from ``HH:MM–HH:MM``; an end of 00:00 means 24:00."""
    match = _HOURS.fullmatch(token)
    if match is None:
        if days_hint and _looks_like_days(token):
            raise _Problem(f'"{token}" is not hours; list several days with commas (Mon,Wed,Fri), then HH:MM-HH:MM')
        raise _Problem(f'hours "{token}" must be HH:MM-HH:MM')
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    for hour, minute in ((start_h, start_m), (end_h, end_m)):
        if (hour > 23 or minute > 59) and (hour, minute) != (24, 0):
            raise _Problem(f'hours "{token}": {hour:02d}:{minute:02d} is not a time of day (00:00–23:59)')
    if (start_h, start_m) == (24, 0):
        raise _Problem(f'hours "{token}" start at 24:00; 24:00 can only end a window, start at 00:00 instead')
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start == end:
        raise _Problem(f'hours "{token}" start and end at the same time, the window would be empty')
    return start, end or _MINUTES_PER_DAY


def _looks_like_days(token: str) -> bool:
    try:
        _parse_days(token)
    except _Problem:
        return False
    return True


def _check_zone(name: str) -> str:
    """``name`` if it is a known IANA zone, else a problem that names it (and the right spelling)."""
    try:
        _zone(name)
    except WindowError:
        known = {zone.lower(): zone for zone in available_timezones()}
        hint = f'; did you mean "{known[name.lower()]}"?' if name.lower() in known else ""
        raise _Problem(f'unknown time zone "{name}"{hint}') from None
    return name


def _zone(name: str) -> ZoneInfo:
    """The zone called ``name``; ZoneInfo keeps loaded zones in a cache."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise WindowError(f'change window: unknown time zone "{name}", e.g. "Europe/Berlin" or "UTC"') from None


def _aware(at: datetime, method: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise WindowError(
            f"ChangeWindow.{method} needs a timezone-aware datetime, got naive {at.isoformat()};"
            " e.g. datetime.now(timezone.utc)"
        )
    return at


def _instant(zone: ZoneInfo, day: date, minute: int, *, fold: int) -> datetime:
    """The UTC instant of wall-clock ``minute`` on local date ``day``, for the given fold."""
    wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone, fold=fold)
    return wall.astimezone(UTC)


def _offset_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime | None:
    """The instant in (low, high] at which ``zone`` changes its UTC offset, if it differs at the two ends.

    Offsets change on whole seconds, so bisection down to one second finds the exact instant.
    """
    before = low.astimezone(zone).utcoffset()
    if high.astimezone(zone).utcoffset() == before:
        return None
    span = int((high - low).total_seconds())
    while span > 1:
        middle = low + timedelta(seconds=span // 2)
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
        span = int((high - low).total_seconds())
    return high


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _describe_days(days: frozenset[int]) -> str:
    """``daily``, or runs of consecutive days such as ``Mon–Thu``, ``Fri–Mon`` or ``Mon,Wed,Fri``."""
    if len(days) == 7:
        return "daily"
    parts = []
    for first in sorted(day for day in days if (day - 1) % 7 not in days):
        last = first
        while (last + 1) % 7 in days:
            last = (last + 1) % 7
        parts.append(_DAY_NAMES[first] if first == last else f"{_DAY_NAMES[first]}–{_DAY_NAMES[last]}")
    return ",".join(parts)


def _quote(text: str) -> str:
    return f'"{text}"'


def _kind(value: object) -> str:
    return type(value).__name__
