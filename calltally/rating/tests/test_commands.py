"""`calltally tariff …` and `calltally rate` as administrators use them, and tariff comparison."""

import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from calltally.calls.models import Call
from calltally.rating.comparison import compare
from calltally.rating.engine import Rater
from calltally.rating.models import PlanAssignment
from calltally.rating.services import assign_plan, engine_plan, get_plan, rater_for_site, site_calendar

from .conftest import local, plan_text

pytestmark = pytest.mark.django_db

CURRENT = plan_text("Current", """
    [[rates]]
    prefix = "39"
    destination = "Italy fixed"
    rate_per_minute = { peak = "0.0300", offpeak = "0.0150" }
    connection_fee = "0.0500"
    first_increment = 30
    next_increment = 6

    [[rates]]
    prefix = "393"
    destination = "Italy mobile"
    category = "mobile"
    rate_per_minute = { peak = "0.1200", offpeak = "0.0800" }
    first_increment = 60
    next_increment = 60
    minimum_charge = "0.1000"
""")
CHEAPER = plan_text("Cheaper", """
    [[rates]]
    prefix = "39"
    destination = "Italy"
    rate_per_minute = "0.0200"
    first_increment = 1
    next_increment = 1
""")
# Dearer from April, and with no rate for mobiles.
LATER = plan_text("Later", """
    [[rates]]
    prefix = "390"
    rate_per_minute = { peak = "0.0500", offpeak = "0.0100" }
""", valid_from="2026-04-01")


@pytest.fixture
def site(make_site, load_plan):
    site = make_site("HQ", area_code="02")
    load_plan(CURRENT)
    assign_plan(site, "Current")
    return site


def test_the_simulator_shows_the_number_plan_prefix_band_billed_seconds_and_each_step(cli, site):
    out = cli("rate", "--site", "HQ", "00223456789", "--at", "2026-03-02 10:15", "--talk", "125")
    assert "number   00223456789 → +390223456789 (local, Italy fixed)" in out
    assert "plan     Current (2026-01-01)" in out
    assert "prefix   39 → Italy fixed" in out
    assert "band     peak" in out
    assert "billed   126 s" in out
    assert "cost     0.1130 EUR" in out
    for step in [
        "the site's default plan",
        "band peak: mon 2026-03-02 10:15 is in the window mon,tue,wed,thu,fri 08:00–19:00",
        "prefix 39 (longest match) → Italy fixed",
        "125 s > first_increment 30 s → 30 + ceil((125 − 30) / 6) × 6 = 30 + 16 × 6 = 126 s",
        "cost = connection_fee 0.0500 + rate_per_minute 0.0300 × 126 / 60 = 0.1130",
        "minimum_charge 0: no change",
        "no maximum_charge",
        "markup 0%: no change",
        "rounded half-up to 4 decimals → 0.1130",
    ]:
        assert step in out


def test_the_simulator_in_json_and_for_a_holiday_an_unrated_number_and_an_inbound_call(cli, site):
    result = json.loads(cli("rate", "--site", "HQ", "03471234567", "--at", "2026-06-02 10:00", "--talk", "10",
                            "--json"))
    assert (result["e164"], result["category"], result["destination"]) == ("+393471234567", "mobile",
                                                                          "Italy mobile")
    assert (result["band"], result["billed_seconds"], result["cost"]) == ("offpeak", 60, "0.1000")
    assert any("holiday (Republic Day)" in step for step in result["steps"])
    assert any("below minimum_charge 0.1000" in step for step in result["steps"])
    unrated = json.loads(cli("rate", "--site", "HQ", "00044207946000", "--at", "2026-03-02 10:00", "--json"))
    assert (unrated["unrated"], unrated["cost"]) == (True, "0.0000")
    inbound = cli("rate", "--site", "HQ", "0212345678", "--direction", "inbound", "--at", "2026-03-02 10:00")
    assert "plan     none" in inbound and "does not rate inbound calls" in inbound


def test_the_simulator_refuses_a_time_it_cannot_read(cli, site):
    with pytest.raises(CommandError, match="is not a time"):
        cli("rate", "--site", "HQ", "0212345678", "--at", "Monday morning")


def test_assign_plan_explains_unknown_plans_and_bad_patterns(site):
    with pytest.raises(ValueError, match=r"no tariff plan named 'Nope' \(plans: Current\)"):
        assign_plan(site, "Nope")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        assign_plan(site, "Current", pattern="([")
    assign_plan(site, "Current", pattern="^SIP/x", priority=3)
    assign_plan(site, "Current", pattern="^SIP/x", priority=4)  # replaced, not doubled
    assert list(PlanAssignment.objects.values_list("pattern", "priority")) == [("^SIP/x", 4), ("", 0)]


def test_tariff_assign_list_unassign_and_delete(cli, site, load_plan):
    load_plan(CHEAPER)
    assert "site HQ: default plan Cheaper" in cli("tariff", "assign", "--site", "HQ", "Cheaper")
    out = cli("tariff", "assign", "--site", "HQ", "Current", "--pattern", "^SIP/b", "--priority", "2")
    assert "matching /^SIP/b/" in out
    listing = cli("tariff", "list")
    assert "Cheaper  (carrier Carrier)" in listing and "site HQ: default plan" in listing
    data = json.loads(cli("tariff", "list", "--json"))
    current = next(p for p in data if p["name"] == "Current")
    assert current["versions"][0]["prefixes"] == 2 and current["versions"][0]["bands"] == ["peak", "offpeak"]
    assert current["sites"] == [{"site": "HQ", "pattern": "^SIP/b", "priority": 2}]
    with pytest.raises(CommandError, match="assigned to site HQ; unassign it first"):
        cli("tariff", "delete", "Current")
    cli("tariff", "unassign", "--site", "HQ", "--pattern", "^SIP/b")
    assert "plan Current deleted" in cli("tariff", "delete", "Current")
    with pytest.raises(CommandError, match="site HQ has no plan for"):
        cli("tariff", "unassign", "--site", "HQ", "--pattern", "^SIP/b")


def test_holidays_can_be_added_listed_and_removed(cli, site):
    cli("tariff", "holiday-add", "2026-12-07", "--name", "Sant'Ambrogio", "--site", "HQ")
    days = json.loads(cli("tariff", "holidays", "--site", "HQ", "--year", "2026", "--json"))
    assert {"date": "2026-12-07", "name": "Sant'Ambrogio", "source": "added"} in days
    assert {"date": "2026-06-02", "name": "Republic Day", "source": "public"} in days
    assert "1 holiday on 2026-12-07 removed" in cli("tariff", "holiday-remove", "2026-12-07", "--site", "HQ")
    with pytest.raises(CommandError, match="no added holiday"):
        cli("tariff", "holiday-remove", "2026-12-07", "--site", "HQ")


def test_unrated_calls_are_listed_by_number(cli, site, make_call):
    rater = rater_for_site(site)
    for number in ("+442079460000", "+442079460000", "+390212345678"):
        start = local(site, "2026-03-02 10:00")
        rating = rater.rate(e164=number, direction="outbound", start=start, talk_seconds=60, answered=True)
        call = make_call(site, start, e164=number, cost=str(rating.cost))
        Call.objects.filter(pk=call.pk).update(unrated=rating.unrated, tariff=rating.tariff)
    out = cli("tariff", "unrated", "--site", "HQ")
    assert "+442079460000" in out and "+39" not in out
    data = json.loads(cli("tariff", "unrated", "--json", "--from", "2026-03-01", "--to", "2026-03-31"))
    assert [(r["e164"], r["calls"], r["tariff"]) for r in data] == [("+442079460000", 2, "Current (2026-01-01)")]


@pytest.fixture
def period(site, load_plan, make_call, make_site):
    """Stored calls of March and April 2026 at two sites, priced with the Current plan."""
    load_plan(CHEAPER)
    load_plan(LATER)
    other = make_site("NY", country="US", timezone="America/New_York", currency="EUR", access_codes=["9"])
    assign_plan(other, "Current")
    rng = random.Random(7)
    numbers = ["+390212345678", "+390612345678", "+393471234567", "+393351234567", "+442079460000", ""]
    calls = []
    for each in (site, other):
        rater = rater_for_site(each)
        for _ in range(300):
            start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(61 * 24 * 60))
            number = rng.choice(numbers)
            direction = rng.choice(["outbound", "outbound", "outbound", "inbound", "internal"])
            answered = rng.random() < 0.8
            talk = rng.randrange(0, 900) if answered else 0
            rating = rater.rate(e164=number, direction=direction, start=start, talk_seconds=talk, answered=answered)
            category = rating.category or ("mobile" if number.startswith("+393") else "national")
            calls.append(make_call(each, start, e164=number, direction=direction, talk=talk, answered=answered,
                                   cost=str(rating.cost), category=category,
                                   destination=rating.destination or "Elsewhere"))
    return [site, other], calls


def per_call_total(sites, calls, plan_name, first, last) -> Decimal:
    """What the calls cost under one plan, call by call, through Rater.rate."""
    plan = engine_plan(get_plan(plan_name))
    raters = {s.pk: Rater(zone=s.zone, currency=s.currency, calendar=site_calendar(s), default=plan) for s in sites}
    total = Decimal(0)
    zones = {s.pk: s.zone for s in sites}
    for call in calls:
        day = call.start.astimezone(zones[call.site_id]).date()
        if first <= day <= last:
            total += raters[call.site_id].rate(e164=call.e164, direction=call.direction, start=call.start,
                                               talk_seconds=call.talk_seconds, answered=call.answered).cost
    return total


def test_comparison_totals_equal_the_sum_of_each_calls_cost_under_each_plan(period):
    sites, calls = period
    first, last = dt.date(2026, 3, 1), dt.date(2026, 4, 30)
    result = compare(sites, first, last, ["Current", "Cheaper", "Later"])
    in_period = [c for c in calls if first <= c.start.astimezone(c.site.zone).date() <= last]
    assert result.total.calls == len(in_period)
    assert result.total.actual == sum((c.cost for c in in_period), Decimal(0))
    for index, name in enumerate(result.plans):
        assert result.total.costs[index] == per_call_total(sites, calls, name, first, last), name
        assert sum((line.costs[index] for line in result.lines), Decimal(0)) == result.total.costs[index]
    # Re-pricing with the plan that priced them gives the stored costs back.
    assert result.total.costs[0] == result.total.actual
    assert all(line.savings[0] == 0 for line in result.lines)
    # "Later" has no version in March, and no rate for mobiles: those calls are counted as unrated.
    assert result.total.unrated[2] > result.total.unrated[0] > 0  # (+44 and numbers without E.164)
    # Stored costs are untouched.
    assert sorted(Call.objects.values_list("cost", flat=True)) == sorted(c.cost for c in calls)


def test_comparison_of_one_site_and_part_of_the_period(period):
    sites, calls = period
    first, last = dt.date(2026, 3, 10), dt.date(2026, 3, 20)
    result = compare(sites[:1], first, last, ["Cheaper"])
    mine = [c for c in calls if c.site_id == sites[0].pk]
    assert result.total.costs[0] == per_call_total(sites[:1], mine, "Cheaper", first, last)
    assert result.total.calls == sum(1 for c in mine if first <= c.start.astimezone(c.site.zone).date() <= last)


def test_tariff_compare_shows_actual_cost_each_plan_and_the_saving_per_category_and_destination(cli, period):
    out = cli("tariff", "compare", "--from", "2026-03-01", "--to", "2026-04-30", "Cheaper", "Later")
    head = out.splitlines()[1]
    assert head.split()[:4] == ["CATEGORY", "DESTINATION", "CALLS", "ACTUAL"]
    assert "Cheaper" in head and "Later" in head and head.count("SAVING") == 2
    assert "mobile" in out and "Italy mobile" in out and "TOTAL" in out
    data = json.loads(cli("tariff", "compare", "--from", "2026-03-01", "--to", "2026-04-30", "--site", "HQ",
                          "Cheaper", "--json"))
    total = data["total"]
    cheaper = total["plans"][0]
    assert Decimal(total["actual"]) - Decimal(cheaper["cost"]) == Decimal(cheaper["saving"])
    assert data["actual_currency"] == "EUR" and data["plans"] == [{"plan": "Cheaper", "currency": "EUR"}]
    with pytest.raises(CommandError, match="no tariff plan named 'Nope'"):
        cli("tariff", "compare", "--from", "2026-03-01", "--to", "2026-03-31", "Nope")
    with pytest.raises(CommandError, match="--to is before --from"):
        cli("tariff", "compare", "--from", "2026-03-31", "--to", "2026-03-01", "Cheaper")


@pytest.mark.parametrize("name", ["rating_holiday", "rating_planassignment", "rating_carrier", "rating_tariffplan"])
def test_the_admin_pages_of_holidays_assignments_and_plans_answer(admin_client, site, name):
    from django.urls import reverse

    assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    plan = get_plan("Current")
    assert admin_client.get(reverse("admin:rating_tariffplan_change", args=[plan.pk])).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_large_comparison_priced_in_two_processes_adds_up_to_exactly_the_same(period, settings, monkeypatch):
    from calltally import forking
    from calltally.rating import comparison

    sites, calls = period
    first, last = dt.date(2026, 3, 1), dt.date(2026, 4, 30)
    settings.PROCESSES = 1
    alone = compare(sites, first, last, ["Current", "Cheaper", "Later"])
    settings.PROCESSES = 2
    monkeypatch.setattr(comparison, "SPLIT_MIN_CALLS", 1)
    # Earlier tests may leave idle threads in this process; the split needs a single-threaded one.
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)
    split = []
    real = comparison._tally_in_two
    monkeypatch.setattr(comparison, "_tally_in_two", lambda *args: split.append(1) or real(*args))
    shared = compare(sites, first, last, ["Current", "Cheaper", "Later"])
    assert split, "the helper process was not used"
    assert shared.lines == alone.lines and shared.total == alone.total
    assert shared.actual_currency == alone.actual_currency == "EUR"
    assert shared.total.calls == len(calls)


@pytest.mark.django_db(transaction=True)
def test_reading_a_comparison_never_holds_the_write_lock_the_miner_needs(period):
    import sqlite3

    from django.db import connection

    from calltally.rating.comparison import fetch_rows

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock; PostgreSQL readers never block writers")
    sites, _ = period
    rows = fetch_rows(sites, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    next(rows)  # the read is under way
    writer = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.5)
    try:
        writer.execute("BEGIN IMMEDIATE")  # what the Miner does for each batch
        writer.execute("UPDATE calls_call SET cost = cost WHERE id = -1")
        writer.commit()
    finally:
        writer.close()
    assert sum(1 for _ in rows) > 0
