"""A small world to report on: two sites in different zones and currencies, a cost-center tree,
people in it, and calls of every kind (outbound, inbound answered and missed, internal, unrated,
with account codes, on several trunks), spread over March 2026."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from calltally.calls import rollups
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import AccountCode, CostCenter, Extension, Person
from calltally.spool.models import SpoolSegment

UTC = dt.UTC
# A moment inside March 2026 in every zone: "this month" is March.
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
_offsets = itertools.count(0, 100)


def make_call(site, start: dt.datetime, **fields) -> Call:
    values = {
        "direction": "outbound", "disposition": "answered", "answered": True, "extension_number": "101",
        "remote_number": "+390612345678", "e164": "+390612345678", "talk_seconds": 60, "ring_seconds": 5,
        "currency": site.currency, "cost": Decimal("0.1000"), "category": "national", "destination": "Italy",
        "tariff": "Carrier A 2026", "dest_device": "SIP/carrier-a",
    }
    values.update(fields)
    if not values["answered"]:
        values.setdefault("disposition", "no_answer")
        values["disposition"] = "no_answer"
    values.setdefault("raw_offset", next(_offsets))
    if "segment" not in values:
        values["segment"], _ = SpoolSegment.objects.get_or_create(site=site, day=start.astimezone(UTC).date())
    return Call.objects.create(site=site, start=start, **values)


@pytest.fixture
def world(make_site):
    rome = make_site("ROM", name="Rome office", timezone="Europe/Rome", currency="EUR")
    nyc = make_site("NYC", name="New York office", timezone="America/New_York", country="US", currency="USD",
                    access_codes=["9"])
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    north = CostCenter.objects.create(code="NORTH", name="Sales north", parent=sales)
    marketing = CostCenter.objects.create(code="MARKETING", name="Marketing")
    alice = Person.objects.create(username="alice", first_name="Alice", last_name="Rossi", cost_center=sales)
    nora = Person.objects.create(username="nora", first_name="Nora", last_name="Bianchi", cost_center=north)
    mark = Person.objects.create(username="mark", first_name="Mark", last_name="Verdi", cost_center=marketing)
    ext = {
        "101": Extension.objects.create(site=rome, number="101", person=alice),
        "102": Extension.objects.create(site=rome, number="102", person=nora),
        "103": Extension.objects.create(site=rome, number="103"),
        "201": Extension.objects.create(site=nyc, number="201", person=mark),
    }
    AccountCode.objects.create(site=rome, code="4711", description="Client Acme", replace_with_description=True)
    AccountCode.objects.create(site=rome, code="12", description="Project twelve")

    def by(person, center, number, site=rome):
        return {"person": person, "cost_center": center, "extension_number": number, "extension": ext[number],
                "currency": site.currency}

    a, n, m = by(alice, sales, "101"), by(nora, north, "102"), by(mark, marketing, "201", nyc)
    day = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    calls = [
        make_call(rome, day, **a, remote_number="+390611111111", cost=Decimal("0.2500"), talk_seconds=300),
        make_call(rome, day + dt.timedelta(minutes=2), **a, remote_number="+393331234567", e164="+393331234567",
                  category="mobile", destination="Italy mobile", cost=Decimal("1.1000"), talk_seconds=600,
                  account_code="4711", account="Client Acme"),
        make_call(rome, day + dt.timedelta(hours=3), **a, remote_number="+4930123456", e164="+4930123456",
                  category="international", destination="Germany", cost=Decimal("2.0000"), talk_seconds=420,
                  tariff="Carrier B", dest_device="SIP/carrier-b", account_code="12", account="12"),
        make_call(rome, day + dt.timedelta(days=1), **n, remote_number="+390611111111", cost=Decimal("0.0500"),
                  talk_seconds=45),
        make_call(rome, day + dt.timedelta(days=1, hours=1), **n, remote_number="+390699999999",
                  e164="+390699999999", talk_seconds=0, cost=Decimal("0"), answered=False, ring_seconds=30),
        # Inbound: one answered after 8 s, one missed after 3 s (short), one missed and never called back.
        make_call(rome, day + dt.timedelta(days=2), **a, direction="inbound", remote_number="+390655555555",
                  e164="+390655555555", cost=Decimal("0"), ring_seconds=8, talk_seconds=120, tariff="",
                  category="national", orig_device="SIP/carrier-a", dest_device=""),
        make_call(rome, day + dt.timedelta(days=2, hours=1), **n, direction="inbound", remote_number="+390644444444",
                  e164="+390644444444", cost=Decimal("0"), ring_seconds=3, talk_seconds=0, answered=False,
                  tariff="", orig_device="SIP/carrier-a", dest_device=""),
        make_call(rome, day + dt.timedelta(days=2, hours=2), **n, direction="inbound", remote_number="+390655555555",
                  e164="+390655555555", cost=Decimal("0"), ring_seconds=25, talk_seconds=0, answered=False,
                  tariff="", orig_device="SIP/carrier-a", dest_device=""),
        # Internal, between two extensions.
        make_call(rome, day + dt.timedelta(days=3), **a, direction="internal", remote_number="102", e164="",
                  category="internal", destination="", tariff="", cost=Decimal("0"), dest_device="SIP/102"),
        # Unrated: no rate matched.
        make_call(rome, day + dt.timedelta(days=4), **a, remote_number="+88212345", e164="+88212345",
                  category="unknown", destination="", tariff="", cost=Decimal("0"), unrated=True),
        # Nobody's extension, no cost center.
        make_call(rome, day + dt.timedelta(days=5), extension_number="103", extension=ext["103"],
                  remote_number="+390612121212", cost=Decimal("0.3000"), currency="EUR", account_code="9999",
                  account="9999", account_unallocated=True),
        # New York, in dollars; two overlapping calls on one trunk.
        make_call(nyc, day + dt.timedelta(hours=14), **m, remote_number="+12125550100", e164="+12125550100",
                  destination="United States", cost=Decimal("0.4000"), talk_seconds=900,
                  tariff="US carrier", dest_device="SIP/us"),
        make_call(nyc, day + dt.timedelta(hours=14, minutes=5), **m, remote_number="+12125550101",
                  e164="+12125550101", destination="United States", cost=Decimal("0.6000"), talk_seconds=300,
                  tariff="US carrier", dest_device="SIP/us"),
        # April: outside "this month".
        make_call(rome, dt.datetime(2026, 4, 2, 8, 0, tzinfo=UTC), **a, cost=Decimal("9.0000")),
    ]
    # The rollups the Miner keeps as it writes calls, made here from the calls written directly.
    for site in (rome, nyc):
        rollups.rebuild(site)
    DiscardedCall.objects.create(site=rome, segment=calls[0].segment, raw_offset=999_999,
                                 reason="extension_not_configured", raw_text="...", extension_number="555",
                                 start=day, received=day)
    return {"rome": rome, "nyc": nyc, "sales": sales, "north": north, "marketing": marketing, "alice": alice,
            "nora": nora, "mark": mark, "ext": ext, "calls": calls}
