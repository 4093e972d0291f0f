"""Extensions not defined: the CLI's list on a page, by site and role; create and reprocess."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import CostCenter, Extension, Person
from calltally.jobs.models import Job, Kind, State

pytestmark = pytest.mark.django_db
URL = "/extensions/undefined/"


def test_the_page_lists_what_the_cli_lists_with_the_last_call_in_the_sites_zone(priced, admin_client, cli):
    assert reverse("directory:undefined_list") == URL
    [listed] = json.loads(cli("extensions", "undefined", "--json"))
    page = admin_client.get(URL).content.decode()
    assert (listed["site"], listed["number"], listed["calls"]) == ("HQ", "203", 1)
    # 14:00 in Rome on 2 March 2026 (the fixture's call of 203), shown with its offset.
    assert "2026-03-02 14:00:00 +01:00" in page
    assert 'name="pk" value="HQ:203"' in page and "Create and reprocess" in page


def test_create_and_reprocess_turns_the_discarded_records_into_calls(priced, admin_client, cli):
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    carlo = Person.objects.create(username="carlo", last_name="Carlo", site=priced)
    response = admin_client.post(URL, {"pk": ["HQ:203"], "person": "carlo", "cost_center": "SALES"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_detail", args=[job.pk])
    extension = Extension.objects.get(site=priced, number="203")
    assert (extension.person, extension.cost_center) == (carlo, sales)
    assert (job.kind, job.site, job.reason) == (Kind.REPROCESS, priced, "extension_not_configured")
    assert AuditEvent.objects.filter(action="create", object_type="directory.extension").count() == 1
    assert not Call.objects.filter(extension_number="203").exists()  # until the job runs
    cli("job", "run")
    job.refresh_from_db()
    assert job.state == State.SUCCEEDED and job.result["calls"] == 1
    call = Call.objects.get(extension_number="203")
    assert (call.person, call.cost_center) == (carlo, sales)
    assert not DiscardedCall.objects.filter(reason="extension_not_configured").exists()
    assert "No extension is missing" in admin_client.get(URL).content.decode()


def test_extensions_are_created_unassigned_when_no_owner_is_given(priced, admin_client):
    admin_client.post(URL, {"pk": ["HQ:203"]})
    extension = Extension.objects.get(site=priced, number="203")
    assert extension.person is None and extension.cost_center is None


def test_an_unknown_person_is_refused_and_nothing_is_created(priced, admin_client):
    response = admin_client.post(URL, {"pk": ["HQ:203"], "person": "nobody"})
    assert response.status_code == 400 and "there is no person with username" in response.content.decode()
    assert not Extension.objects.filter(number="203").exists() and not Job.objects.exists()


def test_nothing_ticked_is_said_so(priced, admin_client):
    response = admin_client.post(URL, {"person": ""})
    assert response.status_code == 400 and "Tick the extensions to create" in response.content.decode()


def test_a_number_that_is_not_undefined_is_not_created(priced, admin_client):
    admin_client.post(URL, {"pk": ["HQ:999"]}, follow=True)
    assert not Extension.objects.filter(number="999").exists() and not Job.objects.exists()


def test_an_extension_defined_since_offers_a_reprocess_instead(priced, admin_client):
    Extension.objects.create(site=priced, number="203")
    page = admin_client.get(URL).content.decode()
    assert 'name="pk" value="HQ:203"' not in page and "defined since" in page
    assert f'action="{reverse("jobs:reprocess")}"' in page


def test_the_export_has_the_rows_shown(priced, admin_client):
    response = admin_client.get(URL + "?export=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Site,Extension,Discarded calls") and lines[1].startswith("HQ,203,1,")


def test_a_site_administrator_sees_and_creates_only_on_their_sites(priced, make_site, role_client):
    rome = make_site("ROME")
    segment = DiscardedCall.objects.filter(site=priced).first().segment
    DiscardedCall.objects.create(site=rome, segment=segment, raw_offset=10**9, reason="extension_not_configured",
                                 raw_text="x", extension_number="555")
    client = role_client("site-admin", sites=[rome])
    page = client.get(URL).content.decode()
    assert "ROME:555" in page and "HQ:203" not in page
    assert client.post(URL, {"pk": ["HQ:203"]}).status_code == 403
    assert not Extension.objects.filter(number="203").exists()


@pytest.mark.parametrize("role", ["manager", "user"])
def test_managers_and_users_cannot_open_it(priced, role, role_client):
    person = Person.objects.create(username="ann", last_name="Ann")
    center = CostCenter.objects.create(code="SALES", name="Sales")
    client = role_client(role, person=person, cost_center=center)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"pk": ["HQ:203"]}).status_code == 403
    assert not Extension.objects.filter(number="203").exists()


def test_the_list_makes_as_many_queries_for_many_numbers_as_for_one(priced, admin_client,
                                                                   django_assert_max_num_queries):
    with django_assert_max_num_queries(50) as one:
        admin_client.get(URL)
    segment = DiscardedCall.objects.filter(site=priced).first().segment
    DiscardedCall.objects.bulk_create([
        DiscardedCall(site=priced, segment=segment, raw_offset=10**9 + n, reason="extension_not_configured",
                      raw_text="x", extension_number=str(300 + n), start=DiscardedCall.objects.first().start)
        for n in range(40)])
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = admin_client.get(URL).content.decode()
    assert page.count('name="pk" value="HQ:3') == 40


def test_the_page_refuses_what_the_cli_refuses_through_the_same_directory_form(priced, admin_client, cli):
    from calltally.directory.models import ExtensionAlias

    owner = Extension.objects.get(site=priced, number="201")
    ExtensionAlias.objects.create(extension=owner, site=priced, number="203")  # 203 dialled reaches 201 now
    response = admin_client.post(URL, {"pk": ["HQ:203"]}, follow=True)
    page_message = next(str(m) for m in response.context["messages"] if "203@HQ" in str(m))
    [cli_refusal] = json.loads(cli("extensions", "undefined", "--create", "--json"))["skipped"]
    assert "is an alias of extension 201" in page_message
    assert cli_refusal["reason"] in page_message
    assert not Extension.objects.filter(number="203").exists() and not Job.objects.exists()
