"""Tests for app.reference.salary_norms."""

import pytest

from app.reference.salary_norms import (
    OCCUPATIONS,
    PERIOD_FACTORS,
    SALARY_NORMS,
    SalaryNorm,
    deviation,
    monthly_amount,
    norm_for,
)

REQUIRED = ("SA", "AE", "QA", "KW", "OM", "BH", "JO", "LB", "GB", "DE", "PL", "CA", "US", "RU")


def make(lo: float = 1000, hi: float = 2000, cur: str = "SAR") -> SalaryNorm:
    return SalaryNorm("SA", "driver", lo, hi, cur, "test")


def test_occupation_codes() -> None:
    assert len(OCCUPATIONS) == 18
    assert OCCUPATIONS[-1] == "other"
    assert all(n.occupation in OCCUPATIONS for n in SALARY_NORMS)


@pytest.mark.parametrize("iso2", REQUIRED)
def test_required_corridors_are_covered(iso2: str) -> None:
    rows = [n for n in SALARY_NORMS if n.iso2 == iso2]
    assert len(rows) >= 3, iso2
    assert len({n.currency for n in rows}) == 1, iso2


def test_every_row_is_sane_and_sourced() -> None:
    seen = set()
    for n in SALARY_NORMS:
        assert 0 < n.min_monthly <= n.max_monthly
        assert n.source
        assert (n.iso2, n.occupation) not in seen
        seen.add((n.iso2, n.occupation))


def test_saudi_domestic_worker_floor() -> None:
    n = norm_for("SA", "domestic_worker")
    assert n is not None
    assert n.min_monthly == 1500 and n.currency == "SAR"
    assert "1,500" in n.source


def test_qatar_minimum_wage_floor() -> None:
    for occ in ("domestic_worker", "cleaner", "general_labourer"):
        n = norm_for("QA", occ)
        assert n is not None and n.min_monthly >= 1000 and n.currency == "QAR"


def test_norm_for_is_case_insensitive_and_none_when_missing() -> None:
    assert norm_for("sa", "Driver") == norm_for("SA", "driver")
    assert norm_for("SA", "other") is None
    assert norm_for("XX", "driver") is None


def test_midpoint_and_estimate() -> None:
    n = make(1000, 2000)
    assert n.midpoint == 1500
    assert not n.is_estimate
    assert norm_for("AE", "driver").is_estimate


def test_period_factors() -> None:
    assert PERIOD_FACTORS == {"hour": 208.0, "week": 4.33, "month": 1.0, "year": 1.0 / 12.0}
    assert monthly_amount(10, "hour") == pytest.approx(2080)
    assert monthly_amount(100, "week") == pytest.approx(433)
    assert monthly_amount(1500, "month") == 1500
    assert monthly_amount(18000, "year") == pytest.approx(1500)
    assert monthly_amount(18000, "annual") == pytest.approx(1500)


def test_deviation_maths() -> None:
    n = make(1000, 2000, "SAR")
    assert deviation(n, 1500, "SAR", "month") == pytest.approx(1.0)
    assert deviation(n, 750, "sar", "month") == pytest.approx(0.5)
    assert deviation(n, 3000, "SAR") == pytest.approx(2.0)
    assert deviation(n, 18000, "SAR", "year") == pytest.approx(1.0)
    assert deviation(n, 100, "SAR", "week") == pytest.approx(433 / 1500)
    assert deviation(n, 5, "SAR", "hour") == pytest.approx(1040 / 1500)


def test_deviation_currency_mismatch_is_none() -> None:
    n = make(1000, 2000, "SAR")
    assert deviation(n, 400, "USD", "month") is None


def test_deviation_without_norm_is_none() -> None:
    assert deviation(None, 400, "USD", "month") is None


def test_deviation_rejects_bad_input() -> None:
    n = make()
    with pytest.raises(ValueError):
        deviation(n, 1500, "SAR", "fortnight")
    with pytest.raises(ValueError):
        deviation(n, -1, "SAR", "month")


def test_listing_example_from_design() -> None:
    # The contract's example listing: house help in SA at SAR 1,500 a month.
    ratio = deviation(norm_for("SA", "domestic_worker"), 1500, "SAR", "month")
    assert 0.7 < ratio < 1.0
