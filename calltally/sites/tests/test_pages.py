"""The site pages: what each role sees and may change, and what a site's page shows."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from calltally.audit.models import AuditEvent
from calltally.collectors.models import Connection, ConnectionState
from calltally.rating.models import Carrier, PlanAssignment, TariffPlan
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def site_data(**changes) -> dict:
    data = {"code": "MIL", "name": "Milan office", "driver": "asterisk_csv", "driver_options": "{}",
            "country": "it", "area_code": "02", "timezone": "Europe/Rome", "currency": "eur",
            "access_codes": "0", "internal_digits_min": "3", "internal_digits_max": "4", "internal_pattern": "",
            "import_internal": "on", "merge_legs": "on", "transfer_billing": "originator", "enabled": "on"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def rome(make_site):
    return make_site("ROM", name="Rome office", driver_options={"usegmtime": True})


@pytest.fixture
def new_york(make_site):
    return make_site("NYC", name="New York office", timezone="America/New_York", country="US", currency="USD",
                     access_codes=["9"], internal_digits_min=2, internal_digits_max=5)


@pytest.fixture
def plan(db):
    return TariffPlan.objects.create(name="Carrier A business", carrier=Carrier.objects.create(name="Carrier A"))


# --- who sees what ---------------------------------------------------------------------------------------


def test_the_site_list_shows_each_site_with_its_plan_and_extension_plan(admin_client, rome, new_york, plan):
    PlanAssignment.objects.create(site=rome, plan=plan)
    page = text(admin_client.get(reverse("sites:site_list")))
    assert "Rome office" in page and "New York office" in page
    assert "America/New_York" in page and "2-5 digits" in page and "3-4 digits" in page
    assert "Carrier A business" in page
    assert "not read as calls" not in page and ">read<" in page


def test_a_site_administrator_sees_only_their_sites_and_another_site_is_a_404(role_client, rome, new_york):
    client = role_client("site-admin", sites=[rome])
    page = text(client.get(reverse("sites:site_list")))
    assert "Rome office" in page and "New York office" not in page
    assert client.get(reverse("sites:site_detail", args=["NYC"])).status_code == 404
    assert client.get(reverse("sites:site_edit", args=["NYC"])).status_code == 404
    assert client.post(reverse("sites:site_edit", args=["NYC"]), site_data(code="NYC")).status_code == 404
    export = client.get(reverse("sites:site_list") + "?export=csv")
    body = b"".join(export.streaming_content).decode() if export.streaming else export.content.decode()
    assert "ROM" in body and "NYC" not in body


def test_a_site_administrator_edits_their_site_but_neither_adds_nor_deletes_one(role_client, rome):
    client = role_client("site-admin", sites=[rome])
    response = client.post(reverse("sites:site_edit", args=["ROM"]),
                           site_data(code="ROM", name="Rome headquarters", timezone="Europe/Rome"))
    assert response.status_code == 302
    rome.refresh_from_db()
    assert rome.name == "Rome headquarters" and rome.code == "ROM"
    assert client.get(reverse("sites:site_add")).status_code == 403
    assert client.post(reverse("sites:site_add"), site_data()).status_code == 403
    assert client.post(reverse("sites:site_delete", args=["ROM"])).status_code == 403
    assert Site.objects.filter(code="ROM").exists() and not Site.objects.filter(code="MIL").exists()


@pytest.mark.parametrize("role", ["manager", "user"])
def test_managers_and_users_have_no_site_pages(role_client, rome, role):
    from calltally.directory.models import CostCenter, Person

    person = Person.objects.create(username=f"{role}-person")
    center = CostCenter.objects.create(code="SALES", name="Sales", manager=person)
    client = role_client(role, person=person, cost_center=center if role == "manager" else None)
    for url in (reverse("sites:site_list"), reverse("sites:site_detail", args=["ROM"]),
                reverse("sites:site_edit", args=["ROM"]), reverse("sites:site_add")):
        assert client.get(url).status_code in (403, 404), url
    assert client.post(reverse("sites:site_edit", args=["ROM"]), site_data(code="ROM", name="x")).status_code \
        in (403, 404)
    rome.refresh_from_db()
    assert rome.name == "Rome office"


# --- adding, changing, deleting --------------------------------------------------------------------------


def test_an_administrator_adds_a_site_with_its_tariff_and_the_change_is_audited(admin_client, plan):
    response = admin_client.post(reverse("sites:site_add"), site_data(tariff=str(plan.pk)))
    assert response.status_code == 302 and response["Location"] == reverse("sites:site_detail", args=["MIL"])
    site = Site.objects.get(code="MIL")
    assert (site.country, site.currency, site.access_codes) == ("IT", "EUR", ["0"])
    assert PlanAssignment.objects.get(site=site, pattern="").plan == plan
    assert AuditEvent.objects.filter(action="create", object_text__contains="MIL").exists()


def test_the_site_page_and_the_cli_refuse_the_same_settings_with_the_same_words(admin_client, cli):
    from django.core.management.base import CommandError

    response = admin_client.post(reverse("sites:site_add"), site_data(
        country="Italy", internal_digits_min="6", internal_digits_max="4", driver="no_such_pbx"))
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    with pytest.raises(CommandError) as refused:
        cli("site", "add", "MIL", "--name", "Milan office", "--driver", "no_such_pbx", "--country", "Italy",
            "--internal-digits", "6-4")
    message = str(refused.value)
    for expected in ("Use a two-letter ISO 3166 code such as IT or US.", "unknown driver 'no_such_pbx'"):
        assert expected in page and expected in message
    assert not Site.objects.exists()


def test_the_cli_accepts_what_the_site_page_accepts(admin_client, cli):
    admin_client.post(reverse("sites:site_add"), site_data())
    cli("site", "add", "MIL2", "--name", "Milan office", "--driver", "asterisk_csv", "--country", "it",
        "--timezone", "Europe/Rome", "--currency", "eur", "--access-code", "0", "--internal-digits", "3-4",
        "--area-code", "02")
    web, command = Site.objects.get(code="MIL"), Site.objects.get(code="MIL2")
    fields = ("name", "driver", "driver_options", "country", "area_code", "timezone", "currency", "access_codes",
              "internal_digits_min", "internal_digits_max", "internal_pattern", "import_internal", "merge_legs",
              "transfer_billing", "enabled")
    assert {f: getattr(web, f) for f in fields} == {f: getattr(command, f) for f in fields}


def test_the_code_of_a_site_cannot_change(admin_client, rome):
    admin_client.post(reverse("sites:site_edit", args=["ROM"]), site_data(code="XYZ", name="Renamed"))
    rome.refresh_from_db()
    assert rome.code == "ROM" and rome.name == "Renamed" and not Site.objects.filter(code="XYZ").exists()


def test_deleting_a_site_is_confirmed_first(admin_client, rome):
    page = text(admin_client.get(reverse("sites:site_delete", args=["ROM"])))
    assert "Delete site ROM?" in page and "cannot be undone" in page
    response = admin_client.post(reverse("sites:site_delete", args=["ROM"]))
    assert response.status_code == 302 and not Site.objects.exists()


# --- the site's page -----------------------------------------------------------------------------------


def test_the_site_detail_shows_its_settings_and_spool_segments(admin_client, rome):
    rome.internal_digits_min = rome.internal_digits_max = 3
    rome.save()
    SpoolSegment.objects.create(site=rome, day=dt.date(2026, 3, 1), mined_offset=123456, records=1500, calls=1400,
                                discarded=60, skipped_internal=25, skipped_other=15)
    page = text(admin_client.get(reverse("sites:site_detail", args=["ROM"])))
    assert "Rome office" in page
    assert "3 digits" in page
    assert '<code class="chip">0</code>' in page
    assert '"usegmtime": true' in page  # driver options as pretty JSON
    assert 'id="segment-2026-03-01"' in page
    for number in ("123456", "1500", "1400", "60", "25", "15"):
        assert f">{number}<" in page.replace(" ", "").replace("\n", ""), number


def test_the_site_detail_says_when_records_are_not_being_read_as_calls(admin_client, rome):
    rome.reading_problem = "site ROM: none of 826 records became a call with the cisco_cme driver."
    rome.reading_problem_at = timezone.now()
    rome.save()
    page = text(admin_client.get(reverse("sites:site_detail", args=["ROM"])))
    assert "Records are not being read as calls" in page and "none of 826 records" in page
    listed = text(admin_client.get(reverse("sites:site_list") + "?reading=problem"))
    assert "Rome office" in listed and "not read as calls" in listed
    assert "Rome office" not in text(admin_client.get(reverse("sites:site_list") + "?reading=read"))


def test_the_site_detail_shows_each_connection_with_its_live_state_and_no_secret(admin_client, rome, plan):
    PlanAssignment.objects.create(site=rome, plan=plan)
    ftp = Connection.objects.create(site=rome, kind="ftp", parameters={
        "port": 2121, "bind": "0.0.0.0", "username": "pbx", "password": "never-shown-pw"})
    ConnectionState.objects.create(connection=ftp, state="listening", detail="0.0.0.0:2121", records_total=4321,
                                   last_record_at=dt.datetime(2026, 3, 2, 8, 15, tzinfo=dt.UTC))
    Connection.objects.create(site=rome, kind="tcp-listen", parameters={"port": 1150}, enabled=False)
    page = text(admin_client.get(reverse("sites:site_detail", args=["ROM"])))
    assert "listening" in page and "4321" in page and "2026-03-02 09:15:00 +01:00" in page
    assert "never started" in page and "disabled" in page
    assert "Carrier A business" in page and "Default" in page
    assert "never-shown-pw" not in page and "scrypt$" not in page and "password=(set)" in page


def test_an_unknown_site_is_a_404(admin_client, db):
    assert admin_client.get(reverse("sites:site_detail", args=["NOPE"])).status_code == 404


def test_the_site_list_is_empty_with_a_next_step(admin_client, db):
    page = text(admin_client.get(reverse("sites:site_list")))
    assert "No sites yet" in page and "setup wizard" in page


def test_the_site_list_filters_by_driver_and_by_code_or_name(admin_client, rome, new_york):
    new_york.driver = "generic_csv"
    new_york.driver_options = {"columns": {"start": 0, "calling": 1, "called": 2, "talk_seconds": 3}}
    new_york.save()
    page = text(admin_client.get(reverse("sites:site_list") + "?driver=generic_csv"))
    assert "New York office" in page and "Rome office" not in page
    page = text(admin_client.get(reverse("sites:site_list") + "?q=rome"))
    assert "Rome office" in page and "New York office" not in page


@pytest.mark.parametrize("url_name", ["sites:site_list"])
def test_the_site_list_needs_as_many_queries_for_twenty_sites_as_for_two(admin_client, make_site, plan,
                                                                         django_assert_max_num_queries, url_name):
    def add(codes):
        for code in codes:
            site = make_site(code)
            PlanAssignment.objects.create(site=site, plan=plan)
            Connection.objects.create(site=site, kind="tcp-listen", parameters={"port": 0})

    add(["S00", "S01"])
    admin_client.get(reverse(url_name))  # the session, the menu: warmed once
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        text(admin_client.get(reverse(url_name)))
    add([f"S{n:02d}" for n in range(2, 20)])
    with django_assert_max_num_queries(len(two.captured_queries)):
        page = text(admin_client.get(reverse(url_name)))
    assert "S19" in page
