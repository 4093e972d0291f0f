"""A report as an XLSX workbook (xlsxwriter in constant memory): ``write(result, stream)``.

The rows are written in order as the result yields them, so a call list of millions of calls is
streamed from the database to the file and never held in memory (benchmarks/report_export.py
measures it). Sheets:

* the report: a header of the columns' labels, frozen, with an autofilter; one row per result
  row; a bold totals row. Counts are numbers; money is a number in its row's currency's format
  (every stored decimal kept, the currency's decimals shown); seconds are durations ``[h]:mm:ss``;
  a percentage is the number the JSON gives with a ``%`` sign. A date and time is an Excel date
  and time in the site's zone (so it sorts and filters), followed by a *UTC offset* column: a
  call list mixes sites in several zones, and a local time without its offset would be ambiguous.
* "Chart" (reports that declare one): the chart's figures and an xlsxwriter chart drawn from
  them; the hour-by-weekday heatmap is its grid with a colour scale.
* "Options": the report, the options it ran with, when and for whom it was generated.

Text is always written as text (a remote number such as ``=1+2`` never becomes a formula).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import xlsxwriter
from babel.numbers import UnknownCurrencyError, get_currency_precision, get_currency_symbol
from django.utils import timezone

from . import charts
from .output import display, totals_row

# Column widths are measured on the first rows only: enough to fit typical values without
# measuring each of a million rows.
MEASURED_ROWS = 2000
MAX_WIDTH = 60
OFFSET_SUFFIX = "_utc_offset"
SHEET = "Report"
# Who ran a report when the caller does not say (the command runs with every site's scope by default).
ACCOUNT_UNKNOWN = "calltally report (command line)"


def money_format(currency: str) -> str:
    """An Excel number format for amounts in ``currency``: its symbol and its decimals."""
    digits = 2
    symbol = currency
    if currency and "/" not in currency:
        try:
            digits = get_currency_precision(currency)
            symbol = get_currency_symbol(currency, locale="en")
        except (UnknownCurrencyError, ValueError):
            pass
    decimals = ("." + "0" * digits) if digits else ""
    if not symbol:
        return f"#,##0{decimals}"
    return f'"{symbol.replace(chr(34), "")}"#,##0{decimals};-"{symbol.replace(chr(34), "")}"#,##0{decimals}'


def offset_text(moment: dt.datetime) -> str:
    return display(moment, "datetime").rsplit(" ", 1)[1]


class Formats:
    """The workbook's cell formats, made once (a format per currency as currencies appear)."""

    def __init__(self, book):
        self.book = book
        self.header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
        self.header_number = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top",
                                              "align": "right"})
        self.int = book.add_format({"num_format": "#,##0"})
        self.number = book.add_format({"num_format": "#,##0.##"})
        self.seconds = book.add_format({"num_format": "[h]:mm:ss"})
        self.percent = book.add_format({"num_format": '0.0" %"'})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.bold = book.add_format({"bold": True, "top": 1})
        self.total = {
            "int": book.add_format({"num_format": "#,##0", "bold": True, "top": 1}),
            "number": book.add_format({"num_format": "#,##0.##", "bold": True, "top": 1}),
            "seconds": book.add_format({"num_format": "[h]:mm:ss", "bold": True, "top": 1}),
            "percent": book.add_format({"num_format": '0.0" %"', "bold": True, "top": 1}),
        }
        self._money: dict[tuple[str, bool], object] = {}

    def money(self, currency: str, total: bool = False):
        key = (currency or "", total)
        if key not in self._money:
            spec = {"num_format": money_format(currency or "")}
            if total:
                spec.update(bold=True, top=1)
            self._money[key] = self.book.add_format(spec)
        return self._money[key]


def _layout(result) -> list[tuple[str, str, str]]:
    """(key, label, type) of each sheet column: a report's columns, with a UTC offset after each
    date and time."""
    out = []
    for column in result.columns:
        out.append((column.name, column.label, column.type))
        if column.type == "datetime":
            out.append((column.name + OFFSET_SUFFIX, "UTC offset", "text"))
    return out


def write_value(sheet, row: int, col: int, value, kind: str, currency: str, formats: Formats, total=False) -> None:
    """One cell, typed as its column says."""
    if value is None or value == "":
        if total:
            sheet.write_blank(row, col, None, formats.bold)
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "yes" if value else "no", formats.bold if total else None)
    elif kind == "money" and isinstance(value, (Decimal, int, float)):
        sheet.write_number(row, col, float(value), formats.money(currency, total))
    elif kind == "seconds" and isinstance(value, (int, float, Decimal)):
        sheet.write_number(row, col, float(value) / 86400, formats.total["seconds"] if total else formats.seconds)
    elif kind in ("int", "number", "percent") and isinstance(value, (int, float, Decimal)):
        fmt = formats.total[kind] if total else getattr(formats, kind)
        sheet.write_number(row, col, float(value), fmt)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), formats.datetime)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), formats.date)
    else:
        sheet.write_string(row, col, str(value), formats.bold if total else None)


def _width(value, kind: str) -> int:
    if kind == "datetime":
        return 19
    if kind == "seconds":
        return 9
    if kind == "money":
        return 12
    return len(display(value, kind)) + 1


def write(result, stream, *, account: str | None = None, now: dt.datetime | None = None) -> int:
    """The workbook of ``result`` written to the binary ``stream``; returns the rows written.
    ``account`` (who ran it) and ``now`` go on the Options sheet."""
    now = now or timezone.now()
    book = xlsxwriter.Workbook(stream, {
        "constant_memory": True,
        "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
        "default_date_format": "yyyy-mm-dd hh:mm:ss",
    })
    book.set_properties({"title": result.report.title, "subject": result.report.description,
                         "author": account or "", "comments": "CallTally report " + result.report.name})
    formats = Formats(book)
    sheet = book.add_worksheet(SHEET)
    layout = _layout(result)
    model = charts.chart_of(result)
    widths = []
    for col, (_key, label, kind) in enumerate(layout):
        numeric = kind in ("int", "number", "money", "seconds", "percent")
        sheet.write_string(0, col, label, formats.header_number if numeric else formats.header)
        widths.append(min(max(len(w) for w in label.split()) + 2, MAX_WIDTH))
    has_currency = "currency" in {c.name for c in result.columns}
    fallback_currency = result.totals.get("currency") or result.options.currency or ""
    # What each column writes, decided once: the loop below runs for every row of a million.
    plan = [(col, key, kind, key[: -len(OFFSET_SUFFIX)] if key.endswith(OFFSET_SUFFIX) else None)
            for col, (key, _label, kind) in enumerate(layout)]
    write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
    offsets: dict = {}
    count = 0
    for count, item in enumerate(result.rows, start=1):
        currency = (item.get("currency") or "") if has_currency else fallback_currency
        measure = count <= MEASURED_ROWS
        for col, key, kind, source in plan:
            if source is not None:
                moment = item.get(source)
                if not isinstance(moment, dt.datetime):
                    continue
                offset = moment.utcoffset()
                if offset not in offsets:
                    offsets[offset] = offset_text(moment)
                write_string(count, col, offsets[offset])
                continue
            value = item.get(key)
            if value is None or value == "":
                continue
            kind_of_value = type(value)
            if kind == "text" and kind_of_value is str:
                write_string(count, col, value)
            elif kind == "int" and kind_of_value is int:
                write_number(count, col, value, formats.int)
            elif kind == "seconds" and kind_of_value is int:
                write_number(count, col, value / 86400, formats.seconds)
            elif kind == "datetime" and isinstance(value, dt.datetime):
                write_datetime(count, col, value.replace(tzinfo=None), formats.datetime)
            else:
                write_value(sheet, count, col, value, kind, currency, formats)
            if measure:
                widths[col] = min(max(widths[col], _width(value, kind)), MAX_WIDTH)
    last = count
    total = totals_row(result)
    if total is not None:
        last += 1
        currency = result.totals.get("currency") or ""
        for col, (key, _label, kind) in enumerate(layout):
            value = total.get(key)
            if key == "cost" and result.totals.get("cost") is None:
                kind = "text"  # several currencies: "EUR 12.50 / USD 3.00"
            write_value(sheet, last, col, value, kind, currency, formats, total=True)
            if value is not None:
                widths[col] = min(max(widths[col], len(str(value)) + 2), MAX_WIDTH)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    if layout:
        sheet.autofilter(0, 0, max(count, 1), len(layout) - 1)
    if result.notes:
        for i, note in enumerate(result.notes, start=last + 2):
            sheet.write_string(i, 0, note)
    if model is not None:
        _chart_sheet(book, model, formats)
    _options_sheet(book, result, account, now, count)
    book.close()
    return count


def _chart_sheet(book, model: charts.ChartModel, formats: Formats) -> None:
    """The chart's figures and a native chart drawn from them (a heatmap: the grid, coloured)."""
    sheet = book.add_worksheet("Chart")
    sheet.write_string(0, 0, model.title, formats.header)
    sheet.write_string(1, 0, model.caption)
    top = 3
    if model.kind == "heatmap":
        for c, label in enumerate(model.categories, start=1):
            sheet.write_string(top, c, label + ":00", formats.header)
        for r, (label, values) in enumerate(zip(model.rows, model.grid, strict=True), start=top + 1):
            sheet.write_string(r, 0, label, formats.header)
            for c, value in enumerate(values, start=1):
                sheet.write_number(r, c, value, formats.int)
        sheet.set_column(0, 0, 12)
        sheet.set_column(1, len(model.categories), 6)
        sheet.conditional_format(top + 1, 1, top + len(model.rows), len(model.categories),
                                 {"type": "2_color_scale", "min_color": "#F1F3F5", "max_color": "#0072B2"})
        return
    kind = {"bar": "bar", "pie": "pie", "line": "line"}[model.kind]
    value_format = {"money": formats.money(model.currency), "seconds": formats.seconds}.get(model.value_kind,
                                                                                           formats.number)
    sheet.write_string(top, 0, "", formats.header)
    for s, series in enumerate(model.series, start=1):
        sheet.write_string(top, s, series.label, formats.header)
    for r, category in enumerate(model.categories, start=top + 1):
        sheet.write_string(r, 0, category)
        for s, series in enumerate(model.series, start=1):
            value = series.values[r - top - 1]
            sheet.write_number(r, s, value / 86400 if model.value_kind == "seconds" else value, value_format)
    sheet.set_column(0, 0, min(max(len(c) for c in model.categories) + 2, MAX_WIDTH))
    sheet.set_column(1, len(model.series), 14)
    chart = book.add_chart({"type": kind})
    first, end = top + 1, top + len(model.categories)
    for s, _series in enumerate(model.series, start=1):
        spec = {"name": ["Chart", top, s], "categories": ["Chart", first, 0, end, 0],
                "values": ["Chart", first, s, end, s]}
        if kind == "pie":
            spec["points"] = [{"fill": {"color": charts.PALETTE[i % len(charts.PALETTE)]}}
                              for i in range(len(model.categories))]
            spec["data_labels"] = {"percentage": True}
        else:
            spec["fill" if kind == "bar" else "line"] = {"color": charts.PALETTE[(s - 1) % len(charts.PALETTE)]}
        chart.add_series(spec)
    chart.set_title({"name": model.title})
    if kind == "bar":
        chart.set_y_axis({"reverse": True})  # the largest first, at the top, as on the page
        chart.set_legend({"none": len(model.series) == 1})
    elif kind == "line":
        chart.set_legend({"none": len(model.series) == 1})
    chart.set_size({"width": 760, "height": max(320, 26 * len(model.categories) + 80) if kind == "bar" else 400})
    sheet.insert_chart(top, len(model.series) + 2, chart)


def _options_sheet(book, result, account: str | None, now: dt.datetime, count: int) -> None:
    sheet = book.add_worksheet("Options")
    lines = [("Report", result.report.title), ("Name", result.report.name),
             *result.options.describe(),
             ("Generated", display(timezone.localtime(now), "datetime")),
             ("Account", account or ACCOUNT_UNKNOWN),
             ("Rows", str(count))]
    sheet.write_string(0, 0, "Option", book.add_format({"bold": True, "bottom": 1}))
    sheet.write_string(0, 1, "Value", book.add_format({"bold": True, "bottom": 1}))
    for row, (label, value) in enumerate(lines, start=1):
        sheet.write_string(row, 0, label)
        sheet.write_string(row, 1, value)
    sheet.set_column(0, 0, max(len(label) for label, _ in lines) + 2)
    sheet.set_column(1, 1, min(max(len(value) for _, value in lines) + 2, 80))

