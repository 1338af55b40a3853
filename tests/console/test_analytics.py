"""The analytics dashboard: who may see it, filters, exports, audit, and no personal data."""

from __future__ import annotations

import csv
import html as markup
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.console.analytics import CHARTS
from app.models.console import AuditEntry
from app.reports import Params
from app.reports.aggregates import Aggregate, get
from tests.reports.dataset import TO, Dataset, build
from tests.reports.helpers import sign_in

URL = "/console/analytics"


@pytest.fixture
def data(svc) -> Dataset:
    with svc.db.session() as session:
        return build(session)


_PLACEHOLDER = re.compile(r'<section[^>]*data-chart-url="([^"]+)"[^>]*>.*?</section>', re.S)
"""A chart the page left for its script to load, with the fragment's URL."""


def chart_urls(html: str) -> list[str]:
    """Give the fragment URLs of the page's chart placeholders."""
    return [markup.unescape(url) for url in re.findall(r'data-chart-url="([^"]+)"', html)]


def dashboard(client, query: str = "") -> str:
    """Give the dashboard as a browser shows it: each placeholder replaced by its fragment."""
    response = client.get(f"{URL}?{query}" if query else URL)
    assert response.status_code == 200, response.get_data(as_text=True)

    def fill(match: re.Match) -> str:
        fragment = client.get(markup.unescape(match.group(1)))
        assert fragment.status_code == 200, match.group(1)
        return fragment.get_data(as_text=True)

    return _PLACEHOLDER.sub(fill, response.get_data(as_text=True))


def _table(html: str, slug: str) -> list[list[str]]:
    """Give the body rows of one chart's table as text cells."""
    section = html.split(f'id="{slug}"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("</tr>") if "<td" in row]


def test_signed_out_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


@pytest.mark.parametrize(("role", "country"), [("nea_admin", None), ("nea_officer", None),
                                               ("analyst", None), ("consular_officer", "SA")])
def test_every_staff_role_may_open_it(client, svc, role, country):
    sign_in(client, svc, role, country)
    html = dashboard(client)
    for chart in CHARTS:
        assert f'id="{chart.slug}"' in html
        assert f'{URL}/{chart.slug}.csv' in html and f'{URL}/{chart.slug}.xlsx' in html
    assert html.count("<svg") == len(CHARTS)


def test_staff_see_exact_counts_and_filters_narrow(client, svc, data):
    sign_in(client, svc, "nea_officer")
    html = dashboard(client, f"to={TO}")
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "6"], ["QA", "Qatar", "2"],
                                      ["AE", "United Arab Emirates", "1"]]
    html = dashboard(client, f"to={TO}&gender=female&country=SA")
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "4"]]
    assert _table(html, "placements-gender") == [["female", "female", "5"]]
    assert "Filters that do not apply here: gender." in html.split('id="red-flags"')[1]


def test_analysts_see_small_counts_hidden(client, svc, data):
    sign_in(client, svc, "analyst")
    html = dashboard(client, f"to={TO}")
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "6"],
                                      ["AE", "United Arab Emirates", "&lt;5"],
                                      ["QA", "Qatar", "&lt;5"]]
    assert _table(html, "sla")[2] == ["KE-RUH", "Embassy of Kenya, Riyadh", "&lt;5", "&lt;5",
                                      "&lt;5", "0", "suppressed"]


def test_a_bad_filter_is_said_and_nothing_is_counted(client, svc, data):
    sign_in(client, svc, "analyst")
    response = client.get(f"{URL}?from=2026-13-01")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Filter “from”" in html and "<svg" not in html
    response = client.get(f"{URL}?agency=NEA/PEA/1999/0009")
    assert response.status_code == 400 and "no agency holds" in response.get_data(as_text=True)


def test_a_consular_officer_counts_only_the_missions_countries(client, svc, data):
    sign_in(client, svc, "consular_officer", "SA")  # Riyadh: SA and YE
    html = dashboard(client, f"to={TO}")
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "6"]]
    assert [row[0] for row in _table(html, "checkins")] == ["SA"]
    assert [row[0] for row in _table(html, "sla")] == ["KE-RUH"]
    response = client.get(f"{URL}?country=QA")
    assert response.status_code == 400
    assert "outside your mission" in response.get_data(as_text=True)
    csv_text = client.get(f"{URL}/stock.csv?to={TO}").get_data(as_text=True)
    assert [r[0] for r in csv.reader(io.StringIO(csv_text))] == ["country", "SA"]


@pytest.mark.parametrize("role", ["nea_admin", "analyst"])
def test_exports_read_back_with_the_reports_numbers(client, svc, data, role):
    sign_in(client, svc, role)
    for chart in CHARTS:
        with svc.db.Session() as session:
            expected = get(chart.report).rows(session, Params(date_to=TO, by=chart.by))
        response = client.get(f"{URL}/{chart.slug}.csv?to={TO}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert f"kazi-{chart.slug}-" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert rows[0] == list(chart.columns)
        assert len(rows) - 1 == len(expected), chart.slug
        response = client.get(f"{URL}/{chart.slug}.xlsx?to={TO}")
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data))
        sheet = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        assert sheet[0] == list(chart.columns) and len(sheet) - 1 == len(expected)
        if role == "nea_admin":  # exact: every numeric cell equals the report's
            for got, want in zip(sheet[1:], expected, strict=True):
                for column, value in zip(chart.columns, got, strict=True):
                    if isinstance(want[column], int | float):
                        assert value == want[column], (chart.slug, column)
        assert dict(book["About"].iter_rows(values_only=True))["filters"] == f"to={TO}"


def test_the_stock_export_has_the_exact_numbers(client, svc, data):
    sign_in(client, svc, "nea_officer")
    text = client.get(f"{URL}/stock.csv?to={TO}").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(text))) == [
        ["country", "country_name", "migrants"], ["SA", "Saudi Arabia", "6"],
        ["QA", "Qatar", "2"], ["AE", "United Arab Emirates", "1"]]
    book = load_workbook(io.BytesIO(client.get(f"{URL}/agency-risk.xlsx?to={TO}").data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        ("NEA/PEA/2024/0002", "Desert Star Agency", 38),
        ("NEA/PEA/2024/0003", "'=Coastline Jobs", 20),  # a name never runs as a formula
        ("NEA/PEA/2024/0001", "Safari Recruiters Ltd", 12)]


def audited(svc, user_id: int, action) -> list[AuditEntry]:
    """Give the user's audit entries matching ``action`` (a SQL condition), oldest first."""
    with svc.db.Session() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.user_id == user_id, action)
                               .order_by(AuditEntry.id)))


def test_every_export_is_audited(client, svc, data):
    user_id = sign_in(client, svc, "analyst")
    client.get(f"{URL}/departures.csv?to={TO}&country=SA")
    client.get(f"{URL}/sla.xlsx")
    entries = audited(svc, user_id, AuditEntry.action.like("export.%"))
    assert [(e.action, e.target, e.role) for e in entries] == [
        ("export.csv", "report:departures", "analyst"), ("export.xlsx", "report:sla", "analyst")]
    assert entries[0].details == {"chart": "departures", "rows": 4,
                                  "filters": {"to": str(TO), "country": "SA"}}


def test_an_analyst_sees_no_personal_data(client, svc, data):
    sign_in(client, svc, "analyst")
    pages = [dashboard(client)]
    for chart in CHARTS:
        pages.append(client.get(f"{URL}/{chart.slug}.csv").get_data(as_text=True))
        book = load_workbook(io.BytesIO(client.get(f"{URL}/{chart.slug}.xlsx").data))
        pages.append(repr([list(s.iter_rows(values_only=True)) for s in book.worksheets]))
    for page in pages:
        for secret in data.secrets():
            assert secret not in page


def test_unknown_charts_and_formats_are_not_found(client, svc):
    sign_in(client, svc, "analyst")
    assert client.get(f"{URL}/irregular.csv").status_code == 404
    assert client.get(f"{URL}/stock.pdf").status_code == 404


def test_chart_rows_are_kept_briefly_for_the_same_filters(client, svc, data):
    sign_in(client, svc, "analyst")
    dashboard(client, f"to={TO}&country=SA")
    keys = svc.redis.keys("kazi:analytics:*")
    assert len(keys) == len(CHARTS)
    assert all(0 < svc.redis.ttl(k) <= 300 for k in keys)
    client.get(f"{URL}/stock.csv?to={TO}&country=SA")  # the download reuses the page's rows
    assert len(svc.redis.keys("kazi:analytics:*")) == len(CHARTS)
    dashboard(client, f"to={TO}&country=QA")
    assert len(svc.redis.keys("kazi:analytics:*")) == 2 * len(CHARTS)


def test_the_first_load_runs_no_chart_query_and_leaves_placeholders(client, svc, data,
                                                                    monkeypatch):
    sign_in(client, svc, "nea_officer")
    queries = []
    real = Aggregate.rows
    monkeypatch.setattr(Aggregate, "rows", lambda self, *a, **k: queries.append(self.name)
                        or real(self, *a, **k))
    response = client.get(f"{URL}?to={TO}&country=SA")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert queries == [] and svc.redis.keys("kazi:analytics:*") == []
    urls = chart_urls(html)
    assert urls == [f"{URL}/chart/{chart.slug}?to={TO}&country=SA" for chart in CHARTS]
    assert html.count("Loading…") == len(CHARTS) and "<svg" not in html
    for url in urls:  # without JavaScript: a link to each chart
        assert f'<noscript><p><a href="{markup.escape(url)}">' in html
    for chart in CHARTS:  # the table of contents and the downloads work at once
        assert f'id="{chart.slug}"' in html and f'{URL}/{chart.slug}.csv?to={TO}' in html
    assert client.get(urls[0]).status_code == 200 and queries == ["stock"]  # one query


def test_charts_fetched_once_are_drawn_in_the_page_next_time(client, svc, data):
    sign_in(client, svc, "analyst")
    first = dashboard(client, f"to={TO}")
    response = client.get(f"{URL}?to={TO}")
    html = response.get_data(as_text=True)
    assert chart_urls(html) == [] and "Loading…" not in html and "<script>" not in html
    assert html.count("<svg") == len(CHARTS)
    for chart in CHARTS:
        assert _table(html, chart.slug) == _table(first, chart.slug), chart.slug
    assert _table(html, "stock")[1] == ["AE", "United Arab Emirates", "&lt;5"]  # still hidden
    assert chart_urls(client.get(f"{URL}?to={TO}&country=SA").get_data(as_text=True))


def test_a_chart_fragment_is_one_section(client, svc, data):
    sign_in(client, svc, "nea_officer")
    response = client.get(f"{URL}/chart/stock?to={TO}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert html.count("<section") == 1 and "<html" not in html and html.count("<svg") == 1
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "6"], ["QA", "Qatar", "2"],
                                      ["AE", "United Arab Emirates", "1"]]
    assert f'{URL}/stock.csv?to={TO}' in html


def test_an_unknown_chart_is_not_found_and_a_bad_filter_refused(client, svc, data):
    sign_in(client, svc, "analyst")
    assert client.get(f"{URL}/chart/irregular").status_code == 404
    response = client.get(f"{URL}/chart/stock?from=2026-13-01")
    assert response.status_code == 400 and "from:" in response.get_data(as_text=True)
    response = client.get(f"{URL}/chart/stock?agency=NEA/PEA/1999/0009")
    assert response.status_code == 400 and "no agency holds" in response.get_data(as_text=True)
    assert svc.redis.keys("kazi:analytics:*") == []


def test_a_chart_fragment_is_audited(client, svc, data):
    user_id = sign_in(client, svc, "analyst")
    client.get(f"{URL}?to={TO}&gender=female")
    client.get(f"{URL}/chart/placements-gender?to={TO}&gender=female")
    entries = audited(svc, user_id, AuditEntry.action == "report.view")
    assert [(e.target, e.details) for e in entries] == [
        ("report:dashboard", {"filters": {"to": str(TO), "gender": "female"}}),
        ("report:placements", {"chart": "placements-gender",
                               "filters": {"to": str(TO), "gender": "female"}})]


def test_a_consular_officers_fragment_counts_only_the_missions_countries(client, svc, data):
    sign_in(client, svc, "consular_officer", "SA")  # Riyadh: SA and YE
    html = client.get(f"{URL}/chart/stock?to={TO}").get_data(as_text=True)
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "6"]]
    html = client.get(f"{URL}/chart/checkins?to={TO}").get_data(as_text=True)
    assert [row[0] for row in _table(html, "checkins")] == ["SA"]
    response = client.get(f"{URL}/chart/stock?country=QA")
    assert response.status_code == 400
    assert "outside your mission" in response.get_data(as_text=True)
