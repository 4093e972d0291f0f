"""Charts: one model drawn as SVG for the pages (well-formed, no script, no style attribute,
accessible) and as a ReportLab drawing for the PDFs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from calltally.accounts.scope import Scope
from calltally.reports import catalogue, charts
from calltally.reports.options import validate

from .conftest import NOW

SVG = "{http://www.w3.org/2000/svg}"
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def run(name, **options):
    scope = Scope("administrator")
    return catalogue.run(name, validate({**MARCH, **options}, scope), scope, NOW)


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def texts(svg: ET.Element) -> list[str]:
    """What the <text> elements print (a cut label has its whole text as a <title> before it)."""
    return [t.find(f"{SVG}title").tail if t.find(f"{SVG}title") is not None else t.text for t in svg.iter(f"{SVG}text")]


CHARTED = [r.name for r in catalogue.catalogue() if r.chart is not None and r.name != "tariff-comparison"]


@pytest.mark.parametrize("name", CHARTED)
def test_every_report_declaring_a_chart_draws_a_well_formed_svg_without_script_or_style(world, name):
    result = run(name)
    model = charts.chart_of(result)
    if model is None:
        assert not result.chart or not any(
            v for s in result.chart.get("series", []) for v in s["values"]), f"{name} has data but no chart"
        return
    figure = parsed(charts.figure(model))
    assert figure.tag == "figure" and figure.get("aria-label") == result.report.title
    svg = figure.find(f"{SVG}svg")
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text == result.report.title
    assert svg.find(f"{SVG}desc").get("id") == desc_id and svg.find(f"{SVG}desc").text
    assert figure.find("figcaption").text == model.caption
    for element in figure.iter():
        assert "style" not in element.attrib, f"{element.tag} has a style attribute"
        assert not any(a.startswith("on") for a in element.attrib), f"{element.tag} has an event handler"
        assert not element.tag.endswith("script") and not element.tag.endswith("style")
        assert not element.tag.endswith("foreignObject")


def test_a_report_without_a_chart_renders_none(world):
    assert charts.chart_of(run("call-list")) is None
    assert charts.render_svg(run("call-list")) == ""


def test_the_cost_bars_of_a_summary_show_money_with_its_currency_and_keep_to_one_currency(world):
    result = run("summary-by-person")
    model = charts.chart_of(result)
    assert model.kind == "bar" and model.value_kind == "money" and model.currency == "EUR"
    # alice's calls cost 0.25 + 1.10 + 2.00 in EUR: the largest bar; mark's dollars are left out and said so.
    assert model.categories[0] == "alice" and model.series[0].values[0] == pytest.approx(3.35)
    assert "mark" not in model.categories
    assert "USD left out" in model.caption
    assert "€3.35" in texts(parsed(charts.svg(model)))


def test_a_bar_chart_keeps_the_top_n_and_sums_the_rest_as_others(world):
    result = run("summary-by-destination")
    eur = [r for r in result.rows if r["currency"] == "EUR"]
    model = charts.chart_of(result, top=1)
    assert len(model.categories) == 2 and model.categories[1] == f"Others ({len(eur) - 1})"
    assert sum(model.series[0].values) == pytest.approx(float(sum(r["cost"] for r in eur)))
    marks = parsed(charts.svg(model)).findall(f"{SVG}rect[@class='ct-others']")
    assert len(marks) == 1 and marks[0].find(f"{SVG}title").text.startswith("Others")


def test_the_heatmap_has_a_cell_per_hour_and_weekday_with_its_count_as_hover_text(world):
    model = charts.chart_of(run("traffic-by-hour-weekday"))
    assert model.kind == "heatmap" and len(model.rows) == 7 and len(model.categories) == 24
    svg = parsed(charts.svg(model))
    cells = [r for r in svg.iter(f"{SVG}rect") if r.get("class", "").startswith("ct-heat")]
    assert len(cells) == 7 * 24
    # 2 March 2026 was a Monday: the three Rome calls at 09:00, 09:02 and 12:00 local time.
    assert "Monday 09:00: 2 calls" in [c.find(f"{SVG}title").text for c in cells]
    assert "busiest hour is Monday 09:00" in model.caption


def test_the_calls_per_day_line_has_a_point_per_day(world):
    result = run("calls-per-day")
    model = charts.chart_of(result)
    svg = parsed(charts.svg(model))
    points = list(svg.iter(f"{SVG}circle"))
    assert model.kind == "line" and len(points) == len(result.chart["x"])
    assert len(list(svg.iter(f"{SVG}polyline"))) >= 2  # the grid and the line


def test_a_pie_has_a_slice_per_category_with_its_share(world):
    model = charts.chart_of(run("summary-by-category"))
    assert model.kind == "pie"
    slices = [p for p in parsed(charts.svg(model)).iter() if p.tag in (f"{SVG}path", f"{SVG}circle")]
    assert len(slices) == sum(1 for v in model.series[0].values if v > 0)
    assert all("%" in s.find(f"{SVG}title").text for s in slices)


def test_text_from_the_data_is_escaped_in_the_svg(world):
    model = charts.ChartModel("bar", "A <b> & c", ["<script>x</script>"], [charts.Series("calls", "Calls", [3])])
    markup = charts.svg(model)
    assert "<script>" not in markup and parsed(markup).find(f"{SVG}title").text == "A <b> & c"


@pytest.mark.parametrize("name", ["summary-by-person", "summary-by-category", "traffic-by-hour-weekday",
                                  "calls-per-day", "inbound-performance"])
def test_the_same_model_draws_as_a_reportlab_drawing_with_the_same_texts(world, name):
    from reportlab.graphics.shapes import String

    model = charts.chart_of(run(name))
    art = charts.drawing(model, width=400)
    assert art.width == 400 and art.height > 0
    strings = [s.text for s in art.getContents() if isinstance(s, String)]
    assert strings == texts(parsed(charts.svg(model)))


def test_a_count_axis_is_marked_in_whole_calls_up_to_a_round_number_above_the_largest(world):
    model = charts.chart_of(run("calls-per-day"))
    axis = [t.text for t in parsed(charts.svg(model)).iter(f"{SVG}text") if t.get("class") == "ct-axis"
            and ":" not in (t.text or "") and "-" not in (t.text or "")]
    assert axis == ["0", "2", "4", "6"]  # five calls on 2 March at most
