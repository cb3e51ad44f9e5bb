"""Change windows: parsing, open/closed in local wall-clock time, DST, freezes, next_open."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.control.windows import ChangeWindow, WindowError, parse_freeze, parse_window, window_from_mapping
from ringfence.errors import ControlError

EXAMPLE = '"Mon–Thu 09:00–16:00 Europe/Berlin"'


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# ---------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "days", "start", "end", "tz"),
    [
        ("Mon–Thu 09:00–16:00 Europe/Berlin", {0, 1, 2, 3}, 540, 960, "Europe/Berlin"),
        ("Mon-Fri 09:00-17:30", {0, 1, 2, 3, 4}, 540, 1050, "UTC"),
        ("Mon,Wed,Fri 10:00-12:00 America/New_York", {0, 2, 4}, 600, 720, "America/New_York"),
        ("Sat-Sun 22:00-06:00 UTC", {5, 6}, 1320, 360, "UTC"),
        ("daily 09:00-17:00 Europe/London", set(range(7)), 540, 1020, "Europe/London"),
        ("weekdays 09:00-16:00 Europe/Berlin", {0, 1, 2, 3, 4}, 540, 960, "Europe/Berlin"),
        ("weekends 10:00-14:00", {5, 6}, 600, 840, "UTC"),
        ("Fri-Mon 08:00-18:00", {4, 5, 6, 0}, 480, 1080, "UTC"),
        ("Sun..Sat 08:00..18:00", set(range(7)), 480, 1080, "UTC"),
        ("monday-THURSDAY 09:00-16:00", {0, 1, 2, 3}, 540, 960, "UTC"),
        ("MON , wed 09:00 – 16:00", {0, 2}, 540, 960, "UTC"),
        ("Mon – Wed,Sat 09:00 .. 16:00   Asia/Tokyo", {0, 1, 2, 5}, 540, 960, "Asia/Tokyo"),
        ("Mon 00:00-24:00", {0}, 0, 1440, "UTC"),
        ("Mon 18:00-00:00", {0}, 1080, 1440, "UTC"),
        ("Tue 23:59-00:01 Etc/GMT-5", {1}, 1439, 1, "Etc/GMT-5"),
        ("  Fri 22:00-02:00  ", {4}, 1320, 120, "UTC"),
    ],
)
def test_parse_window_accepts(text: str, days: set[int], start: int, end: int, tz: str) -> None:
    window = parse_window(text)
    assert (window.days, window.start, window.end, window.tz) == (frozenset(days), start, end, tz)
    assert window.text == text
    assert window.freeze == ()


def test_parse_window_error_message_quotes_text_and_shows_the_correct_form() -> None:
    with pytest.raises(WindowError) as caught:
        parse_window("Mon-Thu 9-16")
    assert str(caught.value) == f'change window "Mon-Thu 9-16": hours "9-16" must be HH:MM-HH:MM, e.g. {EXAMPLE}'
    assert isinstance(caught.value, ControlError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'change window "": is empty; the form is DAYS HH:MM–HH:MM [ZONE]'),
        ("09:00-16:00 Mon-Thu", 'starts with "09:00-16:00"; name the days first'),
        ("Mon-Thu", 'has days "Mon-Thu" but no hours; add HH:MM–HH:MM'),
        ("Mon-Xyz 09:00-16:00", 'unknown day "Xyz" in "Mon-Xyz"; use Mon..Sun or Monday..Sunday'),
        ("Mo-Fr 09:00-16:00", 'unknown day "Mo" in "Mo-Fr"'),
        ("Mon,,Tue 09:00-16:00", 'days "Mon,,Tue" have an empty item'),
        ("Mon-Tue-Wed 09:00-16:00", 'days "Mon-Tue-Wed" are not a range of two days'),
        ("Mon- 09:00-16:00 UTC", 'days "Mon-09:00-16:00" are not a range of two days'),
        ("Mon Wed 09:00-16:00", '"Wed" is not hours; list several days with commas (Mon,Wed,Fri)'),
        ("Mon 9:00-16:00", 'hours "9:00-16:00" must be HH:MM-HH:MM'),
        ("Mon 09:00", 'hours "09:00" must be HH:MM-HH:MM'),
        ("Mon 0900-1600", 'hours "0900-1600" must be HH:MM-HH:MM'),
        ("Mon 25:00-26:00", 'hours "25:00-26:00": 25:00 is not a time of day (00:00–23:59)'),
        ("Mon 09:60-16:00", 'hours "09:60-16:00": 09:60 is not a time of day'),
        ("Mon 09:00-24:01", 'hours "09:00-24:01": 24:01 is not a time of day'),
        ("Mon 24:00-02:00", 'hours "24:00-02:00" start at 24:00; 24:00 can only end a window'),
        ("Mon 09:00-09:00", 'hours "09:00-09:00" start and end at the same time, the window would be empty'),
        ("Mon 00:00-00:00", 'hours "00:00-00:00" start and end at the same time'),
        ("Mon 09:00-16:00 Europe/Berln", 'unknown time zone "Europe/Berln"'),
        ("Mon 09:00-16:00 europe/berlin", 'unknown time zone "europe/berlin"; did you mean "Europe/Berlin"?'),
        ("Mon 09:00-16:00 /etc/passwd", 'unknown time zone "/etc/passwd"'),
        ("Mon 09:00-16:00 UTC please", 'has "please" after the time zone; the form is DAYS HH:MM–HH:MM [ZONE]'),
    ],
)
def test_parse_window_rejects_with_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(WindowError) as caught:
        parse_window(text)
    error = str(caught.value)
    assert error.startswith(f'change window "{text}": ')
    assert message in error
    assert error.endswith(f"e.g. {EXAMPLE}")


def test_parse_window_reads_freeze_items() -> None:
    window = parse_window("Mon-Fri 09:00-17:00", freeze=["2026-12-24..2027-01-02", "2026-11-26"])
    assert window.freeze == ((date(2026, 12, 24), date(2027, 1, 2)), (date(2026, 11, 26), date(2026, 11, 26)))
    assert parse_window("Mon 09:00-17:00", freeze="2026-11-26").freeze == ((date(2026, 11, 26), date(2026, 11, 26)),)
    with pytest.raises(WindowError, match=r'freeze "2026-02-30": 2026-02-30 is not a calendar date'):
        parse_window("Mon-Fri 09:00-17:00", freeze=["2026-02-30"])


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("2026-11-26", (date(2026, 11, 26), date(2026, 11, 26))),
        ("2026-12-24..2027-01-02", (date(2026, 12, 24), date(2027, 1, 2))),
        ("2026-12-24–2027-01-02", (date(2026, 12, 24), date(2027, 1, 2))),
        (" 2026-12-24 .. 2027-01-02 ", (date(2026, 12, 24), date(2027, 1, 2))),
        ("2026-12-24 - 2027-01-02", (date(2026, 12, 24), date(2027, 1, 2))),
        ("2026-12-24..2026-12-24", (date(2026, 12, 24), date(2026, 12, 24))),
    ],
)
def test_parse_freeze_accepts(item: str, expected: tuple[date, date]) -> None:
    assert parse_freeze(item) == expected


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "24.12.2026",
            'freeze "24.12.2026" must be YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, e.g. "2026-12-24..2027-01-02"',
        ),
        ("20261224", 'freeze "20261224" must be YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD'),
        ("2026-12-24..", 'freeze "2026-12-24.." must be YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD'),
        ("2026-13-01", 'freeze "2026-13-01": 2026-13-01 is not a calendar date'),
        (
            "2027-01-02..2026-12-24",
            'freeze "2027-01-02..2026-12-24" ends before it starts, e.g. "2026-12-24..2027-01-02"',
        ),
    ],
)
def test_parse_freeze_rejects(item: str, message: str) -> None:
    with pytest.raises(WindowError) as caught:
        parse_freeze(item)
    assert message in str(caught.value)


def test_window_from_mapping() -> None:
    window = window_from_mapping(
        {
            "days": ["mon", "tue", "Wed", "thu"],
            "hours": "09:00-16:00",
            "tz": "Europe/Berlin",
            "freeze": ["2026-12-24..2027-01-02", "2026-11-26", date(2026, 10, 3)],
        }
    )
    assert window == parse_window(
        "Mon–Thu 09:00–16:00 Europe/Berlin", freeze=["2026-12-24..2027-01-02", "2026-11-26", "2026-10-03"]
    )
    assert window.text == "mon,tue,Wed,thu 09:00-16:00 Europe/Berlin"
    assert window_from_mapping({"days": "mon-thu", "hours": "09:00 – 16:00"}) == parse_window("Mon-Thu 09:00-16:00")
    wrapping = window_from_mapping({"days": ["fri-mon", "wed"], "hours": "22:00-02:00", "freeze": "2026-11-26"})
    assert wrapping.days == {4, 5, 6, 0, 2}
    assert wrapping.freeze == ((date(2026, 11, 26), date(2026, 11, 26)),)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (["mon"], "approvals.window must be a mapping with days, hours and optionally tz, freeze; got list"),
        (
            {"days": "mon", "hours": "09:00-16:00", "zone": "UTC", "from": 1},
            'approvals.window: unknown key "from", "zone"; allowed: days, hours, tz, freeze',
        ),
        ({"hours": "09:00-16:00"}, 'approvals.window: missing "days", e.g. days: [mon, tue, wed, thu]'),
        ({"days": "mon"}, 'approvals.window: missing "hours", e.g. hours: "09:00-16:00"'),
        (
            {"days": [], "hours": "09:00-16:00"},
            'approvals.window.days must be a list of day names or a string like "mon-thu"',
        ),
        ({"days": [1, 2], "hours": "09:00-16:00"}, "approvals.window.days must be a list of day names"),
        ({"days": ["mon", "xyz"], "hours": "09:00-16:00"}, 'approvals.window.days: unknown day "xyz" in "xyz"'),
        (
            {"days": "mon", "hours": 540},
            'approvals.window.hours must be a quoted string like "09:00-16:00", got int 540',
        ),
        (
            {"days": "mon", "hours": "9-16"},
            'approvals.window.hours: hours "9-16" must be HH:MM-HH:MM, e.g. "09:00-16:00"',
        ),
        ({"days": "mon", "hours": "09:00-16:00", "tz": 1}, "approvals.window.tz must be an IANA time zone name"),
        ({"days": "mon", "hours": "09:00-16:00", "tz": "Mars/Olympus"}, 'approvals.window.tz: unknown time zone "Mars'),
        ({"days": "mon", "hours": "09:00-16:00", "freeze": 5}, "approvals.window.freeze must be a list of dates"),
        (
            {"days": "mon", "hours": "09:00-16:00", "freeze": ["2026-11-26", 20261224]},
            "approvals.window.freeze[1] must be a date or date range, got int 20261224",
        ),
        (
            {"days": "mon", "hours": "09:00-16:00", "freeze": [datetime(2026, 11, 26, tzinfo=UTC)]},
            "approvals.window.freeze[0] must be a date or date range, got datetime",
        ),
        (
            {"days": "mon", "hours": "09:00-16:00", "freeze": ["2026-11-26", "2027-01-02..2026-12-24"]},
            'approvals.window.freeze[1]: freeze "2027-01-02..2026-12-24" ends before it starts',
        ),
    ],
)
def test_window_from_mapping_rejects(doc: Any, message: str) -> None:
    with pytest.raises(WindowError) as caught:
        window_from_mapping(doc, where="approvals.window")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": frozenset(), "start": 0, "end": 60}, "days must be weekday numbers 0..6"),
        ({"days": frozenset({7}), "start": 0, "end": 60}, "days must be weekday numbers 0..6 (Monday = 0), got [7]"),
        ({"days": frozenset({0}), "start": 1440, "end": 60}, "start must be 0..1439 minutes after midnight, got 1440"),
        ({"days": frozenset({0}), "start": 0, "end": 0}, "end must be 1..1440 minutes after midnight, got 0"),
        ({"days": frozenset({0}), "start": 60, "end": 60}, "start and end are both 01:00, the window would be empty"),
        ({"days": frozenset({0}), "start": 0, "end": 60, "tz": "Nowhere/Town"}, 'unknown time zone "Nowhere/Town"'),
        (
            {"days": frozenset({0}), "start": 0, "end": 60, "freeze": ((date(2026, 2, 2), date(2026, 2, 1)),)},
            "freeze range 2026-02-02..2026-02-01 ends before it starts",
        ),
    ],
)
def test_change_window_validates_its_fields(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(WindowError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        ChangeWindow(**kwargs)


@pytest.mark.parametrize(
    ("text", "freeze", "described"),
    [
        (
            "Mon–Thu 09:00–16:00 Europe/Berlin",
            ["2026-12-24..2027-01-02"],
            "Mon–Thu 09:00–16:00 Europe/Berlin (frozen 2026-12-24–2027-01-02)",
        ),
        ("mon,wed,fri 10:00-12:00", [], "Mon,Wed,Fri 10:00–12:00 UTC"),
        (
            "Fri-Mon 22:00-02:00",
            ["2026-11-26", "2026-12-31..2027-01-01"],
            "Fri–Mon 22:00–02:00 UTC (frozen 2026-11-26, 2026-12-31–2027-01-01)",
        ),
        ("weekends 00:00-24:00", [], "Sat–Sun 00:00–24:00 UTC"),
        ("daily 09:00-00:00", [], "daily 09:00–24:00 UTC"),
        ("Mon,Tue,Thu,Sat,Sun 09:00-10:00", [], "Thu,Sat–Tue 09:00–10:00 UTC"),
    ],
)
def test_describe(text: str, freeze: list[str], described: str) -> None:
    window = parse_window(text, freeze=freeze)
    assert window.describe() == described
    assert parse_window(described.split(" (")[0], freeze=freeze) == window


# ------------------------------------------------------------------ open and closed


def test_naive_datetimes_are_rejected() -> None:
    window = parse_window("Mon-Fri 09:00-17:00")
    naive = datetime(2026, 3, 2, 10)
    for method in (window.is_open, window.next_open, window.closes_at, window.frozen_on):
        with pytest.raises(WindowError, match=r"needs a timezone-aware datetime, got naive 2026-03-02T10:00:00"):
            method(naive)


def test_boundaries_start_inclusive_end_exclusive() -> None:
    window = parse_window("Mon-Fri 09:00-17:00")  # 2026-03-02 is a Monday
    assert not window.is_open(utc(2026, 3, 2, 8, 59, 59))
    assert window.is_open(utc(2026, 3, 2, 9))
    assert window.is_open(utc(2026, 3, 2, 16, 59, 59) + timedelta(microseconds=999_999))
    assert not window.is_open(utc(2026, 3, 2, 17))
    assert not window.is_open(utc(2026, 3, 7, 10))  # Saturday
    assert window.closes_at(utc(2026, 3, 2, 9)) == utc(2026, 3, 2, 17)
    assert window.closes_at(utc(2026, 3, 2, 17)) is None


def test_any_aware_timezone_is_accepted_and_results_are_utc() -> None:
    window = parse_window("Mon-Fri 09:00-17:00 Europe/Berlin")
    at = datetime(2026, 3, 2, 17, 30, tzinfo=timezone(timedelta(hours=9)))  # 09:30 CET
    assert window.is_open(at)
    found, closes = window.next_open(at), window.closes_at(at)
    assert found == at and found is not None and found.tzinfo is UTC
    assert closes == utc(2026, 3, 2, 16) and closes is not None and closes.tzinfo is UTC  # 17:00 CET


def test_end_at_24_00() -> None:
    window = parse_window("Mon 18:00-24:00")  # 2026-03-02 is a Monday
    assert window.is_open(utc(2026, 3, 2, 23, 59, 59))
    assert not window.is_open(utc(2026, 3, 3, 0))
    assert window.closes_at(utc(2026, 3, 2, 20)) == utc(2026, 3, 3)
    whole_day = parse_window("Mon 00:00-24:00")
    assert whole_day.is_open(utc(2026, 3, 2)) and not whole_day.is_open(utc(2026, 3, 1, 23, 59))
    assert whole_day.closes_at(utc(2026, 3, 2, 12)) == utc(2026, 3, 3)


def test_wrapping_window_belongs_to_the_day_it_started() -> None:
    window = parse_window("Fri 22:00-02:00")  # 2026-03-06 is a Friday
    assert not window.is_open(utc(2026, 3, 6, 21, 59))
    assert window.is_open(utc(2026, 3, 6, 22))
    assert window.is_open(utc(2026, 3, 7, 1))  # Saturday 01:00, started Friday
    assert not window.is_open(utc(2026, 3, 7, 2))
    assert not window.is_open(utc(2026, 3, 6, 1))  # Friday 01:00 would have started Thursday
    assert not window.is_open(utc(2026, 3, 7, 23))  # Saturday evening
    assert window.closes_at(utc(2026, 3, 6, 23)) == utc(2026, 3, 7, 2)
    assert window.next_open(utc(2026, 3, 7, 2)) == utc(2026, 3, 13, 22)


def test_wrapping_weekend_nights() -> None:
    window = parse_window("Sat-Sun 22:00-06:00 UTC")  # 2026-03-07 Sat, 03-08 Sun, 03-09 Mon
    assert not window.is_open(utc(2026, 3, 7, 5))  # started Friday
    assert window.is_open(utc(2026, 3, 8, 5))  # started Saturday
    assert window.is_open(utc(2026, 3, 9, 5, 59))  # started Sunday
    assert not window.is_open(utc(2026, 3, 9, 22))  # Monday evening
    # Saturday night runs straight into Sunday night's slot only after a gap of closed daytime.
    assert window.closes_at(utc(2026, 3, 7, 23)) == utc(2026, 3, 8, 6)
    assert window.next_open(utc(2026, 3, 8, 6)) == utc(2026, 3, 8, 22)


def test_wrapping_day_range() -> None:
    window = parse_window("Fri-Mon 09:00-17:00")
    opens = [window.is_open(utc(2026, 3, day, 12)) for day in range(2, 9)]  # Mon 2 .. Sun 8
    assert opens == [True, False, False, False, True, True, True]


def test_daily_all_day_never_closes_within_the_horizon() -> None:
    window = parse_window("daily 00:00-24:00")
    assert window.is_open(utc(2026, 6, 1, 12))
    assert window.closes_at(utc(2026, 6, 1, 12)) is None


# ------------------------------------------------------------------------ DST: Berlin


BERLIN = parse_window("Mon-Fri 09:00-16:00 Europe/Berlin")


@pytest.mark.parametrize(
    ("day", "opens", "closes"),
    [
        (utc(2026, 3, 27), 8, 15),  # Fri before spring forward: CET, UTC+1
        (utc(2026, 3, 30), 7, 14),  # Mon after: CEST, UTC+2
        (utc(2026, 10, 23), 7, 14),  # Fri before fall back: CEST
        (utc(2026, 10, 26), 8, 15),  # Mon after: CET
    ],
)
def test_berlin_hours_stay_local_across_dst(day: datetime, opens: int, closes: int) -> None:
    assert not BERLIN.is_open(day.replace(hour=opens) - timedelta(seconds=1))
    assert BERLIN.is_open(day.replace(hour=opens))
    assert BERLIN.is_open(day.replace(hour=closes) - timedelta(seconds=1))
    assert not BERLIN.is_open(day.replace(hour=closes))
    assert BERLIN.next_open(day) == day.replace(hour=opens)
    assert BERLIN.closes_at(day.replace(hour=opens)) == day.replace(hour=closes)


def test_berlin_next_open_across_the_change_weekends() -> None:
    assert BERLIN.next_open(utc(2026, 3, 27, 14)) == utc(2026, 3, 27, 14)
    assert BERLIN.next_open(utc(2026, 3, 27, 15)) == utc(2026, 3, 30, 7)
    assert BERLIN.next_open(utc(2026, 3, 29, 1)) == utc(2026, 3, 30, 7)
    assert BERLIN.next_open(utc(2026, 10, 23, 14)) == utc(2026, 10, 26, 8)
    assert BERLIN.next_open(utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 26, 8)


def test_berlin_spring_forward_gap_opens_after_the_gap() -> None:
    window = parse_window("daily 02:30-04:00 Europe/Berlin")
    assert window.next_open(utc(2026, 3, 28)) == utc(2026, 3, 28, 1, 30)  # 02:30 CET
    # 2026-03-29 02:00-03:00 CET does not exist: the clock jumps from 01:59:59 CET to 03:00 CEST.
    assert window.next_open(utc(2026, 3, 28, 23)) == utc(2026, 3, 29, 1)  # 03:00 CEST
    assert not window.is_open(utc(2026, 3, 29, 0, 59, 59))  # 01:59:59 CET
    assert window.is_open(utc(2026, 3, 29, 1))
    assert window.closes_at(utc(2026, 3, 29, 1)) == utc(2026, 3, 29, 2)  # 04:00 CEST
    assert window.next_open(utc(2026, 3, 29, 2)) == utc(2026, 3, 30, 0, 30)  # 02:30 CEST


def test_berlin_window_wholly_in_the_gap_skips_that_day() -> None:
    window = parse_window("Sun 02:00-02:30 Europe/Berlin")
    assert window.next_open(utc(2026, 3, 28)) == utc(2026, 4, 5)  # 02:00 CEST a week later
    assert window.next_open(utc(2026, 3, 22)) == utc(2026, 3, 22, 1)  # 02:00 CET the week before


def test_berlin_fall_back_first_occurrence_then_again_in_the_repeated_hour() -> None:
    window = parse_window("daily 02:30-04:00 Europe/Berlin")
    # 2026-10-25 02:00-03:00 happens twice: 00:00-01:00 UTC (CEST) and 01:00-02:00 UTC (CET).
    assert window.next_open(utc(2026, 10, 24, 23)) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, fold=0
    assert window.closes_at(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 1)  # set back to 02:00 CET
    assert not window.is_open(utc(2026, 10, 25, 1, 15))  # 02:15 CET
    assert window.next_open(utc(2026, 10, 25, 1)) == utc(2026, 10, 25, 1, 30)  # 02:30 CET, fold=1
    assert window.closes_at(utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 3)  # 04:00 CET


def test_berlin_fall_back_repeated_hour_inside_the_window() -> None:
    window = parse_window("daily 02:00-03:00 Europe/Berlin")
    assert window.next_open(utc(2026, 10, 24, 23)) == utc(2026, 10, 25, 0)  # 02:00 CEST
    assert window.closes_at(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 2)  # open for two real hours
    reopened = parse_window("daily 01:30-02:30 Europe/Berlin")
    assert reopened.closes_at(utc(2026, 10, 24, 23, 30)) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    assert reopened.next_open(utc(2026, 10, 25, 0, 40)) == utc(2026, 10, 25, 1)  # the clock falls back to 02:00 CET
    assert reopened.closes_at(utc(2026, 10, 25, 1)) == utc(2026, 10, 25, 1, 30)


# -------------------------------------------------------------------- DST: New York


NEW_YORK = parse_window("Mon-Fri 09:00-17:00 America/New_York")


@pytest.mark.parametrize(
    ("day", "opens", "closes"),
    [
        (utc(2026, 3, 6), 14, 22),  # Fri before spring forward (2026-03-08): EST, UTC-5
        (utc(2026, 3, 9), 13, 21),  # Mon after: EDT, UTC-4
        (utc(2026, 10, 30), 13, 21),  # Fri before fall back (2026-11-01): EDT
        (utc(2026, 11, 2), 14, 22),  # Mon after: EST
    ],
)
def test_new_york_hours_stay_local_across_dst(day: datetime, opens: int, closes: int) -> None:
    assert not NEW_YORK.is_open(day.replace(hour=opens, minute=0) - timedelta(seconds=1))
    assert NEW_YORK.is_open(day.replace(hour=opens))
    assert not NEW_YORK.is_open(day.replace(hour=closes))
    assert NEW_YORK.next_open(day) == day.replace(hour=opens)
    assert NEW_YORK.closes_at(day.replace(hour=opens)) == day.replace(hour=closes)


def test_new_york_next_open_across_the_change_weekends() -> None:
    assert NEW_YORK.next_open(utc(2026, 3, 6, 22)) == utc(2026, 3, 9, 13)
    assert NEW_YORK.next_open(utc(2026, 10, 30, 21)) == utc(2026, 11, 2, 14)


def test_new_york_gap_and_fold() -> None:
    gap = parse_window("Sun 02:15-03:30 America/New_York")
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
    assert gap.next_open(utc(2026, 3, 8)) == utc(2026, 3, 8, 7)
    assert gap.closes_at(utc(2026, 3, 8, 7)) == utc(2026, 3, 8, 7, 30)
    fold = parse_window("Sun 01:30-03:00 America/New_York")
    # 2026-11-01: 01:00-02:00 happens twice, 05:00-06:00 UTC (EDT) and 06:00-07:00 UTC (EST).
    assert fold.next_open(utc(2026, 11, 1, 4)) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, fold=0
    assert fold.closes_at(utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 1, 6)  # back to 01:00 EST
    assert fold.next_open(utc(2026, 11, 1, 6)) == utc(2026, 11, 1, 6, 30)  # 01:30 EST
    assert fold.closes_at(utc(2026, 11, 1, 6, 30)) == utc(2026, 11, 1, 8)  # 03:00 EST


# --------------------------------------------------------------------------- freezes


def test_single_freeze_day() -> None:
    window = parse_window("Mon-Fri 09:00-17:00", freeze=["2026-11-26"])  # a Thursday
    assert not window.is_open(utc(2026, 11, 26, 12))
    assert window.frozen_on(utc(2026, 11, 26, 12)) == (date(2026, 11, 26), date(2026, 11, 26))
    assert window.frozen_on(utc(2026, 11, 27, 12)) is None
    assert window.is_open(utc(2026, 11, 25, 12)) and window.is_open(utc(2026, 11, 27, 12))
    assert window.next_open(utc(2026, 11, 25, 17)) == utc(2026, 11, 27, 9)


def test_freeze_across_the_year_boundary() -> None:
    window = parse_window("Mon–Thu 09:00–16:00 Europe/Berlin", freeze=["2026-12-24..2027-01-02"])
    assert window.is_open(utc(2026, 12, 23, 8))  # Wed 09:00 CET
    assert not window.is_open(utc(2026, 12, 28, 10))  # Mon inside the freeze
    assert not window.is_open(utc(2026, 12, 31, 10))
    assert window.next_open(utc(2026, 12, 23, 15)) == utc(2027, 1, 4, 8)  # Mon 09:00 CET
    assert window.closes_at(utc(2026, 12, 23, 8)) == utc(2026, 12, 23, 15)
    # The freeze is on local dates: 23:30 UTC on the 23rd is already the 24th in Berlin.
    assert window.frozen_on(utc(2026, 12, 23, 23, 30)) == (date(2026, 12, 24), date(2027, 1, 2))
    assert window.frozen_on(utc(2027, 1, 2, 23, 30)) is None


def test_freeze_shuts_a_wrapping_window_from_midnight() -> None:
    window = parse_window("Fri 22:00-02:00", freeze=["2026-11-28"])  # Fri 27 evening runs into frozen Sat 28
    assert window.is_open(utc(2026, 11, 27, 23, 59))
    assert not window.is_open(utc(2026, 11, 28, 0, 30))
    assert window.closes_at(utc(2026, 11, 27, 23)) == utc(2026, 11, 28)
    assert window.next_open(utc(2026, 11, 28)) == utc(2026, 12, 4, 22)


def test_wrapping_window_reopens_at_midnight_after_a_frozen_evening() -> None:
    window = parse_window("Fri 22:00-02:00", freeze=["2026-11-27"])  # the Friday itself is frozen
    assert not window.is_open(utc(2026, 11, 27, 23))
    assert window.next_open(utc(2026, 11, 27, 23)) == utc(2026, 11, 28)  # Saturday is not frozen
    assert window.closes_at(utc(2026, 11, 28)) == utc(2026, 11, 28, 2)


def test_next_open_is_none_when_frozen_past_the_horizon() -> None:
    window = parse_window("daily 09:00-17:00", freeze=["2026-01-01..2027-12-31"])
    assert window.next_open(utc(2026, 1, 1)) is None
    assert window.next_open(utc(2027, 12, 31)) == utc(2028, 1, 1, 9)


def test_next_open_steps_days_not_minutes() -> None:
    window = parse_window("Mon–Thu 09:00–16:00 Europe/Berlin", freeze=["2026-12-24..2027-01-02"])
    after = utc(2026, 12, 23, 15)
    began = time.perf_counter()
    for _ in range(50):
        assert window.next_open(after) == utc(2027, 1, 4, 8)
    # Typically well under 1 ms per call; a minute scan over these 12 days would take ~50 ms.
    assert (time.perf_counter() - began) / 50 < 0.005


# ------------------------------------------------------------------------ properties

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST change
    "America/Santiago",  # changes at midnight; the clock falls back from 24:00 to 23:00
    "America/Havana",  # midnight is skipped in spring and repeated in autumn
]
# 2026 offset changes of those zones, to aim instants near them.
CHANGES = [
    utc(2026, 3, 8, 5),
    utc(2026, 3, 8, 7),
    utc(2026, 3, 29, 1),
    utc(2026, 4, 4, 15),
    utc(2026, 4, 5, 3),
    utc(2026, 9, 6, 4),
    utc(2026, 10, 3, 15, 30),
    utc(2026, 10, 25, 1),
    utc(2026, 11, 1, 5),
    utc(2026, 11, 1, 6),
]


@st.composite
def windows(draw: st.DrawFn) -> ChangeWindow:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(1, 1440).filter(lambda end: end != start))
    tz = draw(st.sampled_from(ZONES))
    freeze = draw(st.lists(st.tuples(st.dates(date(2026, 1, 1), date(2026, 12, 31)), st.integers(0, 20)), max_size=2))
    return ChangeWindow(days, start, end, tz, tuple((first, first + timedelta(days=n)) for first, n in freeze))


instants = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda base, seconds, micro: base + timedelta(seconds=seconds, microseconds=micro),
        st.sampled_from(CHANGES),
        st.integers(-3 * 86400, 3 * 86400),
        st.sampled_from([0, 0, 1, 999_999]),
    ),
)


def minute_marks(first: datetime, last: datetime) -> list[datetime]:
    """``first`` and every whole UTC minute in (first, last): the state can only change there in these zones."""
    marks = [first]
    mark = first.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while mark < last:
        marks.append(mark)
        mark += timedelta(minutes=1)
    return marks


@settings(max_examples=300, deadline=None)
@given(windows(), instants, st.randoms(use_true_random=False))
def test_next_open_is_the_earliest_open_instant(window: ChangeWindow, at: datetime, rng: Any) -> None:
    found = window.next_open(at)
    if window.is_open(at):
        assert found == at
    if found is None:
        return
    assert found >= at and found.tzinfo is UTC
    assert window.is_open(found)
    if found > at:
        assert not window.is_open(max(at, found - timedelta(seconds=1)))
        marks = minute_marks(at, found)
        for mark in rng.sample(marks, min(len(marks), 20)):
            assert not window.is_open(mark)


@settings(max_examples=40, deadline=None)
@given(windows(), instants)
def test_next_open_matches_a_minute_by_minute_scan(window: ChangeWindow, at: datetime) -> None:
    found = window.next_open(at)
    if found is None or found == at or found - at > timedelta(days=8):
        return
    assert not any(window.is_open(mark) for mark in minute_marks(at, found))


@settings(max_examples=300, deadline=None)
@given(windows(), instants, st.randoms(use_true_random=False))
def test_closes_at_is_the_first_closed_instant(window: ChangeWindow, at: datetime, rng: Any) -> None:
    closes = window.closes_at(at)
    if not window.is_open(at):
        assert closes is None
        return
    if closes is None:
        return
    assert closes > at and closes.tzinfo is UTC
    assert not window.is_open(closes)
    assert window.is_open(max(at, closes - timedelta(seconds=1)))
    marks = minute_marks(at, closes)
    for mark in rng.sample(marks, min(len(marks), 20)):
        assert window.is_open(mark)


@settings(max_examples=200, deadline=None)
@given(windows())
def test_describe_round_trips(window: ChangeWindow) -> None:
    described = window.describe().split(" (")[0]
    assert parse_window(described) == ChangeWindow(window.days, window.start, window.end, window.tz)
