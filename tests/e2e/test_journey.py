"""An administrator's first day with CallTally, in a real browser against the real services.

The tests run in the order written and share one running CallTally (see conftest.py):
first sign-in, the setup wizard, people, account codes, records arriving by FTP, the
undefined extensions made and reprocessed, a user's view, the service manager, a
recalculation, and the main pages on a tablet. Each step leaves a screenshot under
test-output/e2e/<test>/.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import ADMIN_PASSWORD, change_password, open_menu, sign_in

# A service's state follows a request within a few seconds (the supervisor polls each second,
# the page refreshes itself); a busy two-core machine can take longer.
SERVICE_TIMEOUT = 45_000


def test_the_first_sign_in_as_admin_must_choose_a_new_password(browsing, passwords):
    page = browsing.new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    browsing.shot(page, "sign-in page")
    sign_in(page, "admin", "admin")
    expect(page).to_have_url(re.compile(r"/password/$"))
    expect(page.get_by_text("must choose a new password")).to_be_visible()
    browsing.shot(page, "forced password change")
    # Elsewhere is refused until the password is changed.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/password/$"))
    change_password(page, "admin", ADMIN_PASSWORD)
    passwords["admin"] = ADMIN_PASSWORD
    browsing.shot(page, "password changed")
    page.goto("/")
    expect(page).not_to_have_url(re.compile(r"/(password|login)/"))
    expect(page.get_by_role("button", name="admin", exact=True)).to_be_visible()
    browsing.shot(page, "home after sign-in")


def test_the_miner_is_stopped_and_started_again_from_the_service_manager(admin_page, browsing):
    page = admin_page
    page.goto("/")
    open_menu(page, "Operations", "Service manager")
    expect(page.get_by_role("heading", name="Services")).to_be_visible()
    miner = page.locator("#service-miner")
    # The page refreshes itself: the states change under our eyes, without reloading.
    expect(miner.locator(".badge").first).to_have_text("running", timeout=SERVICE_TIMEOUT)
    browsing.shot(page, "every service running")
    page.once("dialog", lambda dialog: dialog.accept())  # "Stop the miner? It stays stopped…"
    miner.get_by_role("button", name="Stop", exact=True).click()
    expect(miner.locator(".badge").first).to_have_text("stopped", timeout=SERVICE_TIMEOUT)
    expect(miner.get_by_text("kept stopped on request")).to_be_visible()
    browsing.shot(page, "miner stopped")
    miner.get_by_role("button", name="Start", exact=True).click()
    expect(miner.locator(".badge").first).to_have_text("running", timeout=SERVICE_TIMEOUT)
    browsing.shot(page, "miner running again")
