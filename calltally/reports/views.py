"""The report pages: the catalogue, one page per report (options, result, chart, drill-down,
exports) and the account's saved reports.

Every page runs the engine (calltally.reports.catalogue) with the account's scope and options
validated by THE options form (calltally.reports.options), as the command and the API do, so
a page, its exports and ``calltally report NAME --format json`` give the same numbers.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import tempfile
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe

from calltally.accounts.models import Role
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.calls.choices import Direction
from calltally.webkit import display
from calltally.webkit.views import Page

from . import catalogue, charts, export_pdf, export_xlsx, services
from .api.views import streamed_json
from .models import SavedReport
from .options import NONE, OptionsError, OptionsForm, ReportOptions, calls_for, report_sites, validate
from .output import cell, totals_row

PER_PAGE = 100
# The writers of the binary formats: ``write(result, stream, account=…)``.
EXPORTERS = {"xlsx": export_xlsx, "pdf": export_pdf}
FORMATS = ("csv", "xlsx", "pdf", "json")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# The page's own parameters: never report options.
PAGE_KEYS = ("sort", "page", "format", "run")
# The call list's columns a page may sort by, and the Call fields they sort on.
CALL_SORTS = {"start": "start", "site": "site__code", "extension": "extension_number", "person": "person__username",
              "direction": "direction", "remote_number": "remote_number", "destination": "destination",
              "category": "category", "ring_seconds": "ring_seconds", "talk_seconds": "talk_seconds",
              "cost": "cost", "currency": "currency", "account": "account"}
# Options only some reports read: offered on their pages only.
ONLY_FOR = {"top": {"top-expensive-calls", "top-longest-calls", "top-called-numbers", "top-spenders"},
            "within": {"inbound-performance"}, "plan": {"tariff-comparison"}}
UNRATED = mark_safe('<span class="badge text-bg-warning">unrated</span>')


def chart_svg(result):
    """The result's chart as an inline SVG figure (calltally.reports.charts escapes every value),
    or None for a report without a chart."""
    figure = charts.render_svg(result) if result.chart else ""
    return mark_safe(figure) if figure else None  # noqa: S308 (escaped by charts)


class PageOptionsForm(OptionsForm):
    """The options form as a page shows it: only the options the account's scope lets it choose
    (a user has no person or cost center to pick) and those the report reads. Validation is
    the shared form's, unchanged."""

    def __init__(self, *args, report=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.scope is not None and self.scope.role == Role.USER:
            for name in ("person", "cost_center"):
                self.fields.pop(name, None)
        for name, reports in ONLY_FOR.items():
            if report is None or report.name not in reports:
                self.fields.pop(name, None)

    def period_fields(self):
        return [self[name] for name in ("period", "date_from", "time_from", "date_to", "time_to")]

    def filter_fields(self):
        skip = {"period", "date_from", "time_from", "date_to", "time_to"}
        return [self[name] for name in self.fields if name not in skip]


class CatalogueView(Page):
    """Every report of the catalogue by group, and the account's saved reports."""

    title = "Reports"

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Reports", None)]

    def get(self, request):
        groups = []
        for group in catalogue.GROUPS:
            reports = [r for r in catalogue.catalogue() if r.group == group and self.offers(r)]
            if reports:
                groups.append((group, reports))
        saved = list(services.saved_reports(request.user).order_by("name"))
        titles = {r.name: r.title for r in catalogue.catalogue()}
        for item in saved:
            item.title = titles.get(item.report, item.report)
        return render(request, "reports/catalogue.html", self.context(groups=groups, saved=saved))

    def offers(self, report) -> bool:
        # The configuration reports and the tariff comparison are for those who run the sites.
        if report.name in ("undefined-extensions", "tariff-comparison"):
            return self.scope.runs_sites
        return True


class ReportView(Page):
    """One report: its options (the account's last ones when none are given), the result as a
    sortable table with totals, its chart, drill-down links, exports and "Save as…"."""

    def dispatch(self, request, *args, **kwargs):
        try:
            self.report = catalogue.get_report(kwargs["name"])
        except catalogue.UnknownReport:
            raise Http404("No such report.") from None
        self.title = self.report.title
        return super().dispatch(request, *args, **kwargs)

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Reports", reverse("reports:catalogue")), (self.report.title, None)]

    def option_data(self, request) -> dict | None:
        """The options the query names (None when it names none: the remembered ones apply)."""
        keys = [k for k in request.GET if k not in PAGE_KEYS]
        if not keys and "run" not in request.GET:
            return None
        return {k: (request.GET.getlist(k) if k in ("site", "plan") else request.GET.get(k)) for k in keys}

    def get(self, request, name):
        data = self.option_data(request)
        if data is None:
            options = services.remembered(request.user, self.scope) or ReportOptions()
            data = options.to_query()
        try:
            options = validate(data, self.scope)
        except OptionsError as exc:
            form = PageOptionsForm(data, scope=self.scope, report=self.report)
            form.is_valid()
            return render(request, "reports/report.html", self.context(
                report=self.report, form=form, invalid=True, errors=exc.form.error_text()), status=400)
        services.remember(request.user, options)
        if any(value == "" for value in request.GET.values()):
            # The form sends every field, most of them empty: the address kept (to share, to come
            # back to) names only the options that were set.
            kept = {k: request.GET[k] for k in ("sort", "format") if request.GET.get(k)}
            return HttpResponseRedirect("?" + urlencode({**options.to_query(), "run": "1", **kept}, doseq=True))
        fmt = request.GET.get("format")
        if fmt:
            return self.export(request, options, fmt)
        form = PageOptionsForm(initial=options.to_query(), scope=self.scope, report=self.report)
        result = self.report.run(options, self.scope)
        table = self.table(request, result, options)
        chart = chart_svg(result)
        query = options.to_query()
        return render(request, "reports/report.html", self.context(
            report=self.report, form=form, result=result, described=options.describe(), **table,
            chart=chart,
            exports=[(fmt.upper(), "?" + urlencode({**query, "format": fmt}, doseq=True)) for fmt in FORMATS],
            save_query=urlencode(query, doseq=True), notes=result.notes,
            saved=services.saved_reports(request.user).filter(report=self.report.name)))

    # --- the table ---------------------------------------------------------------------------
    def table(self, request, result, options: ReportOptions) -> dict:
        """Header, rows of cells and the totals row; the call-shaped reports a page at a time."""
        columns = result.columns
        sort = request.GET.get("sort", "")
        key = sort.lstrip("-")
        pager = None
        if self.report.name in catalogue.STREAMED:
            rows, pager = self.page_of_calls(request, result, options, key if key in CALL_SORTS else "",
                                             sort.startswith("-"))
            sortable = set(CALL_SORTS) if self.report.name == "call-list" else set()
        else:
            rows = list(result.rows)
            sortable = {c.name for c in columns}
            if key in sortable:
                rows.sort(key=lambda r: sort_key(r.get(key)), reverse=sort.startswith("-"))
        base = {k: v for k, v in request.GET.lists() if k not in ("sort", "page")}
        header = []
        for column in columns:
            link = None
            if column.name in sortable:
                order = f"-{column.name}" if sort == column.name else column.name
                link = "?" + urlencode({**base, "sort": order}, doseq=True)
            header.append({"label": column.label, "numeric": column.type in NUMERIC, "url": link,
                           "sorted": "ascending" if sort == column.name else (
                               "descending" if sort == f"-{column.name}" else "")})
        drills = self.report.drills
        body = [{"cells": [self.cell(row, c) for c in columns], "depth": min(row.get("depth", 0) or 0, 6),
                 "drill": drill_url(row["drill"]) if drills and row.get("drill") is not None else None}
                for row in rows]
        totals = totals_row(result)
        total_cells = None
        if totals is not None:
            total_cells = [self.cell(totals, c, totals=result.totals) for c in columns]
        if pager is not None:
            sorting = {"sort": sort} if sort else {}
            pager = {name: ("?" + urlencode({**base, **sorting, "page": n}, doseq=True) if n else None)
                     for name, n in pager.items() if name in ("previous", "next")} | {"number": pager["number"]}
        total_pairs = [(h["label"], c["text"]) for h, c in zip(header[1:], (total_cells or [])[1:], strict=False)
                       if c["text"] not in ("", display.EMPTY)]
        if "calls" in result.totals and "calls" not in {c.name for c in columns}:
            # A list of calls has no Calls column: its count heads its totals.
            total_pairs.insert(0, ("Calls", f"{result.totals['calls']:,}"))
        return {"header": header, "body": body, "total_cells": total_cells, "total_pairs": total_pairs,
                "pager": pager, "has_drill": drills}

    def page_of_calls(self, request, result, options, key: str, descending: bool):
        """One page of a call-shaped report: the call list from a sliced query (never counted
        nor read whole), the others by skipping through their stream."""
        try:
            number = max(1, int(request.GET.get("page", 1)))
        except ValueError:
            number = 1
        start = (number - 1) * PER_PAGE
        if self.report.name == "call-list":
            sites = report_sites(options, self.scope)
            order = CALL_SORTS.get(key, "start")
            ordering = (f"-{order}" if descending else order, "-id" if descending else "id")
            queryset = calls_for(options, self.scope, sites=sites).order_by(*ordering)[start:start + PER_PAGE + 1]
            rows = list(catalogue.call_rows(queryset, {s.pk: s for s in sites}))
        else:
            rows = list(itertools.islice(result.rows, start, start + PER_PAGE + 1))
        more = len(rows) > PER_PAGE
        return rows[:PER_PAGE], {"number": number, "previous": number - 1 if number > 1 else None,
                                 "next": number + 1 if more else None}

    @staticmethod
    def cell(row: dict, column, totals: dict | None = None) -> dict:
        value = row.get(column.name)
        currency = row.get("currency", "") if totals is None else (totals.get("currency") or "")
        numeric = column.type in NUMERIC
        if value is None:
            if column.type == "money" and totals is None and "currency" in row:
                # A call no rate matched has no cost: not a zero price.
                return {"text": UNRATED, "numeric": numeric}
            # Under a column the totals do not sum, the totals row stays blank.
            return {"text": "" if totals is not None else display.EMPTY, "numeric": numeric}
        if value == "":
            return {"text": "", "numeric": numeric}
        if column.name == "direction" and value in DIRECTIONS:
            text = display.badge(value, DIRECTIONS[value])
        elif column.type == "datetime" and hasattr(value, "astimezone"):
            text = display.local_time(value, value.tzinfo)
        elif column.type == "seconds":
            text = display.duration(value)
        elif column.type == "money":
            if isinstance(value, Decimal) and "/" not in currency:
                text = display.money(value, currency)
            else:
                text = str(value)  # several currencies: "EUR 3.70 / USD 1.00", never added together
        elif column.type == "percent":
            text = f"{value:.1f} %"
        elif column.type == "int":
            text = f"{value:,}" if isinstance(value, int) else str(value)
        else:
            text = NONE if value == NONE else cell(value, column.type)
        return {"text": text, "numeric": numeric}

    # --- exports -----------------------------------------------------------------------------
    def export(self, request, options: ReportOptions, fmt: str):
        """The same result as the page, streamed as CSV, JSON, XLSX or PDF (audited)."""
        if fmt not in FORMATS:
            raise Http404(f"No {fmt} export.")
        result = self.report.run(options, self.scope)
        audit.record(request, Action.EXPORT, what=f"report {self.report.name}", format=fmt,
                     query=urlencode(options.to_query(), doseq=True))
        filename = f"{self.report.name}.{fmt}"
        if fmt == "csv":
            response = StreamingHttpResponse(csv_lines(result), content_type=CONTENT_TYPES[fmt])
        elif fmt == "json":
            response = StreamingHttpResponse(streamed_json(result), content_type=CONTENT_TYPES[fmt])
        else:
            # The writer needs a seekable file (a workbook is a zip): spooled to disk past 8 MB.
            stream = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (FileResponse closes it)
            EXPORTERS[fmt].write(result, stream, account=request.user.get_username())
            stream.seek(0)
            return FileResponse(stream, as_attachment=True, filename=filename, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    # --- saving --------------------------------------------------------------------------------
    def post(self, request, name):
        """"Save as…": the options of the query string under a name."""
        query = {k: (request.POST.getlist(k) if k in ("site", "plan") else request.POST.get(k))
                 for k in request.POST if k not in ("csrfmiddlewaretoken", "save_name")}
        try:
            options = validate(query, self.scope)
        except OptionsError as exc:
            messages.error(request, f"Not saved: {exc}")
            return HttpResponseRedirect(reverse("reports:report", args=[name]))
        form = services.SaveReportForm({"name": request.POST.get("save_name", ""), "report": name}, user=request.user)
        if not form.is_valid():
            messages.error(request, "Not saved: give the report a name.")
            return HttpResponseRedirect(reverse("reports:report", args=[name]) + "?" + urlencode(query, doseq=True))
        saved = form.save(options)
        audit.record(request, Action.CREATE, obj=saved, after=audit.snapshot(saved))
        messages.success(request, f"Saved as “{saved.name}”.")
        return HttpResponseRedirect(saved_url(saved, options))


DIRECTIONS = dict(Direction.choices)
NUMERIC = ("int", "seconds", "money", "percent", "number")


def sort_key(value):
    """Rows sort with empty values last whatever their type."""
    if value is None or value == "":
        return (1, 0, "")
    if isinstance(value, (int, float, Decimal)):
        return (0, value, "")
    return (0, 0, str(value).lower())


def drill_url(options: ReportOptions) -> str:
    return reverse("reports:report", args=["call-list"]) + "?" + urlencode(
        {**options.to_query(), "run": "1"}, doseq=True)


def saved_url(saved: SavedReport, options: ReportOptions) -> str:
    return reverse("reports:report", args=[saved.report]) + "?" + urlencode(
        {**options.to_query(), "run": "1"}, doseq=True)


def csv_lines(result):
    """write_csv's lines (header, rows, totals), yielded one by one for a streaming response."""

    class Line:
        def write(self, text):
            return text

    writer = csv.writer(Line(), lineterminator="\n")
    yield writer.writerow([c.name for c in result.columns])
    for row in result.rows:
        yield writer.writerow([cell(row.get(c.name), c.type) for c in result.columns])
    total = totals_row(result)
    if total is not None:
        yield writer.writerow([cell(total.get(c.name), c.type) for c in result.columns])


class SavedReportView(Page):
    """Open a saved report: its options, validated again with the account's scope of today."""

    def get(self, request, pk):
        saved = get_object_or_404(services.saved_reports(request.user), pk=pk)
        try:
            options = services.load(saved, self.scope)
        except OptionsError as exc:
            messages.error(request, f"“{saved.name}” no longer runs as saved: {exc}")
            return HttpResponseRedirect(reverse("reports:catalogue"))
        return HttpResponseRedirect(saved_url(saved, options))


class SavedReportDeleteView(Page):
    """Delete one of the account's saved reports (asked to confirm on the page)."""

    def post(self, request, pk):
        saved = get_object_or_404(services.saved_reports(request.user), pk=pk)
        before = audit.snapshot(saved)
        with contextlib.suppress(SavedReport.DoesNotExist):
            audit.record(request, Action.DELETE, obj=saved, before=before)
            saved.delete()
        messages.success(request, f"Deleted the saved report “{saved.name}”.")
        return HttpResponseRedirect(reverse("reports:catalogue"))
