"""Pricing while mining, recalculation after a rate change, and the simulator, end to end."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from calltally.calls.models import Call
from calltally.directory.models import Extension

ASTERISK = Path(__file__).parent / "fixtures" / "asterisk-hq.csv"
pytestmark = pytest.mark.django_db

PLAN = """
name = "Carrier 2026"
carrier = "Carrier"
currency = "EUR"
valid_from = "2026-01-01"
rounding_decimals = 4
markup_percent = 0
holiday_band = "offpeak"
default_band = "offpeak"

[[bands]]
name = "peak"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "19:00"

[[rates]]
prefix = "39"
destination = "Italy fixed"
rate_per_minute = { peak = "0.0300", offpeak = "0.0150" }
connection_fee = "0.0500"
first_increment = 30
next_increment = 6
minimum_duration = 0
minimum_charge = "0"
maximum_charge = ""
"""


@pytest.fixture
def priced(make_site, spool, cli, tmp_path):
    site = make_site("HQ", area_code="02")
    Extension.objects.create(site=site, number="201")
    Extension.objects.create(site=site, number="202")
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    cli("tariff", "load", str(plan))
    cli("site", "set", "HQ", "--tariff", "Carrier 2026")
    cli("import", "--site", "HQ", str(ASTERISK))
    return plan


def test_the_miner_prices_outbound_calls_with_the_sites_plan(priced):
    call = Call.objects.get(direction="outbound")
    # Monday 2 March 2026, 10:00 in Rome: peak. 120 s talk, increments 30/6:
    # billed = 30 + ceil(90/6)*6 = 120; cost = 0.05 + 0.03 * 120/60 = 0.11
    assert (call.e164, call.category) == ("+390223456789", "local")
    assert (call.tariff, call.rated_prefix, call.band, call.billed_seconds) == (
        "Carrier 2026 (2026-01-01)", "39", "peak", 120)
    assert call.cost == Decimal("0.1100") and call.currency == "EUR"
    assert not call.unrated
    inbound = Call.objects.filter(direction="inbound").first()
    assert inbound.cost == 0 and not inbound.unrated


def test_recalculation_after_a_rate_change_updates_exactly_the_periods_calls(priced, cli):
    priced.write_text(PLAN.replace('"0.0300"', '"0.0600"'))
    cli("tariff", "load", str(priced))
    cli("recalc", "--site", "HQ", "--from", "2026-03-03", "--quiet")
    assert Call.objects.get(direction="outbound").cost == Decimal("0.1100")  # outside the period: untouched
    cli("recalc", "--site", "HQ", "--from", "2026-03-02", "--to", "2026-03-02", "--quiet")
    assert Call.objects.get(direction="outbound").cost == Decimal("0.1700")  # 0.05 + 0.06 * 2


def test_the_export_carries_the_pricing_columns(priced, cli):
    [row] = [r for r in json.loads(cli("calls", "export", "--format", "json")) if r["direction"] == "outbound"]
    assert (row["e164"], row["tariff"], row["band"], row["billed_seconds"], row["cost"]) == (
        "+390223456789", "Carrier 2026 (2026-01-01)", "peak", 120, "0.1100")


def test_site_set_refuses_an_unknown_tariff_with_a_message(make_site, cli):
    from django.core.management.base import CommandError

    make_site("HQ")
    with pytest.raises(CommandError, match="Nope"):
        cli("site", "set", "HQ", "--tariff", "Nope")
