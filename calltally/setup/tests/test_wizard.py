"""The setup wizard, driven as an administrator would: two PBXs in a row, nothing written before the end."""

from __future__ import annotations

import html
import re
import textwrap

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.collectors.ftp import check_password
from calltally.collectors.http_push import token_matches
from calltally.collectors.models import Connection
from calltally.collectors.tests.helpers import free_port
from calltally.conftest import DRIVER_FIXTURES
from calltally.rating.models import PlanAssignment, TariffPlan
from calltally.sites.models import Site

pytestmark = pytest.mark.django_db

PLAN = textwrap.dedent("""\
    name = "Wizard carrier business"
    carrier = "Wizard carrier"
    currency = "EUR"
    valid_from = "2026-01-01"
    default_band = "offpeak"

    [[bands]]
    name = "peak"
    days = ["mon", "tue", "wed", "thu", "fri"]
    start = "08:00"
    end = "19:00"

    [[rates]]
    prefix = "39"
    destination = "Italy"
    rate_per_minute = { peak = "0.0300", offpeak = "0.0150" }
    """)


def step(name: str) -> str:
    return reverse("setup:step", args=[name])


def text(response) -> str:
    return html.unescape(response.content.decode())


def moves_to(response, name: str) -> None:
    assert response.status_code == 302, text(response)[-3000:]
    assert response["Location"] == step(name)


def site_steps(client, code: str, name: str, driver: str = "asterisk_csv") -> None:
    moves_to(client.post(step("site"), {"code": code, "name": name}), "pbx")
    moves_to(client.post(step("pbx"), {"driver": driver, "driver_options": "{}"}), "connection")


def later_steps(client) -> None:
    moves_to(client.post(step("numbering"), {"internal_digits_min": "3", "internal_digits_max": "4",
                                             "merge_legs": "on", "transfer_billing": "originator"}), "locale")
    moves_to(client.post(step("locale"), {"country": "it", "area_code": "06", "timezone": "Europe/Rome",
                                          "currency": "eur", "access_codes": "0"}), "tariff")


def test_the_wizard_sets_up_two_pbxs_in_a_row_and_writes_nothing_before_the_end(admin_client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.ALLOWED_HOSTS = ["localhost", "testserver", "calltally.example.com"]
    port = free_port()
    assert "Give it a name" in text(admin_client.get(reverse("setup:wizard")))

    # The first PBX: an FTP connection, tested, and a tariff uploaded as a TOML file.
    site_steps(admin_client, "ROM", "Rome office")
    form = text(admin_client.get(step("connection") + "?kind=ftp"))
    assert 'name="option_username"' in form and 'value="0.0.0.0"' in form  # reachable from the network
    ftp = {"kind": "ftp", "option_port": str(port), "option_bind": "127.0.0.1", "option_username": "pbx-rome"}
    tested = text(admin_client.post(step("connection"), {**ftp, "test": "1"}))
    assert "Test passed" in tested and f"127.0.0.1:{port} can be bound" in tested
    moves_to(admin_client.post(step("connection"), {**ftp, "next": "1"}), "numbering")
    later_steps(admin_client)
    upload = SimpleUploadedFile("business.toml", PLAN.encode(), content_type="application/toml")
    moves_to(admin_client.post(step("tariff"), {"mode": "file", "file": upload}), "review")
    review = text(admin_client.get(step("review")))
    assert "Wizard carrier business" in review and "password=(set)" in review
    assert not Site.objects.exists() and not Connection.objects.exists() and not TariffPlan.objects.exists()

    # "New PBX": the first is stored, and its settings are shown above the next one's first step.
    moves_to(admin_client.post(step("review"), {"another": "1"}), "site")
    rome = Site.objects.get(code="ROM")
    assert (rome.country, rome.currency, rome.timezone, rome.area_code) == ("IT", "EUR", "Europe/Rome", "06")
    assert (rome.internal_digits_min, rome.internal_digits_max, rome.import_internal) == (3, 4, False)
    assert PlanAssignment.objects.get(site=rome, pattern="").plan.name == "Wizard carrier business"
    connection = Connection.objects.get(site=rome)
    assert connection.kind == "ftp" and connection.enabled and connection.parameters["port"] == port
    first = text(admin_client.get(step("site")))
    password = re.search(r"Password</dt><dd class=\"col-sm-8\"><code class=\"user-select-all\">([^<]+)</code>",
                         first).group(1)
    assert "shown this once" in first
    assert check_password(password, connection.parameters["password_hash"])
    assert "calltally.example.com" in first and str(port) in first and "pbx-rome" in first
    assert password not in text(admin_client.get(step("site")))  # shown once

    # The second PBX: its port may not be the first one's; http-push with the plan now loaded.
    site_steps(admin_client, "MIL", "Milan office", driver="avaya_ipo")
    clash = admin_client.post(step("connection"), {"kind": "tcp-listen", "option_port": str(port),
                                                   "option_bind": "127.0.0.1"})
    assert clash.status_code == 400 and f"port {port} on 127.0.0.1 is already taken by connection" in text(clash)
    moves_to(admin_client.post(step("connection"), {"kind": "http-push", "next": "1"}), "numbering")
    later_steps(admin_client)
    plan = TariffPlan.objects.get(name="Wizard carrier business")
    moves_to(admin_client.post(step("tariff"), {"mode": "plan", "plan": str(plan.pk)}), "review")
    finished = admin_client.post(step("review"), {"finish": "1"})
    assert finished.status_code == 302 and finished["Location"] == reverse("setup:finished")
    page = text(admin_client.get(reverse("setup:finished")))
    push = Connection.objects.get(site__code="MIL")
    token = re.search(r"Authorization: Bearer ([A-Za-z0-9_-]{20,})", page).group(1)
    assert token_matches(token, push.parameters["token_sha256"])
    assert f"http://testserver/push/{push.pk}/" in page and "Site MIL (Milan office) is set up" in page
    again = text(admin_client.get(reverse("setup:finished")))
    assert token not in again and "Site MIL" in again
    assert PlanAssignment.objects.get(site__code="MIL").plan == plan
    assert Site.objects.get(code="MIL").driver == "avaya_ipo"
    actions = list(AuditEvent.objects.filter(object_type__in=["sites.site", "collectors.connection"])
                   .values_list("action", "object_type"))
    assert actions.count(("create", "sites.site")) == 2 and actions.count(("create", "collectors.connection")) == 2
    assert not any(token in str((e.before, e.after, e.details)) for e in AuditEvent.objects.all())


def test_a_step_refuses_what_the_cli_refuses_in_the_same_words(admin_client, cli):
    site_steps(admin_client, "ROM", "Rome office")
    moves_to(admin_client.post(step("connection"), {"kind": "tcp-listen", "option_port": str(free_port())}),
             "numbering")
    refused = admin_client.post(step("numbering"), {"internal_digits_min": "6", "internal_digits_max": "4",
                                                    "transfer_billing": "originator"})
    assert refused.status_code == 400
    assert "The extension digit range must satisfy 1 ≤ min ≤ max ≤ 15." in text(refused)
    later_steps(admin_client)
    refused = admin_client.post(step("locale"), {"country": "Italy", "timezone": "Mars/Olympus", "currency": "eur"})
    with pytest.raises(CommandError) as cli_refused:
        cli("site", "add", "CLI", "--name", "x", "--driver", "asterisk_csv", "--country", "Italy",
            "--timezone", "Mars/Olympus")
    for message in ("Use a two-letter ISO 3166 code such as IT or US.", "'Mars/Olympus' is not a time zone name"):
        assert message in text(refused) and message in str(cli_refused.value)
    assert not Site.objects.exists()


def test_a_connection_option_the_kind_does_not_take_is_refused_as_by_the_cli(admin_client):
    site_steps(admin_client, "ROM", "Rome office")
    refused = admin_client.post(step("connection"), {"kind": "tcp-listen", "option_port": "99999"})
    assert refused.status_code == 400 and "option port=99999 must be between 1 and 65535." in text(refused)
    refused = admin_client.post(step("connection"), {"kind": "tcp-listen", "option_port": "1150",
                                                     "option_colour": "blue"})
    assert "unknown option(s) colour; this kind takes" in text(refused)


def test_the_driver_is_detected_from_a_sample_and_chosen(admin_client):
    moves_to(admin_client.post(step("site"), {"code": "ROM", "name": "Rome office"}), "pbx")
    sample = SimpleUploadedFile("smdr.txt", (DRIVER_FIXTURES / "avaya_ipo_smdr.txt").read_bytes())
    shown = text(admin_client.post(step("pbx"), {"detect": "1", "sample": sample}))
    assert "The sample reads best with avaya_ipo" in shown and "chosen" in shown
    assert re.search(r'<option value="avaya_ipo" selected>', shown)
    garbage = SimpleUploadedFile("noise.txt", b"hello\nworld\n")
    assert "No driver read a call in this sample" in text(admin_client.post(step("pbx"), {"detect": "1",
                                                                                         "sample": garbage}))


def test_a_step_not_reached_yet_sends_back_to_the_step_to_do(admin_client):
    moves_to(admin_client.get(step("tariff")), "site")
    moves_to(admin_client.post(step("review"), {"finish": "1"}), "site")
    assert not Site.objects.exists()


def test_a_tariff_file_with_problems_is_refused_with_its_lines(admin_client, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    site_steps(admin_client, "ROM", "Rome office")
    moves_to(admin_client.post(step("connection"), {"kind": "tcp-listen", "option_port": str(free_port())}),
             "numbering")
    later_steps(admin_client)
    bad = SimpleUploadedFile("bad.toml", PLAN.replace('currency = "EUR"', 'currency = "EURO"').encode())
    refused = admin_client.post(step("tariff"), {"mode": "file", "file": bad})
    assert refused.status_code == 400 and "Problems in the file" in text(refused)
    assert not TariffPlan.objects.exists()


@pytest.mark.parametrize("role", ["site-admin", "manager", "user"])
def test_only_administrators_open_the_wizard(role_client, make_site, role):
    from calltally.directory.models import CostCenter, Person

    site = make_site("ROM")
    person = Person.objects.create(username="someone")
    center = CostCenter.objects.create(code="C", name="C", manager=person)
    client = role_client(role, sites=[site], person=person, cost_center=center if role == "manager" else None)
    assert client.get(reverse("setup:wizard")).status_code == 403
    assert client.post(step("site"), {"code": "X", "name": "x"}).status_code == 403
