"""PDF export: title, options, table with totals, a vector chart, the logo, "page N of M" on
every page, and a cap on the rows with a note saying where to get the rest."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import struct
import zlib

import pypdf
import pytest

from calltally.accounts.scope import Scope
from calltally.reports import catalogue, export_pdf
from calltally.reports.options import validate
from calltally.system.models import ReportLogo

from .conftest import NOW

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
MARCH_FLAGS = ("--from", "2026-03-01", "--to", "2026-03-31")


def run(name, **options):
    scope = Scope("administrator")
    return catalogue.run(name, validate({**MARCH, **options}, scope), scope, NOW)


def exported(result, **kwargs) -> pypdf.PdfReader:
    stream = io.BytesIO()
    export_pdf.write(result, stream, **kwargs)
    stream.seek(0)
    return pypdf.PdfReader(stream)


def flat(text: str) -> str:
    """Extracted text with its line breaks as spaces (the page count is a form of its own)."""
    return re.sub(r"\s+", " ", text)


def text_of(reader: pypdf.PdfReader) -> str:
    return flat(" ".join(page.extract_text() for page in reader.pages))


def test_a_summary_pdf_has_the_title_options_rows_totals_account_and_page_numbers(world):
    result = run("summary-by-person", site=["ROM"])
    reader = exported(result, account="alice-login", now=dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC))
    text = text_of(reader)
    assert len(reader.pages) == 1
    assert "Summary by person" in text
    assert "Period" in text and "2026-03-01 to 2026-03-31" in text and "Sites" in text and "ROM" in text
    assert "Generated" in text and "2026-03-20 12:00:00 +00:00" in text and "alice-login" in text
    assert "alice" in text and "€3.35" in text
    assert re.search(r"Total\s+11\s+0:27:45\s+€3.70", text), text  # 11 calls, 1,665 s, €3.70
    assert "page 1 of 1" in text
    assert reader.metadata.title == "Summary by person"


def test_the_chart_is_drawn_as_vector_graphics_not_an_image(world):
    reader = exported(run("summary-by-person", site=["ROM"]))
    page = reader.pages[0]
    assert "/XObject" not in page["/Resources"] or not any(
        page["/Resources"]["/XObject"][name].get_object()["/Subtype"] == "/Image"
        for name in page["/Resources"]["/XObject"])
    text = flat(page.extract_text())
    assert "largest alice (€3.35)" in text  # the caption under the chart
    assert "€3.35" in text


def test_a_long_call_list_repeats_its_header_and_numbers_every_page(world, monkeypatch):
    result = run("call-list")
    rows = list(result.rows)
    result.rows = iter(rows * 40)  # some 500 rows: several pages
    reader = exported(result)
    pages = len(reader.pages)
    assert pages >= 5
    for number, page in enumerate(reader.pages, start=1):
        text = flat(page.extract_text())
        assert f"page {number} of {pages}" in text
        assert "Date and time" in text and "Remote number" in text
    assert "Total" in reader.pages[-1].extract_text()


def test_rows_beyond_the_maximum_are_left_out_with_a_note_and_the_totals_of_every_row(world):
    result = run("call-list")
    rows = list(result.rows)
    result.rows = iter(rows * 3)
    reader = exported(result, max_rows=len(rows))
    text = text_of(reader)
    assert f"first {len(rows)} rows only" in text and "CSV or XLSX" in text
    assert text.count("+88212345") == 1  # the unrated call, once: the copies were left out
    assert re.search(r"Total .* €3.70 / \$1.00", text)  # the totals of every row, in both currencies


def test_no_note_when_the_rows_end_exactly_at_the_maximum(world):
    result = run("call-list")
    count = len(list(run("call-list").rows))
    assert "rows only" not in text_of(exported(result, max_rows=count))


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00\x72\xb2" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_the_logo_of_the_system_settings_is_printed_when_there_is_one(world):
    result = run("summary-by-site")
    before = exported(result).pages[0]
    assert "/XObject" not in before["/Resources"] or all(
        x.get_object()["/Subtype"] != "/Image" for x in before["/Resources"]["/XObject"].values())
    ReportLogo.objects.update_or_create(pk=1, defaults={"content": png(40, 20), "content_type": "image/png",
                                                       "filename": "logo.png", "width": 40, "height": 20})
    page = exported(run("summary-by-site")).pages[0]
    images = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
    assert any(x["/Subtype"] == "/Image" and x["/Width"] == 40 for x in images)


def test_an_empty_report_still_makes_a_pdf_with_its_options_and_a_zero_total(world):
    text = text_of(exported(run("call-list", date_from="2025-01-01", date_to="2025-01-02")))
    assert "Call list" in text and "2025-01-01 to 2025-01-02" in text and "page 1 of 1" in text
    assert text.endswith("Account Total 0:00:00 0.00 ")  # the header, no call, then the totals


@pytest.mark.parametrize("name", [r.name for r in catalogue.catalogue() if r.name != "tariff-comparison"])
def test_every_report_exports_to_a_readable_pdf(world, name):
    reader = exported(run(name))
    assert catalogue.get_report(name).title in text_of(reader)


@pytest.mark.parametrize("name", ["summary-by-person", "call-list"])
def test_the_command_writes_a_pdf_whose_totals_are_the_json_totals(world, cli, tmp_path, name):
    data = json.loads(cli("report", name, *MARCH_FLAGS, "--site", "ROM", "--format", "json"))
    target = tmp_path / "f.pdf"
    cli("report", name, *MARCH_FLAGS, "--site", "ROM", "--format", "pdf", "--output", str(target))
    reader = pypdf.PdfReader(target)
    last = flat(reader.pages[-1].extract_text())
    line = last[last.rindex(" Total "):]
    totals = data["totals"]
    seconds = totals["talk_seconds"]
    assert f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" in line
    assert f"€{float(totals['cost']):,.2f}" in line
    if name.startswith("summary"):
        assert f" {totals['calls']} " in f" {line} "
