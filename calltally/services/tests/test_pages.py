"""The operations pages of the services app: system status, the service manager, diagnostics."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import socket
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.calls.choices import DiscardReason
from calltally.calls.models import DiscardedCall
from calltally.collectors.models import Connection, ConnectionState
from calltally.directory.models import Extension
from calltally.services import control
from calltally.services.models import ServiceHeartbeat
from calltally.spool.models import SpoolSegment

FIXTURE = Path(__file__).resolve().parents[2] / "miner" / "tests" / "fixtures" / "asterisk-hq.csv"
UTC = dt.UTC


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def alive(name: str, **fields) -> ServiceHeartbeat:
    """A service row that reads as running: this test process is its pid, on this host."""
    values = {"pid": os.getpid(), "host": socket.gethostname(), "started": now(), "beat": now(), "stopped": None}
    values.update(fields)
    row, _ = ServiceHeartbeat.objects.update_or_create(name=name, defaults=values)
    return row


@pytest.fixture
def hq(make_site, spool, cli):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number="201"), Extension(site=site, number="202")])
    cli("import", "--site", "HQ", str(FIXTURE))
    return site


# --- system status ------------------------------------------------------------------
def test_the_status_page_shows_each_sites_figures_as_calltally_status_counts_them(hq, admin_client, cli):
    figures = {item["site"]: item for item in json.loads(cli("status", "--json"))["sites"]}["HQ"]
    page = admin_client.get("/status/")
    assert page.status_code == 200
    sites = {item["site"]: item for item in page.context["sites"]}
    shown = sites["HQ"]
    for key in ("records_today", "calls_today", "discarded_today", "unknown_extensions", "spool_bytes"):
        assert shown[key] == figures[key], key
    text = page.content.decode()
    assert f"{figures['records_today']}</span> records received" in text
    assert figures["unknown_extensions"] > 0
    # The last record's time in the site's zone with its offset, not UTC.
    rome = figures["last_record_received"]
    local = dt.datetime.fromisoformat(rome).astimezone(hq.zone)
    assert f"{local:%Y-%m-%d %H:%M:%S} +0" in text
    assert "since 00:00 Europe/Rome" in text


def test_the_status_page_refreshes_itself_in_a_wrapper_with_an_id(db, admin_client):
    text = admin_client.get("/status/").content.decode()
    assert '<div id="live-status" data-refresh="10"' in text


def test_the_status_page_shows_connections_with_their_state_and_last_error(hq, admin_client):
    conn = Connection.objects.create(site=hq, kind="tcp-listen", parameters={"port": 9000})
    ConnectionState.objects.create(connection=conn, state="error", detail="0.0.0.0:9000",
                                   last_error="Traceback…\nOSError: address already in use", last_error_at=now())
    text = admin_client.get("/status/").content.decode()
    assert '<span class="badge badge-error">error</span>' in text
    # The error's last line on the page, the whole of it on hovering.
    assert '">OSError: address already in use</code>' in text


def test_services_show_their_state_badge_heartbeat_and_past_errors_labelled_past(db, admin_client):
    alive("miner", last_error="exited with status -9 (supervisor)", last_error_at=now() - dt.timedelta(hours=1),
          started=now() - dt.timedelta(minutes=5))
    alive("recorder", beat=now() - dt.timedelta(seconds=control.STALE_SECONDS + 30))
    text = admin_client.get("/status/").content.decode()
    assert '<tr id="service-miner">' in text
    miner = text.split('<tr id="service-miner">')[1].split("</tr>")[0]
    recorder = text.split('<tr id="service-recorder">')[1].split("</tr>")[0]
    scheduler = text.split('<tr id="service-scheduler">')[1].split("</tr>")[0]
    assert "badge-running" in miner and "past" in miner and "before the last start" in miner
    assert "exited with status -9" in miner and f"/ {os.getpid()}" in miner
    assert "badge-degraded" in recorder
    assert "badge-stopped" in scheduler and "never" in scheduler


def test_a_silent_site_and_a_site_whose_records_are_not_read_are_flagged(make_site, spool, admin_client):
    old = make_site("OLD")
    old.created = now() - dt.timedelta(days=10)
    old.reading_problem = "the records do not look like asterisk_csv records"
    old.reading_problem_at = now()
    old.save()
    text = admin_client.get("/status/").content.decode()
    assert "OLD is silent:" in text
    assert "records are not being read as calls" in text and "do not look like asterisk_csv" in text


def test_a_site_administrator_sees_only_their_sites_and_no_service_errors(make_site, role_client, spool):
    rome, milan = make_site("ROME"), make_site("MILAN")
    alive("miner", last_error="secret detail of another site", last_error_at=now())
    client = role_client("site-admin", sites=[rome])
    page = client.get("/status/")
    assert page.status_code == 200
    assert [item["site"] for item in page.context["sites"]] == ["ROME"]
    text = page.content.decode()
    assert 'id="site-ROME"' in text and 'id="site-MILAN"' not in text and milan.name not in text
    assert "badge-running" in text  # the states, yes
    assert "secret detail of another site" not in text  # the errors, no


@pytest.mark.parametrize("role", ["manager", "user"])
def test_managers_and_users_may_not_open_the_operations_pages(role, db, role_client):
    client = role_client(role)
    for url in ("/status/", "/services/", "/diagnostics/"):
        assert client.get(url).status_code == 403, url


def test_the_status_page_issues_as_many_queries_for_five_sites_as_for_one(make_site, spool, admin_client):
    def site_with_a_connection(code):
        site = make_site(code)
        conn = Connection.objects.create(site=site, kind="tcp-listen", parameters={"port": 9000 + site.pk})
        ConnectionState.objects.create(connection=conn, state="listening", last_record_at=now())
        spooled = spool.append(code, [b"a record"], "tcp:10.0.0.5")
        segment = SpoolSegment.objects.create(site=site, day=spooled.day, records=1, mined_offset=spooled.end_offset)
        DiscardedCall.objects.create(site=site, segment=segment, reason=DiscardReason.EXTENSION_NOT_CONFIGURED,
                                     extension_number="299", received=now(), raw_offset=0, raw_text="a record")
        return site

    site_with_a_connection("S0")
    admin_client.get("/status/")  # the session, the account and the first-request caches
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get("/status/").status_code == 200
    for n in range(1, 5):
        site_with_a_connection(f"S{n}")
    with CaptureQueriesContext(connection) as five:
        page = admin_client.get("/status/")
    assert len(page.context["sites"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)


# --- service manager ------------------------------------------------------------------
def test_only_administrators_open_the_service_manager_and_diagnostics(make_site, role_client):
    client = role_client("site-admin", sites=[make_site("ROME")])
    assert client.get("/status/").status_code == 200
    assert client.get("/services/").status_code == 403
    assert client.post("/services/", {"service": "miner", "action": "stop"}).status_code == 403
    assert client.get("/diagnostics/").status_code == 403
    assert client.post("/diagnostics/").status_code == 403
    assert not ServiceHeartbeat.objects.filter(name="miner", desired="stopped").exists()


def test_without_calltally_up_the_manager_says_how_to_start_it_and_asks_nothing(db, admin_client):
    page = admin_client.get("/services/")
    text = page.content.decode()
    assert "No <code>calltally up</code> is running" in text
    assert "Start every service with <code>calltally up</code>" in text
    buttons = re.findall(r"<button type=\"submit\" name=\"action\"[^>]*>", text)
    assert len(buttons) == 3 * len(control.SERVICES) and all(" disabled" in button for button in buttons)
    answer = admin_client.post("/services/", {"service": "miner", "action": "stop"}, follow=True)
    assert "Nothing was done: no calltally up is running" in answer.content.decode()
    assert "systemctl stop calltally-miner" in answer.content.decode()
    assert not ServiceHeartbeat.objects.filter(name="miner").exists()
    assert not AuditEvent.objects.filter(details__what="service").exists()


def test_a_stop_and_a_restart_from_the_page_leave_the_same_request_as_the_cli(db, admin_client, cli):
    alive(control.SUPERVISOR)
    alive("miner")
    alive("recorder")
    admin_client.post("/services/", {"service": "miner", "action": "stop"})
    cli("service", "stop", "recorder", "--no-wait")
    by_web, by_cli = ServiceHeartbeat.objects.get(name="miner"), ServiceHeartbeat.objects.get(name="recorder")
    assert by_web.desired == by_cli.desired == ServiceHeartbeat.DESIRED_STOPPED

    admin_client.post("/services/", {"service": "miner", "action": "restart"})
    cli("service", "restart", "recorder", "--no-wait")
    by_web, by_cli = ServiceHeartbeat.objects.get(name="miner"), ServiceHeartbeat.objects.get(name="recorder")
    assert by_web.desired == by_cli.desired == ServiceHeartbeat.DESIRED_RUNNING
    assert by_web.restart_requested and by_cli.restart_requested

    events = list(AuditEvent.objects.filter(details__what="service").order_by("pk"))
    assert [(e.action, e.details["service"], e.details["service_action"]) for e in events] == [
        (Action.CONFIGURATION, "miner", "stop"), (Action.CONFIGURATION, "miner", "restart")]
    assert events[0].username == admin_client.get("/services/").wsgi_request.user.username


def test_an_unknown_service_or_action_is_refused_on_the_page_as_on_the_cli(db, admin_client):
    alive(control.SUPERVISOR)
    answer = admin_client.post("/services/", {"service": "nope", "action": "stop"}, follow=True)
    assert "no service &#x27;nope&#x27;" in answer.content.decode()
    answer = admin_client.post("/services/", {"service": "miner", "action": "kill"}, follow=True)
    assert "no action &#x27;kill&#x27;" in answer.content.decode()
    assert not ServiceHeartbeat.objects.filter(name__in=["nope", "miner"]).exists()


def test_stopping_the_web_service_from_the_web_asks_first_and_warns(db, admin_client):
    alive(control.SUPERVISOR)
    alive("web")
    text = admin_client.get("/services/").content.decode()
    web = text.split('<tr id="service-web">')[1].split("</tr>")[0]
    assert 'data-confirm="Stop the web service? This page and every other one stop answering' in web
    assert 'value="restart"' in web and "data-confirm=\"Restart the web service?" in web
    answer = admin_client.post("/services/", {"service": "web", "action": "stop"}, follow=True)
    assert "these pages stop answering" in answer.content.decode()
    assert ServiceHeartbeat.objects.get(name="web").desired == ServiceHeartbeat.DESIRED_STOPPED


# --- diagnostics --------------------------------------------------------------------
def test_the_diagnostics_page_says_what_the_bundle_holds_and_that_secrets_are_removed(db, admin_client):
    text = admin_client.get("/diagnostics/").content.decode()
    for name in ("settings.json", "connections.json", "logs/calltally.log", "raw/&lt;SITE&gt;.txt"):
        assert f"<code>{name}</code>" in text
    assert "Secrets are removed" in text and "[REDACTED]" in text
    assert '<button type="submit" class="btn btn-primary">Download the diagnostics bundle</button>' in text


def test_the_diagnostics_download_is_the_zip_of_calltally_diagnose_without_a_secret(hq, admin_client, settings,
                                                                                   tmp_path):
    settings.LOG_DIR = tmp_path / "logs"
    conn = Connection.objects.create(site=hq, kind="sftp-pull", parameters={
        "host": "pbx.example", "username": "cdr", "password": "planted-sftp-Pa55"})
    ConnectionState.objects.create(connection=conn, state="error", last_error="login refused for planted-sftp-Pa55")
    answer = admin_client.post("/diagnostics/")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/zip"
    assert answer["Content-Disposition"].startswith('attachment; filename="calltally-diagnostics-')
    data = b"".join(answer.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        files = {name: bundle.read(name).decode() for name in bundle.namelist()}
    assert {"settings.json", "version.json", "services.json", "sites.json", "connections.json",
            "raw/HQ.txt"} <= set(files)
    assert json.loads(files["settings.json"])["SECRET_KEY"] == "[REDACTED]"
    for planted in (settings.SECRET_KEY, "planted-sftp-Pa55"):
        assert planted.encode() not in data
        assert all(planted not in text for text in files.values())
    event = AuditEvent.objects.get(action=Action.DOWNLOAD)
    assert event.details["what"] == "diagnostics bundle" and event.details["bytes"] == len(data)
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("calltally-diagnose-*/*.zip"))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_service_is_stopped_and_started_from_the_page_under_a_real_calltally_up(cli_process, tmp_path,
                                                                                 admin_client):
    from .test_supervisor import calltally_up, rows, running, wait_for

    with calltally_up(cli_process, tmp_path) as up:
        # The supervisor starts its services one after another: wait for the web too, or the
        # check below that it kept running can run before it ever started.
        wait_for(lambda: running("supervisor") and running("miner") and running("web"), what="the services")
        first, web = rows()["miner"].pid, rows()["web"].pid
        page = admin_client.get("/services/").content.decode()
        assert "No <code>calltally up</code> is running" not in page

        admin_client.post("/services/", {"service": "miner", "action": "stop"})
        wait_for(lambda: rows()["miner"].supervisor_state == "stopped", what="the supervisor stopping the miner")
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)
        assert 'id="service-miner"' in (page := admin_client.get("/services/").content.decode())
        assert "badge-stopped" in page.split('<tr id="service-miner">')[1].split("</tr>")[0]
        assert (still := running("web")) and still.pid == web  # the others keep running

        admin_client.post("/services/", {"service": "miner", "action": "start"})
        second = wait_for(lambda: running("miner"), what="the started miner").pid
        assert second != first
    assert up.returncode == 0, up.output
