"""What calls cost, computed by hand, against what the rater says."""

from decimal import Decimal

import pytest

from calltally.rating.services import assign_plan, rater_for_site

from .conftest import local, plan_text

pytestmark = pytest.mark.django_db

ITALY = plan_text("Italy 2026", """
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

    [[rates]]
    prefix = "44"
    destination = "United Kingdom"
    rate_per_minute = "0.2000"
    first_increment = 1
    next_increment = 1
    maximum_charge = "0.5000"

    [[rates]]
    prefix = "43"
    destination = "Austria"
    rate_per_minute = "0.0003"
""")

# The same rates resold with a 10% markup, rounded to the cent.
RESALE = plan_text("Resale 2026", """
    [[rates]]
    prefix = "39"
    destination = "Italy fixed"
    rate_per_minute = { peak = "0.0300", offpeak = "0.0150" }
    connection_fee = "0.0500"
    first_increment = 30
    next_increment = 6
""", extra='markup_percent = 10\nrounding_decimals = 2\n')

USA = plan_text("USA 2026", """
    [[rates]]
    prefix = "1"
    destination = "United States"
    rate_per_minute = { peak = "0.0200", offpeak = "0.0100", holiday = "0.0050" }
    first_increment = 60
    next_increment = 60
""", currency="USD", bands="""
    default_band = "offpeak"
    holiday_band = "holiday"

    [[bands]]
    name = "peak"
    days = ["mon", "tue", "wed", "thu", "fri"]
    start = "08:00"
    end = "18:00"
""")

# (site, local start, number, talk seconds, device, expected cost, expected band); each worked out by hand.
CASES = [
    # Monday 10:15 is peak. 30/6: 125 s > 30 → 30 + ceil(95/6)=16 × 6 = 126 s.
    # 0.0500 + 0.0300 × 126/60 = 0.0500 + 0.0630 = 0.1130
    ("IT", "2026-03-02 10:15", "+390212345678", 125, "", "0.1130", "peak"),
    # Monday 19:00 is off-peak (the peak window ends at 19:00, excluded). 20 s ≤ 30 → 30 s.
    # 0.0500 + 0.0150 × 30/60 = 0.0500 + 0.0075 = 0.0575
    ("IT", "2026-03-02 19:00", "+390212345678", 20, "", "0.0575", "offpeak"),
    # Monday 18:59 is still peak: 30 s → 0.0500 + 0.0300 × 30/60 = 0.0650
    ("IT", "2026-03-02 18:59", "+390212345678", 30, "", "0.0650", "peak"),
    # Saturday: off-peak. 61 s → 30 + ceil(31/6)=6 × 6 = 66 s. 0.0500 + 0.0150 × 66/60 = 0.0500 + 0.0165 = 0.0665
    ("IT", "2026-03-07 11:00", "+390212345678", 61, "", "0.0665", "offpeak"),
    # Tuesday 2 June 2026 is Republic Day, a public holiday: the holiday band (off-peak) although
    # 10:00 on a weekday. 126 s billed: 0.0500 + 0.0150 × 126/60 = 0.0500 + 0.0315 = 0.0815
    ("IT", "2026-06-02 10:00", "+390212345678", 125, "", "0.0815", "offpeak"),
    # The day before, an ordinary Monday: peak, 0.1130 as in the first case.
    ("IT", "2026-06-01 10:00", "+390212345678", 125, "", "0.1130", "peak"),
    # Saturday 25 April 2026, Liberation Day: off-peak either way. 60/60 mobile: 61 s → 60 + 60 = 120 s.
    # 0.0800 × 120/60 = 0.1600
    ("IT", "2026-04-25 10:00", "+393471234567", 61, "", "0.1600", "offpeak"),
    # Mobile, peak, 60/60: 61 s → 120 s. 0.1200 × 120/60 = 0.2400 (above the 0.1000 minimum charge)
    ("IT", "2026-03-02 09:00", "+393471234567", 61, "", "0.2400", "peak"),
    # Mobile, Sunday: 10 s → 60 s. 0.0800 × 60/60 = 0.0800 < minimum charge 0.1000 → 0.1000
    ("IT", "2026-03-08 15:00", "+393471234567", 10, "", "0.1000", "offpeak"),
    # UK, 1/1: 100 s → 0.2000 × 100/60 = 0.333333… → 0.3333
    ("IT", "2026-03-02 10:00", "+442079460000", 100, "", "0.3333", "peak"),
    # UK, 1/1: 200 s → 0.2000 × 200/60 = 0.666666… > maximum charge 0.5000 → 0.5000
    ("IT", "2026-03-02 10:00", "+442079460000", 200, "", "0.5000", "peak"),
    # UK, 1/1: 1 s → 0.2000 / 60 = 0.003333… → 0.0033
    ("IT", "2026-03-02 10:00", "+442079460000", 1, "", "0.0033", "peak"),
    # Austria, 1/1 (the defaults): 10 s → 0.0003 × 10/60 = 0.00005 exactly → half-up → 0.0001
    ("IT", "2026-03-02 10:00", "+43123456789", 10, "", "0.0001", "peak"),
    # Austria: 9 s → 0.0003 × 9/60 = 0.000045 → 0.0000
    ("IT", "2026-03-02 10:00", "+43123456789", 9, "", "0.0000", "peak"),
    # Resale plan (trunk SIP/resale…): 600 s peak → 30 + ceil(570/6)=95 × 6 = 600 s.
    # 0.0500 + 0.0300 × 600/60 = 0.3500; × 1.10 = 0.385 → half-up to 2 decimals → 0.39
    ("IT", "2026-03-02 10:00", "+390212345678", 600, "SIP/resale-0001", "0.39", "peak"),
    # Resale plan, 125 s peak: 0.1130 × 1.10 = 0.1243 → 0.12
    ("IT", "2026-03-02 10:00", "+390212345678", 125, "SIP/resale-0001", "0.12", "peak"),
    # New York, Thursday 2 July 2026 10:00: peak. 60/60: 90 s → 120 s. 0.0200 × 2 = 0.0400
    ("US", "2026-07-02 10:00", "+12125550100", 90, "", "0.0400", "peak"),
    # Friday 3 July 2026 is Independence Day (observed; the 4th is a Saturday): holiday band.
    # 0.0050 × 120/60 = 0.0100
    ("US", "2026-07-03 10:00", "+12125550100", 90, "", "0.0100", "holiday"),
    # Saturday 4 July itself is a holiday too: 0.0100
    ("US", "2026-07-04 10:00", "+12125550100", 90, "", "0.0100", "holiday"),
    # Monday 6 July 20:00: off-peak. 30 s → 60 s: 0.0100 × 1 = 0.0100; 150 s → 180 s: 0.0100 × 3 = 0.0300
    ("US", "2026-07-06 20:00", "+12125550100", 150, "", "0.0300", "offpeak"),
]


@pytest.fixture
def raters(make_site, load_plan):
    italy = make_site("IT")
    usa = make_site("US", country="US", timezone="America/New_York", currency="USD", access_codes=["9"])
    load_plan(ITALY)
    load_plan(RESALE)
    load_plan(USA)
    assign_plan(italy, "Italy 2026")
    assign_plan(italy, "Resale 2026", pattern=r"^SIP/resale")
    assign_plan(usa, "USA 2026")
    return {"IT": (italy, rater_for_site(italy)), "US": (usa, rater_for_site(usa))}


@pytest.mark.parametrize(("site", "when", "number", "talk", "device", "expected", "band"), CASES)
def test_costs_match_to_the_cent_for_calls_across_bands_holidays_minimum_charge_cap_markup_and_increments(
    raters, site, when, number, talk, device, expected, band
):
    model, rater = raters[site]
    rating = rater.rate(e164=number, direction="outbound", start=local(model, when), talk_seconds=talk,
                        answered=True, device=device)
    assert rating.cost == Decimal(expected)
    assert str(rating.cost) == expected  # rounded to the plan's decimals, not just equal in value
    assert rating.band == band
    assert rating.currency == ("USD" if site == "US" else "EUR")
    assert not rating.unrated


def test_the_rating_names_the_plan_version_prefix_destination_and_billed_seconds(raters):
    model, rater = raters["IT"]
    rating = rater.rate(e164="+393471234567", direction="outbound", start=local(model, "2026-03-02 09:00"),
                        talk_seconds=61, answered=True)
    assert (rating.tariff, rating.prefix, rating.destination, rating.category, rating.billed_seconds) == (
        "Italy 2026 (2026-01-01)", "393", "Italy mobile", "mobile", 120)
    assert rating.steps is None


def test_unanswered_calls_and_calls_without_talk_time_cost_nothing(raters):
    model, rater = raters["IT"]
    start = local(model, "2026-03-02 10:00")
    for answered, talk in ((False, 125), (True, 0)):
        rating = rater.rate(e164="+390212345678", direction="outbound", start=start, talk_seconds=talk,
                            answered=answered)
        assert (rating.cost, rating.billed_seconds, rating.unrated) == (Decimal("0"), 0, False)
        assert rating.tariff == "Italy 2026 (2026-01-01)"
