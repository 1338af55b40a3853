"""Reading report filters from a query string, and the Kenyan calendar they use."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.reports import Params
from app.reports.filters import FilterError, as_query, end_of, parse, start_of


def test_every_filter_is_read_and_written_back():
    args = {"from": "2026-01-01", "to": "2026-06-30", "country": "sa", "county": "47",
            "agency": "nea/pea/2024/0001", "gender": "Female", "occupation": "driver",
            "by": "county"}
    params = parse(args)
    assert params == Params(country="SA", date_from=date(2026, 1, 1), date_to=date(2026, 6, 30),
                            county=47, agency="NEA/PEA/2024/0001", gender="female",
                            occupation="driver", by="county")
    assert parse(as_query(params)) == params


def test_empty_values_are_no_filter():
    assert parse({"country": "", "county": " ", "from": ""}) == Params()


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "30/06/2026"}, "from"),
    ({"from": "2026-07-01", "to": "2026-06-30"}, "from"),
    ({"country": "XX"}, "country"),
    ({"country": "Saudi"}, "country"),
    ({"county": "48"}, "county"),
    ({"county": "Nairobi"}, "county"),
    ({"gender": "f"}, "gender"),
    ({"occupation": "astronaut"}, "occupation"),
    ({"agency": "X" * 41}, "agency"),
])
def test_a_bad_value_names_its_field(args, field):
    with pytest.raises(FilterError) as caught:
        parse(args)
    assert caught.value.field == field


def test_strict_refuses_unknown_names():
    assert parse({"form": "2026-01-01"}) == Params()
    with pytest.raises(FilterError) as caught:
        parse({"form": "2026-01-01"}, strict=True)
    assert caught.value.field == "form"


def test_days_are_kenyan_days():
    assert start_of(date(2026, 6, 30)) == datetime(2026, 6, 29, 21, 0, tzinfo=UTC)
    assert end_of(date(2026, 6, 30)) == datetime(2026, 6, 30, 21, 0, tzinfo=UTC)
