"""Corridor salary norms: typical monthly gross pay per destination and occupation.

Used to flag job listings whose salary is far from the corridor norm (a listing red flag).
Figures live in `data/salary_norms.csv`; every row names its source, and most are marked
"estimate" because no official wage floor exists for that corridor (e.g. the UAE, Bahrain
and Oman have none for migrant workers). Statutory floors cited include Qatar Law No. 17 of
2020, Kuwait's domestic and private-sector minimums, the UK National Living Wage, Germany's
and Poland's minimum wages and Russia's MROT.

There is deliberately no exchange-rate table: a rate would go stale silently and make the
check look more precise than it is, so an amount in another currency gets no ratio (None).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from app.reference.countries import is_known_country

OCCUPATIONS: tuple[str, ...] = (
    "domestic_worker", "driver", "security_guard", "cleaner", "waiter", "cook", "caregiver",
    "nurse", "construction_worker", "general_labourer", "hospitality", "teacher",
    "electrician", "plumber", "farm_worker", "factory_worker", "warehouse_worker", "other",
)

# Multipliers to a month. 208 = 48 h/week x 52 / 12, the Gulf's common contract week;
# 4.33 = 52 / 12 weeks a month.
PERIOD_FACTORS: dict[str, float] = {
    "hour": 208.0,
    "week": 4.33,
    "month": 1.0,
    "year": 1.0 / 12.0,
}

_PERIOD_ALIASES = {
    "hourly": "hour", "hours": "hour", "weekly": "week", "weeks": "week",
    "monthly": "month", "months": "month", "yearly": "year", "annual": "year",
    "annually": "year", "years": "year",
}


@dataclass(frozen=True, slots=True)
class SalaryNorm:
    """A typical monthly gross salary range for one occupation in one country."""

    iso2: str
    occupation: str
    min_monthly: float
    max_monthly: float
    currency: str
    source: str

    @property
    def midpoint(self) -> float:
        """Return the middle of the range, the reference for `deviation`."""
        return (self.min_monthly + self.max_monthly) / 2.0

    @property
    def is_estimate(self) -> bool:
        """Return True if the source says the figure is an estimate."""
        return "estimate" in self.source.lower()


def _load() -> dict[tuple[str, str], SalaryNorm]:
    path = resources.files("app.reference").joinpath("data", "salary_norms.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    norms: dict[tuple[str, str], SalaryNorm] = {}
    for n, row in enumerate(rows, start=2):
        norm = SalaryNorm(
            iso2=row["iso2"].strip().upper(),
            occupation=row["occupation"].strip(),
            min_monthly=float(row["min_monthly"]),
            max_monthly=float(row["max_monthly"]),
            currency=row["currency"].strip().upper(),
            source=row["source"].strip(),
        )
        # Fail at import: a bad row would wrongly flag (or clear) real job listings.
        problem = (
            "unknown country" if not is_known_country(norm.iso2)
            else "unknown occupation" if norm.occupation not in OCCUPATIONS
            else "bad range" if not 0 < norm.min_monthly <= norm.max_monthly
            else "bad currency" if not (len(norm.currency) == 3 and norm.currency.isalpha())
            else "missing source" if not norm.source
            else "duplicate" if (norm.iso2, norm.occupation) in norms
            else None
        )
        if problem:
            raise ValueError(f"salary_norms.csv line {n}: {problem}: {row}")
        norms[(norm.iso2, norm.occupation)] = norm
    return norms


_NORMS = _load()

SALARY_NORMS: tuple[SalaryNorm, ...] = tuple(_NORMS.values())


def norm_for(iso2: str, occupation: str) -> SalaryNorm | None:
    """Return the salary norm for a destination and occupation, or None if there is none."""
    return _NORMS.get(((iso2 or "").strip().upper(), (occupation or "").strip().lower()))


def monthly_amount(amount: float, period: str) -> float:
    """Convert an amount paid per hour, week, month or year to a monthly amount."""
    key = (period or "").strip().lower()
    key = _PERIOD_ALIASES.get(key, key)
    if key not in PERIOD_FACTORS:
        raise ValueError(f"unknown pay period {period!r}; use one of {sorted(PERIOD_FACTORS)}")
    value = float(amount)
    if value < 0:
        raise ValueError("amount must not be negative")
    return value * PERIOD_FACTORS[key]


def deviation(
    norm: SalaryNorm | None, amount: float, currency: str, period: str = "month"
) -> float | None:
    """Return the monthly amount divided by the norm's midpoint; None if not comparable."""
    if norm is None:
        return None
    monthly = monthly_amount(amount, period)
    if (currency or "").strip().upper() != norm.currency:
        # No FX table on purpose (see module docstring): different currency, no ratio.
        return None
    return monthly / norm.midpoint
