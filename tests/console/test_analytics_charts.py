"""Server-drawn SVG charts: labels escaped, hidden values never drawn to length."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from app.console.charts import Point, bar_chart, empty, line_chart


def _svg(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))  # well-formed XML, or this raises


def test_bars_are_scaled_to_the_largest_and_labels_escaped():
    svg = str(bar_chart("c", "Agencies", [Point("<b>A & B</b>", 40, "40"),
                                          Point("Small", 10, "10")]))
    _svg(svg)
    assert "<b>" not in svg and "&lt;b&gt;A &amp; B&lt;/b&gt;" in svg
    widths = [float(w) for w in re.findall(r'<rect x="200" y="\d+" width="([\d.]+)"', svg)]
    assert widths == [360.0, 90.0]


def test_a_hidden_value_is_a_hatched_stub_whatever_its_number():
    svg = str(bar_chart("c", "Stock", [Point("SA", 6, "6"), Point("QA", None, "<5", True)]))
    assert 'width="12.0" height="18" fill="url(#c-hidden)"' in svg
    assert "&lt;5" in svg


def test_percentages_scale_to_a_hundred():
    svg = str(bar_chart("c", "Rate", [Point("KE-RUH", 50.0, "50.0")], top=100))
    assert 'width="180.0"' in svg


def test_a_line_breaks_at_hidden_points():
    points = [Point("2026-01", 10, "10"), Point("2026-02", 12, "12"),
              Point("2026-03", None, "<5", True), Point("2026-04", 8, "8"),
              Point("2026-05", 9, "9")]
    svg = str(line_chart("d", "Departures", points))
    _svg(svg)
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4


def test_nothing_to_draw_says_so():
    assert "No data for these filters." in str(empty("e", "Nothing"))
    assert "No data" in str(bar_chart("e", "Nothing", []))
