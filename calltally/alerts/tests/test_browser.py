"""The alerts page in a real browser at 1366 px: the alerts of a burst, acknowledged with its button,
nothing the Content-Security-Policy refuses."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from calltally.accounts.models import Account
from calltally.alerts import services
from calltally.alerts.models import Alert
from calltally.alerts.tests.conftest import make_call, rome
from calltally.alerts.tests.test_checks import add_rule, premium_burst
from calltally.conftest import CHROMIUM

PASSWORD = "a long browser passphrase"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def burst(hq, settings):
    # Before the browser: Django refuses database work in the thread where Playwright's event loop runs.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    user = get_user_model().objects.create_superuser("browser", "", PASSWORD)
    Account.objects.filter(user=user).update(must_change_password=False)
    add_rule(name="Premium numbers", kind="destination", categories="premium", countries="CU")
    add_rule(name="Abroad at night", kind="out-of-hours", business_hours="Mon-Fri 08:00-18:00")
    add_rule(name="Costly call", kind="call-cost", cost="50", currency="EUR")
    premium_burst(hq, count=12)
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("61.00"), extension_number="205")
    services.run_due(rome(2026, 3, 4, 10, 5))
    return Alert.objects.get(rule__name="Costly call")


def test_the_alerts_page_shows_the_burst_and_acknowledges_one(burst, live_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live_server.url + "/alerts/")
    page.fill("input[name=username]", "browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/alerts/")
    assert page.locator("table tbody tr").count() == 4  # and the default rule: HQ is silent
    page.screenshot(path=tmp_path / "alerts.png", full_page=True)
    page.locator("tr", has_text="HQ ext 205").get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=acknowledged.")
    assert "by browser" in page.locator("tr", has_text="HQ ext 205").inner_text()
    page.goto(live_server.url + "/alerts/rules/add/")
    page.screenshot(path=tmp_path / "rule-add.png", full_page=True)
    page.goto(live_server.url + "/alerts/rules/")
    page.screenshot(path=tmp_path / "rules.png", full_page=True)
    print("screenshots in", tmp_path)
    assert not problems, problems
