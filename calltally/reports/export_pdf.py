"""A report as a PDF (ReportLab platypus): ``write(result, stream)``.

The document: the logo of the system settings (a PNG or JPEG; an SVG logo is left out, as ReportLab
does not draw SVG), the report's title and description, the options it ran with, when and for whom
it was generated, the chart as vector graphics, the table and its totals. Every page repeats the
table's header and ends with "page N of M".

The table is one flowable reading the result's rows as it lays out each page (:class:`RowsTable`):
a page of rows is in memory at a time, so a long call list is streamed. A PDF of more than
:data:`MAX_ROWS` rows is of no use to a reader and slow to make, so the table stops there with a
note saying to use CSV or XLSX for the rest; the totals printed are still those of every row.

Numbers are right-aligned and written as the report tables on the web write them: counts with
thousands separators, durations h:mm:ss, money with its row's currency, times in the site's zone
with their offset.
"""

from __future__ import annotations

import datetime as dt
import io
from itertools import islice
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from . import charts
from .output import display, money_text, totals_row

# The most rows a PDF holds (some 2,000 pages); CSV and XLSX have no such limit.
MAX_ROWS = 100_000
FONT, BOLD = "Helvetica", "Helvetica-Bold"
SIZE = 7.5
ROW_HEIGHT = 11
PAD = 3
MARGIN = 14 * mm
NUMERIC = ("int", "number", "money", "seconds", "percent")
# Who ran a report when the caller does not say (the command runs with every site's scope by default).
ACCOUNT_UNKNOWN = "calltally report (command line)"
# Rows measured to choose the columns' widths.
MEASURED_ROWS = 200
TOTAL_PAGES_FORM = "calltallyTotalPages"


def cell_text(row: dict, column, currency: str) -> str:
    return display(row.get(column.name), column.type, (row.get("currency") or currency) if column.type == "money"
                   else "")


def _clip(text: str, width: float, font: str) -> str:
    """Text cut with an ellipsis to fit ``width`` points."""
    # No Helvetica glyph is much wider than an em ("@" is 1.015): short text fits unmeasured.
    if len(text) * SIZE * 1.02 <= width or stringWidth(text, font, SIZE) <= width:
        return text
    while text and stringWidth(text + "…", font, SIZE) > width:
        text = text[:-1]
    return text + "…"


class RowsTable(Flowable):
    """The report's table, laid out a page at a time from an iterator of rows.

    ``wrap`` reads as many rows as the space left on the page holds; ``split`` gives that page's
    part (header, rows and, once the rows are all read, the totals) and keeps itself, with the
    iterator, for the next page. Rows are single lines of fixed height, so a page's count is known
    without measuring."""

    def __init__(self, columns, widths, rows, currency: str, total: dict | None, limit: int = MAX_ROWS):
        super().__init__()
        self.columns, self.widths, self.currency, self.total = columns, widths, currency, total
        self.rows = iter(rows)
        self.buffer: list[dict] = []
        self.read = 0
        self.limit = limit
        self.exhausted = False
        self.truncated = False
        self.drawn: list[tuple[list[dict], bool]] | None = None

    def _fill(self, count: int) -> None:
        while len(self.buffer) < count and not self.exhausted:
            room = min(count - len(self.buffer), self.limit - self.read)
            got = list(islice(self.rows, room))
            self.read += len(got)
            self.buffer.extend(got)
            if len(got) < room:
                self.exhausted = True
            elif self.read >= self.limit:
                self.exhausted = True
                # One more row means the report goes on beyond the limit.
                self.truncated = next(self.rows, None) is not None

    def _fits(self, height: float) -> int:
        return max(int((height - ROW_HEIGHT) // ROW_HEIGHT), 0)

    def wrap(self, available_width, available_height):
        fits = self._fits(available_height)
        self._fill(fits + 1)
        lines = len(self.buffer) + (1 if self.total is not None else 0)
        self.width = sum(self.widths)
        if self.exhausted and lines <= fits:
            self.height = ROW_HEIGHT * (lines + 1)
        else:
            self.height = available_height + 1  # more than the page: it will be split
        return self.width, self.height

    def split(self, available_width, available_height):
        fits = self._fits(available_height)
        if fits < 2:
            return []  # not even the header and a row: the next page
        self._fill(fits + 1)
        if self.exhausted and len(self.buffer) + (self.total is not None) <= fits:
            return [self]
        # Keep at least one row for the part with the totals, so they never stand alone.
        take = min(fits, len(self.buffer) - (1 if self.exhausted else 0)) if self.buffer else 0
        part = _RowsPage(self, self.buffer[:take], with_total=False)
        self.buffer = self.buffer[take:]
        # The rest goes on as this same flowable: platypus must not take it for one that already
        # failed to fit a whole page (it marks those "postponed").
        self.__dict__.pop("_postponed", None)
        return [part, self]

    def draw(self):
        self._fill(len(self.buffer) + 1)
        _draw_rows(self, self.canv, self.buffer, with_total=self.total is not None)
        self.buffer = []


class _RowsPage(Flowable):
    """One page's part of a :class:`RowsTable`."""

    def __init__(self, table: RowsTable, rows: list[dict], with_total: bool):
        super().__init__()
        self.table, self.rows, self.with_total = table, rows, with_total
        self.width = sum(table.widths)
        self.height = ROW_HEIGHT * (len(rows) + 1 + (1 if with_total else 0))

    def wrap(self, available_width, available_height):
        return self.width, self.height

    def draw(self):
        _draw_rows(self.table, self.canv, self.rows, self.with_total)


def _draw_rows(table: RowsTable, canvas, rows: list[dict], with_total: bool) -> None:
    lines = len(rows) + 1 + (1 if with_total else 0)
    top = ROW_HEIGHT * lines
    width = sum(table.widths)
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#e9ecef"))
    canvas.rect(0, top - ROW_HEIGHT, width, ROW_HEIGHT, stroke=0, fill=1)
    for i in range(1, len(rows), 2):  # banded rows read across more easily
        canvas.setFillColor(colors.HexColor("#f8f9fa"))
        canvas.rect(0, top - ROW_HEIGHT * (i + 2), width, ROW_HEIGHT, stroke=0, fill=1)
    canvas.setFillColor(colors.black)

    def line(texts: list[str], y: float, font: str) -> None:
        canvas.setFont(font, SIZE)
        x = 0.0
        for text, column, w in zip(texts, table.columns, table.widths, strict=True):
            text = _clip(text, w - 2 * PAD, font)
            if column.type in NUMERIC:
                canvas.drawRightString(x + w - PAD, y, text)
            else:
                canvas.drawString(x + PAD, y, text)
            x += w

    baseline = 3
    line([c.label for c in table.columns], top - ROW_HEIGHT + baseline, BOLD)
    y = top - ROW_HEIGHT
    for row in rows:
        y -= ROW_HEIGHT
        line([cell_text(row, c, table.currency) for c in table.columns], y + baseline, FONT)
    canvas.setStrokeColor(colors.HexColor("#adb5bd"))
    canvas.setLineWidth(0.5)
    canvas.line(0, top - ROW_HEIGHT, width, top - ROW_HEIGHT)
    if with_total:
        y -= ROW_HEIGHT
        canvas.line(0, y + ROW_HEIGHT, width, y + ROW_HEIGHT)
        total = table.total
        texts = []
        for column in table.columns:
            value = total.get(column.name)
            # A column the totals do not sum stays empty (not the dash of a missing value).
            texts.append("" if value is None else value if isinstance(value, str)
                         else display(value, column.type, table.currency))
        line(texts, y + baseline, BOLD)
    canvas.restoreState()


def _widths(columns, sample: list[dict], total: dict | None, currency: str, room: float) -> list[float]:
    """Each column as wide as its widest sampled value (or label), shrunk to ``room`` if needed by
    cutting the text columns first."""
    natural = []
    for column in columns:
        texts = [cell_text(row, column, currency) for row in sample]
        if total and column.name in total:
            value = total[column.name]
            texts.append(value if isinstance(value, str) else display(value, column.type, currency))
        widest = max([stringWidth(t, FONT, SIZE) for t in texts] + [stringWidth(column.label, BOLD, SIZE)])
        natural.append(widest + 2 * PAD + 1)
    excess = sum(natural) - room
    if excess <= 0:
        return natural
    text_columns = [i for i, c in enumerate(columns) if c.type not in NUMERIC and c.type != "datetime"]
    shrinkable = sum(max(natural[i] - 40, 0) for i in text_columns)
    out = list(natural)
    if shrinkable:
        for i in text_columns:
            out[i] -= min(excess, shrinkable) * max(natural[i] - 40, 0) / shrinkable
    if sum(out) > room:
        out = [w * room / sum(out) for w in out]
    return out


def _logo():
    """The logo of the system settings as a flowable, or None."""
    from calltally.system.models import ReportLogo

    logo = ReportLogo.objects.filter(pk=1).first()
    if logo is None or not logo.present or logo.content_type not in ("image/png", "image/jpeg"):
        return None
    width, height = logo.width or 1, logo.height or 1
    scale = min(50 * mm / width, 16 * mm / height)
    return Image(io.BytesIO(bytes(logo.content)), width=width * scale, height=height * scale, hAlign="RIGHT")


def write(result, stream, *, account: str | None = None, now: dt.datetime | None = None,
          max_rows: int = MAX_ROWS) -> int:
    """The PDF of ``result`` written to the binary ``stream``; returns the table's rows written.
    ``account`` (who ran it) and ``now`` are printed under the options."""
    now = now or timezone.now()
    columns = list(result.columns)
    currency = result.totals.get("currency") or result.options.currency or ""
    total = totals_row(result)
    by_currency = result.totals.get("cost_by_currency") or {}
    if total is not None and isinstance(total.get("cost"), str) and len(by_currency) > 1:
        # Several currencies: each total as money is written ("€3.70 / $1.00").
        total["cost"] = " / ".join(money_text(v, c) for c, v in by_currency.items())
    rows = iter(result.rows)
    sample = list(islice(rows, MEASURED_ROWS))
    portrait_room = A4[0] - 2 * MARGIN
    widths = _widths(columns, sample, total, currency, portrait_room)
    page = A4
    if sum(widths) >= portrait_room - 1 and len(columns) > 5:
        page = landscape(A4)
        widths = _widths(columns, sample, total, currency, page[0] - 2 * MARGIN)

    def chained():
        yield from sample
        yield from rows

    table = RowsTable(columns, widths, chained(), currency, total, limit=max_rows)
    model = charts.chart_of(result)
    story = _heading(result, account, now, page[0] - 2 * MARGIN)
    if model is not None:
        room = page[0] - 2 * MARGIN
        art = charts.drawing(model, width=min(room, 170 * mm))
        if art.height > page[1] * 0.55:  # a tall bar chart keeps to part of a page
            factor = page[1] * 0.55 / art.height
            art = charts.drawing(model, width=min(room, 170 * mm) * factor)
        art.hAlign = "LEFT"
        caption = ParagraphStyle("caption", fontName=FONT, fontSize=8, textColor=colors.HexColor("#6c757d"))
        story += [art, Paragraph(escape(model.caption), caption), Spacer(1, 5 * mm)]
    story.append(table)
    story.append(_Notes(table, result.notes))
    doc = _Document(stream, page, result, account, now)
    doc.build(story)
    return table.read


class _Notes(Flowable):
    """The notes under the table, the limit's among them when the table was cut (known only once
    the table has been laid out, hence a flowable of its own)."""

    def __init__(self, table: RowsTable, notes: list[str]):
        super().__init__()
        self.table, self.notes = table, notes
        self.paragraphs = None

    def _made(self, width):
        if self.paragraphs is None:
            style = ParagraphStyle("note", fontName=FONT, fontSize=9, leading=12, spaceBefore=4, alignment=TA_LEFT)
            texts = list(self.notes)
            if self.table.truncated:
                texts.insert(0, f"This PDF shows the first {self.table.limit:,} rows only; the totals are those of "
                                "every row. Export the report as CSV or XLSX to have them all.")
            self.paragraphs = [Paragraph(escape(t), style) for t in texts]
        return self.paragraphs

    def wrap(self, available_width, available_height):
        self.width = available_width
        self.height = sum(p.wrap(available_width, available_height)[1] + 4 for p in self._made(available_width))
        return self.width, self.height

    def draw(self):
        y = self.height
        for paragraph in self.paragraphs:
            _, h = paragraph.wrap(self.width, self.height)
            y -= h + 4
            paragraph.drawOn(self.canv, 0, y)


def _heading(result, account, now, room) -> list:
    styles = getSampleStyleSheet()
    title = ParagraphStyle("title", parent=styles["Title"], alignment=TA_LEFT, fontSize=16, spaceAfter=2)
    body = ParagraphStyle("body", parent=styles["Normal"], fontSize=9, leading=11)
    small = ParagraphStyle("small", parent=body, fontSize=8, textColor=colors.HexColor("#495057"))
    head = [Paragraph(escape(result.report.title), title), Paragraph(escape(result.report.description), small)]
    logo = _logo()
    story: list = []
    if logo is not None:
        story.append(Table([[head, logo]], colWidths=[room - 55 * mm, 55 * mm],
                           style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                             ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)])))
    else:
        story += head
    lines = [*result.options.describe(),
             ("Generated", display(timezone.localtime(now), "datetime")),
             ("Account", account or ACCOUNT_UNKNOWN)]
    options = Table([[Paragraph(f"<b>{escape(label)}</b>", body), Paragraph(escape(value), body)]
                     for label, value in lines], colWidths=[45 * mm, room - 45 * mm], hAlign="LEFT",
                    style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1),
                                      ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Spacer(1, 3 * mm), options, Spacer(1, 5 * mm)]
    return story


class _Document(BaseDocTemplate):
    """Pages with a footer: the report, the generation time and "page N of M" (M is a form drawn
    once the last page is known, so pages are never held back to be numbered)."""

    def __init__(self, stream, page, result, account, now):
        super().__init__(stream, pagesize=page, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                         bottomMargin=MARGIN + 4 * mm, title=result.report.title, author=account or "CallTally",
                         subject=result.report.description, creator="CallTally")
        self.result, self.generated = result, display(timezone.localtime(now), "datetime")
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body", leftPadding=0,
                      rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("page", [frame], onPage=self._footer)])

    def _footer(self, canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#6c757d"))
        y = MARGIN
        canvas.drawString(self.leftMargin, y, f"CallTally · {self.result.report.title} · generated {self.generated}")
        right = self.pagesize[0] - self.rightMargin
        canvas.drawRightString(right - 16, y, f"page {doc.page} of ")
        canvas.doForm(TOTAL_PAGES_FORM)  # drawn at (right - 16, y) by the form's own offset
        canvas.restoreState()

    def afterPage(self):
        self.last_page = self.page

    def _endBuild(self):
        # Every page is out: the form every footer refers to gets the last page's number, then the
        # document is saved.
        self._doSave = 0
        super()._endBuild()
        canvas = self.canv
        canvas.beginForm(TOTAL_PAGES_FORM)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#6c757d"))
        canvas.drawString(self.pagesize[0] - self.rightMargin - 16, MARGIN, str(self.last_page))
        canvas.endForm()
        canvas.save()
