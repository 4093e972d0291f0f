"""The audit log page: administrators only, filters, times in the server's zone with the offset,
what each change changed, CSV export, and a query count that does not grow with the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.audit.tables import changes

pytestmark = pytest.mark.django_db
URL = "/audit/"


@pytest.fixture
def admin(role_client):
    return role_client("administrator", username="boss")


@pytest.fixture
def trail(admin, make_site):
    AuditEvent.objects.all().delete()  # the administrator's sign-in
    site = make_site("ROM")
    events = [
        audit.record(None, Action.SIGN_IN_FAILED, username="mallory"),
        audit.record(None, Action.UPDATE, username="boss", obj=site, before={"name": "Rome", "timezone": "UTC"},
                     after={"name": "Roma", "timezone": "UTC"}),
        audit.record(None, Action.EXPORT, username="olga", what="calls", query="site=ROM"),
    ]
    moments = [dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, 8, 15, tzinfo=dt.UTC),
               dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)]
    for event, moment in zip(events, moments, strict=True):
        AuditEvent.objects.filter(pk=event.pk).update(when=moment)
    return events


def shown(response) -> list[str]:
    return [row.record.action for row in response.context["table"].page.object_list]


def test_the_audit_page_is_for_administrators_only(role_client, make_site):
    site = make_site("ROM")
    assert reverse("audit:event_list") == URL
    assert role_client("site-admin", sites=[site]).get(URL).status_code == 403
    assert role_client("user", person=None).get(URL).status_code == 403


def test_events_show_account_address_time_with_offset_and_the_change(admin, trail, settings):
    settings.TIME_ZONE = "Europe/Rome"
    AuditEvent.objects.filter(pk=trail[1].pk).update(address="192.0.2.44")
    response = admin.get(URL)
    assert response.status_code == 200
    assert shown(response) == ["export", "update", "sign_in_failed"]
    body = response.content.decode()
    # 08:15 UTC is 09:15 in Rome, with its offset.
    assert "2026-03-02 09:15:00 +01:00" in body
    assert "192.0.2.44" in body and "mallory" in body
    assert "<del>Rome</del> → <ins>Roma</ins>" in body
    assert '<span class="badge badge-sign_in_failed">Sign-in failed</span>' in body
    assert "timezone" not in body.split("<del>Rome</del>")[0].rsplit("<ul", 1)[-1]  # unchanged fields left out


def test_the_page_filters_by_time_range_action_account_object_type_and_text(admin, trail, settings):
    settings.TIME_ZONE = "Europe/Rome"
    # 23:30 UTC on 1 March is already 2 March in Rome.
    assert shown(admin.get(URL, {"since": "2026-03-02", "until": "2026-03-02"})) == ["update", "sign_in_failed"]
    assert shown(admin.get(URL, {"action": "export"})) == ["export"]
    assert shown(admin.get(URL, {"account": "MALLORY"})) == ["sign_in_failed"]
    assert shown(admin.get(URL, {"object_type": "sites.site"})) == ["update"]
    assert shown(admin.get(URL, {"q": "Roma"})) == ["update"]
    assert shown(admin.get(URL, {"q": "site=ROM"})) == ["export"]
    empty = admin.get(URL, {"action": "delete"})
    assert shown(empty) == [] and b"No audit events match these filters" in empty.content


def test_the_audit_log_exports_its_filtered_events_as_csv(admin, trail):
    response = admin.get(URL, {"action": "update", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Time", "Account", "Address", "Action", "Object", "Changes", "Details"]
    [row] = rows[1:]
    assert row[1] == "boss" and row[3] == "Changed"
    assert row[5] == "name: Rome -> Roma"
    assert AuditEvent.objects.filter(action=Action.EXPORT, username="boss").exists()


def test_the_page_reads_as_many_queries_for_five_events_as_for_fifty(admin, db):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(URL).status_code == 200
        return len(queries)

    admin.get(URL)
    for n in range(5):
        audit.record(None, Action.UPDATE, username=f"u{n}", before={"a": n}, after={"a": n + 1})
    few = count()
    for n in range(45):
        audit.record(None, Action.UPDATE, username=f"v{n}", before={"a": n}, after={"a": n + 1})
    assert count() == few


def test_changes_lists_only_what_differs():
    assert changes({"a": 1, "b": 2}, {"a": 1, "b": 3}) == [("b", 2, 3)]
    assert changes(None, {"a": 1}) == [("a", None, 1)]  # created
    assert changes({"a": 1}, None) == [("a", 1, None)]  # deleted
    assert changes(["x"], ["y"]) == [("", ["x"], ["y"])]
    assert changes({"a": 1}, {"a": 1}) == []
