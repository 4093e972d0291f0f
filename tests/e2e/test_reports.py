"""Reports in a real browser: set a summary's options, run it, see its chart, download it as XLSX
and PDF (read back with openpyxl and pypdf), save it under a name, drill down to the calls behind a
row, then open the saved report from the catalogue and delete it.

The calls are the journey's PBX capture imported with the command line on a site of their own
(RPT), so this test needs no other test before it; its options name that site and the capture's
day, so calls the journey pushed elsewhere never change what it sees.
"""

from __future__ import annotations

import re

import openpyxl
import pypdf
from playwright.sync_api import expect

from . import pbx
from .conftest import field, open_menu

SITE = "RPT"
PLAN = "PL-Reports-2026"
PLAN_FILE = pbx.plan_file(PLAN)
# The capture's calls of each extension, once 4001-4004 are all in the directory.
CALLS_OF_4004 = 3


def seed(service, tmp_path) -> str:
    """A site with the capture's four extensions, priced by a plan, and the capture imported;
    returns the day of its calls (YYYY-MM-DD)."""
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN_FILE)
    service.cli("tariff", "load", str(plan))
    service.cli("site", "add", SITE, "--name", "Reports office", "--driver", "avaya_ipo", "--country", "PL",
                "--timezone", "Europe/Warsaw", "--currency", "PLN", "--access-code", "0",
                "--internal-digits", "4", "--tariff", PLAN)
    for number in ("4001", "4002", "4003", "4004"):
        service.cli("extension", "add", number, "--site", SITE, "--person", f"rpt{number}")
    day = pbx.call_day()
    capture = tmp_path / "smdr.txt"
    capture.write_bytes(pbx.records(day))
    service.cli("import", "--site", SITE, str(capture), "--wait", "120")
    return day.isoformat()


def test_a_summary_is_run_charted_drilled_down_and_exported_as_xlsx_and_pdf(admin_page, browsing, tmp_path):
    day = seed(browsing.service, tmp_path)
    page = admin_page
    page.goto("/")
    open_menu(page, "Calls", "Reports")
    expect(page.get_by_role("heading", name="Summaries")).to_be_visible()
    browsing.shot(page, "catalogue")
    page.get_by_role("link", name=re.compile("^Summary by person")).click()
    page.wait_for_load_state()

    # The options: a custom range on the capture's day, the site of this test.
    field(page, "Period").select_option("custom")
    field(page, "From (date)").fill(day)
    field(page, "To (date, included)").fill(day)
    page.locator("details.mb-2 > summary").click()
    field(page, "Sites").select_option(SITE)
    field(page, "Direction").select_option("outbound")
    browsing.shot(page, "options set")
    page.get_by_role("button", name="Run").click()
    page.wait_for_load_state()

    ran = page.get_by_role("region", name="Ran with")
    expect(ran).to_contain_text(f"{day} to {day}")
    expect(ran).to_contain_text(SITE)
    chart = page.locator(".report-chart svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 50
    rows = page.locator("table.report-table tbody tr")
    expect(rows.filter(has_text="rpt4004")).to_have_count(1)
    expect(page.locator("table.report-table tfoot")).to_contain_text("Total")
    browsing.shot(page, "summary with its chart")

    # Sorted by the server on a column header.
    page.locator("table.report-table thead").get_by_role("link", name=re.compile("^Calls")).click()
    page.wait_for_load_state()
    assert "sort=calls" in page.url

    # Both binary exports of the very options on the page.
    with page.expect_download() as xlsx:
        page.get_by_role("link", name="XLSX").click()
    assert xlsx.value.suggested_filename == "summary-by-person.xlsx"
    workbook_path = tmp_path / xlsx.value.suggested_filename
    xlsx.value.save_as(workbook_path)
    workbook = openpyxl.load_workbook(workbook_path, read_only=True)
    cells = [str(value) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
             for value in row if value is not None]
    assert "rpt4004" in cells
    with page.expect_download() as pdf:
        page.get_by_role("link", name="PDF").click()
    assert pdf.value.suggested_filename == "summary-by-person.pdf"
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf.value.path()).pages)
    assert "rpt4004" in text and "Summary by person" in text

    # Saved under a name: the page comes back with the same options.
    page.get_by_label("Name", exact=True).fill("RPT outbound")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    expect(page.get_by_role("status").filter(has_text="Saved as")).to_be_visible()
    expect(page.get_by_role("region", name="Ran with")).to_contain_text(SITE)

    # The row's drill-down: the call list of that person, with the summary's options.
    rows = page.locator("table.report-table tbody tr")
    row = rows.filter(has_text="rpt4004")
    calls_of_row = row.locator("td").nth(2).inner_text()
    row.get_by_role("link", name="Calls").click()
    page.wait_for_load_state()
    expect(page).to_have_title(re.compile("^Call list"))
    assert "person=rpt4004" in page.url and f"site={SITE}" in page.url
    listed = page.locator("table.report-table tbody tr")
    expect(listed).to_have_count(int(calls_of_row))
    assert int(calls_of_row) == CALLS_OF_4004
    expect(page.get_by_role("region", name="Totals of every page")).to_contain_text("PLN")
    browsing.shot(page, "drill-down to the call list")

    # The saved report, opened from the catalogue, then deleted there (after a confirmation).
    page.goto("/reports/")
    saved = page.get_by_role("region", name="Your saved reports")
    saved.get_by_role("link", name="RPT outbound").click()
    page.wait_for_load_state()
    expect(page).to_have_title(re.compile("^Summary by person"))
    expect(page.get_by_role("region", name="Ran with")).to_contain_text("outbound")
    page.goto("/reports/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("region", name="Your saved reports").get_by_role("button", name="Delete RPT outbound").click()
    page.wait_for_load_state()
    expect(page.get_by_role("region", name="Your saved reports")).to_contain_text("No saved reports yet")
    browsing.shot(page, "saved report deleted")
