"""The budget list and a budget's page in a real browser at 1366 px: the meters drawn, nothing
blocked by the content security policy. Screenshots are kept in the test's folder."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from calltally import claims
from calltally.budgets.models import Budget
from calltally.conftest import BROWSER_PASSWORD, CHROMIUM

from .test_services import add_budget

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def budgets(world, role_client):
    """The data first: Django refuses database work in the thread where Playwright's loop runs."""
    add_budget(carry_over=True)
    add_budget(name="sales", person="", cost_center="SALES", amount="5.00", notify=["manager"])
    add_budget(name="nora-day", person="nora", period="day", amount="2.00")
    world["call"]("101", "3.00", start=claims.now())
    world["call"]("102", "2.40", start=claims.now())
    client = role_client("administrator", username="browser")
    client.user.set_password(BROWSER_PASSWORD)
    client.user.save()
    return Budget.objects.get(name="sales").pk


def test_the_budget_pages_draw_their_meters_at_1366_px(budgets, signed_in):
    browsing = signed_in("browser")
    page = browsing.go(reverse("budgets:budget_list"))
    meters = page.eval_on_selector_all("meter.budget-meter", "all => all.map(m => [m.value, m.offsetWidth])")
    assert len(meters) == 3 and all(width > 20 for _, width in meters)
    assert sorted(value for value, _ in meters) == [15.0, 100.0, 100.0]
    browsing.shoot("budget-list")
    assert browsing.go(reverse("budgets:budget_detail", args=[budgets])).locator("h1").inner_text() == "Budget sales"
    browsing.shoot("budget-detail")
    browsing.go(reverse("budgets:budget_add"))
    browsing.shoot("budget-add")
    assert browsing.problems == []
