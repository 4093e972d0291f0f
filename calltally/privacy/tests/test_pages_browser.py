"""The Retention and privacy page in a real browser at 1366 px: the erase form asks first, and
erases only once confirmed; nothing blocked by the content security policy. Screenshots are kept
in the test's folder (and copied to $CALLTALLY_KEEP_SCREENSHOTS when set)."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from calltally.conftest import BROWSER_PASSWORD, CHROMIUM
from calltally.privacy import services

from .conftest import ALICE_FRIEND, NOW

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def ready(three_days, role_client, settings):
    """The data first: Django refuses database work in the thread where Playwright's loop runs."""
    services.run_retention(now=NOW, spool=three_days.spool)
    client = role_client("administrator", username="browser")
    client.user.set_password(BROWSER_PASSWORD)
    client.user.save()
    return three_days


def test_the_erase_form_asks_before_it_erases_at_1366_px(ready, signed_in):
    browsing = signed_in("browser")
    page = browsing.go(reverse("privacy:overview"))
    assert page.locator("h1").inner_text() == "Retention and privacy"
    browsing.shoot("privacy")
    page.fill("input[name=erase-number]", ALICE_FRIEND)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("button:has-text('Erase')")
    assert asked and asked[0].startswith("Erase everything about this person or number?")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Erase')")
    page.wait_for_selector(".alert-success")
    assert "6 calls" in page.locator(".alert-success").inner_text()
    browsing.shoot("privacy-erased")
    assert browsing.problems == []
