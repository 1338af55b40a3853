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


def test_a_reviewers_decision_is_not_a_rule(svc, run):
    from sqlalchemy import select

    from app.listings.review import decide
    from app.models import JobListing

    with svc.db.session() as session:
        waiting = session.scalars(select(JobListing).where(
            JobListing.status == "needs_review")).first()
        decide(session, waiting, "reject", "The fee is charged to the worker.")
    rows = pick(run("red_flags"), *COLUMNS)
    assert "nea_review" not in [rule for rule, *_ in rows]
    assert rows[0] == ("worker_fee", 3, 3, 0)  # the rejection shows in its rule's row
