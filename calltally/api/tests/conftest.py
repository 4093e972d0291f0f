"""What the API tests share: calls at two sites, a cost-center tree, people, and token clients."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from calltally.api import tokens
from calltally.calls.choices import Direction, Disposition
from calltally.calls.models import Call
from calltally.directory.models import CostCenter, Person
from calltally.spool.models import SpoolSegment

_offsets = itertools.count(0, 100)


def make_call(site, start: dt.datetime, **fields) -> Call:
    segment, _ = SpoolSegment.objects.get_or_create(site=site, day=start.astimezone(dt.UTC).date())
    values = {"direction": Direction.OUTBOUND, "disposition": Disposition.ANSWERED, "answered": True,
              "extension_number": "101", "remote_number": "+390612345678", "talk_seconds": 125, "ring_seconds": 7,
              "currency": site.currency, "cost": Decimal("0.1250"), "segment": segment,
              "raw_offset": next(_offsets)}
    values.update(fields)
    return Call.objects.create(site=site, start=start, **values)


def rebuild_rollups(world) -> None:
    """The summaries read the rollups, which the Miner keeps; calls made here need them rebuilt."""
    from calltally.calls import rollups

    for site in (world["rome"], world["nyc"]):
        rollups.rebuild(site)


@pytest.fixture
def world(make_site):
    """Two sites; cost centers HQ > SALES > EMEA and OPS; alice in EMEA at ROM, bob in OPS at NYC."""
    rome = make_site("ROM", timezone="Europe/Rome", currency="EUR")
    nyc = make_site("NYC", timezone="America/New_York", currency="USD", country="US")
    hq = CostCenter.objects.create(code="HQ", name="Headquarters")
    sales = CostCenter.objects.create(code="SALES", name="Sales", parent=hq)
    emea = CostCenter.objects.create(code="EMEA", name="Sales EMEA", parent=sales)
    ops = CostCenter.objects.create(code="OPS", name="Operations", parent=hq)
    alice = Person.objects.create(username="alice", site=rome, cost_center=emea)
    bob = Person.objects.create(username="bob", site=nyc, cost_center=ops)
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    calls = {
        "alice": make_call(rome, start, person=alice, cost_center=emea),
        "bob": make_call(nyc, start + dt.timedelta(hours=1), person=bob, cost_center=ops, extension_number="202"),
        "rome_nobody": make_call(rome, start + dt.timedelta(hours=2), extension_number="103"),
    }
    return {"rome": rome, "nyc": nyc, "hq": hq, "sales": sales, "emea": emea, "ops": ops, "alice": alice,
            "bob": bob, "calls": calls}


@pytest.fixture
def token_client(role_client):
    """An API client signed with a new token of a new account of one role (``role_client``'s arguments)."""

    def make(role: str, **kwargs) -> APIClient:
        user = role_client(role, **kwargs).user
        _, key = tokens.create(user, "tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.user = user
        return client

    return make
