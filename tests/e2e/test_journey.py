"""An administrator's first day with CallTally, in a real browser against the real services.

The tests run in the order written and share one running CallTally (see conftest.py):
first sign-in, the setup wizard (a site receiving by FTP with a tariff, then a second PBX),
a people file with a wrong row, account codes, records pushed by FTP, a connection option
refused as the CLI refuses it, the undefined extensions made and reprocessed, a user's own
calls, the service manager, a recalculation, the audit log, and the main pages on a
tablet. Each step leaves a screenshot under test-output/e2e/<test>/.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from . import pbx
from .conftest import ADMIN_PASSWORD, change_password, field, open_menu, sign_in
from .harness import TABLET

# A service's state follows a request within a few seconds (the supervisor polls each second,
# the page refreshes itself); a busy two-core machine can take longer.
SERVICE_TIMEOUT = 45_000
# Records pushed to the Recorder are mined within seconds (the Miner looks again every second).
MINING_SECONDS = 45
# A background job is claimed by the Scheduler within seconds, and a dozen records take no time.
JOB_TIMEOUT = 60_000

SITE = "WAW"
SECOND_SITE = "KRK"
PLAN = "PL-Carrier-2026"
PLAN_FILE = pbx.plan_file(PLAN)
PEOPLE_HEADER = "username,first_name,last_name,email,site,extension\n"
ANNA = "anna,Anna,Nowak,anna.nowak@example.com,WAW,4001\n"


# Where each "Cost" column ends against the box that shows it (its scrolling wrapper, the window):
# a cost cut off at the edge, or hidden behind a sideways scroll, is listed.
COST_CLIPPED = """() => {
  const problems = [];
  for (const th of document.querySelectorAll("main table thead th")) {
    if (th.textContent.trim().replace(/[▲▼]/g, "").trim() !== "Cost") continue;
    const table = th.closest("table");
    const box = (th.closest(".table-responsive") || table.parentElement).getBoundingClientRect();
    const right = Math.min(box.right, window.innerWidth) + 1;
    const column = th.cellIndex;
    const cells = [th, ...[...table.tBodies].flatMap(body => [...body.rows].map(row => row.cells[column]))];
    for (const cell of cells) {
      if (!cell) continue;
      const rect = cell.getBoundingClientRect();
      if (rect.right > right || cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(`${cell.textContent.trim()} ends at ${Math.round(rect.right)} px of ${Math.round(right - 1)}`);
      }
    }
  }
  return problems;
}"""


def column(page, name: str) -> list[str]:
    """The texts of the column headed ``name`` in the page's first table (badges left out)."""
    return page.evaluate("""(name) => {
      const table = document.querySelector("main table");
      const th = [...table.tHead.rows[0].cells].find(cell => cell.textContent.replace(/[▲▼]/g, "").trim() === name);
      return [...table.tBodies[0].rows].map(row => {
        const cell = row.cells[th.cellIndex].cloneNode(true);
        cell.querySelectorAll(".badge").forEach(badge => badge.remove());
        return cell.textContent.trim();
      });
    }""", name)


def assert_costs_in_view(page) -> None:
    expect(page.locator("main table thead th").filter(has_text=re.compile(r"^\s*Cost\s*[▲▼]?\s*$")).first) \
        .to_be_visible()
    clipped = page.evaluate(COST_CLIPPED)
    assert not clipped, f"the Cost column is cut off at {page.viewport_size['width']} px: {clipped}"


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
    sign_in(page, "admin", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    browsing.shot(page, "a wrong password refused")
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


def next_step(page, expected_step: str) -> None:
    page.get_by_role("button", name="Next").click()
    expect(page.locator("[aria-current=step]")).to_contain_text(expected_step)


def test_the_setup_wizard_makes_a_site_receiving_by_ftp_with_a_tariff_then_a_second_pbx(admin_page, browsing,
                                                                                         journey, tmp_path):
    page = admin_page
    page.goto("/")
    open_menu(page, "Configuration", "Setup wizard")
    expect(page.locator("[aria-current=step]")).to_contain_text("Site")
    field(page, "Code").fill(SITE)
    field(page, "Name").fill("Warsaw office")
    browsing.shot(page, "site")
    next_step(page, "PBX")

    # The PBX model found from a file it wrote.
    page.get_by_label("Sample of the PBX's records").set_input_files(
        files=[{"name": "smdr-sample.txt", "mimeType": "text/plain", "buffer": pbx.records(pbx.call_day())}])
    page.get_by_role("button", name="Detect the driver").click()
    expect(page.get_by_role("table").filter(has_text="What each driver made")).to_contain_text("avaya_ipo")
    expect(field(page, "PBX brand and model (driver)")).to_have_value("avaya_ipo")
    browsing.shot(page, "driver detected from a sample")
    next_step(page, "How records arrive")

    page.get_by_label("How the PBX delivers its records").select_option("ftp")
    expect(field(page, "port")).to_be_visible()
    field(page, "port").fill(str(browsing.service.ftp_port))
    field(page, "username").fill("ipoffice")
    # The password is left empty: the wizard makes one and shows it once, at the end.
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("status").filter(has_text="Test passed")).to_be_visible()
    browsing.shot(page, "ftp connection tested")
    next_step(page, "Extensions")

    field(page, "Extension digits, fewest").fill("4")
    field(page, "Extension digits, most").fill("4")
    browsing.shot(page, "extension plan")
    next_step(page, "Country, time and money")

    field(page, "Country (ISO code)").fill("PL")
    field(page, "Time zone").select_option("Europe/Warsaw")
    field(page, "Currency (ISO code)").fill("PLN")
    field(page, "Outside-line access codes").fill("0")
    browsing.shot(page, "country, time and money")
    next_step(page, "Tariff")

    plan = tmp_path / "pl-carrier-2026.toml"
    plan.write_text(PLAN_FILE)
    page.get_by_label(re.compile("^Upload a plan file")).check()
    field(page, "Plan file or rate deck").set_input_files(plan)
    browsing.shot(page, "tariff file")
    next_step(page, "Finish")
    review = page.locator("main")
    expect(review).to_contain_text("avaya_ipo")
    expect(review).to_contain_text(f"plan {PLAN}")
    browsing.shot(page, "review")

    # "New PBX" stores this site and starts again for the next one, saying where the PBX must send.
    page.get_by_role("button", name="New PBX").click()
    finished = page.locator("#finished")
    expect(finished).to_contain_text(f"Site {SITE} (Warsaw office) is set up")

    def shown(label: str) -> str:
        return finished.locator("dt", has_text=re.compile(f"^{label}$")).locator("xpath=following-sibling::dd[1]") \
            .inner_text().strip()

    journey["ftp"] = {"port": int(shown("Port")), "username": shown("User"), "password": shown("Password")}
    assert journey["ftp"]["port"] == browsing.service.ftp_port
    assert journey["ftp"]["username"] == "ipoffice"
    assert len(journey["ftp"]["password"]) >= 12, journey["ftp"]
    expect(page.locator("[aria-current=step]")).to_contain_text("Site")
    browsing.shot(page, "first site set up, the wizard again for the next")

    # The second PBX: a Panasonic sending SMDR over TCP, priced with the plan the first one brought.
    field(page, "Code").fill(SECOND_SITE)
    field(page, "Name").fill("Kraków branch")
    next_step(page, "PBX")
    field(page, "PBX brand and model (driver)").select_option("panasonic")
    next_step(page, "How records arrive")
    page.get_by_label("How the PBX delivers its records").select_option("tcp-listen")
    expect(field(page, "port")).to_be_visible()
    field(page, "port").fill(str(browsing.service.second_port))
    next_step(page, "Extensions")
    field(page, "Extension digits, fewest").fill("3")
    field(page, "Extension digits, most").fill("3")
    next_step(page, "Country, time and money")
    field(page, "Country (ISO code)").fill("PL")
    field(page, "Local area code").fill("12")
    field(page, "Time zone").select_option("Europe/Warsaw")
    field(page, "Currency (ISO code)").fill("PLN")
    field(page, "Outside-line access codes").fill("9")
    next_step(page, "Tariff")
    page.get_by_label("A plan already loaded").check()
    field(page, "Plan").select_option(label=PLAN)
    next_step(page, "Finish")
    browsing.shot(page, "second pbx reviewed")
    page.get_by_role("button", name="Finish").click()
    expect(page.locator("#finished")).to_contain_text(f"Site {SECOND_SITE} (Kraków branch) is set up")
    browsing.shot(page, "second site set up")

    open_menu(page, "Configuration", "Sites")
    for code in (SITE, SECOND_SITE):
        expect(page.get_by_role("link", name=code, exact=True)).to_be_visible()
    browsing.shot(page, "both sites listed")


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

    # Valid on the site counts the codes of every site too; those alone are "every site".
    page.get_by_label("Valid on site").select_option(label="Every site (multisite)")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody")).to_contain_text("Legal")
    page.get_by_role("link", name="Reset").click()

    # A sorted column's header shows its direction (an arrow, part of the link's name).
    header = page.locator("table thead").get_by_role("link", name=re.compile(r"^Code\b"))
    header.click()
    expect(page).to_have_url(re.compile(r"sort=code"))
    assert codes_shown(page) == ["2040", "4711", "9300"]
    header.click()
    expect(page).to_have_url(re.compile(r"sort=-code"))
    assert codes_shown(page) == ["9300", "4711", "2040"]
    browsing.shot(page, "sorted by code, descending")


def test_records_pushed_by_ftp_become_calls_and_calls_discarded_for_undefined_extensions(admin_page, browsing,
                                                                                         journey):
    # The PBX logs in with what the wizard said to enter in it.
    login = journey["ftp"]
    journey["day"] = pbx.call_day()  # the day of the calls, for the recalculation later (whatever the time then)
    reply = pbx.push(login["port"], login["username"], login["password"], "smdr-0001.txt",
                     pbx.records(journey["day"]))
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
    with page.expect_navigation():  # the site list submits itself
        page.get_by_label("Site", exact=True).select_option(SITE)
    page.get_by_label("Search the record text").fill("Piotr")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main")).to_contain_text("Piotr Wiśniewski")
    browsing.shot(page, "the records as received, searched")


def test_a_connection_with_a_port_out_of_range_is_refused_on_the_page_with_the_words_of_the_cli(admin_page, browsing,
                                                                                              service):
    page = admin_page
    page.goto("/")
    open_menu(page, "Configuration", "Connections")
    browsing.shot(page, "connections")
    row = page.locator("table tbody tr").filter(has_text=SECOND_SITE)
    row.get_by_role("link").first.click()
    connection_id = re.search(r"/connections/(\d+)/", page.url).group(1)
    page.get_by_role("link", name=re.compile(r"^Edit")).first.click()
    field(page, "port").fill("99999")
    page.get_by_role("button", name=re.compile(r"^(Save|Update)")).click()
    error = page.locator(".invalid-feedback, .alert-danger").filter(has_text="99999")
    expect(error).to_have_count(1)
    shown = error.inner_text().strip()
    browsing.shot(page, "port 99999 refused")
    cli = service.cli("connection", "set", connection_id, "--option", "port=99999", check=False)
    assert cli.returncode != 0, cli.stdout
    # The same sentence, from the same validation: e.g. "option port=99999 must be between 1 and 65535."
    assert shown in cli.stderr, (shown, cli.stderr)


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
    assert_costs_in_view(page)


ANNA_FIRST_PASSWORD = "Given-by-admin-5512"
ANNA_PASSWORD = "Anna-chose-this-8830"


def test_a_user_account_sees_only_the_calls_of_its_own_person(admin_page, browsing):
    page = admin_page
    page.goto("/")
    # A call of someone else, by its address: anna will try it.
    open_menu(page, "Calls", "Calls")
    field(page.get_by_role("form", name="Filters"), "Extension").fill("4002")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table tbody tr").first).to_contain_text("4002")
    other_call = page.locator("table tbody tr").first.get_by_role("link").first.get_attribute("href")
    assert re.search(r"/calls/\d+/$", other_call), other_call

    open_menu(page, "Administration", "Accounts")
    page.get_by_role("link", name=re.compile("^Add account")).first.click()
    field(page, "Username").fill("anna")
    field(page, "Role").select_option(label="User")
    field(page, "Password").fill(ANNA_FIRST_PASSWORD)
    field(page, "Password again").fill(ANNA_FIRST_PASSWORD)
    browsing.shot(page, "a user account for anna")
    page.get_by_role("button", name=re.compile(r"^(Save|Create|Add)")).click()
    expect(page.get_by_role("cell", name="anna", exact=True)).to_be_visible()
    browsing.shot(page, "accounts")

    mine = browsing.new_page()
    sign_in(mine, "anna", ANNA_FIRST_PASSWORD)
    expect(mine).to_have_url(re.compile(r"/password/$"))  # made by someone else: changed at first sign-in
    change_password(mine, ANNA_FIRST_PASSWORD, ANNA_PASSWORD)
    mine.goto("/")
    browsing.shot(mine, "anna's billing home")
    expect(mine.locator("main")).not_to_contain_text("4002")
    open_menu(mine, "Calls", "Calls")
    rows = mine.locator("table tbody tr")
    expect(rows).to_have_count(pbx.CALLS_OF_4001)
    assert set(column(mine, "Extension")) == {"4001"}
    browsing.shot(mine, "anna's calls only")
    # Nor by filter, nor by address, nor by export.
    field(mine.get_by_role("form", name="Filters"), "Extension").fill("4002")
    mine.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(0)
    answer = mine.goto(other_call)
    assert answer.status == 404, f"{other_call} answered {answer.status} to anna"
    browsing.shot(mine, "someone else's call refused")
    export = mine.request.get("/calls/?export=csv")
    assert export.ok
    lines = export.text().strip().splitlines()
    assert len(lines) == 1 + pbx.CALLS_OF_4001, lines
    assert not any(number in line for line in lines[1:] for number in pbx.UNDEFINED), lines


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


def test_a_recalculation_runs_in_the_background_and_its_progress_reaches_done(admin_page, browsing, journey):
    page = admin_page
    page.goto("/")
    open_menu(page, "Operations", "Recalculate calls")
    day = journey["day"].isoformat()
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



def test_the_audit_log_keeps_the_sign_ins_the_changes_and_the_runs_of_the_day(admin_page, browsing):
    page = admin_page
    page.goto("/")
    open_menu(page, "Administration", "Audit log")
    browsing.shot(page, "audit log")
    filters = page.get_by_role("form", name="Filters")
    for action, account, detail in (("Sign-in failed", "admin", "127.0.0.1"), ("Reprocessed", "admin", SITE),
                                    ("Recalculated", "admin", SITE), ("Exported", "anna", "anna"),
                                    ("Configuration changed", "admin", "miner")):
        field(filters, "Action").select_option(label=action)
        page.get_by_role("button", name="Filter").click()
        rows = page.locator("table tbody tr")
        expect(rows.first).to_contain_text(account)
        expect(page.locator("table tbody")).to_contain_text(detail)
        browsing.shot(page, f"audit log, {action}")



def test_the_billing_home_fits_a_tablet_with_its_costs_in_view(browsing, admin_state):
    page = browsing.new_page(state=admin_state, viewport=TABLET)
    page.goto("/")
    expect(page.get_by_role("heading", name="Billing home")).to_be_visible()
    browsing.shot(page, "billing home on a tablet")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    assert_costs_in_view(page)


def test_the_call_list_fits_a_tablet_with_its_costs_in_view(browsing, admin_state):
    page = browsing.new_page(state=admin_state, viewport=TABLET)
    page.goto("/")
    # The menu folds behind its button on a narrow screen.
    page.get_by_role("button", name="Show the menu").click()
    open_menu(page, "Calls", "Calls")
    expect(page.locator("table tbody tr").first).to_be_visible()
    browsing.shot(page, "call list on a tablet")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    assert_costs_in_view(page)
