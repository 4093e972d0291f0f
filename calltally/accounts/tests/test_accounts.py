"""Sign-in accounts: roles, what each sees, and `calltally account`."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from calltally.accounts.models import Account, Role
from calltally.accounts.scope import scope_of
from calltally.calls.models import Call
from calltally.directory.models import CostCenter, Person

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def org(make_site):
    """Two sites; a cost-center tree SALES > SALES-IT, and MKT beside it; a call per person."""
    rome, milan = make_site("ROM"), make_site("MIL")
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    italy = CostCenter.objects.create(code="SALES-IT", name="Sales Italy", parent=sales)
    marketing = CostCenter.objects.create(code="MKT", name="Marketing")
    people = {
        "alice": Person.objects.create(username="alice", cost_center=sales),
        "bruno": Person.objects.create(username="bruno", cost_center=italy),
        "carla": Person.objects.create(username="carla", cost_center=marketing),
    }
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    for site, person in ((rome, people["alice"]), (rome, people["bruno"]), (milan, people["carla"])):
        Call.objects.create(site=site, start=start, direction="outbound", disposition="answered", answered=True,
                            extension_number="201", person=person, cost_center=person.cost_center, currency="EUR")
    sales.manager = people["alice"]
    sales.save()
    return {"rome": rome, "milan": milan, "sales": sales, "italy": italy, **people}


def add(cli, monkeypatch, *args, password=PASSWORD):
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return cli("account", "add", *args)


def seen(username: str) -> list[str]:
    user = get_user_model().objects.get(username=username)
    return sorted(Call.objects.filter(scope_of(user).calls()).values_list("person__username", flat=True))


def test_each_role_sees_exactly_its_calls(org, cli, monkeypatch):
    add(cli, monkeypatch, "boss", "--role", "administrator")
    add(cli, monkeypatch, "rome-admin", "--role", "site-admin", "--site", "ROM")
    add(cli, monkeypatch, "sales-head", "--role", "manager", "--person", "alice")  # manages SALES
    add(cli, monkeypatch, "it-head", "--role", "manager", "--cost-center", "SALES-IT")
    add(cli, monkeypatch, "carla", "--role", "user", "--person", "carla")
    assert seen("boss") == ["alice", "bruno", "carla"]
    assert seen("rome-admin") == ["alice", "bruno"]
    assert seen("sales-head") == ["alice", "bruno"]  # SALES and the SALES-IT below it, not MKT
    assert seen("it-head") == ["bruno"]
    assert seen("carla") == ["carla"]


def test_an_inactive_account_sees_nothing(org, cli, monkeypatch):
    add(cli, monkeypatch, "carla", "--role", "user", "--person", "carla")
    cli("account", "set", "carla", "--inactive")
    assert seen("carla") == []


def test_a_site_administrator_configures_only_their_sites(org, cli, monkeypatch):
    add(cli, monkeypatch, "rome-admin", "--role", "site-admin", "--site", "ROM")
    scope = scope_of(get_user_model().objects.get(username="rome-admin"))
    assert scope.may_configure(org["rome"]) and not scope.may_configure(org["milan"])
    assert not scope.may_configure()  # CallTally's own settings: administrators only


def test_a_new_account_must_change_its_password_unless_told_otherwise(org, cli, monkeypatch):
    add(cli, monkeypatch, "boss", "--role", "administrator")
    add(cli, monkeypatch, "other", "--role", "administrator", "--no-must-change")
    assert Account.objects.get(user__username="boss").must_change_password
    assert not Account.objects.get(user__username="other").must_change_password
    assert get_user_model().objects.get(username="boss").check_password(PASSWORD)


def test_the_password_comes_from_a_file_and_a_weak_one_is_refused(org, cli, tmp_path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    cli("account", "add", "boss", "--role", "administrator", "--password-file", str(secret))
    assert get_user_model().objects.get(username="boss").check_password(PASSWORD)
    secret.write_text("password\n")
    with pytest.raises(CommandError, match="refused"):
        cli("account", "add", "weak", "--role", "administrator", "--password-file", str(secret))
    assert not get_user_model().objects.filter(username="weak").exists()


def test_a_role_without_what_it_needs_is_refused_with_the_reason(org, cli, monkeypatch):
    with pytest.raises(CommandError, match="directory person"):
        add(cli, monkeypatch, "nobody", "--role", "user")
    with pytest.raises(CommandError, match="at least one site"):
        add(cli, monkeypatch, "nosite", "--role", "site-admin")
    with pytest.raises(CommandError, match="cost center"):
        add(cli, monkeypatch, "lost", "--role", "manager", "--person", "carla")  # carla manages nothing
    with pytest.raises(CommandError, match="Select a valid choice"):
        add(cli, monkeypatch, "typo", "--role", "site-admin", "--site", "NOPE")
    assert get_user_model().objects.count() == 0


def test_accounts_are_listed_changed_and_removed(org, cli, monkeypatch):
    add(cli, monkeypatch, "rome-admin", "--role", "site-admin", "--site", "ROM")
    cli("account", "set", "rome-admin", "--site", "ROM", "--site", "MIL", "--email", "r@example.com")
    [row] = json.loads(cli("account", "list", "--json"))
    assert (row["username"], row["role"], row["sites"]) == ("rome-admin", "site-admin", ["MIL", "ROM"])
    assert "rome-admin" in cli("account", "list") and "site-admin" in cli("account", "list")
    cli("account", "remove", "rome-admin")
    assert json.loads(cli("account", "list", "--json")) == []


def test_the_last_superuser_cannot_be_removed(db, cli):
    get_user_model().objects.create_superuser("root", "", PASSWORD)
    with pytest.raises(CommandError, match="last superuser"):
        cli("account", "remove", "root")


def test_every_user_has_an_account_and_a_superuser_is_an_administrator(db):
    root = get_user_model().objects.create_superuser("root", "", PASSWORD)
    plain = get_user_model().objects.create_user("plain", password=PASSWORD)
    assert (root.account.role, plain.account.role) == (Role.ADMINISTRATOR, Role.USER)
    assert scope_of(plain).nothing  # a user linked to no person sees nothing
