"""Which plan, version, prefix and band price a call: SiteRater, as the Miner calls it."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltally.rating.models import Holiday
from calltally.rating.services import assign_plan, import_rates, rater_for_site, unassign_plan

from .conftest import local, plan_text

pytestmark = pytest.mark.django_db

PREFIXES = plan_text("Prefixes", """
    [[rates]]
    prefix = "4"
    destination = "Europe"
    rate_per_minute = "0.6000"

    [[rates]]
    prefix = "44"
    destination = "United Kingdom"
    rate_per_minute = "0.1200"

    [[rates]]
    prefix = "447"
    destination = "United Kingdom mobile"
    category = "mobile"
    rate_per_minute = "0.3000"
""")


def rate(rater, site, when="2026-03-02 10:00", number="+390212345678", talk=60, **kwargs):
    kwargs.setdefault("direction", "outbound")
    return rater.rate(e164=number, start=local(site, when), talk_seconds=talk, answered=True, **kwargs)


@pytest.fixture
def site(make_site):
    return make_site("HQ")


def test_the_longest_matching_prefix_wins(site, load_plan):
    load_plan(PREFIXES)
    assign_plan(site, "Prefixes")
    rater = rater_for_site(site)
    for number, prefix, destination, cost in [
        ("+447700900123", "447", "United Kingdom mobile", "0.3000"),
        ("+442079460000", "44", "United Kingdom", "0.1200"),
        ("+4930123456", "4", "Europe", "0.6000"),
        ("447700900123", "447", "United Kingdom mobile", "0.3000"),  # without the +
    ]:
        rating = rate(rater, site, number=number)
        assert (rating.prefix, rating.destination, rating.cost) == (prefix, destination, Decimal(cost))
    assert rate(rater, site, number="+447700900123").category == "mobile"
    assert rate(rater, site, number="+442079460000").category == ""  # keep the numbering's


def test_a_number_no_prefix_matches_is_unrated_at_cost_zero_and_a_catch_all_prefix_rates_it(site, load_plan):
    load_plan(PREFIXES)
    assign_plan(site, "Prefixes")
    rating = rate(rater_for_site(site), site, number="+12125550100")
    assert (rating.cost, rating.unrated, rating.prefix, rating.tariff) == (
        Decimal("0"), True, "", "Prefixes (2026-01-01)")
    load_plan(PREFIXES + '\n[[rates]]\nprefix = "*"\ndestination = "Anywhere"\nrate_per_minute = "1.0000"\n')
    rating = rate(rater_for_site(site), site, number="+12125550100")
    assert (rating.cost, rating.unrated, rating.prefix, rating.destination) == (
        Decimal("1.0000"), False, "", "Anywhere")


def test_a_call_is_priced_by_the_version_in_force_on_its_local_day(site, load_plan):
    load_plan(plan_text("Dated", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.1000"\n'))
    load_plan(plan_text("Dated", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.2000"\n',
                        valid_from="2026-03-01", extra='valid_to = "2026-03-31"\n'))
    assign_plan(site, "Dated")
    rater = rater_for_site(site)
    before = rate(rater, site, when="2026-02-28 23:59")
    assert (before.cost, before.tariff) == (Decimal("0.1000"), "Dated (2026-01-01)")
    # 1 March 00:00 in Rome is still 28 February in UTC: the site's day decides.
    after = rater.rate(e164="+390212345678", direction="outbound", answered=True, talk_seconds=60,
                       start=dt.datetime(2026, 2, 28, 23, 0, tzinfo=dt.UTC))
    assert (after.cost, after.tariff) == (Decimal("0.2000"), "Dated (2026-03-01)")
    # After valid_to no version applies: the call is unrated, not priced by the older version.
    late = rate(rater, site, when="2026-04-01 10:00")
    assert (late.cost, late.unrated, late.tariff) == (Decimal("0"), True, "")
    # Before the first version, likewise.
    rating = rate(rater, site, when="2025-12-31 10:00")
    assert (rating.unrated, rating.tariff) == (True, "")


def test_a_new_rate_deck_with_a_valid_from_date_becomes_a_new_version(site, load_plan):
    load_plan(plan_text("Deck", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.1000"\n'))
    assign_plan(site, "Deck")
    deck = "prefix,band,rate_per_minute\n39,peak,0.3000\n39,offpeak,0.2000\n"
    version, count, created = import_rates("Deck", io.StringIO(deck), dt.date(2026, 5, 1))
    assert (count, created, version.label) == (2, True, "Deck (2026-05-01)")
    rater = rater_for_site(site)
    assert rate(rater, site, when="2026-04-30 10:00").cost == Decimal("0.1000")
    assert rate(rater, site, when="2026-05-04 10:00").cost == Decimal("0.3000")  # a Monday: peak
    assert rate(rater, site, when="2026-05-03 10:00").cost == Decimal("0.2000")  # a Sunday


def test_a_route_pattern_selects_another_plan_for_the_calls_of_its_trunk(site, load_plan):
    load_plan(plan_text("Carrier A", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.1000"\n'))
    load_plan(plan_text("Carrier B", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.0500"\n'))
    load_plan(plan_text("Carrier C", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.0100"\n'))
    assign_plan(site, "Carrier A")
    assign_plan(site, "Carrier B", pattern=r"^SIP/carrier-b")
    assign_plan(site, "Carrier C", pattern=r"carrier-b-9", priority=5)
    rater = rater_for_site(site)
    assert rate(rater, site, device="SIP/carrier-a-0001").tariff == "Carrier A (2026-01-01)"
    assert rate(rater, site, device="").tariff == "Carrier A (2026-01-01)"
    assert rate(rater, site, device="SIP/carrier-b-0001").tariff == "Carrier B (2026-01-01)"
    # Both patterns match: the higher priority wins.
    assert rate(rater, site, device="SIP/carrier-b-9001").tariff == "Carrier C (2026-01-01)"
    unassign_plan(site, r"carrier-b-9")
    assert rate(rater_for_site(site), site, device="SIP/carrier-b-9001").tariff == "Carrier B (2026-01-01)"


def test_a_route_plan_that_does_not_rate_a_direction_leaves_it_to_the_default_plan(site, load_plan):
    load_plan(plan_text("Outbound", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.1000"\n'))
    load_plan(plan_text("Toll free in", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.0200"\n',
                        extra='directions = ["inbound"]\n'))
    assign_plan(site, "Outbound")
    assign_plan(site, "Toll free in", pattern="^DAHDI/")
    rater = rater_for_site(site)
    inbound = rate(rater, site, device="DAHDI/1", direction="inbound")
    outbound = rate(rater, site, device="DAHDI/1", direction="outbound")
    assert (inbound.tariff, inbound.cost) == ("Toll free in (2026-01-01)", Decimal("0.0200"))
    assert (outbound.tariff, outbound.cost) == ("Outbound (2026-01-01)", Decimal("0.1000"))


def test_inbound_and_internal_calls_cost_nothing_unless_a_plan_rates_them(site, load_plan):
    load_plan(PREFIXES)
    assign_plan(site, "Prefixes")
    rater = rater_for_site(site)
    for direction in ("inbound", "internal"):
        rating = rate(rater, site, number="+442079460000", direction=direction)
        assert (rating.cost, rating.unrated, rating.tariff, rating.currency) == (Decimal("0"), False, "", "EUR")
    load_plan(PREFIXES.replace('currency = "EUR"', 'currency = "EUR"\ndirections = ["outbound", "internal"]'))
    load_plan(PREFIXES.replace("Prefixes", "Internal").replace(
        'currency = "EUR"', 'currency = "EUR"\ndirections = ["internal"]') +
        '\n[[rates]]\nprefix = "*"\ndestination = "Extension"\nrate_per_minute = "0.0100"\n')
    assign_plan(site, "Internal")
    rating = rate(rater_for_site(site), site, number="", direction="internal")
    assert (rating.cost, rating.tariff, rating.destination) == (Decimal("0.0100"), "Internal (2026-01-01)",
                                                                "Extension")


def test_a_site_without_a_plan_leaves_outbound_calls_unrated_in_its_currency(make_site):
    site = make_site("NY", country="US", timezone="America/New_York", currency="USD", access_codes=["9"])
    rater = rater_for_site(site)
    outbound = rate(rater, site, number="+12125550100")
    inbound = rate(rater, site, number="+12125550100", direction="inbound")
    assert (outbound.cost, outbound.currency, outbound.unrated, outbound.tariff) == (Decimal("0"), "USD", True, "")
    assert (inbound.cost, inbound.currency, inbound.unrated) == (Decimal("0"), "USD", False)


def test_holidays_an_administrator_adds_are_priced_in_the_holiday_band(site, make_site, load_plan):
    load_plan(plan_text("Holidays", '[[rates]]\nprefix = "39"\nrate_per_minute = { peak = "0.3000", '
                                    'offpeak = "0.1000" }\n'))
    other = make_site("RM")
    for each in (site, other):
        assign_plan(each, "Holidays")
    Holiday.objects.create(date=dt.date(2026, 12, 7), name="Sant'Ambrogio", site=site)  # Milan's patron saint
    Holiday.objects.create(date=dt.date(2026, 12, 24), name="Christmas Eve", country="IT")
    Holiday.objects.create(date=dt.date(2026, 12, 31), name="New Year's Eve")  # every site
    milan, rome = rater_for_site(site), rater_for_site(other)
    assert rate(milan, site, when="2026-12-07 10:00").band == "offpeak"  # a Monday
    assert rate(rome, other, when="2026-12-07 10:00").band == "peak"
    assert rate(rome, other, when="2026-12-24 10:00").band == "offpeak"
    assert rate(rome, other, when="2026-12-31 10:00").band == "offpeak"
    assert rate(rome, other, when="2026-12-30 10:00").band == "peak"


def test_a_plan_can_ignore_public_holidays(site, load_plan):
    load_plan(plan_text("No holidays", '[[rates]]\nprefix = "39"\nrate_per_minute = { peak = "0.3000", '
                                       'offpeak = "0.1000" }\n', extra="public_holidays = false\n"))
    assign_plan(site, "No holidays")
    assert rate(rater_for_site(site), site, when="2026-06-02 10:00").band == "peak"  # Republic Day


def test_a_rater_keeps_pricing_the_same_when_a_version_is_reloaded_only_after_a_new_rater(site, load_plan):
    load_plan(PREFIXES)
    assign_plan(site, "Prefixes")
    rater = rater_for_site(site)
    assert rate(rater, site, number="+442079460000").cost == Decimal("0.1200")
    load_plan(PREFIXES.replace('"0.1200"', '"0.2400"'))
    assert rate(rater, site, number="+442079460000").cost == Decimal("0.1200")
    assert rate(rater_for_site(site), site, number="+442079460000").cost == Decimal("0.2400")


@pytest.fixture
def busy_site(site, load_plan):
    load_plan(PREFIXES)
    load_plan(plan_text("Night", '[[rates]]\nprefix = "44"\nrate_per_minute = { peak = "0.2000", '
                                 'offpeak = "0.0100" }\nfirst_increment = 30\nnext_increment = 6\n'))
    assign_plan(site, "Prefixes")
    assign_plan(site, "Night", pattern="night")
    return site, rater_for_site(site)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    number=st.sampled_from(["+447700900123", "+442079460000", "+4930123456", "+12125550100", ""]),
    direction=st.sampled_from(["outbound", "inbound", "internal"]),
    start=st.datetimes(min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2026, 12, 31),
                       timezones=st.just(dt.UTC)),
    talk=st.integers(min_value=0, max_value=3600),
    answered=st.booleans(),
    device=st.sampled_from(["", "SIP/night-1", "SIP/day-1"]),
)
def test_explaining_a_call_never_changes_its_rating(busy_site, number, direction, start, talk, answered, device):
    _, rater = busy_site
    plain = rater.rate(e164=number, direction=direction, start=start, talk_seconds=talk, answered=answered,
                       device=device)
    explained = rater.rate(e164=number, direction=direction, start=start, talk_seconds=talk, answered=answered,
                           device=device, explain=True)
    assert explained.steps
    explained.steps = None
    assert explained == plain
    again = rater.rate(e164=number, direction=direction, start=start, talk_seconds=talk, answered=answered,
                       device=device)
    assert again == plain  # from the caches now
