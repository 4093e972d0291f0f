"""An administrator's first day with CallTally, in a real browser against the real services.

The tests run in the order written and share one running CallTally (see conftest.py):
first sign-in, the setup wizard, people, account codes, records arriving by FTP, the
undefined extensions made and reprocessed, a user's view, the service manager, a
recalculation, and the main pages on a tablet. Each step leaves a screenshot under
test-output/e2e/<test>/.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from . import pbx
from .conftest import ADMIN_PASSWORD, change_password, open_menu, sign_in

# A service's state follows a request within a few seconds (the supervisor polls each second,
# the page refreshes itself); a busy two-core machine can take longer.
SERVICE_TIMEOUT = 45_000
# Records pushed to the Recorder are mined within seconds (the Miner looks again every second).
MINING_SECONDS = 45
# A background job is claimed by the Scheduler within seconds, and a dozen records take no time.
JOB_TIMEOUT = 60_000

SITE = "WAW"
FTP_USERNAME = "ipoffice"
FTP_PASSWORD = "smdr-push-2026"
PEOPLE_HEADER = "username,first_name,last_name,email,site,extension\n"
ANNA = "anna,Anna,Nowak,anna.nowak@example.com,WAW,4001\n"


def reload_until(page, check, seconds: float) -> None:
    """Reload ``page`` until ``check()`` (a short ``expect``) passes: for what the services do meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        page.wait_for_timeout(1000)
        page.reload()


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


def test_a_people_file_with_a_wrong_row_is_shown_then_imported_once_corrected(admin_page, browsing, tmp_path):
    page = admin_page
    page.goto("/")
    open_menu(page, "Configuration", "People")
    page.get_by_role("link", name="Import", exact=True).click()
    wrong = tmp_path / "people.csv"
    wrong.write_text(PEOPLE_HEADER + ANNA + "marek,Marek,Zieliński,marek.zielinski-at-example.com,WAW,4010\n")
    page.get_by_label("File (CSV, TSV or XLSX)").set_input_files(wrong)
    browsing.shot(page, "people file chosen")
    page.get_by_role("button", name="Check the file").click()
    preview = page.locator("#import-preview")
    expect(preview.get_by_role("status")).to_contain_text("1 row is wrong")
    rejected = preview.locator("tbody tr.table-danger")
    expect(rejected).to_have_count(1)
    expect(rejected).to_contain_text("marek")
    expect(rejected).to_contain_text("email")
    browsing.shot(page, "the wrong row shown with its reason")

    corrected = tmp_path / "people-corrected.csv"
    corrected.write_text(PEOPLE_HEADER + ANNA + "marek,Marek,Zieliński,marek.zielinski@example.com,WAW,4010\n")
    page.get_by_label("File (CSV, TSV or XLSX)").set_input_files(corrected)
    page.get_by_role("button", name="Check the file").click()
    expect(preview.locator("tbody tr.table-danger")).to_have_count(0)
    browsing.shot(page, "corrected file previewed")
    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.locator("#import-result")).to_contain_text("Imported people-corrected.csv")
    browsing.shot(page, "imported")
    page.get_by_role("link", name="See the people").click()
    expect(page.get_by_role("cell", name="anna", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="marek", exact=True)).to_be_visible()
    browsing.shot(page, "people list")


def add_account_code(page, code: str, description: str, site: str | None) -> None:
    page.get_by_role("link", name="Add account code").first.click()
    page.get_by_role("textbox", name="Code", exact=True).fill(code)
    page.get_by_role("textbox", name="Description", exact=True).fill(description)
    if site:
        page.get_by_role("combobox", name="Site", exact=True).select_option(site)
    page.get_by_role("button", name=re.compile(r"^(Save|Create|Add)")).click()
    page.wait_for_load_state()


def codes_shown(page) -> list[str]:
    return [text.strip() for text in page.locator("table tbody tr td:nth-child(2)").all_inner_texts()]


def test_an_account_code_is_created_then_found_by_filter_and_sort(admin_page, browsing):
    page = admin_page
    page.goto("/")
    open_menu(page, "Configuration", "Account codes")
    browsing.shot(page, "no account codes yet")
    # 4711 is the code the PBX's first call carries; the two others make the filter and sort mean something.
    for code, description, site in (("4711", "Project Vistula", SITE), ("2040", "Legal", None),
                                    ("9300", "Marketing fairs", SITE)):
        add_account_code(page, code, description, site)
        open_menu(page, "Configuration", "Account codes")
    expect(page.locator("table tbody tr")).to_have_count(3)
    browsing.shot(page, "three account codes")

    page.get_by_label("Description contains").fill("vistula")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody")).to_contain_text("Project Vistula")
    browsing.shot(page, "found by its description")
    page.get_by_role("link", name="Reset").click()

    page.get_by_label("Valid on site").select_option(SITE)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Reset").click()

    header = page.locator("table thead").get_by_role("link", name="Code", exact=True)
    header.click()
    expect(page).to_have_url(re.compile(r"sort=code"))
    assert codes_shown(page) == ["2040", "4711", "9300"]
    page.locator("table thead").get_by_role("link", name="Code", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=-code"))
    assert codes_shown(page) == ["9300", "4711", "2040"]
    browsing.shot(page, "sorted by code, descending")


def test_records_pushed_by_ftp_become_calls_and_calls_discarded_for_undefined_extensions(admin_page, browsing,
                                                                                         service):
    reply = pbx.push(service.ftp_port, FTP_USERNAME, FTP_PASSWORD, "smdr-0001.txt", pbx.records(pbx.call_day()))
    assert reply.startswith("226"), reply
    page = admin_page
    page.goto("/")
    open_menu(page, "Calls", "Discarded calls")
    reload_until(page, lambda: expect(page.locator("table tbody tr")).to_have_count(pbx.DISCARDED, timeout=1000),
                 MINING_SECONDS)
    for number in pbx.UNDEFINED:
        expect(page.locator("table tbody")).to_contain_text(number)
    browsing.shot(page, "discarded calls")
    open_menu(page, "Calls", "Calls")
    expect(page.locator("table tbody tr")).to_have_count(pbx.CALLS_OF_4001)
    browsing.shot(page, "the calls of the defined extension")
    open_menu(page, "Operations", "System status")
    browsing.shot(page, "system status after the records arrived")
    open_menu(page, "Operations", "Recorder files")
    expect(page.get_by_text("4002", exact=False).first).to_be_visible()
    browsing.shot(page, "the records as received")


def test_undefined_extensions_created_and_reprocessed_bring_their_calls_to_billing_home(admin_page, browsing):
    page = admin_page
    page.goto("/")
    open_menu(page, "Operations", "Extensions not defined")
    for number in pbx.UNDEFINED:
        expect(page.get_by_role("cell", name=number, exact=True)).to_be_visible()
    browsing.shot(page, "extensions not defined")
    for number in pbx.UNDEFINED:
        page.get_by_label(f"Select {number} on {SITE}").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Create and reprocess").click()
    page.wait_for_load_state()
    browsing.shot(page, "created, reprocess queued")
    # The reprocess run is a background job: its page shows it to the end.
    if "/jobs/" not in page.url:
        page.get_by_role("link", name=re.compile(r"job #\d+")).first.click()
    state = page.locator("#job-progress [data-job-state]")
    expect(state).to_have_attribute("data-job-state", "succeeded", timeout=JOB_TIMEOUT)
    browsing.shot(page, "reprocess run done")
    open_menu(page, "Calls", "Billing home")
    latest = page.locator("main")
    for number in pbx.UNDEFINED:
        expect(latest).to_contain_text(number)
    browsing.shot(page, "billing home with the calls")


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


def test_a_recalculation_runs_in_the_background_and_its_progress_reaches_done(admin_page, browsing):
    page = admin_page
    page.goto("/")
    open_menu(page, "Operations", "Recalculate calls")
    day = pbx.call_day().isoformat()
    page.get_by_label("Site", exact=True).select_option(SITE)
    page.get_by_label("From", exact=True).fill(day)
    page.get_by_label("To", exact=True).fill(day)
    browsing.shot(page, "recalculation asked")
    page.get_by_role("button", name="Recalculate").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    progress = page.get_by_role("progressbar", name="Records made again")
    expect(progress).to_be_visible()
    browsing.shot(page, "recalculation under way")
    expect(page.locator("#job-progress [data-job-state]")).to_have_attribute("data-job-state", "succeeded",
                                                                           timeout=JOB_TIMEOUT)
    expect(page.get_by_role("progressbar", name="Records made again")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_role("heading", name="Result")).to_be_visible()
    browsing.shot(page, "recalculation done")
