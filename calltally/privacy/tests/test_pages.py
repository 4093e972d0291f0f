"""The Retention and privacy page: administrators only; export downloads, erase confirms and erases."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.calls.models import Call
from calltally.privacy import services

from .conftest import ALICE_FRIEND, NOW

pytestmark = pytest.mark.django_db
URL = reverse("privacy:overview")


@pytest.mark.parametrize("role", ["site-admin", "manager", "user"])
def test_only_an_administrator_opens_the_page_or_posts_to_it(role, role_client, make_site):
    client = role_client(role, sites=[make_site()] if role == "site-admin" else ())
    assert client.get(URL).status_code == 403
    assert client.post(reverse("privacy:erase"), {"erase-number": ALICE_FRIEND}).status_code == 403
    assert client.post(reverse("privacy:export"), {"export-number": ALICE_FRIEND}).status_code == 403


def test_the_page_shows_the_limits_the_last_runs_and_both_forms(three_days, role_client):
    services.run_retention(now=NOW, spool=three_days.spool)
    page = role_client("administrator").get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/settings/#retention"' in text or "#retention" in text
    assert "No retention run yet." not in text
    assert 'name="export-person"' in text and 'name="erase-number"' in text
    assert "data-confirm=" in text


def test_export_downloads_the_json_and_is_audited(three_days, role_client):
    client = role_client("administrator")
    response = client.post(reverse("privacy:export"), {"export-person": "alice"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="privacy-person-')
    data = json.loads(response.content)
    assert len(data["calls"]) == 6
    event = AuditEvent.objects.get(action="export")
    assert event.username == client.user.username and event.details["via"] == "web"


def test_a_request_naming_both_or_neither_is_refused_in_words(three_days, role_client):
    client = role_client("administrator")
    both = client.post(reverse("privacy:export"), {"export-person": "alice", "export-number": ALICE_FRIEND})
    assert both.status_code == 400 and "Name either a person or a number" in both.content.decode()
    nobody = client.post(reverse("privacy:erase"), {"erase-person": "nobody"})
    assert nobody.status_code == 400 and "no person with username" in nobody.content.decode()
    assert Call.rows.count() == 15


def test_erase_erases_and_says_what_it_erased(three_days, role_client):
    client = role_client("administrator")
    response = client.post(reverse("privacy:erase"), {"erase-number": ALICE_FRIEND}, follow=True)
    assert response.status_code == 200
    assert "Erased number 061*******: 6 calls" in response.content.decode()
    assert Call.rows.count() == 9
    assert AuditEvent.objects.get(details__erase=True).username == client.user.username
