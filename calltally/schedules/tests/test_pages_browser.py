"""The scheduled reports pages in a real browser at 1366 px: the list, the form and a schedule's
history. Screenshots are kept in the test's folder (CALLTALLY_KEEP_SCREENSHOTS=DIR keeps a copy)."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from calltally.conftest import BROWSER_PASSWORD, CHROMIUM
from calltally.schedules import services
from calltally.schedules.models import Schedule

from .conftest import APRIL_FIRST
from .test_services import add_schedule

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def history(office, mail_server, role_client):
    schedule = add_schedule(name="monthly-managers", burst="managers", format="pdf")
    Schedule.objects.update(next_due=APRIL_FIRST)
    services.run_due(now=APRIL_FIRST)
    add_schedule(name="daily-intl", every="30 6 * * mon-fri", period="yesterday", format="xlsx",
                 to="finance@example.org", category="international")
    client = role_client("administrator", username="browser")
    client.user.set_password(BROWSER_PASSWORD)
    client.user.save()
    return schedule


def test_the_pages_read_well_on_a_laptop(history, signed_in):
    browsing = signed_in("browser")
    shots = {"list": reverse("schedules:schedule_list"), "add": reverse("schedules:schedule_add"),
             "detail": reverse("schedules:schedule_detail", args=[history.pk])}
    for name, path in shots.items():
        page = browsing.go(path)
        browsing.shoot(f"schedules-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, name  # no sideways scrolling
    assert page.locator("[data-run-state=succeeded]").count() == 1
    assert page.get_by_text("alice@example.org").count() == 1
    assert browsing.problems == []
