"""The alerts page in a real browser at 1366 px: the alerts of a burst, acknowledged with its button,
the rule form showing the parameters of the chosen kind only, nothing the Content-Security-Policy
refuses."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from calltally.accounts.models import Account
from calltally.alerts import services
from calltally.alerts.models import Alert, AlertRule
from calltally.alerts.tests.conftest import make_call, rome
from calltally.alerts.tests.test_checks import add_rule, premium_burst
from calltally.conftest import BROWSER_PASSWORD, CHROMIUM

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def burst(hq, settings):
    # Before the browser: Django refuses database work in the thread where Playwright's event loop runs.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    user = get_user_model().objects.create_superuser("browser", "", BROWSER_PASSWORD)
    Account.objects.filter(user=user).update(must_change_password=False)
    # The rule the migrations make; a transactional test before this one may have flushed it.
    AlertRule.objects.get_or_create(name="Site silent", defaults={"kind": "silent-site", "scope": "all"})
    add_rule(name="Premium numbers", kind="destination", categories="premium", countries="CU")
    add_rule(name="Abroad at night", kind="out-of-hours", business_hours="Mon-Fri 08:00-18:00")
    add_rule(name="Costly call", kind="call-cost", cost="50", currency="EUR")
    premium_burst(hq, count=12)
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("61.00"), extension_number="205")
    services.run_due(rome(2026, 3, 4, 10, 5))
    return Alert.objects.get(rule__name="Costly call")


def test_the_alerts_page_shows_the_burst_and_acknowledges_one(burst, signed_in):
    browsing = signed_in("browser")
    page = browsing.go("/alerts/")
    assert page.locator("table tbody tr").count() == 4  # and the default rule: HQ is silent
    browsing.shoot("alerts")
    page.locator("tr", has_text="HQ ext 205").get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=acknowledged.")
    assert "by browser" in page.locator("tr", has_text="HQ ext 205").inner_text()
    page = browsing.go("/alerts/rules/add/")
    page.select_option("select[name=kind]", "repeated-number")
    assert page.is_visible("[name=count]") and page.is_visible("[name=minutes]")
    assert not page.is_visible("[name=cost]") and not page.is_visible("[name=prefixes]")
    page.select_option("select[name=kind]", "cost-spike")
    assert page.is_visible("[name=factor]") and not page.is_visible("[name=count]")
    assert not page.is_visible("[name=site]") and not page.is_visible("[name=person]")
    page.select_option("select[name=scope]", "person")
    assert page.is_visible("[name=person]") and not page.is_visible("[name=cost_center]")
    browsing.shoot("rule-add")
    browsing.go("/alerts/rules/")
    browsing.shoot("rules")
    assert not browsing.problems, browsing.problems
