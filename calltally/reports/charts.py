"""A report's chart: one model, laid out once, drawn as SVG for the web pages and as a ReportLab
Drawing (vector graphics) for the PDFs.

:func:`chart_of` reads a :class:`~calltally.reports.catalogue.ReportResult` into a :class:`ChartModel`
(a bar chart keeps the top N and folds the rest into "Others"; values are formatted like the report
tables, money with its currency). :func:`layout` turns the model into a list of shapes on a canvas
whose y axis points down; :func:`svg` and :func:`drawing` only translate those shapes, so the web
page and the PDF show the same picture.

The SVG obeys the Content-Security-Policy of the pages: no script, no ``style`` attribute (colours,
sizes and fonts are presentation attributes, with CSS classes for a style sheet to refine), and is
accessible: ``role="img"``, ``<title>`` and ``<desc>`` named by ``aria-labelledby``, a ``<title>``
on every bar, slice, point and cell, and a caption (:func:`figure`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from .output import display

# Colours told apart by people with the common colour blindnesses (Okabe & Ito), then greys.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
           "#7f7f7f", "#b0b0b0")
OTHERS_COLOUR = "#b0b0b0"
INK = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"
HEAT = "#0072b2"
FONT = "Helvetica"
DEFAULT_TOP = 10
OTHERS = "Others"
_ids = itertools.count(1)


@dataclass
class Series:
    """One measured column: its name in the rows, its label and its values along the categories."""

    name: str
    label: str
    values: list[float]


@dataclass
class ChartModel:
    """What a chart shows, whatever draws it.

    ``kind`` is bar (horizontal), pie, line or heatmap. ``categories`` are the labels along the
    axis (a heatmap's columns); a heatmap also has ``rows`` (its row labels) and ``grid`` (one list
    of values per row). ``value_kind`` is the column type the values are formatted as (int, money,
    seconds…) and ``currency`` the currency of money values."""

    kind: str
    title: str
    categories: list[str]
    series: list[Series] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    grid: list[list[float]] = field(default_factory=list)
    value_kind: str = "int"
    currency: str = ""
    caption: str = ""

    def text(self, value) -> str:
        """A value as the report's tables write it."""
        if self.value_kind == "money":
            return display(Decimal(str(value)), "money", self.currency)
        if self.value_kind in ("int", "seconds"):
            return display(int(round(value)), self.value_kind)
        return display(value, self.value_kind)


def chart_of(result, top: int = DEFAULT_TOP) -> ChartModel | None:
    """The chart of a report's result, or None when the report declares none or has nothing to show.

    Bar and pie charts keep the ``top`` largest rows and sum the rest as "Others" (from the rows
    when they are a list; a streamed result is never read here). Money is charted in one currency:
    the one with the largest total, said in the caption when others are left out."""
    data = result.chart
    declared = result.report.chart
    if not data or declared is None:
        return None
    kinds = {c.name: c.type for c in result.columns}
    labels = {c.name: c.label for c in result.columns}
    title = result.report.title
    if data["kind"] == "heatmap":
        grid = [[float(v) for v in row] for row in data["z"]]
        total = sum(map(sum, grid))
        if not total:
            return None
        # The first of equal hours (the earliest in the week) is named.
        peak = max(((v, r, c) for r, row in enumerate(grid) for c, v in enumerate(row)), key=lambda t: t[0])
        caption = (f"{title}: {display(int(total), 'int')} calls; the busiest hour is {data['y'][peak[1]]} "
                   f"{data['x'][peak[2]]}:00 with {display(int(peak[0]), 'int')} calls.")
        return ChartModel("heatmap", title, [str(x) for x in data["x"]], rows=[str(y) for y in data["y"]],
                          grid=grid, value_kind="int", caption=caption)
    names = [s["name"] for s in data["series"]]
    value_kind = kinds.get(names[0], "number")
    if data["kind"] == "line":
        series = [Series(s["name"], labels.get(s["name"], s["name"]), [float(v) for v in s["values"]])
                  for s in data["series"]]
        model = ChartModel("line", title, [str(x) for x in data["x"]], series, value_kind=value_kind)
        values = series[0].values
        if values:
            best = max(range(len(values)), key=values.__getitem__)
            model.caption = (f"{title}: {series[0].label.lower()} per day from {model.categories[0]} to "
                             f"{model.categories[-1]}; the most on {model.categories[best]} "
                             f"({model.text(values[best])}).")
        return model
    rows = data.get("rows") if isinstance(data.get("rows"), list) else \
        result.rows if isinstance(result.rows, list) else None
    currency, left_out = "", []
    if rows is not None and rows and "currency" in rows[0]:
        totals: dict[str, float] = {}
        for row in rows:
            key = row.get("currency") or ""
            totals[key] = totals.get(key, 0.0) + float(row.get(names[0]) or 0)
        if value_kind == "money" and len(totals) > 1:
            currency = max(totals, key=totals.get)
            left_out = sorted(c for c in totals if c != currency)
            rows = [r for r in rows if (r.get("currency") or "") == currency]
        elif len(totals) == 1:
            currency = next(iter(totals))
    if rows is None:
        categories = [str(x) for x in data["x"]]
        series = [Series(s["name"], labels.get(s["name"], s["name"]), [float(v) for v in s["values"]])
                  for s in data["series"]]
    else:
        if len(names) == 1:
            # One measure: the largest first, the rest as one "Others" bar or slice.
            rows = sorted(rows, key=lambda r: float(r.get(names[0]) or 0), reverse=True)
        shown, rest = rows[:top], rows[top:]
        categories = [str(r.get(declared.x) if r.get(declared.x) not in (None, "") else "(none)") for r in shown]
        series = [Series(n, labels.get(n, n), [float(r.get(n) or 0) for r in shown]) for n in names]
        if rest and len(names) == 1:
            categories.append(f"{OTHERS} ({len(rest)})")
            series[0].values.append(sum(float(r.get(names[0]) or 0) for r in rest))
    if not any(v for s in series for v in s.values):
        return None
    model = ChartModel("pie" if data["kind"] == "pie" else "bar", title, categories, series,
                       value_kind=value_kind, currency=currency)
    measure = " and ".join(s.label.lower() for s in series)
    axis = labels.get(declared.x, declared.x).lower()
    model.caption = f"{title}: {measure} by {axis}"
    if len(series) == 1:
        model.caption += f", largest {categories[0]} ({model.text(series[0].values[0])})"
    model.caption += "."
    if left_out:
        model.caption += f" Costs in {currency} only ({', '.join(left_out)} left out)."
    return model


# --- layout: shapes on a canvas whose y axis points down -------------------------------------------

@dataclass
class Shape:
    """One thing to draw. ``kind``: rect (x, y, w, h), text (x, y baseline, text, anchor), line
    (points of two), polyline (points), circle (x, y, r), wedge (x, y, r, start/end degrees
    counter-clockwise from three o'clock). ``tip`` is the hover text of a mark."""

    kind: str
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0
    r: float = 0
    start: float = 0
    end: float = 0
    points: list[tuple[float, float]] = field(default_factory=list)
    text: str = ""
    anchor: str = "start"
    size: float = 10
    bold: bool = False
    fill: str | None = None
    opacity: float = 1.0
    stroke: str | None = None
    stroke_width: float = 1
    css: str = ""
    tip: str = ""


def _nice_ceiling(value: float) -> float:
    """The round number an axis ends at (1, 2, 2.5, 5 × a power of ten) at or above ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _ticks(model: ChartModel, maximum: float) -> list[float]:
    """The values an axis is marked at: 0 to a round number at or above ``maximum`` in round steps
    (whole steps for counts and seconds: a count axis never reads 1.25 calls)."""
    step = _nice_ceiling(maximum / 4)
    if model.value_kind in ("int", "seconds"):
        step = max(1, math.ceil(step))
    count = max(1, math.ceil(maximum / step - 1e-9))
    return [step * i for i in range(count + 1)]


def _clip(text: str, width: float, size: float) -> str:
    """Text cut to about ``width`` points (Helvetica averages some 0.55 em per character)."""
    most = max(int(width / (size * 0.55)), 4)
    return text if len(text) <= most else text[: most - 1] + "…"


def layout(model: ChartModel, width: float = 640) -> tuple[float, float, list[Shape]]:
    """The chart's shapes and the canvas's size (width, height)."""
    return {"bar": _bars, "pie": _pie, "line": _line, "heatmap": _heatmap}[model.kind](model, width)


def _legend(model: ChartModel, x: float, y: float, shapes: list[Shape]) -> float:
    for i, series in enumerate(model.series):
        shapes.append(Shape("rect", x, y - 9, 10, 10, fill=PALETTE[i % len(PALETTE)], css=f"ct-series-{i}"))
        shapes.append(Shape("text", x + 14, y, text=series.label, size=10, fill=INK, css="ct-legend"))
        x += 24 + len(series.label) * 6
    return y + 16


def _bars(model: ChartModel, width: float):
    shapes: list[Shape] = []
    label_width = min(190, max(60, 6.2 * max(len(c) for c in model.categories)))
    left, right, top = label_width + 8, 80, 10
    if len(model.series) > 1:
        top = _legend(model, left, 14, shapes) + 2
    band = 8 + 14 * len(model.series)
    plot_w = width - left - right
    ticks = _ticks(model, max(v for s in model.series for v in s.values))
    peak = ticks[-1]
    plot_h = band * len(model.categories)
    for tick in ticks:
        x = left + plot_w * tick / peak
        shapes.append(Shape("line", points=[(x, top), (x, top + plot_h)], stroke=GRID, css="ct-grid"))
        shapes.append(Shape("text", x, top + plot_h + 13, text=model.text(tick), anchor="middle",
                            size=8, fill=MUTED, css="ct-axis"))
    for row, category in enumerate(model.categories):
        y0 = top + row * band
        shapes.append(Shape("text", left - 6, y0 + band / 2 + 4, text=_clip(category, label_width, 10),
                            anchor="end", size=10, fill=INK, css="ct-label", tip=category))
        for i, series in enumerate(model.series):
            value = series.values[row]
            bar_w = plot_w * value / peak
            y = y0 + 4 + i * 14
            others = category.startswith(OTHERS) and len(model.series) == 1
            shapes.append(Shape("rect", left, y, max(bar_w, 0.5), 12,
                                fill=OTHERS_COLOUR if others else PALETTE[i % len(PALETTE)],
                                css="ct-others" if others else f"ct-series-{i}",
                                tip=f"{category}: {model.text(value)}" + (f" ({series.label})" if i or len(
                                    model.series) > 1 else "")))
            shapes.append(Shape("text", left + bar_w + 4, y + 10, text=model.text(value), size=9, fill=INK,
                                css="ct-value"))
    shapes.append(Shape("line", points=[(left, top), (left, top + plot_h)], stroke=MUTED, css="ct-axis-line"))
    return width, top + plot_h + 20, shapes


def _pie(model: ChartModel, width: float):
    shapes: list[Shape] = []
    values = model.series[0].values
    total = sum(values) or 1
    r = 100
    cx, cy = 10 + r, 10 + r
    angle = 90.0  # the first slice starts at twelve o'clock and turns clockwise
    legend_x, legend_y = cx + r + 30, 24
    for i, (category, value) in enumerate(zip(model.categories, values, strict=True)):
        colour = OTHERS_COLOUR if category.startswith(OTHERS) else PALETTE[i % len(PALETTE)]
        css = "ct-others" if category.startswith(OTHERS) else f"ct-series-{i % len(PALETTE)}"
        sweep = 360.0 * value / total
        share = f"{100 * value / total:.1f} %"
        if value > 0:
            shapes.append(Shape("wedge", cx, cy, r=r, start=angle - sweep, end=angle, fill=colour, stroke="#ffffff",
                                css=css, tip=f"{category}: {model.text(value)} ({share})"))
        angle -= sweep
        shapes.append(Shape("rect", legend_x, legend_y - 9, 10, 10, fill=colour, css=css))
        shapes.append(Shape("text", legend_x + 16, legend_y,
                            text=f"{_clip(category, width - legend_x - 170, 10)}", size=10, fill=INK,
                            css="ct-label", tip=category))
        shapes.append(Shape("text", width - 10, legend_y, text=f"{model.text(value)}  {share}", anchor="end",
                            size=10, fill=INK, css="ct-value"))
        legend_y += 18
    return width, max(2 * r + 20, legend_y), shapes


def _line(model: ChartModel, width: float):
    shapes: list[Shape] = []
    left, right, top, height = 56, 16, 12, 240
    plot_w, plot_h = width - left - right, height - top - 40
    ticks = _ticks(model, max(v for s in model.series for v in s.values))
    peak = ticks[-1]
    count = len(model.categories)
    for tick in ticks:
        y = top + plot_h - plot_h * tick / peak
        shapes.append(Shape("line", points=[(left, y), (left + plot_w, y)], stroke=GRID, css="ct-grid"))
        shapes.append(Shape("text", left - 6, y + 3, text=model.text(tick), anchor="end", size=8,
                            fill=MUTED, css="ct-axis"))

    def x_of(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    step = max(1, math.ceil(count / 8))
    for i in range(0, count, step):
        # The first and last labels keep inside the canvas.
        anchor = "start" if i == 0 and count > 1 else "end" if i == count - 1 and count > 1 else "middle"
        shapes.append(Shape("text", x_of(i), top + plot_h + 14, text=model.categories[i], anchor=anchor, size=8,
                            fill=MUTED, css="ct-axis"))
    for s, series in enumerate(model.series):
        colour = PALETTE[s % len(PALETTE)]
        points = [(x_of(i), top + plot_h - plot_h * v / peak) for i, v in enumerate(series.values)]
        if len(points) > 1:
            shapes.append(Shape("polyline", points=points, stroke=colour, stroke_width=2, css=f"ct-line-{s}"))
        for (x, y), category, value in zip(points, model.categories, series.values, strict=True):
            shapes.append(Shape("circle", x, y, r=2.5 if count > 40 else 3.5, fill=colour, css=f"ct-series-{s}",
                                tip=f"{category}: {model.text(value)}"))
    shapes.append(Shape("line", points=[(left, top + plot_h), (left + plot_w, top + plot_h)], stroke=MUTED,
                        css="ct-axis-line"))
    if len(model.series) > 1:
        _legend(model, left, height - 6, shapes)
    return width, height, shapes


def _heatmap(model: ChartModel, width: float):
    shapes: list[Shape] = []
    left, top = 74, 16
    columns = len(model.categories)
    cell = min(28.0, (width - left - 8) / columns)
    peak = max(max(row) for row in model.grid) or 1
    for c, label in enumerate(model.categories):
        shapes.append(Shape("text", left + c * cell + cell / 2, top - 4, text=label, anchor="middle", size=8,
                            fill=MUTED, css="ct-axis"))
    for r, (label, row) in enumerate(zip(model.rows, model.grid, strict=True)):
        y = top + r * cell
        shapes.append(Shape("text", left - 6, y + cell / 2 + 4, text=label, anchor="end", size=10, fill=INK,
                            css="ct-label"))
        for c, value in enumerate(row):
            strength = value / peak
            tip = f"{label} {model.categories[c]}:00: {model.text(value)} calls"
            if value:
                shapes.append(Shape("rect", left + c * cell + 1, y + 1, cell - 2, cell - 2, fill=HEAT,
                                    opacity=round(0.12 + 0.88 * strength, 3), css="ct-heat", tip=tip))
                shapes.append(Shape("text", left + c * cell + cell / 2, y + cell / 2 + 3, text=model.text(value),
                                    anchor="middle", size=7 if value < 1000 else 6,
                                    fill="#ffffff" if strength > 0.55 else INK, css="ct-cell"))
            else:
                shapes.append(Shape("rect", left + c * cell + 1, y + 1, cell - 2, cell - 2, fill="#f1f3f5",
                                    css="ct-heat-empty", tip=tip))
    bottom = top + len(model.rows) * cell + 16
    shapes.append(Shape("text", left, bottom, text=f"Darker: more calls (most in one hour: {model.text(peak)})",
                        size=9, fill=MUTED, css="ct-axis"))
    return width, bottom + 6, shapes


# --- SVG ----------------------------------------------------------------------------------------

def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _tip(shape: Shape) -> str:
    return f"<title>{escape(shape.tip)}</title>" if shape.tip else ""


def _svg_shape(shape: Shape) -> str:
    css = f' class="{shape.css}"' if shape.css else ""
    paint = ""
    if shape.fill:
        paint += f' fill="{shape.fill}"'
        if shape.opacity < 1:
            paint += f' fill-opacity="{shape.opacity}"'
    if shape.stroke:
        paint += f' stroke="{shape.stroke}" stroke-width="{_n(shape.stroke_width)}"'
    if shape.kind == "rect":
        return (f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" height="{_n(shape.h)}"'
                f'{css}{paint}>{_tip(shape)}</rect>')
    if shape.kind == "text":
        weight = ' font-weight="bold"' if shape.bold else ""
        return (f'<text x="{_n(shape.x)}" y="{_n(shape.y)}" text-anchor="{shape.anchor}" '
                f'font-size="{_n(shape.size)}"{weight}{css}{paint}>{_tip(shape)}{escape(shape.text)}</text>')
    if shape.kind in ("line", "polyline"):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
        return f'<polyline points="{points}" fill="none"{css}{paint}/>'
    if shape.kind == "circle":
        return f'<circle cx="{_n(shape.x)}" cy="{_n(shape.y)}" r="{_n(shape.r)}"{css}{paint}>{_tip(shape)}</circle>'
    if shape.kind == "wedge":
        if shape.end - shape.start >= 359.99:
            return f'<circle cx="{_n(shape.x)}" cy="{_n(shape.y)}" r="{_n(shape.r)}"{css}{paint}>{_tip(shape)}</circle>'
        # Angles count counter-clockwise from three o'clock, as ReportLab's; the SVG y axis points down.
        x0 = shape.x + shape.r * math.cos(math.radians(shape.start))
        y0 = shape.y - shape.r * math.sin(math.radians(shape.start))
        x1 = shape.x + shape.r * math.cos(math.radians(shape.end))
        y1 = shape.y - shape.r * math.sin(math.radians(shape.end))
        large = 1 if shape.end - shape.start > 180 else 0
        path = (f"M{_n(shape.x)},{_n(shape.y)} L{_n(x0)},{_n(y0)} A{_n(shape.r)},{_n(shape.r)} 0 {large} 0 "
                f"{_n(x1)},{_n(y1)} Z")
        return f'<path d="{path}"{css}{paint}>{_tip(shape)}</path>'
    raise ValueError(f"unknown shape {shape.kind}")


def svg(model: ChartModel, width: float = 640) -> str:
    """The chart as an ``<svg>`` element (text; every value escaped), sized by its viewBox so the
    page's CSS makes it as wide as its column."""
    w, h, shapes = layout(model, width)
    ident = f"ct-chart-{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ct-chart ct-chart-{model.kind}" viewBox="0 0 {_n(w)} {_n(h)}"'
        f' width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="{ident}-t {ident}-d"'
        f' font-family="system-ui, -apple-system, Helvetica, Arial, sans-serif">',
        f'<title id="{ident}-t">{escape(model.title)}</title>',
        f'<desc id="{ident}-d">{escape(model.caption)}</desc>',
    ]
    parts.extend(_svg_shape(shape) for shape in shapes)
    parts.append("</svg>")
    return "".join(parts)


def figure(model: ChartModel, width: float = 640) -> str:
    """The SVG in a ``<figure>`` with its caption, for a web page (mark it safe: it is escaped)."""
    return (f'<figure class="ct-figure" aria-label={quoteattr(model.title)}>{svg(model, width)}'
            f'<figcaption class="ct-caption">{escape(model.caption)}</figcaption></figure>')


def render_svg(result, top: int = DEFAULT_TOP) -> str:
    """The ``<figure>`` of a report's result, or "" when it has no chart."""
    model = chart_of(result, top)
    return figure(model) if model is not None else ""


# --- ReportLab ------------------------------------------------------------------------------------

def drawing(model: ChartModel, width: float = 480):
    """The chart as a ReportLab Drawing of ``width`` points (vector graphics for a PDF flowable)."""
    from reportlab.graphics.shapes import Circle, Drawing, PolyLine, Rect, String, Wedge
    from reportlab.lib.colors import HexColor

    base = 640.0
    w, h, shapes = layout(model, base)
    scale = width / w
    art = Drawing(width, h * scale)

    def colour(value):
        return HexColor(value) if value else None

    for shape in shapes:
        if shape.kind == "rect":
            item = Rect(shape.x, h - shape.y - shape.h, shape.w, shape.h, fillColor=colour(shape.fill),
                        strokeColor=colour(shape.stroke), fillOpacity=shape.opacity)
        elif shape.kind == "text":
            item = String(shape.x, h - shape.y, shape.text, fontName=FONT + ("-Bold" if shape.bold else ""),
                          fontSize=shape.size, fillColor=colour(shape.fill), textAnchor=shape.anchor)
        elif shape.kind in ("line", "polyline"):
            item = PolyLine([c for x, y in shape.points for c in (x, h - y)], strokeColor=colour(shape.stroke),
                            strokeWidth=shape.stroke_width)
        elif shape.kind == "circle":
            item = Circle(shape.x, h - shape.y, shape.r, fillColor=colour(shape.fill), strokeColor=None)
        elif shape.kind == "wedge":
            if shape.end - shape.start >= 359.99:
                item = Circle(shape.x, h - shape.y, shape.r, fillColor=colour(shape.fill), strokeColor=None)
            else:
                item = Wedge(shape.x, h - shape.y, shape.r, shape.start, shape.end, fillColor=colour(shape.fill),
                             strokeColor=colour(shape.stroke), strokeWidth=shape.stroke_width)
        else:
            raise ValueError(f"unknown shape {shape.kind}")
        art.add(item)
    art.scale(scale, scale)
    return art
