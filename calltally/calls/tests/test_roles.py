"""Who sees which calls: by list, address, filter, export and raw-record link, for every role."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from calltally.calls.services import NO_CALLS
from calltally.directory.models import Person

from .conftest import make_call, make_discarded

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def listed(client, query: str = "") -> set[int]:
    response = client.get(reverse("calls:call_list") + query)
    assert response.status_code == 200
    return {row.record.pk for row in response.context["table"].page.object_list}


def exported(client, query: str = "") -> list[dict]:
    separator = "&" if query else "?"
    response = client.get(reverse("calls:call_list") + query + separator + "export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def ids(calls, *names) -> set[int]:
    return {calls[name].pk for name in names}


# --- a user: their own person's calls ---------------------------------------------------------

@pytest.fixture
def alice_client(role_client, tree):
    return role_client("user", person=tree["alice"])


def test_a_user_lists_only_their_own_persons_calls(alice_client, calls):
    assert listed(alice_client) == ids(calls, "alice")


def test_a_user_cannot_open_another_persons_call_by_its_address(alice_client, calls):
    assert alice_client.get(reverse("calls:call_detail", args=[calls["alice"].pk])).status_code == 200
    for name in ("nora", "mark", "nobody"):
        assert alice_client.get(reverse("calls:call_detail", args=[calls[name].pk])).status_code == 404, name


def test_a_user_filtering_by_another_person_or_site_finds_none_of_their_calls(alice_client, calls):
    # A user is offered no person filter: naming another person changes nothing, it never widens.
    assert listed(alice_client, "?person=nora") == ids(calls, "alice")
    assert listed(alice_client, "?site=NYC") == set()
    assert listed(alice_client, "?extension=102") == set()


def test_a_users_export_holds_only_their_own_calls_whatever_the_filter(alice_client, calls):
    rows = exported(alice_client)
    assert [row["Extension"] for row in rows] == ["101"]
    assert [row["Extension"] for row in exported(alice_client, "?person=nora")] == ["101"]
    assert exported(alice_client, "?remote=0622") == []


def test_a_user_is_shown_no_raw_record_link_and_may_not_open_the_raw_record(alice_client, calls):
    own = calls["alice"]
    page = alice_client.get(reverse("calls:call_detail", args=[own.pk])).content.decode()
    assert reverse("calls:raw_record", args=[own.pk]) not in page
    assert "/spool/" not in page  # nor one to the recorder file
    assert alice_client.get(reverse("calls:raw_record", args=[own.pk])).status_code == 403
    assert alice_client.get(reverse("calls:raw_record", args=[calls["nora"].pk])).status_code == 403


def test_a_user_may_not_see_the_discarded_records(alice_client, rome):
    make_discarded(rome)
    assert alice_client.get(reverse("calls:discarded_list")).status_code == 403
    assert alice_client.get(reverse("calls:discarded_list") + "?export=csv").status_code == 403


def test_a_user_is_offered_no_person_or_cost_center_filter(alice_client, calls):
    form = alice_client.get(reverse("calls:call_list")).context["filterset"].form
    assert "person" not in form.fields and "cost_center" not in form.fields


def test_a_user_sees_only_the_legs_of_a_merged_call_that_are_their_own(alice_client, rome, tree):
    start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    mine = make_call(rome, start, kind="leg", leg_key="k1", person=tree["alice"], extension_number="101")
    theirs = make_call(rome, start, kind="leg", leg_key="k1", person=tree["nora"], extension_number="102")
    merged = make_call(rome, start, kind="merged", leg_key="k1", segment=None, raw_offset=None,
                       person=tree["alice"], extension_number="101")
    page = alice_client.get(reverse("calls:call_detail", args=[merged.pk])).content.decode()
    assert reverse("calls:call_detail", args=[mine.pk]) in page
    assert reverse("calls:call_detail", args=[theirs.pk]) not in page
    assert "The PBX wrote 2 records" in page


def test_an_account_whose_scope_holds_no_call_is_told_why(role_client, calls):
    client = role_client("user")  # no person linked
    for url in (reverse("home"), reverse("calls:call_list")):
        response = client.get(url)
        assert response.status_code == 403
        assert NO_CALLS in response.content.decode().replace("&#x27;", "'")


# --- a manager: their cost-center subtree ------------------------------------------------------

def test_a_manager_sees_exactly_their_subtree_a_child_yes_a_sibling_no(role_client, calls, tree):
    client = role_client("manager", cost_center=tree["sales"])
    assert listed(client) == ids(calls, "alice", "nora")
    assert client.get(reverse("calls:call_detail", args=[calls["nora"].pk])).status_code == 200
    assert client.get(reverse("calls:call_detail", args=[calls["mark"].pk])).status_code == 404
    assert client.get(reverse("calls:call_detail", args=[calls["nobody"].pk])).status_code == 404
    assert {row["Extension"] for row in exported(client)} == {"101", "102"}
    assert exported(client, "?person=mark") == []


def test_a_manager_of_a_child_does_not_see_the_parent(role_client, calls, tree):
    client = role_client("manager", cost_center=tree["north"])
    assert listed(client) == ids(calls, "nora")


def test_a_manager_without_a_cost_center_sees_those_their_person_manages(role_client, calls, tree):
    boss = Person.objects.create(username="boss")
    tree["north"].manager = boss
    tree["north"].save()
    assert listed(role_client("manager", person=boss)) == ids(calls, "nora")


def test_a_managers_cost_center_filter_offers_only_their_subtree(role_client, calls, tree):
    client = role_client("manager", cost_center=tree["sales"])
    choices = client.get(reverse("calls:call_list")).context["filterset"].form.fields["cost_center"].queryset
    assert {center.code for center in choices} == {"SALES", "NORTH"}
    assert listed(client, "?cost_center=NORTH") == ids(calls, "nora")
    # A cost center outside the subtree is not a valid choice: nothing is listed.
    assert listed(client, "?cost_center=MARKETING") == set()


def test_a_manager_may_not_read_raw_records(role_client, calls, tree):
    client = role_client("manager", cost_center=tree["sales"])
    page = client.get(reverse("calls:call_detail", args=[calls["alice"].pk])).content.decode()
    assert "/raw/" not in page
    assert client.get(reverse("calls:raw_record", args=[calls["alice"].pk])).status_code == 403


# --- a site administrator: their sites ---------------------------------------------------------

def test_a_site_administrator_sees_only_the_calls_of_their_sites(role_client, calls, rome):
    client = role_client("site-admin", sites=[rome])
    assert listed(client) == ids(calls, "alice", "nora", "nobody")
    assert client.get(reverse("calls:call_detail", args=[calls["mark"].pk])).status_code == 404
    assert {row["Site"] for row in exported(client)} == {"ROM"}
    assert listed(client, "?site=NYC") == set()


def test_a_site_administrator_reads_the_raw_records_of_their_sites_only(role_client, calls, rome):
    client = role_client("site-admin", sites=[rome])
    own = calls["alice"]
    page = client.get(reverse("calls:call_detail", args=[own.pk])).content.decode()
    assert reverse("calls:raw_record", args=[own.pk]) in page
    viewer = f'{reverse("spool:viewer")}?site=ROM&amp;day=2026-03-02&amp;offset={own.raw_offset}'
    assert viewer in page
    assert client.get(viewer.replace("&amp;", "&")).status_code == 200
    assert client.get(reverse("calls:raw_record", args=[own.pk])).status_code == 200
    assert client.get(reverse("calls:raw_record", args=[calls["mark"].pk])).status_code == 404


def test_a_site_administrator_lists_and_exports_the_discarded_records_of_their_sites_only(role_client, rome,
                                                                                         new_york):
    make_discarded(rome, detail="rome record")
    make_discarded(new_york, detail="new york record")
    client = role_client("site-admin", sites=[rome])
    page = client.get(reverse("calls:discarded_list")).content.decode()
    assert "rome record" in page and "new york record" not in page
    assert "new york record" not in client.get(reverse("calls:discarded_list") + "?site=NYC").content.decode()
    export = b"".join(client.get(reverse("calls:discarded_list") + "?export=csv").streaming_content).decode()
    assert "rome record" in export and "new york record" not in export


def test_an_administrator_sees_every_call(role_client, calls):
    assert listed(role_client("administrator")) == ids(calls, *calls)
