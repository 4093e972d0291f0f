"""A small world for budgets: one site in Rome (EUR), a cost-center tree with managers, people with
addresses, a mail server, and calls added a few at a time."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from calltally.calls.models import Call
from calltally.directory.models import CostCenter, Extension, Person
from calltally.spool.models import SpoolSegment
from calltally.system.forms import MailSettingsForm
from calltally.system.services import save_settings

UTC = dt.UTC
# Friday 20 March 2026, 13:00 in Rome: this month is March, this week started Monday the 16th.
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
_offsets = itertools.count(0, 100)


def make_call(site, start: dt.datetime, cost: str, **fields) -> Call:
    values = {"direction": "outbound", "disposition": "answered", "answered": True, "extension_number": "101",
              "remote_number": "+390612345678", "talk_seconds": 60, "currency": site.currency,
              "cost": Decimal(cost), "category": "national", "destination": "Italy"}
    values.update(fields)
    values.setdefault("raw_offset", next(_offsets))
    values["segment"], _ = SpoolSegment.objects.get_or_create(site=site, day=start.astimezone(UTC).date())
    return Call.objects.create(site=site, start=start, **values)


def configure_mail(port: int, host: str = "127.0.0.1"):
    form = MailSettingsForm({"host": host, "port": port, "security": "none", "verify_certificate": True,
                             "username": "", "password": "", "password_env": "",
                             "from_address": "calltally@example.org", "reply_to": "", "timeout": 5})
    assert form.is_valid(), form.errors
    return save_settings(None, form)


@pytest.fixture
def world(make_site):
    rome = make_site("ROM", name="Rome office", timezone="Europe/Rome", currency="EUR")
    boss = Person.objects.create(username="boss", first_name="Bea", email="boss@example.org", site=rome)
    sales = CostCenter.objects.create(code="SALES", name="Sales", manager=boss)
    north = CostCenter.objects.create(code="NORTH", name="Sales north", parent=sales)
    marketing = CostCenter.objects.create(code="MARKETING", name="Marketing")
    alice = Person.objects.create(username="alice", first_name="Alice", email="alice@example.org", site=rome,
                                  cost_center=sales)
    nora = Person.objects.create(username="nora", first_name="Nora", email="nora@example.org", site=rome,
                                 cost_center=north)
    mark = Person.objects.create(username="mark", first_name="Mark", email="mark@example.org", site=rome,
                                 cost_center=marketing)
    ext = {
        "101": Extension.objects.create(site=rome, number="101", person=alice, cost_center=sales),
        "102": Extension.objects.create(site=rome, number="102", person=nora, cost_center=north),
        "103": Extension.objects.create(site=rome, number="103", person=mark, cost_center=marketing),
    }

    def call(who: str, cost: str, start: dt.datetime = NOW - dt.timedelta(hours=1), **fields) -> Call:
        person = {"101": alice, "102": nora, "103": mark}[who]
        return make_call(rome, start, cost, extension_number=who, extension=ext[who], person=person,
                         cost_center=ext[who].cost_center, **fields)

    return {"rome": rome, "sales": sales, "north": north, "marketing": marketing, "alice": alice, "nora": nora,
            "mark": mark, "boss": boss, "call": call}
