"""The accounts pages: administrators only, the CLI's validation, the password an administrator
sets (to be changed at first sign-in), lifting a lockout, and the audit of every change."""

from __future__ import annotations

import csv
import io
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from calltally.accounts.models import Account, Role
from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.directory.models import CostCenter, Person

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
NEW = "a brand new passphrase 42"


@pytest.fixture
def admin(role_client):
    return role_client("administrator", username="boss")


@pytest.fixture
def org(make_site):
    rome = make_site("ROM")
    make_site("MIL")
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    Person.objects.create(username="carla", first_name="Carla", last_name="Neri", cost_center=sales)
    return {"rome": rome, "sales": sales}


def form_data(**fields):
    data = {"username": "", "email": "", "role": "user", "person": "", "cost_center": "", "active": "on",
            "password1": PASSWORD, "password2": PASSWORD}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_only_administrators_open_the_accounts_pages(role_client, org):
    site_admin = role_client("site-admin", sites=[org["rome"]])
    manager = role_client("manager", cost_center=org["sales"])
    for client in (site_admin, manager):
        for url in (reverse("accounts:account_list"), reverse("accounts:account_add"),
                    reverse("accounts:account_edit", args=[client.user.pk])):
            assert client.get(url).status_code == 403
        assert client.post(reverse("accounts:account_add"), form_data(username="sneaky", role="administrator")) \
            .status_code == 403
    assert not get_user_model().objects.filter(username="sneaky").exists()


def test_the_list_shows_role_person_sites_cost_center_last_sign_in_and_lockout(admin, role_client, org, settings):
    settings.TIME_ZONE = "Europe/Rome"
    role_client("site-admin", sites=[org["rome"]], username="rome-admin")
    role_client("user", person=Person.objects.get(username="carla"), username="carla")
    from axes.models import AccessAttempt
    AccessAttempt.objects.create(username="carla", ip_address="192.0.2.9", user_agent="x", failures_since_start=9,
                                 get_data="", post_data="", http_accept="", path_info="/login/")
    response = admin.get(reverse("accounts:account_list"))
    assert response.status_code == 200
    rows = {row.record.username: row for row in response.context["table"].page.object_list}
    assert set(rows) == {"boss", "rome-admin", "carla"}
    assert rows["rome-admin"].get_cell("role") == "Site administrator"
    assert rows["rome-admin"].get_cell("sites") == "ROM"
    assert "Carla Neri" in rows["carla"].get_cell("person")
    assert "locked" in rows["carla"].get_cell("locked") and rows["boss"].get_cell("locked") == ""
    filtered = admin.get(reverse("accounts:account_list"), {"role": "site-admin"})
    assert [row.record.username for row in filtered.context["table"].page.object_list] == ["rome-admin"]
    get_user_model().objects.filter(username="carla").update(is_active=False)
    inactive = admin.get(reverse("accounts:account_list"), {"is_active": "false"})
    assert [row.record.username for row in inactive.context["table"].page.object_list] == ["carla"]


def test_the_list_exports_its_filtered_rows_as_csv(admin, role_client, org):
    role_client("site-admin", sites=[org["rome"]], username="rome-admin")
    response = admin.get(reverse("accounts:account_list"), {"site": "ROM", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Username", "Role", "Person"]
    assert [row[0] for row in rows[1:]] == ["rome-admin"]
    assert "password" not in rows[0]
    assert AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_list_reads_the_same_number_of_queries_for_three_accounts_or_thirty(admin, org):
    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(reverse("accounts:account_list")).status_code == 200
        return len(queries)

    admin.get(reverse("accounts:account_list"))  # the session's first save is not the page's
    for n in range(3):
        user = get_user_model().objects.create_user(f"few-{n}")
        user.account.sites.set([org["rome"]])
    few = count()
    for n in range(27):
        user = get_user_model().objects.create_user(f"many-{n}")
        user.account.sites.set([org["rome"]])
    assert count() == few


def test_an_account_added_on_the_page_has_the_password_set_and_must_change_it_at_first_sign_in(admin, org):
    response = admin.post(reverse("accounts:account_add"), form_data(username="carla", role="user"))
    assert response.status_code == 302, response.context["form"].errors
    user = get_user_model().objects.get(username="carla")
    # Linked to the directory person by username, since none was picked.
    assert user.account.person.username == "carla"
    assert user.account.must_change_password and user.check_password(PASSWORD)
    assert user.password.startswith("argon2$")
    event = AuditEvent.objects.get(action=Action.CREATE)
    assert event.after["role"] == "user" and event.after["person"] == "carla"
    assert PASSWORD not in str(event.after) and "argon2" not in str(event.after)
    # Its first sign-in leads to the password form and nowhere else.
    client = Client()
    client.post(reverse("login"), {"username": "carla", "password": PASSWORD})
    assert client.get(reverse("home"))["Location"] == reverse("password_change")
    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert not Account.objects.get(user=user).must_change_password


def test_the_page_refuses_weak_or_mismatched_passwords_and_a_new_account_without_one(admin, org):
    url = reverse("accounts:account_add")
    weak = admin.post(url, form_data(username="weak", role="administrator", password1="password",
                                     password2="password"))
    assert weak.status_code == 400 and "password1" in weak.context["form"].errors
    differ = admin.post(url, form_data(username="differ", role="administrator", password2="something else"))
    assert "password2" in differ.context["form"].errors
    none = admin.post(url, form_data(username="none", role="administrator", password1="", password2=""))
    assert "password1" in none.context["form"].errors
    assert admin.post(url, form_data(username="dir", role="administrator", ldap="on", password1="",
                                     password2="")).status_code == 302
    assert not get_user_model().objects.get(username="dir").has_usable_password()
    assert not get_user_model().objects.filter(username__in=["weak", "differ", "none"]).exists()


def test_the_page_and_the_command_refuse_the_same_account_with_the_same_reason(admin, org, cli, monkeypatch):
    page = admin.post(reverse("accounts:account_add"), form_data(username="nosite", role="site-admin"))
    assert page.status_code == 400
    [page_error] = page.context["form"].errors["sites"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    with pytest.raises(CommandError) as refused:
        cli("account", "add", "nosite", "--role", "site-admin")
    assert page_error in str(refused.value)
    assert b"at least one site" in page.content
    assert not get_user_model().objects.filter(username="nosite").exists()


def test_editing_changes_the_role_and_sites_and_audits_before_and_after(admin, role_client, org):
    other = role_client("site-admin", sites=[org["rome"]], username="rome-admin").user
    url = reverse("accounts:account_edit", args=[other.pk])
    page = admin.get(url)
    assert page.status_code == 200 and b"Not locked out" in page.content
    response = admin.post(url, form_data(username="rome-admin", role="site-admin", sites=["ROM", "MIL"],
                                         password1="", password2=""))
    assert response.status_code == 302
    other.refresh_from_db()
    assert sorted(site.code for site in other.account.sites.all()) == ["MIL", "ROM"]
    assert other.check_password("s3cret-Pa55")  # no password typed: kept
    event = AuditEvent.objects.get(action=Action.UPDATE)
    assert (event.before["sites"], event.after["sites"]) == (["ROM"], ["MIL", "ROM"])
    assert event.username == "boss"


def test_a_password_reset_by_an_administrator_must_be_changed_at_the_next_sign_in(admin, role_client, org):
    other = role_client("administrator", username="deputy").user
    admin.post(reverse("accounts:account_edit", args=[other.pk]),
               form_data(username="deputy", role="administrator", password1=NEW, password2=NEW))
    other.refresh_from_db()
    assert other.check_password(NEW) and other.account.must_change_password


def test_an_administrator_cannot_demote_or_deactivate_themselves(admin):
    url = reverse("accounts:account_edit", args=[admin.user.pk])
    demoted = admin.post(url, form_data(username="boss", role="manager", password1="", password2=""))
    assert demoted.status_code == 400 and "role" in demoted.context["form"].errors
    inactive = admin.post(url, form_data(username="boss", role="administrator", active=None, password1="",
                                         password2=""))
    assert "active" in inactive.context["form"].errors
    assert Account.objects.get(user=admin.user).role == Role.ADMINISTRATOR


def test_a_locked_out_account_is_unlocked_from_its_page(admin, db, settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 2
    victim = get_user_model().objects.create_user("victim", password=PASSWORD)
    Account.objects.filter(user=victim).update(role=Role.ADMINISTRATOR)
    client = Client()
    for n in range(2):
        client.post(reverse("login"), {"username": "victim", "password": f"wrong {n}"})
    assert client.post(reverse("login"), {"username": "victim", "password": PASSWORD}).status_code == 429
    page = admin.get(reverse("accounts:account_edit", args=[victim.pk]))
    assert b"locked out" in page.content and b"Lift the lockout" in page.content
    assert admin.get(reverse("accounts:account_unlock", args=[victim.pk])).status_code == 405
    admin.post(reverse("accounts:account_unlock", args=[victim.pk]))
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_id=str(victim.pk), after={"locked": False}).exists()
    assert client.post(reverse("login"), {"username": "victim", "password": PASSWORD}).status_code == 302


def test_an_account_is_deleted_after_confirmation_but_never_the_own_one(admin, role_client):
    other = role_client("manager", username="gone", cost_center=CostCenter.objects.create(code="X", name="X")).user
    url = reverse("accounts:account_delete", args=[other.pk])
    assert b"cannot be undone" in admin.get(url).content
    assert admin.post(url).status_code == 302
    assert not get_user_model().objects.filter(username="gone").exists()
    assert AuditEvent.objects.get(action=Action.DELETE).before["username"] == "gone"
    assert admin.post(reverse("accounts:account_delete", args=[admin.user.pk])).status_code == 403


def test_a_new_account_named_like_a_directory_person_is_linked_to_it_on_the_command_line_too(org, cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    cli("account", "add", "carla", "--role", "user")
    assert Account.objects.get(user__username="carla").person.username == "carla"
