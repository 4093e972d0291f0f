"""Scheduled reports end to end against a real SMTP server (aiosmtpd): bursts per manager with the
right subtree in XLSX and PDF, an HTML table in the body, files in a folder, retries that never
send a mail twice, and the catch-up of a Scheduler that was down."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pypdf
import pytest

from calltally.accounts.models import Role
from calltally.accounts.scope import Scope
from calltally.calls.models import Call
from calltally.schedules import services
from calltally.schedules.forms import ScheduleForm
from calltally.schedules.models import MAX_ATTEMPTS, Delivery, Schedule, ScheduleRun
from calltally.system.mail import MailError

from .conftest import APRIL_FIRST, configure_mail

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def add_schedule(**fields) -> Schedule:
    data = {"name": "monthly", "report": "call-list", "period": "last-month", "format": "xlsx",
            "every": "monthly", "day": "1", "at": "07:00", "time_zone": "Europe/Rome", "enabled": True}
    data.update(fields)
    form = ScheduleForm(data, scope=Scope(Role.ADMINISTRATOR))
    assert form.is_valid(), form.errors
    schedule = form.save()
    # As if added in March: the next occurrence is 1 April, 07:00 in Rome.
    schedule.next_due = services.next_due(schedule, dt.datetime(2026, 3, 15, tzinfo=UTC))
    schedule.save()
    return schedule


def attachment(message) -> tuple[str, bytes]:
    [part] = [p for p in message.walk() if p.get_filename()]
    return part.get_filename(), part.get_payload(decode=True)


def by_recipient(server) -> dict:
    found = {}
    for message in server.messages:
        assert message["To"] not in found, f"{message['To']} got two mails"
        found[message["To"]] = message
    return found


def test_a_monthly_burst_reaches_each_manager_once_with_their_subtree_in_xlsx(office, mail_server):
    schedule = add_schedule(burst="managers")
    assert schedule.next_due == dt.datetime(2026, 4, 1, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert "0 runs started" in services.run_due(now=APRIL_FIRST - dt.timedelta(minutes=1))
    services.run_due(now=APRIL_FIRST)
    services.run_due(now=APRIL_FIRST + dt.timedelta(minutes=1))  # nothing more to send
    mails = by_recipient(mail_server)
    assert set(mails) == {"alice@example.org", "mark@example.org"}
    march = Call.objects.filter(start__lt=dt.datetime(2026, 4, 1, tzinfo=UTC))
    subtrees = {"alice@example.org": ("SALES", "NORTH"), "mark@example.org": ("MARKETING",)}
    for address, centers in subtrees.items():
        name, content = attachment(mails[address])
        assert name == "monthly-2026-03-01_2026-03-31.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(content))["Report"]
        header = [c.value for c in sheet[1]]
        rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] != "Total"]
        expected = march.filter(cost_center__code__in=centers).count()
        assert expected and len(rows) == expected
        people = set(march.filter(cost_center__code__in=centers).values_list("person__username", flat=True))
        assert {row[header.index("Person")] for row in rows} == people
        assert "and below" in mails[address]["Subject"]
    run = ScheduleRun.objects.get()
    assert run.state == "succeeded" and run.sent_count == 2 and (run.first_day, run.last_day) == (
        dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    schedule.refresh_from_db()
    assert schedule.next_due == dt.datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def test_the_pdf_of_a_manager_holds_their_subtree_only(office, mail_server):
    add_schedule(name="pdf-burst", burst="managers", format="pdf", report="summary-by-person")
    services.run_due(now=APRIL_FIRST)
    mails = by_recipient(mail_server)
    texts = {}
    for address, message in mails.items():
        name, content = attachment(message)
        assert name.endswith(".pdf") and content.startswith(b"%PDF")
        reader = pypdf.PdfReader(io.BytesIO(content))
        texts[address] = " ".join(page.extract_text() for page in reader.pages)
    assert "alice" in texts["alice@example.org"] and "nora" in texts["alice@example.org"]
    assert "mark" not in texts["alice@example.org"]
    assert "mark" in texts["mark@example.org"] and "nora" not in texts["mark@example.org"]


def test_an_html_report_is_a_table_in_the_mail_body(office, mail_server):
    add_schedule(name="html", format="html", report="summary-by-person", to="boss@example.org, cfo@example.org",
                 burst="")
    services.run_due(now=APRIL_FIRST)
    mails = by_recipient(mail_server)
    assert set(mails) == {"boss@example.org", "cfo@example.org"}
    message = mails["boss@example.org"]
    assert message.is_multipart()
    [html] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    body = html.get_payload(decode=True).decode()
    assert "<table" in body and "<td>alice</td>" in body and "<td>mark</td>" in body
    assert not [p for p in message.walk() if p.get_filename()]
    assert message["Message-ID"].startswith("<calltally.schedule.")


def test_a_burst_to_people_sends_each_their_own_calls_and_skips_who_did_not_call(office, mail_server, make_site):
    from calltally.directory.models import Person

    Person.objects.create(username="quiet", email="quiet@example.org")
    add_schedule(name="people", burst="people", format="csv")
    services.run_due(now=APRIL_FIRST)
    mails = by_recipient(mail_server)
    assert set(mails) == {"alice@example.org", "nora@example.org", "mark@example.org"}
    _, content = attachment(mails["nora@example.org"])
    lines = content.decode().strip().splitlines()
    march_nora = Call.objects.filter(person__username="nora", start__lt=dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert len(lines) - 2 == march_nora.count()  # header and totals
    run = ScheduleRun.objects.get()
    assert run.skipped_count == 1 and "1 skipped" in run.message


def test_a_folder_schedule_writes_one_file_per_occurrence(office, tmp_path):
    folder = tmp_path / "reports"
    add_schedule(name="to-disk", folder=str(folder), format="csv", burst="")
    services.run_due(now=APRIL_FIRST)
    written = folder / "to-disk-2026-03-01_2026-03-31.csv"
    assert written.exists()
    assert written.read_text().splitlines()[0].startswith("start")
    assert [p.name for p in folder.iterdir()] == [written.name]  # no partial file left
    assert ScheduleRun.objects.get().state == "succeeded"


def test_a_refused_mail_is_tried_again_later_and_the_sent_ones_are_not_sent_again(office, mail_server,
                                                                                   monkeypatch):
    add_schedule(name="retry", to="boss@example.org, cfo@example.org", format="csv")
    refused = {"cfo@example.org": 1}
    real = services.deliver

    def flaky(to, *args, **kwargs):
        if refused.get(to[0]):
            refused[to[0]] -= 1
            raise MailError("127.0.0.1 refused the recipient cfo@example.org")
        return real(to, *args, **kwargs)

    monkeypatch.setattr(services, "deliver", flaky)
    services.run_due(now=APRIL_FIRST)
    assert [m["To"] for m in mail_server.messages] == ["boss@example.org"]
    cfo = Delivery.objects.get(address="cfo@example.org")
    assert cfo.state == "failed" and cfo.attempts == 1 and "refused the recipient" in cfo.last_error
    assert cfo.retry_at == APRIL_FIRST + services.BACKOFF[0]
    run = ScheduleRun.objects.get()
    assert run.state == "running" and "next try" in run.message
    services.run_due(now=APRIL_FIRST + dt.timedelta(minutes=1))  # not yet
    assert len(mail_server.messages) == 1
    services.run_due(now=APRIL_FIRST + dt.timedelta(minutes=3))
    assert sorted(m["To"] for m in mail_server.messages) == ["boss@example.org", "cfo@example.org"]
    run.refresh_from_db()
    assert run.state == "succeeded" and run.sent_count == 2
    # The day of a retry is the occurrence's: the same "last month", the same file name.
    assert {attachment(m)[0] for m in mail_server.messages} == {"retry-2026-03-01_2026-03-31.csv"}


def test_a_server_that_stays_down_fails_the_delivery_for_good_after_the_last_attempt(office, smtp_server):
    from calltally.conftest import free_port

    configure_mail(free_port())  # nothing listens there
    add_schedule(name="down", to="boss@example.org", format="csv")
    now = APRIL_FIRST
    for _ in range(MAX_ATTEMPTS):
        services.run_due(now=now)
        now += dt.timedelta(hours=3)
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == MAX_ATTEMPTS and delivery.retry_at is None
    assert "refused the connection" in delivery.last_error
    run = ScheduleRun.objects.get(schedule__name="down")
    assert run.state == "failed" and run.failed_count == 1 and run.finished is not None


def test_a_scheduler_down_for_days_sends_the_latest_missed_occurrence_once(office, mail_server):
    schedule = add_schedule(name="daily", every="daily", period="yesterday", to="boss@example.org", format="csv")
    Schedule.objects.update(next_due=APRIL_FIRST)  # last run: 31 March
    services.run_due(now=APRIL_FIRST + dt.timedelta(days=3, hours=2))  # 1, 2, 3 and 4 April passed
    [run] = ScheduleRun.objects.all()
    assert run.due == dt.datetime(2026, 4, 4, 5, 0, tzinfo=UTC)
    assert run.missed_count == 3 and "3 earlier occurrences missed" in run.message
    assert len(mail_server.messages) == 1
    schedule.refresh_from_db()
    assert schedule.next_due == dt.datetime(2026, 4, 5, 5, 0, tzinfo=UTC)


def test_two_schedulers_seeing_the_same_occurrence_make_one_run(office, mail_server):
    add_schedule(name="twice", to="boss@example.org", format="csv")
    services.start_due(APRIL_FIRST)
    Schedule.objects.update(next_due=dt.datetime(2026, 4, 1, 5, 0, tzinfo=UTC))  # the second one read it before
    services.start_due(APRIL_FIRST)
    assert ScheduleRun.objects.count() == 1
    services.run_due(now=APRIL_FIRST, worker="host-a:1")
    services.run_due(now=APRIL_FIRST, worker="host-b:2")
    assert len(mail_server.messages) == 1


def test_run_now_is_its_own_run_and_leaves_the_schedule_alone(office, mail_server):
    schedule = add_schedule(name="manual", to="boss@example.org", format="csv")
    due = schedule.next_due
    run = services.run_now(schedule, now=dt.datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    assert run.manual and run.state == "succeeded" and run.sent_count == 1
    assert (run.first_day, run.last_day) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    schedule.refresh_from_db()
    assert schedule.next_due == due


def test_a_sent_delivery_is_never_sent_again_even_if_its_run_is_worked_again(office, mail_server):
    add_schedule(name="once", to="boss@example.org", format="csv")
    services.run_due(now=APRIL_FIRST)
    ScheduleRun.objects.update(state="running")  # as if a worker died before it gave the run back
    services.run_due(now=APRIL_FIRST + dt.timedelta(hours=1))
    run = services.work_run(ScheduleRun.objects.get().pk, "host-c:3", APRIL_FIRST + dt.timedelta(hours=2))
    assert run.state == "succeeded"
    assert len(mail_server.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_the_claims_are_renewed_while_a_report_renders(office, mail_server, monkeypatch):
    add_schedule(name="slow", to="boss@example.org", format="csv")
    monkeypatch.setattr(services, "RENEW_EVERY", dt.timedelta(seconds=0.05))
    leases = []
    real = services.render

    def slow(run, delivery):
        import time

        leases.append(Delivery.objects.get(pk=delivery.pk).lease_until)
        time.sleep(0.5)
        leases.append(Delivery.objects.get(pk=delivery.pk).lease_until)
        return real(run, delivery)

    monkeypatch.setattr(services, "render", slow)
    services.run_due(now=APRIL_FIRST)
    assert leases[1] > leases[0]
    assert Delivery.objects.get().state == "sent"
