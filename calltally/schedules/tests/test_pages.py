"""The scheduled reports pages, driven as an administrator would: add, list, detail with history,
edit, run now (audited), delete — and closed to every other role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.schedules import services
from calltally.schedules.models import Schedule, ScheduleRun

from .conftest import APRIL_FIRST

pytestmark = pytest.mark.django_db


def form_data(**fields) -> dict:
    data = {"name": "weekly-costs", "report": "summary-by-cost-center", "period": "last-week", "format": "pdf",
            "to": "boss@example.org", "every": "weekly", "weekday": "monday", "at": "07:30",
            "time_zone": "Europe/Rome", "day": "1", "enabled": "on", "cost_center": "SALES"}
    data.update(fields)
    return data


def test_an_administrator_adds_a_schedule_and_sees_it_listed_with_its_next_run_in_its_zone(office, admin_client):
    response = admin_client.post(reverse("schedules:schedule_add"), form_data())
    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("schedules:schedule_detail",
                                                                            args=[schedule.pk])
    assert schedule.options["cost_center"] == "SALES" and schedule.options["period"] == "last-week"
    assert (schedule.every, schedule.weekday, schedule.at) == ("weekly", 0, dt.time(7, 30))
    local = schedule.next_due.astimezone(schedule.recurrence().tz)
    assert (local.weekday(), local.hour, local.minute) == (0, 7, 30)
    page = admin_client.get(reverse("schedules:schedule_list")).content.decode()
    assert "weekly-costs" in page and "summary-by-cost-center" in page and "boss@example.org" in page
    assert local.strftime("%Y-%m-%d %H:%M:%S") in page and "last-week" in page
    assert AuditEvent.objects.filter(action="create").exists()


def test_the_form_says_what_is_wrong_in_words(office, admin_client):
    response = admin_client.post(reverse("schedules:schedule_add"), form_data(
        to="not-an-address", every="every full moon", cost_center="NOPE"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "not-an-address is not an e-mail address" in page
    assert "not daily, weekly, monthly or a cron expression" in page
    assert "No cost center with code NOPE" in page
    both = admin_client.post(reverse("schedules:schedule_add"), form_data(burst="managers"))
    assert "Choose one of recipients, a burst or a folder" in both.content.decode()
    assert not Schedule.objects.exists()


def test_the_detail_page_shows_the_run_history_with_each_delivery(office, admin_client, mail_server):
    admin_client.post(reverse("schedules:schedule_add"), form_data(
        name="monthly", report="call-list", period="last-month", every="monthly", burst="managers", to="",
        cost_center=""))
    schedule = Schedule.objects.get()
    Schedule.objects.update(next_due=APRIL_FIRST)
    services.run_due(now=APRIL_FIRST)
    page = admin_client.get(reverse("schedules:schedule_detail", args=[schedule.pk])).content.decode()
    assert 'data-run-state="succeeded"' in page and "2026-03-01 to 2026-03-31" in page
    assert "alice@example.org" in page and "SALES and below" in page and "mark@example.org" in page


def test_run_now_queues_a_run_and_is_audited(office, admin_client, mail_server):
    admin_client.post(reverse("schedules:schedule_add"), form_data())
    schedule = Schedule.objects.get()
    response = admin_client.post(reverse("schedules:schedule_run", args=[schedule.pk]))
    assert response.status_code == 302
    run = ScheduleRun.objects.get()
    assert run.manual and run.state == "queued" and run.requested_by.username == "admin"
    assert AuditEvent.objects.filter(action="export", details__what="scheduled report run now").exists()
    services.run_due()
    run.refresh_from_db()
    assert run.state == "succeeded" and [m["To"] for m in mail_server.messages] == ["boss@example.org"]
    assert admin_client.get(reverse("schedules:schedule_run", args=[schedule.pk])).status_code == 405


def test_edit_keeps_the_values_and_delete_removes_the_schedule(office, admin_client):
    admin_client.post(reverse("schedules:schedule_add"), form_data(person_recipients="alice", to=""))
    schedule = Schedule.objects.get()
    page = admin_client.get(reverse("schedules:schedule_edit", args=[schedule.pk])).content.decode()
    assert 'value="alice"' in page and 'value="07:30"' in page
    response = admin_client.post(reverse("schedules:schedule_edit", args=[schedule.pk]),
                                 form_data(person_recipients="alice", to="", every="0 6 * * 1-5"))
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.every, schedule.cron) == ("cron", "0 6 * * 1-5")
    assert list(schedule.people.values_list("username", flat=True)) == ["alice"]
    admin_client.post(reverse("schedules:schedule_delete", args=[schedule.pk]))
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("role", ["site-admin", "manager", "user"])
def test_only_administrators_open_the_pages(office, role_client, make_site, role):
    extra = {"site-admin": {"sites": [office["rome"]]}, "manager": {"cost_center": office["sales"]},
             "user": {"person": office["alice"]}}[role]
    client = role_client(role, **extra)
    assert client.get(reverse("schedules:schedule_list")).status_code == 403
    assert client.get(reverse("schedules:schedule_add")).status_code == 403
