"""XLSX export: typed cells, the totals of the JSON, a frozen filtered header, the options sheet
and a native chart; written in constant memory from a stream of rows."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from calltally.accounts.scope import Scope
from calltally.reports import catalogue, export_xlsx
from calltally.reports.options import validate

from .conftest import NOW

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
MARCH_FLAGS = ("--from", "2026-03-01", "--to", "2026-03-31")


def run(name, **options):
    scope = Scope("administrator")
    return catalogue.run(name, validate({**MARCH, **options}, scope), scope, NOW)


def exported(result, **kwargs) -> openpyxl.Workbook:
    stream = io.BytesIO()
    export_xlsx.write(result, stream, **kwargs)
    stream.seek(0)
    return openpyxl.load_workbook(stream)


def test_the_call_list_has_typed_cells_local_times_with_their_offset_and_the_totals(world):
    book = exported(run("call-list", site=["ROM"], date_to="2026-03-02"))
    sheet = book["Report"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Date and time", "UTC offset", "Site"]
    assert "Cost" in header and "Duration" in header
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    first, total = rows[0], rows[-1]
    at = header.index
    assert first[at("Date and time")] == dt.datetime(2026, 3, 2, 9, 0) and first[at("UTC offset")] == "+01:00"
    assert first[at("Remote number")] == "+390611111111" and isinstance(first[at("Remote number")], str)
    assert first[at("Cost")] == pytest.approx(0.25)
    assert first[at("Duration")] == dt.timedelta(seconds=300)
    assert sheet.cell(2, at("Cost") + 1).number_format == '"€"#,##0.00;-"€"#,##0.00'
    assert sheet.cell(2, at("Duration") + 1).number_format == "[h]:mm:ss"
    assert total[0] == "Total" and total[at("Cost")] == pytest.approx(3.35)
    assert total[at("Duration")] == dt.timedelta(seconds=1320)
    assert sheet.cell(len(rows) + 1, 1).font.b
    assert len(rows) == 4  # three calls and the totals
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}4"
    assert sheet.column_dimensions["A"].width >= 19


def test_the_options_sheet_lists_what_the_report_ran_with_when_and_for_whom(world):
    result = run("summary-by-person", site=["ROM"], direction="outbound")
    book = exported(result, account="alice-login", now=dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC))
    options = dict(book["Options"].iter_rows(min_row=2, values_only=True))
    assert options["Report"] == "Summary by person" and options["Name"] == "summary-by-person"
    assert options["Period"] == "2026-03-01 to 2026-03-31"
    assert options["Sites"] == "ROM" and options["Direction"] == "outbound"
    assert options["Account"] == "alice-login" and options["Generated"] == "2026-03-20 12:00:00 +00:00"


def test_a_summary_has_a_chart_sheet_with_a_native_chart_and_its_figures(world):
    result = run("summary-by-person")
    stream = io.BytesIO()
    export_xlsx.write(result, stream)
    stream.seek(0)
    book = openpyxl.load_workbook(stream)
    assert book.sheetnames == ["Report", "Chart", "Options"]
    figures = list(book["Chart"].iter_rows(min_row=5, values_only=True))
    assert figures[0][:2] == ("alice", pytest.approx(3.35))
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(stream.getvalue())).namelist()
    assert any(n.startswith("xl/charts/chart") for n in names)


def test_the_heatmap_is_its_grid_with_a_colour_scale(world):
    book = exported(run("traffic-by-hour-weekday"))
    chart = book["Chart"]
    assert chart.cell(4, 2).value == "00:00" and chart.cell(5, 1).value == "Monday"
    assert len(chart.conditional_formatting) == 1


def test_a_report_without_a_chart_has_no_chart_sheet(world):
    assert exported(run("call-list")).sheetnames == ["Report", "Options"]


def test_costs_in_several_currencies_keep_each_rows_currency_format_and_total_as_text(world):
    sheet = exported(run("summary-by-person"))["Report"]
    header = [c.value for c in sheet[1]]
    formats = {sheet.cell(r, header.index("Currency") + 1).value: sheet.cell(r, header.index("Cost") + 1)
               for r in range(2, sheet.max_row)}
    assert formats["USD"].number_format.startswith('"$"') and formats["EUR"].number_format.startswith('"€"')
    total = [c.value for c in sheet[sheet.max_row]]
    assert total[header.index("Cost")] == "EUR 3.7000 / USD 1.0000"


def test_text_that_looks_like_a_formula_stays_text(world):
    result = run("call-list", site=["ROM"], date_to="2026-03-02")
    rows = list(result.rows)
    rows[0]["remote_number"] = "=HYPERLINK(\"x\")"
    result.rows = iter(rows)
    sheet = exported(result)["Report"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(2, header.index("Remote number") + 1)
    assert cell.value == "=HYPERLINK(\"x\")" and cell.data_type == "s"


def test_rows_are_read_once_as_a_stream(world):
    result = run("call-list")
    consumed, source = [], result.rows

    def rows():
        for row in source:
            consumed.append(row)
            yield row

    result.rows = rows()
    book = exported(result)
    assert book["Report"].max_row == len(consumed) + 2  # header, the calls, the totals


@pytest.mark.parametrize("name", ["summary-by-person", "summary-by-cost-center", "call-list", "calls-per-day"])
def test_the_xlsx_totals_equal_the_json_totals(world, cli, tmp_path, name):
    data = json.loads(cli("report", name, *MARCH_FLAGS, "--site", "ROM", "--format", "json"))
    target = tmp_path / "report.xlsx"
    cli("report", name, *MARCH_FLAGS, "--site", "ROM", "--format", "xlsx", "--output", str(target))
    sheet = openpyxl.load_workbook(target)["Report"]
    names = [c["name"] for c in data["columns"]]
    header = [c.value for c in sheet[1]]
    total = [c.value for c in sheet[sheet.max_row]]
    assert total[0] == "Total"
    for key, value in data["totals"].items():
        if key not in names or key == names[0]:
            continue
        cell = total[header.index(next(c["label"] for c in data["columns"] if c["name"] == key))]
        if isinstance(cell, dt.timedelta):
            cell = cell.total_seconds()
        if key == "cost":
            assert Decimal(str(cell)).quantize(Decimal("0.0001")) == Decimal(value)
        elif isinstance(value, (int, float)):
            assert cell == pytest.approx(value)
        else:
            assert cell == value
    assert sheet.max_row == len(data["rows"]) + 2


def test_the_command_writes_summary_by_person_as_xlsx(world, cli, tmp_path):
    target = tmp_path / "f.xlsx"
    cli("report", "summary-by-person", *MARCH_FLAGS, "--format", "xlsx", "--output", str(target))
    book = openpyxl.load_workbook(target)
    assert book["Report"]["A1"].value == "Person" and book["Report"]["A2"].value == "alice"
