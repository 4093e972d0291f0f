"""Report options: one validation for the form and the CLI, periods in each site's zone, remote
number patterns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management.base import CommandError

from calltally.accounts.scope import Scope
from calltally.calls.models import Call
from calltally.reports.options import (
    OptionsError,
    OptionsForm,
    ReportOptions,
    calls_for,
    parse_remote,
    preset_dates,
    site_bounds,
    validate,
)

from .conftest import NOW

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")
ADMIN = Scope("administrator")
UTC = dt.UTC


@pytest.mark.parametrize(("period", "today", "first", "last"), [
    ("today", "2026-03-01", "2026-03-01", "2026-03-01"),
    ("yesterday", "2026-03-01", "2026-02-28", "2026-02-28"),
    ("yesterday", "2026-01-01", "2025-12-31", "2025-12-31"),
    ("this-week", "2026-03-04", "2026-03-02", "2026-03-08"),  # Monday to Sunday
    ("last-week", "2026-03-02", "2026-02-23", "2026-03-01"),
    ("this-month", "2026-02-14", "2026-02-01", "2026-02-28"),
    ("last-month", "2026-03-31", "2026-02-01", "2026-02-28"),
    ("last-month", "2026-01-15", "2025-12-01", "2025-12-31"),
    ("this-quarter", "2026-05-20", "2026-04-01", "2026-06-30"),
    ("last-quarter", "2026-02-10", "2025-10-01", "2025-12-31"),
    ("last-quarter", "2026-12-31", "2026-07-01", "2026-09-30"),
    ("this-year", "2026-07-01", "2026-01-01", "2026-12-31"),
    ("last-year", "2026-07-01", "2025-01-01", "2025-12-31"),
])
def test_each_preset_covers_whole_local_days(period, today, first, last):
    got = preset_dates(period, dt.date.fromisoformat(today))
    assert got == (dt.date.fromisoformat(first), dt.date.fromisoformat(last))


def test_a_preset_begins_at_each_sites_own_midnight_so_two_zones_may_be_in_different_months():
    # 23:30 UTC on 31 March: already 1 April in Rome (UTC+2 since 29 March), still March in New York.
    now = dt.datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    options = ReportOptions(period="this-month")
    assert site_bounds(options, ROME, now) == (dt.datetime(2026, 4, 1, tzinfo=ROME),
                                               dt.datetime(2026, 5, 1, tzinfo=ROME))
    assert site_bounds(options, NEW_YORK, now) == (dt.datetime(2026, 3, 1, tzinfo=NEW_YORK),
                                                   dt.datetime(2026, 4, 1, tzinfo=NEW_YORK))


def test_a_month_that_changes_to_summer_time_has_an_hour_less_in_utc():
    start, end = site_bounds(ReportOptions(period="last-month"), ROME, dt.datetime(2026, 4, 10, tzinfo=UTC))
    assert start.astimezone(UTC) == dt.datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # midnight at +01:00
    assert end.astimezone(UTC) == dt.datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # midnight at +02:00
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(days=31, hours=-1)


def test_yesterday_on_the_day_after_the_change_to_winter_time_lasts_25_hours():
    start, end = site_bounds(ReportOptions(period="yesterday"), ROME, dt.datetime(2026, 10, 26, 9, tzinfo=UTC))
    assert (start.date(), end.astimezone(UTC) - start.astimezone(UTC)) == (dt.date(2026, 10, 25),
                                                                           dt.timedelta(hours=25))


def test_a_custom_range_with_times_of_day_starts_and_ends_at_those_local_times():
    options = ReportOptions(period="custom", date_from=dt.date(2026, 3, 1), time_from=dt.time(8),
                            date_to=dt.date(2026, 3, 2), time_to=dt.time(18))
    assert site_bounds(options, ROME) == (dt.datetime(2026, 3, 1, 8, tzinfo=ROME),
                                          dt.datetime(2026, 3, 2, 18, tzinfo=ROME))
    no_times = ReportOptions(period="custom", date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 1))
    assert site_bounds(no_times, ROME)[1] == dt.datetime(2026, 3, 2, tzinfo=ROME)  # the To day is included


def test_the_calls_of_a_local_day_are_counted_in_each_sites_zone(world):
    # A Rome call at 00:30 local on 3 March is 23:30 UTC on 2 March: it belongs to 3 March.
    from .conftest import make_call

    make_call(world["rome"], dt.datetime(2026, 3, 2, 23, 30, tzinfo=UTC), person=world["alice"])
    options = validate({"date_from": "2026-03-03", "date_to": "2026-03-03", "site": "ROM"})
    starts = sorted(c.start for c in calls_for(options, ADMIN))
    assert starts[0] == dt.datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert all(s.astimezone(ROME).date() == dt.date(2026, 3, 3) for s in starts)


# --- one validation for the form and the command line -------------------------------------------

BAD = [
    ({"date_from": "2026-13-01"}, ["--from", "2026-13-01"], "From (date): Enter a valid date."),
    ({"period": "weekly"}, ["--period", "weekly"], "weekly is not one of the available choices"),
    ({"period": "today", "date_from": "2026-03-01"}, ["--period", "today", "--from", "2026-03-01"],
     "Give either a period or dates, not both."),
    ({"period": "custom"}, ["--period", "custom"], "A custom range needs its first day."),
    ({"date_from": "2026-03-05", "date_to": "2026-03-01"}, ["--from", "2026-03-05", "--to", "2026-03-01"],
     "The end of the range is before its start."),
    ({"site": "NOPE"}, ["--site", "NOPE"], "No site with code NOPE"),
    ({"cost_center": "NOPE"}, ["--cost-center", "NOPE"], "No cost center with code NOPE"),
    ({"person": "nobody"}, ["--person", "nobody"], "No person with username nobody."),
    ({"category": "lunar"}, ["--category", "lunar"], "lunar is not a category"),
    ({"direction": "sideways"}, ["--direction", "sideways"], "sideways is not one of the available choices"),
    ({"remote": "0039*,12?"}, ["--remote", "0039*,12?"], "'12?' is not a number pattern"),
    ({"min_duration": "-1"}, ["--min-duration", "-1"], "greater than or equal to 0"),
    ({"min_cost": "cheap"}, ["--min-cost", "cheap"], "Minimum cost: Enter a number."),
    ({"top": "0"}, ["--top", "0"], "greater than or equal to 1"),
    ({"plan": "Nowhere"}, ["--plan", "Nowhere"], "No tariff plan named Nowhere."),
]


@pytest.mark.parametrize(("data", "flags", "message"), BAD, ids=[m for _, _, m in BAD])
def test_an_invalid_option_is_refused_in_the_same_words_by_the_form_and_the_command(world, cli, data, flags,
                                                                                   message):
    form = OptionsForm(data)
    assert not form.is_valid()
    assert message in form.error_text()
    with pytest.raises(CommandError) as refused:
        cli("report", "call-list", *flags, "--format", "json")
    assert str(refused.value) == f"invalid options: {form.error_text()}"


def test_a_site_administrator_cannot_name_a_site_they_do_not_run(world):
    scope = Scope("site-admin", site_ids=frozenset({world["nyc"].pk}))
    with pytest.raises(OptionsError, match="No site with code ROM among the sites you see"):
        validate({"site": "ROM"}, scope)
    assert validate({"site": "NYC"}, scope).sites == ["NYC"]


def test_a_manager_cannot_name_a_cost_center_outside_their_subtree(world):
    scope = Scope("manager", cost_center_ids=frozenset({world["sales"].pk, world["north"].pk}))
    with pytest.raises(OptionsError, match="No cost center with code MARKETING"):
        validate({"cost_center": "MARKETING"}, scope)
    assert validate({"cost_center": "NORTH"}, scope).cost_center == "NORTH"


def test_without_a_period_or_dates_a_report_covers_this_month_and_dates_alone_make_a_custom_range(db):
    assert validate({}).period == "this-month"
    options = validate({"date_from": "2026-03-01"})
    assert (options.period, options.date_from, options.date_to) == ("custom", dt.date(2026, 3, 1), None)


def test_options_survive_json_and_a_query_string_unchanged(world):
    options = validate({"date_from": "2026-03-01", "time_from": "08:30", "date_to": "2026-03-31", "site": "ROM,NYC",
                        "cost_center": "SALES", "direction": "outbound", "remote": "+39*,!*1111",
                        "min_cost": "0.05", "answered": "answered", "ignore_short_missed": "4", "top": "5"})
    assert ReportOptions.from_dict(options.to_dict()) == options
    assert validate(options.to_query()) == options
    assert options.to_dict()["min_cost"] == "0.05" and options.to_dict()["time_from"] == "08:30:00"
    assert ("Remote number", "+39*,!*1111") in options.describe()


# --- remote number patterns ---------------------------------------------------------------------

def test_a_remote_pattern_list_splits_into_included_and_excluded_patterns():
    assert parse_remote("0039*, !*1234 ,+1212*") == (["0039*", "+1212*"], ["*1234"])
    for bad in ("!", "12 34", "06;12", "abc?"):
        with pytest.raises(ValueError):
            parse_remote(bad)


@pytest.mark.parametrize(("pattern", "expected"), [
    ("+390611111111", {"+390611111111"}),  # no star: the whole number
    ("+3906*", {"+390611111111", "+390612121212"}),
    ("*1111", {"+390611111111"}),
    ("+39*1111", {"+390611111111"}),
    ("*3312*", {"+393331234567"}),
    ("+39*12*67", {"+393331234567"}),  # stars inside: any digits there
    ("+49*,+88*", {"+4930123456", "+88212345"}),  # a comma list: any of them
    ("+3906*,!*1111", {"+390612121212"}),  # ! leaves out
    ("!+39*", {"+4930123456", "+88212345", "+12125550100", "+12125550101"}),  # only exclusions: all but those
])
def test_a_remote_pattern_finds_the_outbound_numbers_it_describes(world, pattern, expected):
    options = validate({"date_from": "2026-03-01", "date_to": "2026-03-31", "direction": "outbound",
                        "remote": pattern})
    found = set(calls_for(options, ADMIN).exclude(remote_number="+390699999999")
                .values_list("remote_number", flat=True))
    assert found == expected


def test_minimum_duration_and_cost_and_short_missed_calls_narrow_the_calls(world):
    march = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    assert set(calls_for(validate({**march, "min_duration": "600"}), ADMIN).values_list("talk_seconds", flat=True)) \
        == {600, 900}
    assert set(calls_for(validate({**march, "min_cost": "1"}), ADMIN).values_list("cost", flat=True)) == {
        Decimal("1.1"), Decimal("2")}
    inbound = {**march, "direction": "inbound", "answered": "unanswered"}
    assert calls_for(validate(inbound), ADMIN).count() == 2
    # The missed call that rang 3 s is left out; the one that rang 25 s stays.
    assert list(calls_for(validate({**inbound, "ignore_short_missed": "5"}), ADMIN)
                .values_list("ring_seconds", flat=True)) == [25]
    assert Call.objects.filter(direction="outbound", answered=False).exists()  # outbound misses are not "missed"
    assert calls_for(validate({**march, "direction": "outbound", "answered": "unanswered",
                               "ignore_short_missed": "60"}), ADMIN).count() == 1


def test_now_is_where_presets_are_seen_from(world):
    assert calls_for(validate({"period": "this-month"}), ADMIN, NOW).count() == 13
    assert calls_for(validate({"period": "last-month"}), ADMIN, NOW).count() == 0
