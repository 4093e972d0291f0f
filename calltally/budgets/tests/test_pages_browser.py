"""The budget list and a budget's page in a real browser at 1366 px: the meters drawn, nothing
blocked by the content security policy. Screenshots are kept in the test's folder."""

from __future__ import annotations

import os
import shutil

import pytest
from django.urls import reverse

from calltally import claims
from calltally.budgets.models import Budget
from calltally.conftest import CHROMIUM

from .test_services import add_budget

PASSWORD = "a long browser passphrase"

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
    client.user.set_password(PASSWORD)
    client.user.save()
    return Budget.objects.get(name="sales").pk


def test_the_budget_pages_draw_their_meters_at_1366_px(budgets, live_server, browser, tmp_path):
    pk = budgets

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + reverse("budgets:budget_list"))
    meters = page.eval_on_selector_all("meter.budget-meter", "all => all.map(m => [m.value, m.offsetWidth])")
    assert len(meters) == 3 and all(width > 20 for _, width in meters)
    assert sorted(value for value, _ in meters) == [15.0, 100.0, 100.0]
    page.screenshot(path=str(tmp_path / "budget-list.png"), full_page=True)
    page.goto(live_server.url + reverse("budgets:budget_detail", args=[pk]))
    assert page.locator("h1").inner_text() == "Budget sales"
    page.screenshot(path=str(tmp_path / "budget-detail.png"), full_page=True)
    page.goto(live_server.url + reverse("budgets:budget_add"))
    page.screenshot(path=str(tmp_path / "budget-add.png"), full_page=True)
    assert blocked == []
    keep = os.environ.get("CALLTALLY_KEEP_SCREENSHOTS")
    if keep:
        for name in ("budget-list.png", "budget-detail.png", "budget-add.png"):
            shutil.copy(tmp_path / name, os.path.join(keep, name))
