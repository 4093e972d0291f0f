"""Configuration through the API: the web's forms (the same refusals, in the same words), the web's
scoping (a site administrator writes only to their sites), secrets never read back, every change
audited."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.collectors.models import Connection
from calltally.directory.models import Extension, Person
from calltally.sites.models import Site

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def web_form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.status_code
    form = response.context["form"]
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


# --- one validation path: the API refuses what the page refuses, in its words ------------------------

def test_a_port_out_of_range_is_refused_by_the_api_in_the_words_of_the_connection_page(admin_client, token_client,
                                                                                        world):
    web = admin_client.post(reverse("collectors:connection_add"),
                            {"site": world["rome"].pk, "kind": "tcp-listen", "option_port": "99999", "enabled": "on"})
    api = token_client("administrator").post("/api/connections/", {"site": "ROM", "kind": "tcp-listen",
                                                                    "options": {"port": 99999}}, format="json")
    assert api.status_code == 400
    assert api.json()["options.port"] == web_form_errors(web)["option_port"]
    assert "option port=99999 must be between 1 and 65535." in api.json()["options.port"][0]
    assert not Connection.objects.exists()


def test_a_site_country_the_page_refuses_is_refused_by_the_api_with_the_same_message(admin_client, token_client,
                                                                                     world):
    fields = {"code": "MIL", "name": "Milan", "driver": "asterisk_csv", "timezone": "Europe/Rome",
              "currency": "EUR", "country": "ITALY", "internal_digits_min": 3, "internal_digits_max": 4}
    web = admin_client.post(reverse("sites:site_add"), {**fields, "enabled": "on", "import_internal": "on"})
    api = token_client("administrator").post("/api/sites/", fields, format="json")
    assert api.status_code == 400
    assert api.json()["country"] == web_form_errors(web)["country"]
    assert not Site.objects.filter(code="MIL").exists()


def test_an_extension_number_the_page_refuses_is_refused_by_the_api_with_the_same_message(admin_client,
                                                                                          token_client, world):
    fields = {"site": "ROM", "number": "12 34", "billing_enabled": True}
    web = admin_client.post(reverse("directory:extension_add"), {**fields, "billing_enabled": "on"})
    api = token_client("administrator").post("/api/extensions/", fields, format="json")
    assert api.status_code == 400 and api.json()["number"] == web_form_errors(web)["number"]


def test_an_account_the_page_refuses_is_refused_by_the_api_with_the_same_message(admin_client, token_client):
    fields = {"username": "viewer", "role": "user", "password": "Quite-long-pass-42"}
    web = admin_client.post(reverse("accounts:account_add"), {**fields, "password1": fields["password"],
                                                              "password2": fields["password"], "active": "on"})
    api = token_client("administrator").post("/api/accounts/", fields, format="json")
    assert api.status_code == 400 and api.json()["person"] == web_form_errors(web)["person"]


# --- writes that work --------------------------------------------------------------------------------

def test_a_site_is_added_changed_by_patch_and_deleted_each_change_audited(token_client, world):
    client = token_client("administrator")
    made = client.post("/api/sites/", {"code": "MIL", "name": "Milan", "driver": "asterisk_csv", "country": "it",
                                       "timezone": "Europe/Rome", "currency": "eur", "access_codes": "0, 9"},
                       format="json")
    assert made.status_code == 201, made.content
    assert made.json()["country"] == "IT" and made.json()["access_codes"] == ["0", "9"] and made.json()["enabled"]
    changed = client.patch("/api/sites/MIL/", {"name": "Milano"}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "Milano"
    assert changed.json()["access_codes"] == ["0", "9"]  # what was not sent stays as it was
    assert client.patch("/api/sites/MIL/", {"code": "XXX"}, format="json").json()["code"] == "MIL"
    assert client.delete("/api/sites/MIL/").status_code == 204
    events = list(AuditEvent.objects.filter(object_type="sites.site").order_by("id").values_list("action", "details"))
    assert [action for action, _ in events] == ["create", "update", "update", "delete"]
    assert all(details.get("via") == "api" for _, details in events)
    update = AuditEvent.objects.filter(object_type="sites.site", action="update").order_by("id").first()
    assert (update.before["name"], update.after["name"]) == ("Milan", "Milano")


def test_an_unknown_field_is_refused_rather_than_ignored(token_client, world):
    response = token_client("administrator").patch("/api/sites/ROM/", {"colour": "blue"}, format="json")
    assert response.status_code == 400 and response.json() == {"colour": ["Not a field of this object."]}


def test_a_connection_secret_is_written_but_never_read_back_and_a_push_token_shown_once(token_client, world):
    client = token_client("administrator")
    made = client.post("/api/connections/", {"site": "ROM", "kind": "ftp", "options": {
        "port": free_port(), "username": "pbx", "password": "very-secret-pw"}}, format="json")
    assert made.status_code == 201, made.content
    assert "very-secret-pw" not in made.content.decode()
    assert made.json()["options"]["password"] == "(set)"
    pk = made.json()["id"]
    changed = client.patch(f"/api/connections/{pk}/", {"enabled": False}, format="json")
    assert changed.status_code == 200 and changed.json()["options"]["password"] == "(set)"
    assert changed.json()["options"]["username"] == "pbx"  # options not sent stay as they were
    assert "very-secret-pw" not in str(AuditEvent.objects.filter(object_type="collectors.connection")
                                       .values_list("before", "after"))
    push = client.post("/api/connections/", {"site": "ROM", "kind": "http-push"}, format="json")
    assert push.status_code == 201 and len(push.json()["token"]) >= 16
    again = client.get(f"/api/connections/{push.json()['id']}/").json()
    assert "token" not in again and push.json()["token"] not in str(again)


def test_a_person_and_an_extension_are_added_with_related_rows_by_code(token_client, world):
    client = token_client("administrator")
    person = client.post("/api/people/", {"username": "carla", "last_name": "Rossi", "site": "ROM",
                                          "cost_center": "EMEA"}, format="json")
    assert person.status_code == 201, person.content
    assert person.json()["cost_center"] == "EMEA" and person.json()["active"] is True
    extension = client.post("/api/extensions/", {"site": "ROM", "number": "150", "person": "carla",
                                                 "aliases": "0612340150"}, format="json")
    assert extension.status_code == 201, extension.content
    assert extension.json()["aliases"] == ["0612340150"] and extension.json()["person"] == "carla"
    refused = client.post("/api/extensions/", {"site": "ROM", "number": "151", "person": "nobody"}, format="json")
    assert refused.status_code == 400 and "nobody" in refused.json()["person"][0]


def test_deleting_a_person_with_calls_makes_them_inactive_as_the_page_does(token_client, world):
    response = token_client("administrator").delete(f"/api/people/{world['alice'].pk}/")
    assert response.status_code == 200 and response.json()["active"] is False
    assert Person.objects.filter(pk=world["alice"].pk).exists()


def test_a_cost_center_with_calls_is_not_deleted(token_client, world):
    response = token_client("administrator").delete(f"/api/cost-centers/{world['emea'].pk}/")
    assert response.status_code == 409 and "calls are charged to it" in response.json()["detail"]


def test_a_tariff_assignment_names_its_site_and_plan(token_client, world, cli, tmp_path):
    from calltally.rating.models import Carrier, TariffPlan

    plan = TariffPlan.objects.create(name="Carrier A 2026", carrier=Carrier.objects.create(name="Carrier A"))
    client = token_client("administrator")
    made = client.post("/api/tariff-assignments/", {"site": "ROM", "plan": plan.name, "priority": 0},
                       format="json")
    assert made.status_code == 201, made.content
    assert made.json() == {"id": made.json()["id"], "site": "ROM", "plan": "Carrier A 2026", "pattern": "",
                           "priority": 0}
    assert [p["name"] for p in client.get("/api/tariff-plans/").json()["results"]] == ["Carrier A 2026"]
    assert client.post("/api/tariff-plans/", {"name": "x"}, format="json").status_code == 405


# --- scope ---------------------------------------------------------------------------------------------

def test_a_site_administrator_sees_and_changes_only_their_sites(token_client, world):
    client = token_client("site-admin", sites=[world["rome"]])
    assert [s["code"] for s in client.get("/api/sites/").json()["results"]] == ["ROM"]
    assert client.get("/api/sites/NYC/").status_code == 404
    assert client.patch("/api/sites/NYC/", {"name": "x"}, format="json").status_code == 404
    assert client.patch("/api/sites/ROM/", {"name": "Roma"}, format="json").status_code == 200
    assert client.post("/api/sites/", {"code": "NEW", "name": "n"}, format="json").status_code == 403
    assert client.delete("/api/sites/ROM/").status_code == 403
    assert Site.objects.get(code="NYC").name == "Site NYC"


def test_a_site_administrator_cannot_write_directory_rows_of_another_site(token_client, world):
    client = token_client("site-admin", sites=[world["rome"]])
    other = Extension.objects.create(site=world["nyc"], number="300")
    assert client.patch(f"/api/extensions/{other.pk}/", {"number": "301"}, format="json").status_code == 404
    moved = client.post("/api/extensions/", {"site": "NYC", "number": "302"}, format="json")
    assert moved.status_code == 400 and "NYC" in moved.json()["site"][0]
    assert [p["username"] for p in client.get("/api/people/").json()["results"]] == ["alice"]
    # The cost center tree is CallTally-wide: read, not written, by a site administrator.
    assert client.get("/api/cost-centers/").status_code == 200
    assert client.patch(f"/api/cost-centers/{world['ops'].pk}/", {"name": "x"}, format="json").status_code == 403


@pytest.mark.parametrize("path", ["/api/sites/", "/api/connections/", "/api/people/", "/api/extensions/",
                                  "/api/cost-centers/", "/api/account-codes/", "/api/tariff-plans/",
                                  "/api/tariff-assignments/", "/api/accounts/"])
def test_managers_and_users_get_no_configuration(token_client, world, path):
    assert token_client("manager", cost_center=world["hq"]).get(path).status_code == 403
    assert token_client("user", person=world["alice"]).get(path).status_code == 403


def test_only_administrators_reach_the_accounts(token_client, world):
    assert token_client("site-admin", sites=[world["rome"]]).get("/api/accounts/").status_code == 403
    client = token_client("administrator")
    me = client.user
    listed = client.get("/api/accounts/").json()["results"]
    assert me.username in [a["username"] for a in listed] and all("password" not in a for a in listed)
    assert client.delete(f"/api/accounts/{me.pk}/").status_code == 409


def test_an_account_code_shown_as_its_description_keeps_its_code_from_a_site_administrator_of_elsewhere(
        token_client, world):
    from calltally.directory.models import AccountCode

    AccountCode.objects.create(code="9911", description="Legal", replace_with_description=True)
    admin = token_client("administrator").get("/api/account-codes/").json()["results"]
    other = token_client("site-admin", sites=[world["rome"]]).get("/api/account-codes/").json()["results"]
    assert [c["code"] for c in admin] == ["9911"] and [c["code"] for c in other] == [None]


def test_a_site_with_calls_is_not_deleted_and_the_answer_says_why(token_client, world):
    response = token_client("administrator").delete("/api/sites/ROM/")
    assert response.status_code == 409 and "calls" in response.json()["detail"]
    assert Site.objects.filter(code="ROM").exists()


def list_queries(client, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/api/people/", "/api/extensions/", "/api/accounts/", "/api/account-codes/"])
def test_a_configuration_list_makes_as_many_queries_for_many_rows_as_for_few(token_client, world, role_client,
                                                                              path):
    from calltally.directory.models import AccountCode, ExtensionAlias

    client = token_client("administrator")
    client.get("/api/")  # the token's first use writes its last_used once: not part of the count

    def add(n: int):
        for i in range(n):
            person = Person.objects.create(username=f"p{path[5:9]}{Person.objects.count()}-{i}", site=world["rome"],
                                           cost_center=world["emea"], manager=world["alice"])
            extension = Extension.objects.create(site=world["rome"], number=f"{Extension.objects.count() + 500}",
                                                 person=person, cost_center=world["emea"])
            ExtensionAlias.objects.create(extension=extension, site=world["rome"], number=f"9{extension.number}")
            AccountCode.objects.create(code=f"C{extension.number}", site=world["rome"], cost_center=world["ops"])
            role_client("site-admin", sites=[world["rome"], world["nyc"]])

    add(2)
    few = list_queries(client, path)
    add(10)
    assert list_queries(client, path) == few
