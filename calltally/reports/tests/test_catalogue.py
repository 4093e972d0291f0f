"""The catalogue: every report runs; summaries add up to the call list for the same options, from
the rollups and from the calls alike; drill-down leads to the calls behind a row; scoping."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from calltally.accounts.scope import Scope
from calltally.directory.models import AccountCode
from calltally.reports import catalogue, charts, fast
from calltally.reports.options import validate

from .conftest import NOW, UTC, make_call

ADMIN = Scope("administrator")
SUMMARIES = [r.name for r in catalogue.catalogue() if r.name.startswith("summary-by-")]
OPTION_SETS = {
    "this month": {},
    "March by dates": {"date_from": "2026-03-01", "date_to": "2026-03-31"},
    "one site": {"site": "ROM"},
    "outbound": {"direction": "outbound"},
    "a subtree": {"cost_center": "SALES"},
    "one person": {"person": "nora"},
    "mobiles": {"category": "mobile"},
    "no person": {"person": "(none)"},
    "unanswered": {"answered": "unanswered"},
    "two days": {"date_from": "2026-03-02", "date_to": "2026-03-03"},
    "a pattern": {"remote": "+39*,!*1111"},
    "from 10 o'clock": {"date_from": "2026-03-02", "time_from": "10:00", "date_to": "2026-03-31"},
    "short missed left out": {"ignore_short_missed": "5"},
    "a trunk": {"trunk": "SIP/carrier-a"},
    "no trunk": {"trunk": "(none)"},
    "a trunk's mobiles": {"trunk": "SIP/carrier-a", "category": "mobile"},
    "nothing": {"period": "last-month"},
}


def run(name, data=None, scope=ADMIN):
    return catalogue.run(name, validate(data or {}, None), scope, NOW)


def totals(result) -> tuple:
    return result.totals["calls"], result.totals["talk_seconds"], result.totals["cost_by_currency"]


def test_the_catalogue_has_the_reports_the_issue_names_and_nothing_twice():
    names = [r.name for r in catalogue.catalogue()]
    assert len(names) == len(set(names))
    assert set(SUMMARIES) == {"summary-by-person", "summary-by-extension", "summary-by-cost-center",
                              "summary-by-site", "summary-by-account", "summary-by-destination",
                              "summary-by-category", "summary-by-tariff", "summary-by-trunk"}
    assert {"call-list", "top-expensive-calls", "top-longest-calls", "top-called-numbers", "top-spenders",
            "traffic-by-hour-weekday", "calls-per-day", "concurrent-calls", "inbound-performance",
            "missed-not-called-back", "undefined-extensions", "idle-extensions", "unallocated-account-codes",
            "unrated-calls", "tariff-comparison"} <= set(names)
    for report in catalogue.catalogue():
        assert report.title and report.description
        assert all(c.type in catalogue.TYPES for c in report.columns)


@pytest.mark.parametrize("name", [r.name for r in catalogue.catalogue()])
def test_every_report_runs_and_gives_json_with_exactly_the_five_keys(world, name):
    result = run(name, {"plan": []})
    data = json.loads(json.dumps(result.as_json()))
    assert list(data) == ["report", "options", "columns", "rows", "totals"]
    assert data["report"] == name
    assert [c["name"] for c in data["columns"]] == [c.name for c in result.columns]
    for row in data["rows"]:
        assert list(row) == [c["name"] for c in data["columns"]]


@pytest.mark.parametrize("options", list(OPTION_SETS.values()), ids=list(OPTION_SETS))
@pytest.mark.parametrize("name", SUMMARIES)
def test_a_summary_adds_up_to_the_call_list_of_the_same_options(world, name, options, monkeypatch):
    summary = run(name, options)
    # The call list summed over the calls themselves, never from the rollups the summary may read.
    monkeypatch.setattr(fast, "enabled", False)
    listed = run("call-list", options)
    assert totals(summary) == totals(listed)
    assert sum(r["calls"] for r in summary.rows) == listed.totals["calls"]


@pytest.mark.parametrize("options", list(OPTION_SETS.values()), ids=list(OPTION_SETS))
@pytest.mark.parametrize("name", [*SUMMARIES, "top-spenders", "traffic-by-hour-weekday", "calls-per-day"])
def test_a_summary_gives_the_same_rows_from_the_rollups_as_from_the_calls(world, name, options, monkeypatch):
    def rows(result):
        return sorted(json.dumps({k: v for k, v in row.items() if k != "drill"}, default=str, sort_keys=True)
                      for row in result.rows)

    fast_result = run(name, options)
    monkeypatch.setattr(fast, "enabled", False)
    slow_result = run(name, options)
    assert rows(fast_result) == rows(slow_result)
    assert fast_result.totals == slow_result.totals


def test_the_rollups_answer_plain_options_and_trunks_and_leave_patterns_and_times_to_the_calls(world):
    for options, answered in (({}, True), ({"cost_center": "SALES", "category": "mobile"}, True),
                              ({"remote": "+39*"}, False), ({"trunk": "SIP/us"}, True),
                              ({"date_from": "2026-03-02", "time_from": "10:00", "date_to": "2026-03-31"}, False),
                              ({"min_cost": "1"}, False), ({"date_from": "2026-03-02"}, False)):
        found = fast.summary_groups(validate(options), ADMIN, "person", NOW)
        assert (found is not None) is answered, options
    assert fast.summary_groups(validate({}), ADMIN, "trunk", NOW) is not None
    # The hour grain keeps sites and directions only: a manager's heatmap (by cost center) reads the calls.
    assert fast.rollup_rows(validate({"site": "ROM"}), ADMIN, ("day", "hour"), NOW) is not None
    assert fast.rollup_rows(validate({}), manager_of_sales(world), ("day", "hour"), NOW) is None


def from_calls(name, data=None, scope=ADMIN):
    """The report read from the calls only (the rollups switched off for this run)."""
    fast.enabled = False
    try:
        return catalogue.run(name, validate(data or {}), scope, NOW)
    finally:
        fast.enabled = True


def test_the_call_lists_totals_come_from_the_rollups_when_they_can_and_equal_the_calls(world):
    assert totals(run("call-list")) == totals(from_calls("call-list"))
    assert run("call-list").totals["calls"] == 13


def test_a_call_written_later_is_in_the_summaries_at_once_and_a_rebuild_changes_nothing(world):
    from calltally.calls import rollups

    make_call(world["rome"], dt.datetime(2026, 3, 9, 9, tzinfo=UTC), person=world["nora"],
              cost_center=world["north"], cost=Decimal("5.0000"))
    before = totals(run("summary-by-person"))
    assert before == totals(from_calls("call-list")) and before[0] == 14
    rollups.rebuild(world["rome"])
    assert totals(run("summary-by-person")) == before


@pytest.mark.parametrize("name", SUMMARIES + ["top-called-numbers", "top-spenders", "calls-per-day",
                                              "unanswered-by-extension"])
def test_every_summary_row_drills_down_to_the_calls_behind_it(world, name):
    result = run(name, {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert result.rows
    for row in result.rows:
        behind = catalogue.run("call-list", row["drill"], ADMIN, NOW)
        # An inbound row drills down to its unanswered calls; a cost center's to its subtree.
        expected = row["unanswered"] if "unanswered" in row else row.get("subtotal_calls", row["calls"])
        assert behind.totals["calls"] == expected, row
        if "cost" in row:
            cost = row.get("subtotal_cost", row["cost"])
            assert behind.totals["cost_by_currency"].get(row["currency"], Decimal(0)) == cost, row
        # The drill-down options are valid options: they survive the form.
        assert validate(row["drill"].to_query()) == row["drill"]


def test_a_cost_center_row_of_unanswered_calls_drills_down_to_its_whole_subtree(world):
    rows = {r["cost_center"]: r for r in run("unanswered-by-cost-center").rows}
    assert (rows["SALES"]["unanswered"], rows["NORTH"]["unanswered"]) == (0, 2)
    behind = catalogue.run("call-list", rows["SALES"]["drill"], ADMIN, NOW)
    assert behind.totals["calls"] == 2  # NORTH is below SALES


def test_costs_in_two_currencies_are_totalled_apart(world):
    result = run("summary-by-site")
    assert result.totals["cost"] is None and result.totals["currency"] == "EUR/USD"
    assert result.totals["cost_by_currency"] == {"EUR": Decimal("3.7000"), "USD": Decimal("1.0000")}
    assert run("summary-by-site", {"site": "NYC"}).totals["cost"] == Decimal("1.0000")
    shares = {r["site"]: r["share"] for r in result.rows}
    assert shares == {"ROM": 100.0, "NYC": 100.0}  # each of its own currency's total


def test_the_cost_center_summary_follows_the_tree_with_subtotals(world):
    rows = run("summary-by-cost-center").rows
    assert [(r["cost_center"], r["depth"], r["calls"], r["subtotal_calls"]) for r in rows] == [
        ("SALES", 0, 6, 10), ("NORTH", 1, 4, 4), ("(none)", 0, 1, 1), ("MARKETING", 0, 2, 2)]
    assert rows[0]["subtotal_cost"] == Decimal("3.4000")


def test_an_account_code_shown_as_its_description_never_appears_as_the_code(world):
    listed = json.dumps(run("call-list").as_json())
    by_account = run("summary-by-account")
    assert "Client Acme" in listed and "4711" not in listed
    assert "Client Acme" in {r["account"] for r in by_account.rows}
    # A code switched to "replace with description" after its calls were made shows so at once.
    AccountCode.objects.filter(code="12").update(replace_with_description=True)
    accounts = {r["account"] for r in run("summary-by-account").rows}
    assert "Project twelve" in accounts and "12" not in accounts
    assert "Project twelve" in {r["account"] for r in run("call-list").rows}


def test_the_call_list_shows_times_in_the_sites_zone_and_unrated_calls_without_a_price(world):
    rows = run("call-list", {"site": "ROM", "date_from": "2026-03-02", "date_to": "2026-03-02"}).as_json()["rows"]
    assert rows[0]["start"] == "2026-03-02T09:00:00+01:00" and rows[0]["cost"] == "0.2500"
    unrated = run("unrated-calls").as_json()["rows"]
    assert [(r["remote_number"], r["cost"]) for r in unrated] == [("+88212345", None)]


def test_top_reports_keep_the_n_largest(world):
    assert [r["cost"] for r in run("top-expensive-calls", {"top": "2", "site": "ROM"}).rows] == [
        Decimal("2.0000"), Decimal("1.1000")]
    assert [r["talk_seconds"] for r in run("top-longest-calls", {"top": "1"}).rows] == [900]
    top = run("top-called-numbers", {"top": "1"}).rows
    assert (top[0]["remote_number"], top[0]["calls"]) == ("+390611111111", 2)
    assert [r["person"] for r in run("top-spenders", {"top": "2", "site": "ROM"}).rows] == ["alice", "nora"]


def test_traffic_reports_count_every_call_in_local_hours(world):
    heat = run("traffic-by-hour-weekday")
    assert heat.totals["calls"] == 13
    monday = heat.rows[0]
    # 2 March 2026 is a Monday: Rome calls at 09:00, 09:02 and 12:00 local, New York at 17:00 and 17:05 local
    # (22:00 UTC; the United States change to summer time on 8 March).
    assert (monday["weekday"], monday["h09"], monday["h12"], monday["h17"]) == ("Monday", 2, 1, 2)
    assert heat.chart["kind"] == "heatmap" and len(heat.chart["z"]) == 7
    per_day = run("calls-per-day")
    assert sum(r["calls"] for r in per_day.rows) == 13 and per_day.rows[0]["day"] == "2026-03-02"
    concurrent = {(r["site"], r["trunk"]): r for r in run("concurrent-calls").rows}
    us = concurrent[("NYC", "SIP/us")]
    assert (us["peak"], us["busy_hour_calls"]) == (2, 2)
    assert us["busy_hour"].isoformat() == "2026-03-02T17:00:00-05:00"
    assert us["peak_at"].isoformat() == "2026-03-02T17:05:00-05:00"


def test_concurrent_calls_use_local_hours_in_a_half_hour_zone_and_a_call_ending_as_another_begins_does_not_overlap(
        make_site):
    delhi = make_site("DEL", country="IN", timezone="Asia/Kolkata", currency="INR")
    at = dt.datetime(2026, 3, 2, 4, 20, tzinfo=UTC)  # 09:50 in Delhi (UTC+05:30)
    make_call(delhi, at, ring_seconds=0, talk_seconds=600, dest_device="SIP/in")  # 09:50-10:00
    make_call(delhi, at + dt.timedelta(minutes=10), ring_seconds=0, talk_seconds=60, dest_device="SIP/in")  # 10:00
    make_call(delhi, at + dt.timedelta(minutes=11), ring_seconds=0, talk_seconds=60, dest_device="SIP/in")  # 10:01
    options = validate({"period": "custom", "date_from": "2026-03-01", "date_to": "2026-03-31"}, None)
    result = catalogue.run("concurrent-calls", options, ADMIN, NOW)
    rows = {r["trunk"]: r for r in result.rows}
    # The chart compares the trunks; the site's "(all)" row is the table's only.
    assert charts.chart_of(result).categories == ["SIP/in"]
    trunk = rows["SIP/in"]
    assert (trunk["calls"], trunk["peak"]) == (3, 1)
    assert trunk["peak_at"].isoformat() == "2026-03-02T09:50:00+05:30"
    # 09:00-10:00 holds 600 s of traffic, 10:00-11:00 only 120 s but two calls: traffic decides.
    assert trunk["busy_hour"].isoformat() == "2026-03-02T09:00:00+05:30"
    assert (trunk["busy_hour_calls"], trunk["busy_hour_erlangs"]) == (1, Decimal("0.17"))


def test_inbound_performance_measures_ring_time_and_missed_calls_not_returned(world):
    result = run("inbound-performance")
    assert {k: result.totals[k] for k in ("calls", "answered", "unanswered", "answered_within")} == {
        "calls": 3, "answered": 1, "unanswered": 2, "answered_within": 1}
    assert result.totals["average_ring_seconds"] == 8.0
    assert run("inbound-performance", {"ignore_short_missed": "5"}).totals["calls"] == 2
    missed = {r["remote_number"] for r in run("missed-not-called-back").rows}
    assert missed == {"+390644444444", "+390655555555"}
    # Calling the number back takes it off the list.
    make_call(world["rome"], dt.datetime(2026, 3, 5, 7, tzinfo=UTC), person=world["nora"],
              remote_number="+390644444444")
    assert {r["remote_number"] for r in run("missed-not-called-back").rows} == {"+390655555555"}
    by_extension = {r["extension"]: r["unanswered"] for r in run("unanswered-by-extension").rows}
    assert by_extension == {"102": 2, "101": 0}


def test_extension_reports_find_the_undefined_the_idle_and_unallocated_codes(world):
    assert [(r["site"], r["extension"]) for r in run("undefined-extensions").rows] == [("ROM", "555")]
    idle = run("idle-extensions", {"date_from": "2026-03-05", "date_to": "2026-03-06"}).rows
    assert [(r["site"], r["extension"]) for r in idle] == [("NYC", "201"), ("ROM", "102"), ("ROM", "103")]
    codes = run("unallocated-account-codes").rows
    assert [(r["site"], r["account_code"], r["calls"]) for r in codes] == [("ROM", "9999", 1)]


def test_a_tariff_comparison_without_plans_says_to_name_them(world):
    result = run("tariff-comparison")
    assert result.rows == [] and any("--plan" in note for note in result.notes)


# --- scoping ------------------------------------------------------------------------------------

def manager_of_sales(world):
    return Scope("manager", cost_center_ids=frozenset({world["sales"].pk, world["north"].pk}))


def user_nora(world):
    return Scope("user", person_id=world["nora"].pk)


# What each account must never see, in any report: others' people, numbers, accounts and sites.
HIDDEN = {
    "manager": ("mark", "Marketing", "MARKETING", "United States", "+12125550100", "USD", "+390612121212", "NYC"),
    "user": ("alice", "Alice", "mark", "Mark", "Germany", "Client Acme", "+393331234567", "USD", "+390612121212",
             "103"),
}


@pytest.mark.parametrize("role", ["manager", "user"])
@pytest.mark.parametrize("name", [r.name for r in catalogue.catalogue()])
def test_a_manager_sees_only_their_subtree_and_a_user_only_their_calls_in_every_report(world, name, role):
    scope = manager_of_sales(world) if role == "manager" else user_nora(world)
    result = catalogue.run(name, validate({}, scope), scope, NOW)
    text = json.dumps(result.as_json())
    for word in HIDDEN[role]:
        assert word not in text, (word, name)


@pytest.mark.parametrize("name", SUMMARIES)
def test_scoped_summaries_add_up_to_the_scoped_call_list(world, name):
    for scope, expected in ((manager_of_sales(world), 10), (user_nora(world), 4),
                            (Scope("site-admin", site_ids=frozenset({world["nyc"].pk})), 2)):
        listed = from_calls("call-list", {}, scope)
        assert listed.totals["calls"] == expected
        assert totals(catalogue.run(name, validate({}, scope), scope, NOW)) == totals(listed)


def test_an_account_that_sees_nothing_gets_empty_reports(world):
    nothing = Scope("user", nothing=True)
    for report in catalogue.catalogue():
        result = report.run(validate({}, nothing), nothing, NOW)
        rows = list(result.rows)
        # A heatmap or a ring-time table keeps its empty cells; nothing is counted in them.
        assert rows == [] or result.totals["calls"] == 0, report.name


@pytest.mark.parametrize("name", [r.name for r in catalogue.catalogue()])
def test_a_report_asks_the_database_as_often_for_many_rows_as_for_few(world, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calltally.directory.models import Extension, Person

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            json.dumps(run(name, {"date_from": "2026-03-01", "date_to": "2026-03-31"}).as_json())
        return len(seen)

    few = queries()
    # Twenty more people, each with an extension and calls of their own: more rows in every report.
    for i in range(20):
        person = Person.objects.create(username=f"extra{i}", cost_center=world["north"])
        extension = Extension.objects.create(site=world["rome"], number=f"3{i:02d}", person=person)
        for minutes in (0, 1):
            make_call(world["rome"], dt.datetime(2026, 3, 10, 9, i, minutes, tzinfo=UTC), person=person,
                      cost_center=world["north"], extension=extension, extension_number=extension.number,
                      remote_number=f"+3906{i:06d}", account=f"A{i}", destination=f"Place {i}",
                      direction="inbound" if minutes else "outbound", answered=not minutes)
    assert queries() == few


def test_a_tariff_comparison_reprices_the_periods_calls_under_each_plan_named(world):
    from calltally.rating.planfile import parse_plan
    from calltally.rating.services import store_plan

    store_plan(parse_plan('name = "Flat"\ncarrier = "Carrier"\ncurrency = "EUR"\nvalid_from = "2026-01-01"\n'
                          'default_band = "all"\nholiday_band = "all"\n\n[[rates]]\nprefix = "39"\n'
                          'destination = "Italy"\nrate_per_minute = "0.0600"\nfirst_increment = 1\n'
                          'next_increment = 1\n', "flat.toml"))
    result = run("tariff-comparison", {"site": "ROM", "plan": "Flat"})
    assert [c.name for c in result.columns][-2:] == ["Flat:cost", "Flat:saving"]
    assert result.totals["actual"] == Decimal("3.7000")
    assert result.totals["Flat:cost"] == sum(r["Flat:cost"] for r in result.rows) > 0
    assert result.totals["Flat:saving"] == result.totals["actual"] - result.totals["Flat:cost"]
    # A manager does not see whole sites' calls: no comparison for them.
    scope = manager_of_sales(world)
    refused = catalogue.run("tariff-comparison", validate({"plan": "Flat"}, scope), scope, NOW)
    assert refused.rows == [] and any("run the sites" in note for note in refused.notes)


@pytest.mark.parametrize("name", SUMMARIES)
def test_a_merged_call_counts_once_in_summaries_and_the_call_list_never_its_legs(world, name, monkeypatch):
    at = dt.datetime(2026, 3, 11, 9, tzinfo=UTC)
    people = {"person": world["alice"], "cost_center": world["sales"], "extension": world["ext"]["101"]}
    for offset in (0, 1):
        make_call(world["rome"], at + dt.timedelta(seconds=offset), kind="leg", leg_key="call-7",
                  cost=Decimal("0.4000"), **people)
    make_call(world["rome"], at, kind="merged", leg_key="call-7", segment=None, raw_offset=None,
              cost=Decimal("0.8000"), **people)
    summary = run(name)
    monkeypatch.setattr(fast, "enabled", False)
    listed = run("call-list")
    assert totals(summary) == totals(listed)
    assert listed.totals["calls"] == 14 and listed.totals["cost_by_currency"]["EUR"] == Decimal("4.5000")
