"""Shared data for the web tests: a site, its people and a call, and accounts with and without staff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from calltally.accounts.models import Account
from calltally.calls.models import Call
from calltally.calls.tests.conftest import make_call
from calltally.directory.models import CostCenter, Extension, Person
from calltally.sites.models import Site

UTC = dt.UTC
PASSWORD = "correct horse battery staple"


def make_site(code="ROM", name="Rome office", timezone="Europe/Rome", **extra) -> Site:
    fields = {"country": "IT", "driver": "asterisk_csv", "currency": "EUR", "access_codes": ["0"],
              "driver_options": {"delimiter": ","}}
    fields.update(extra)
    return Site.objects.create(code=code, name=name, timezone=timezone, **fields)


@pytest.fixture(autouse=True, scope="session")
def _static_root():
    # WhiteNoise warns about a missing STATIC_ROOT; `calltally web` fills it by collectstatic.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def rome(db) -> Site:
    return make_site()


@pytest.fixture
def people(rome):
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    alice = Person.objects.create(username="alice", first_name="Alice", last_name="Rossi", site=rome,
                                  cost_center=sales)
    bob = Person.objects.create(username="bob", site=rome)
    Extension.objects.create(site=rome, number="101", person=alice)
    Extension.objects.create(site=rome, number="102", person=bob, billing_enabled=False, auto_acquired=True)
    return {"alice": alice, "bob": bob, "sales": sales}


@pytest.fixture
def rome_call(rome, people) -> Call:
    # 08:15 UTC on 2 March is 09:15 in Rome (CET, +01:00).
    return make_call(
        rome,
        dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC),
        person=people["alice"],
        cost_center=people["sales"],
        extension=Extension.objects.get(site=rome, number="101"),
        account_code="4711",
    )


def make_user(username: str, *, staff: bool, must_change: bool = False):
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=staff)
    if must_change:
        Account.objects.filter(user=user).update(must_change_password=True)
    return user


@pytest.fixture
def staff_user(db):
    return make_user("operator", staff=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def plain_client(client, db):
    client.force_login(make_user("visitor", staff=False))
    return client
