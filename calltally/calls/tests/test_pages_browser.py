"""The Cost column in a real browser: in view, whole, on a laptop and on a tablet.

Debian's chromium, driven by Playwright through ``executable_path`` (never a downloaded
browser); skipped where it is not installed. Screenshots are kept in the test's folder.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.urls import reverse

from calltally.conftest import CHROMIUM

from .conftest import make_call

PASSWORD = "a long browser passphrase"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]

# The cost column's cells: where each one ends, and whether it is shown and unclipped by its table.
MEASURE = """() => [...document.querySelectorAll('th.cost, td.cost')].filter(e => e.offsetParent !== null)
  .map(e => { const box = e.getBoundingClientRect(); const frame = e.closest('.table-responsive')
    .getBoundingClientRect(); return [box.right, Math.min(frame.right, window.innerWidth), e.scrollWidth,
    e.clientWidth]; })"""


@pytest.fixture
def site_with_calls(make_site, role_client, tree):
    rome = make_site("ROM", name="Rome office", timezone="Europe/Rome", currency="EUR")
    at = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    for n in range(12):
        make_call(rome, at + dt.timedelta(minutes=n), person=tree["alice"], cost_center=tree["sales"],
                  cost=Decimal("123456.7891"), account="Project Apollo for a client with a long name",
                  destination="Italy mobile", tariff="A tariff plan with a long name 2026")
    client = role_client("administrator", username="browser")
    client.user.set_password(PASSWORD)
    client.user.save()
    return rome


@pytest.mark.parametrize("width", [1366, 768])
def test_the_cost_column_is_whole_and_in_view_on_a_laptop_and_a_tablet(site_with_calls, live_server, browser,
                                                                       tmp_path, width):
    # The data first: Django refuses database work in a thread where Playwright's event loop runs.
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    every_column = "&".join(f"columns={name}" for name in (
        "start", "site", "direction", "extension_number", "person", "cost_center", "remote_number", "talk_seconds",
        "ring_seconds", "disposition", "account", "destination", "tariff", "billed_seconds", "cost"))
    for name, path in (("calls", reverse("calls:call_list")), ("every-column", f"{reverse('calls:call_list')}?"
                                                                               f"{every_column}")):
        page.goto(live_server.url + path)
        page.screenshot(path=tmp_path / f"{name}-{width}.png")
        cells = page.evaluate(MEASURE)
        assert len(cells) == 13, name  # the header and twelve calls
        for right, edge, needed, shown in cells:
            assert right <= edge + 0.5, (name, width, right, edge)  # in view, not cut off by the table
            assert needed <= shown, (name, width, needed, shown)  # the amount fits its cell
    assert "€123,456.79" in page.content()
