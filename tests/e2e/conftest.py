"""Fixtures of the browser tests: one running CallTally for the package, a fresh browser context per test.

The tests of this package walk an administrator's first day in order (see test_journey.py):
they share one ``calltally up`` and its data, so each step finds what the one before made.
Every page a test opens is watched (:class:`harness.Watch`); a CSP violation, a server error
or an uncaught script error fails the test when it ends.
"""

from __future__ import annotations

import re
import shutil

import pytest

from .harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, OUTPUT, Service, Shots, Watch, slug

ADMIN_PASSWORD = "Tally-admin-e2e-7431"


def pytest_terminal_summary(terminalreporter):
    if Shots.taken:
        terminalreporter.write_line(f"browser test screenshots: {OUTPUT}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test's report ends with what the services logged: the server side of it."""
    report = yield
    service = getattr(item, "funcargs", {}).get("service")
    if report.failed and isinstance(service, Service):
        report.sections.append(("CallTally services' log (tail)", service.log_tail()))
    return report


@pytest.fixture(scope="package")
def chromium():
    """Debian's chromium driven by Playwright (never a browser Playwright downloads itself)."""
    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need Debian's chromium at {CHROMIUM}; scripts/test installs it "
                    "(apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # This run's screenshots only: those of an earlier run (or of a test since renamed) would mislead.
    shutil.rmtree(OUTPUT, ignore_errors=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def service(chromium, tmp_path_factory):
    """``calltally up`` on a fresh data dir, for every test of the package."""
    running = Service(tmp_path_factory.mktemp("e2e"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def passwords():
    """The current password of each account the tests sign in with (the first sign-in changes admin's)."""
    return {"admin": "admin"}


@pytest.fixture(scope="package")
def journey():
    """What one step of the journey learnt for the next ones (the FTP login the wizard showed, say)."""
    return {}


class Browsing:
    """The browser contexts of one test: fresh ones, watched, closed at its end."""

    def __init__(self, browser, service: Service, watch: Watch, shots: Shots):
        self.browser = browser
        self.service = service
        self.watch = watch
        self.shot = shots
        self.contexts = []

    def new_page(self, state=None, viewport=DESKTOP):
        context = self.browser.new_context(base_url=self.service.base_url, viewport=viewport, storage_state=state,
                                           locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(15_000)
        context.on("page", self.watch.attach)
        self.contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def shots(request):
    return Shots(OUTPUT / slug(request.node.name))


@pytest.fixture
def browsing(chromium, service, shots):  # service named here so that a failure's report shows its log
    watch = Watch()
    browsing = Browsing(chromium, service, watch, shots)
    yield browsing
    browsing.close()
    problems = watch.problems()
    assert not problems, "the pages of this test went wrong:\n" + "\n".join(problems)


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def change_password(page, old: str, new: str) -> None:
    page.get_by_label("Old password").fill(old)
    # The first new-password field's label also holds the password rules (its help text).
    page.get_by_role("textbox", name=re.compile(r"^New password(?! confirmation)")).fill(new)
    page.get_by_label("New password confirmation").fill(new)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()


def field(scope, label: str):
    """The form control labelled ``label`` (a required field's label ends with a star)."""
    return scope.get_by_label(re.compile(r"^\s*" + re.escape(label) + r"\s*\*?\s*$"))


def open_menu(page, group: str, item: str) -> None:
    """Open a page the way a person does: the menu group, then its entry."""
    page.get_by_role("navigation", name="Main").get_by_role("button", name=group, exact=True).click()
    page.get_by_role("link", name=item, exact=True).click()
    page.wait_for_load_state()


@pytest.fixture(scope="package")
def admin_state(chromium, service, passwords, tmp_path_factory):
    """admin's signed-in cookies (after its forced password change, done here if no test did it yet)."""
    context = chromium.new_context(base_url=service.base_url, viewport=DESKTOP)
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    sign_in(page, "admin", passwords["admin"])
    if page.url.endswith("/password/"):
        change_password(page, passwords["admin"], ADMIN_PASSWORD)
        passwords["admin"] = ADMIN_PASSWORD
    assert "/login/" not in page.url, f"admin could not sign in: {page.url}"
    path = tmp_path_factory.mktemp("states") / "admin.json"
    context.storage_state(path=str(path))
    context.close()
    assert not watch.problems(), watch.problems()
    return str(path)


@pytest.fixture
def admin_page(browsing, admin_state):
    """A fresh page of a browser signed in as admin."""
    return browsing.new_page(state=admin_state)
