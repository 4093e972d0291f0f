"""The scheduled reports pages in a real browser at 1366 px: the list, the form and a schedule's
history. Screenshots are kept in the test's folder (CALLTALLY_SCREENSHOTS=DIR keeps a copy)."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest
from django.urls import reverse

from calltally.conftest import CHROMIUM
from calltally.schedules import services
from calltally.schedules.models import Schedule

from .conftest import APRIL_FIRST
from .test_services import add_schedule

PASSWORD = "a long browser passphrase"

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
    client.user.set_password(PASSWORD)
    client.user.save()
    return schedule


def test_the_pages_read_well_on_a_laptop(history, live_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    shots = {"list": reverse("schedules:schedule_list"), "add": reverse("schedules:schedule_add"),
             "detail": reverse("schedules:schedule_detail", args=[history.pk])}
    for name, path in shots.items():
        page.goto(live_server.url + path)
        page.screenshot(path=tmp_path / f"schedules-{name}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, name  # no sideways scrolling
    assert page.locator("[data-run-state=succeeded]").count() == 1
    assert page.get_by_text("alice@example.org").count() == 1
    keep = os.environ.get("CALLTALLY_SCREENSHOTS")
    if keep:
        for name in shots:
            shutil.copy(tmp_path / f"schedules-{name}.png", keep)
    assert dt.datetime.now(dt.UTC)  # the data was made before the browser's event loop started
