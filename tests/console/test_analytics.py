"""The analytics dashboard: who may see it, filters, exports, audit, and no personal data."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.console.analytics import CHARTS
from app.models.console import AuditEntry
from app.reports import Params
from app.reports.aggregates import get
from tests.reports.dataset import TO, Dataset, build
from tests.reports.helpers import sign_in

URL = "/console/analytics"


@pytest.fixture
def data(svc) -> Dataset:
    with svc.db.session() as session:
        return build(session)


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
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for chart in CHARTS:
        assert f'id="{chart.slug}"' in html
        assert f'{URL}/{chart.slug}.csv' in html and f'{URL}/{chart.slug}.xlsx' in html
    assert html.count("<svg") == len(CHARTS)


def test_staff_see_exact_counts_and_filters_narrow(client, svc, data):
    sign_in(client, svc, "nea_officer")
    html = client.get(f"{URL}?to={TO}").get_data(as_text=True)
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "6"], ["QA", "Qatar", "2"],
                                      ["AE", "United Arab Emirates", "1"]]
    html = client.get(f"{URL}?to={TO}&gender=female&country=SA").get_data(as_text=True)
    assert _table(html, "stock") == [["SA", "Saudi Arabia", "4"]]
    assert _table(html, "placements-gender") == [["female", "female", "5"]]
    assert "Filters that do not apply here: gender." in html.split('id="red-flags"')[1]


def test_analysts_see_small_counts_hidden(client, svc, data):
    sign_in(client, svc, "analyst")
    html = client.get(f"{URL}?to={TO}").get_data(as_text=True)
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
    html = client.get(f"{URL}?to={TO}").get_data(as_text=True)
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


def test_every_export_is_audited(client, svc, data):
    user_id = sign_in(client, svc, "analyst")
    client.get(f"{URL}/departures.csv?to={TO}&country=SA")
    client.get(f"{URL}/sla.xlsx")
    with svc.db.Session() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.user_id == user_id,
                                                      AuditEntry.action.like("export.%"))
                             .order_by(AuditEntry.id)).all()
    assert [(e.action, e.target, e.role) for e in entries] == [
        ("export.csv", "report:departures", "analyst"), ("export.xlsx", "report:sla", "analyst")]
    assert entries[0].details == {"chart": "departures", "rows": 4,
                                  "filters": {"to": str(TO), "country": "SA"}}


def test_an_analyst_sees_no_personal_data(client, svc, data):
    sign_in(client, svc, "analyst")
    pages = [client.get(URL).get_data(as_text=True)]
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
    client.get(f"{URL}?to={TO}&country=SA")
    keys = svc.redis.keys("kazi:analytics:*")
    assert len(keys) == len(CHARTS)
    assert all(0 < svc.redis.ttl(k) <= 300 for k in keys)
    client.get(f"{URL}/stock.csv?to={TO}&country=SA")  # the download reuses the page's rows
    assert len(svc.redis.keys("kazi:analytics:*")) == len(CHARTS)
    client.get(f"{URL}?to={TO}&country=QA")
    assert len(svc.redis.keys("kazi:analytics:*")) == 2 * len(CHARTS)
