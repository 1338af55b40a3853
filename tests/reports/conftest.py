"""Fixtures for the report tests: the hand-built dataset and a one-line way to run a report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.reports import Params, Row
from app.reports.aggregates import get
from tests.reports.dataset import TO, Dataset, build


@pytest.fixture
def data(svc) -> Dataset:
    """The dataset of ``tests/reports/dataset.py``, committed."""
    with svc.db.session() as session:
        return build(session)


@pytest.fixture
def run(svc, data) -> Callable[..., list[Row]]:
    """Run a report on the dataset: ``run("stock", country="SA")`` (as of ``TO`` by default)."""

    def call(name: str, **filters: Any) -> list[Row]:
        filters.setdefault("date_to", TO)
        report = get(name)
        assert report is not None, name
        with svc.db.Session() as session:
            return report.rows(session, Params(**filters))

    return call
