"""Calls to look at: two sites in different time zones, a cost-center tree, people in it."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.conf import settings

from calltally.calls.choices import Direction, DiscardReason, Disposition
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import CostCenter, Person
from calltally.spool.models import SpoolSegment

UTC = dt.UTC
_offsets = itertools.count(0, 100)


def segment_of(site, day: dt.date) -> SpoolSegment:
    segment, _ = SpoolSegment.objects.get_or_create(site=site, day=day)
    return segment


def make_call(site, start: dt.datetime, **fields) -> Call:
    values = {
        "direction": Direction.OUTBOUND, "disposition": Disposition.ANSWERED, "answered": True,
        "extension_number": "101", "remote_number": "+390612345678", "talk_seconds": 125, "ring_seconds": 7,
        "currency": site.currency, "cost": Decimal("0.1250"),
    }
    values.update(fields)
    values.setdefault("raw_offset", next(_offsets))
    if "segment" not in values:
        values["segment"] = segment_of(site, start.astimezone(UTC).date())
    return Call.objects.create(site=site, start=start, **values)


def make_discarded(site, reason=DiscardReason.EXTENSION_NOT_CONFIGURED, **fields) -> DiscardedCall:
    values = {
        "detail": "extension 555 is not configured",
        "raw_text": '"","555","0612345678","default","","","","","2026-03-02 09:00:00",,,"5","3","ANSWERED"',
        "received": dt.datetime(2026, 3, 2, 8, 0, 5, tzinfo=UTC),
        "extension_number": "555",
    }
    values.update(fields)
    if "segment" not in values:
        values["segment"] = segment_of(site, (values["received"] or dt.datetime(2026, 3, 2, tzinfo=UTC)).date())
    return DiscardedCall.objects.create(site=site, raw_offset=next(_offsets), reason=reason, **values)


@pytest.fixture(autouse=True, scope="session")
def _static_root():
    # WhiteNoise warns about a missing STATIC_ROOT; `calltally web` fills it by collectstatic.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def rome(make_site):
    return make_site("ROM", name="Rome office", timezone="Europe/Rome", currency="EUR")


@pytest.fixture
def new_york(make_site):
    return make_site("NYC", name="New York office", timezone="America/New_York", country="US", currency="USD",
                     access_codes=["9"])


@pytest.fixture
def tree(db):
    """SALES with NORTH below it, and MARKETING beside SALES; a person in each."""
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    north = CostCenter.objects.create(code="NORTH", name="Sales north", parent=sales)
    marketing = CostCenter.objects.create(code="MARKETING", name="Marketing")
    alice = Person.objects.create(username="alice", first_name="Alice", last_name="Rossi", cost_center=sales)
    nora = Person.objects.create(username="nora", first_name="Nora", last_name="Bianchi", cost_center=north)
    mark = Person.objects.create(username="mark", first_name="Mark", last_name="Verdi", cost_center=marketing)
    return {"sales": sales, "north": north, "marketing": marketing, "alice": alice, "nora": nora, "mark": mark}


@pytest.fixture
def calls(rome, new_york, tree):
    """One call of each person (Alice and Nora in Rome, Mark in New York) and one of nobody's."""
    at = dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    return {
        "alice": make_call(rome, at, person=tree["alice"], cost_center=tree["sales"], extension_number="101",
                           remote_number="+390611111111"),
        "nora": make_call(rome, at + dt.timedelta(minutes=5), person=tree["nora"], cost_center=tree["north"],
                          extension_number="102", remote_number="+390622222222"),
        "mark": make_call(new_york, at + dt.timedelta(minutes=10), person=tree["mark"],
                          cost_center=tree["marketing"], extension_number="201", remote_number="+12125550100"),
        "nobody": make_call(rome, at + dt.timedelta(minutes=15), extension_number="199",
                            remote_number="+390633333333"),
    }
