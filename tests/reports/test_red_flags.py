"""``red_flags``: job listings by the rule that flagged them."""

from __future__ import annotations

from tests.reports.dataset import LICENCES
from tests.reports.helpers import pick

COLUMNS = ("rule", "listings", "rejected", "needs_review")


def test_each_listing_counts_once_per_rule(run):
    # KLA2B6 trips worker_fee twice: one listing. KLA2B7 is submitted in July.
    assert pick(run("red_flags"), *COLUMNS) == [
        ("worker_fee", 3, 2, 1), ("salary_norm", 1, 1, 0), ("tourist_visa", 1, 1, 0)]
    assert pick(run("red_flags", date_to=None), *COLUMNS) == [
        ("worker_fee", 3, 2, 1), ("contract_language", 1, 1, 0), ("salary_norm", 1, 1, 0),
        ("tourist_visa", 1, 1, 0)]


def test_filters_narrow(run):
    assert pick(run("red_flags", country="SA"), *COLUMNS) == [
        ("worker_fee", 2, 2, 0), ("salary_norm", 1, 1, 0), ("tourist_visa", 1, 1, 0)]
    assert pick(run("red_flags", agency=LICENCES["A2"]), *COLUMNS) == [
        ("worker_fee", 2, 1, 1), ("tourist_visa", 1, 1, 0)]
    assert pick(run("red_flags", occupation="construction_worker"), *COLUMNS) == [
        ("worker_fee", 1, 0, 1)]
    assert pick(run("red_flags", countries=("QA",)), *COLUMNS) == [("worker_fee", 1, 0, 1)]
