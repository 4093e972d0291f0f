"""The recurrence rules, in plain Python: daily/weekly/monthly at a wall time of a zone, 5-field cron,
and daylight saving time (a skipped hour shifts, a repeated hour runs once)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.schedules.recurrence import Cron, Recurrence, RecurrenceError, parse_time

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(instant: dt.datetime, zone: str) -> str:
    return instant.astimezone(Recurrence("daily", zone).tz).strftime("%Y-%m-%d %H:%M %z")


def series(rule: Recurrence, start: dt.datetime, count: int) -> list[dt.datetime]:
    found = []
    for _ in range(count):
        start = rule.next_after(start)
        found.append(start)
    return found


def test_a_daily_rule_runs_at_its_wall_time_across_the_spring_and_autumn_changes():
    rule = Recurrence("daily", "Europe/Rome", dt.time(7, 0))
    runs = [local(t, "Europe/Rome") for t in series(rule, at(2026, 3, 27), 3)]
    assert runs == ["2026-03-27 07:00 +0100", "2026-03-28 07:00 +0100", "2026-03-29 07:00 +0200"]
    runs = [local(t, "Europe/Rome") for t in series(rule, at(2026, 10, 24, 12), 2)]
    assert runs == ["2026-10-25 07:00 +0100", "2026-10-26 07:00 +0100"]


def test_a_time_in_the_skipped_hour_runs_shifted_by_the_gap_and_a_repeated_one_runs_once():
    rule = Recurrence("daily", "Europe/Rome", dt.time(2, 30))
    assert local(rule.next_after(at(2026, 3, 28, 12)), "Europe/Rome") == "2026-03-29 03:30 +0200"
    autumn = series(rule, at(2026, 10, 24, 12), 2)
    assert [local(t, "Europe/Rome") for t in autumn] == ["2026-10-25 02:30 +0200", "2026-10-26 02:30 +0100"]


def test_weekly_and_monthly_rules_and_the_monthly_day_clamped_to_a_short_month():
    weekly = Recurrence("weekly", "America/New_York", dt.time(8, 15), weekday=4)  # Friday
    assert [t.astimezone(weekly.tz).strftime("%a %d %H:%M") for t in series(weekly, at(2026, 3, 1), 2)] == [
        "Fri 06 08:15", "Fri 13 08:15"]
    monthly = Recurrence("monthly", "Asia/Tokyo", dt.time(6, 0), day=31)
    days = [t.astimezone(monthly.tz).date().isoformat() for t in series(monthly, at(2026, 1, 1), 4)]
    assert days == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    leap = Recurrence("monthly", "UTC", dt.time(0, 0), day=30)
    assert leap.next_after(at(2028, 2, 1)) == at(2028, 2, 29)


def test_cron_takes_lists_ranges_steps_and_names():
    rule = Recurrence("cron", "UTC", cron="0,30 8-9 * * mon-fri")
    runs = series(rule, at(2026, 3, 6, 9, 0), 4)  # a Friday, 09:00
    assert runs == [at(2026, 3, 6, 9, 30), at(2026, 3, 9, 8, 0), at(2026, 3, 9, 8, 30), at(2026, 3, 9, 9, 0)]
    quarterly = Recurrence("cron", "Europe/Rome", cron="15 6 1 jan,apr,jul,oct *")
    assert local(quarterly.next_after(at(2026, 1, 2)), "Europe/Rome") == "2026-04-01 06:15 +0200"
    every_ten = Recurrence("cron", "UTC", cron="*/10 * * * *")
    assert every_ten.next_after(at(2026, 1, 1, 0, 55)) == at(2026, 1, 1, 1, 0)
    sunday = Recurrence("cron", "UTC", cron="0 12 * * 7")
    assert sunday.next_after(at(2026, 3, 2)).date() == dt.date(2026, 3, 8)


def test_cron_with_both_day_fields_matches_either_as_every_cron_does():
    rule = Recurrence("cron", "UTC", cron="0 0 13 * fri")
    days = [t.date() for t in series(rule, at(2026, 3, 1), 4)]
    assert days == [dt.date(2026, 3, 6), dt.date(2026, 3, 13), dt.date(2026, 3, 20), dt.date(2026, 3, 27)]


@pytest.mark.parametrize(("text", "words"), [
    ("* * * *", "5 fields"), ("60 * * * *", "out of range"), ("* * * foo *", "not a month"),
    ("5-1 * * * *", "backwards"), ("*/0 * * * *", "not a positive number"),
])
def test_a_wrong_cron_expression_is_refused_in_words(text, words):
    with pytest.raises(RecurrenceError, match=words):
        Recurrence("cron", "UTC", cron=text)


def test_a_rule_that_never_falls_due_and_a_wrong_zone_or_time_are_refused():
    with pytest.raises(RecurrenceError, match="never falls due"):
        Recurrence("cron", "UTC", cron="0 0 31 2 *").next_after(at(2026, 1, 1))
    with pytest.raises(RecurrenceError, match="IANA"):
        Recurrence("daily", "Mars/Olympus")
    with pytest.raises(RecurrenceError, match="HH:MM"):
        parse_time("25:00")
    assert Cron.parse("0 0 29 2 *").day_matches(dt.date(2028, 2, 29))


def test_the_latest_occurrence_at_or_before_an_instant():
    rule = Recurrence("daily", "Europe/Rome", dt.time(7, 0))
    assert rule.latest_at_or_before(at(2026, 4, 4, 7, 0)) == at(2026, 4, 4, 5, 0)
    assert rule.latest_at_or_before(at(2026, 4, 4, 5, 0)) == at(2026, 4, 4, 5, 0)
    assert rule.latest_at_or_before(at(2026, 4, 4, 4, 59)) == at(2026, 4, 3, 5, 0)


ZONES = st.sampled_from(["Europe/Rome", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
                         "Asia/Kolkata", "UTC", "Pacific/Chatham"])
INSTANTS = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1),
                        timezones=st.just(UTC))
RULES = st.one_of(
    st.builds(lambda zone, h, m: Recurrence("daily", zone, dt.time(h, m)), ZONES, st.integers(0, 23),
              st.sampled_from([0, 15, 30, 59])),
    st.builds(lambda zone, h, d: Recurrence("weekly", zone, dt.time(h, 0), weekday=d), ZONES, st.integers(0, 23),
              st.integers(0, 6)),
    st.builds(lambda zone, h, d: Recurrence("monthly", zone, dt.time(h, 0), day=d), ZONES, st.integers(0, 23),
              st.integers(1, 31)),
    st.builds(lambda zone, cron: Recurrence("cron", zone, cron=cron), ZONES,
              st.sampled_from(["*/15 * * * *", "0 2 * * *", "30 1-3 * * sun", "0 0 1 * *", "5 4 * * mon-fri"])),
)


@settings(max_examples=150, deadline=None)
@given(rule=RULES, instant=INSTANTS)
def test_occurrences_move_forward_and_nothing_is_skipped_between_two(rule, instant):
    first = rule.next_after(instant)
    second = rule.next_after(first)
    assert instant < first < second
    # Nothing between: the latest at or before a moment just before the second is the first.
    assert rule.latest_at_or_before(second - dt.timedelta(microseconds=1)) == first
    assert rule.latest_at_or_before(first) == first


@settings(max_examples=100, deadline=None)
@given(zone=ZONES, hour=st.integers(0, 23), minute=st.integers(0, 59), instant=INSTANTS)
def test_a_daily_rule_runs_once_on_each_local_day_at_its_wall_time_when_that_exists(zone, hour, minute, instant):
    rule = Recurrence("daily", zone, dt.time(hour, minute))
    first = rule.next_after(instant)
    second = rule.next_after(first)
    a, b = first.astimezone(rule.tz), second.astimezone(rule.tz)
    assert (b.date() - a.date()).days == 1
    for moment in (a, b):
        wall = dt.datetime.combine(moment.date(), dt.time(hour, minute), tzinfo=rule.tz)
        exists = wall.astimezone(UTC).astimezone(rule.tz).replace(tzinfo=None) == wall.replace(tzinfo=None)
        if exists:
            assert (moment.hour, moment.minute) == (hour, minute)
