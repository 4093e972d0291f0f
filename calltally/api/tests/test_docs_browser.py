"""The API's pages in a real browser under the Content-Security-Policy: Swagger UI starts, lists the
endpoints and runs a request; the browsable API renders; nothing the policy refuses is tried.

Debian's chromium, driven by Playwright through ``executable_path``; skipped where it is not installed.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model

from calltally.accounts.models import Account
from calltally.conftest import CHROMIUM

PASSWORD = "a long browser passphrase"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def administrator(settings):
    # Before the browser: Django refuses database work in the thread where Playwright's event loop runs.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    user = get_user_model().objects.create_superuser("browser", "", PASSWORD)
    Account.objects.filter(user=user).update(must_change_password=False)
    return user


def test_swagger_ui_and_the_browsable_api_work_under_the_policy(administrator, live_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live_server.url + "/api/docs/")  # to the sign-in page first, and back
    page.fill("input[name=username]", "browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/api/docs/")
    page.wait_for_selector("#operations-calls-calls_list", timeout=20000)
    tags = {text.split("\n")[0] for text in page.locator(".opblock-tag").all_inner_texts()}
    assert {"calls", "reports", "sites", "connections", "people", "accounts"} <= tags
    page.click("#operations-calls-calls_list .opblock-summary")
    page.click("#operations-calls-calls_list button.try-out__btn")
    page.click("#operations-calls-calls_list button.execute")
    status = page.locator("#operations-calls-calls_list .live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=15000)
    assert status.inner_text().strip() == "200"
    page.screenshot(path=tmp_path / "swagger-ui.png")
    page.goto(live_server.url + "/api/calls/")
    assert "CallTally API" in page.title()
    page.screenshot(path=tmp_path / "browsable-api.png")
    assert not problems, problems  # a refused inline script or style is a console error
