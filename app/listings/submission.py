"""Check an agency's job listing JSON (contract §5) field by field, before anything is stored.

The API answers a ``FieldError`` with 422 and the field's path (``employer.country``,
``salary.amount``, ``contract_languages[1]``). Only the shape is checked here; whether
the job is acceptable is the validation job's business (``app.listings.rules``), so a
listing without, say, a salary is stored as ``pending`` and then rejected with a flag
the agency can read.

Unknown fields are refused rather than ignored: a typo such as ``worker_fee`` for
``worker_fees`` must not silently skip the fee check.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from app.reference.countries import is_known_country
from app.reference.salary_norms import OCCUPATIONS

PERIODS = ("hour", "week", "month", "year")
"""Pay periods a salary may be given per."""

VISA_TYPES = ("work", "visit", "tourist", "student", "other")
"""Visa types a listing may name (the permit types of contract §5, plus other)."""

MAX_AMOUNT = 10_000_000
"""The largest salary or fee amount accepted, in any currency."""

FIELDS = {
    "title", "occupation", "employer", "salary", "hours_per_week", "vacancies",
    "contract_languages", "worker_fees", "visa_type", "closing_date",
}
EMPLOYER_FIELDS = {"name", "country", "city", "address"}
SALARY_FIELDS = {"amount", "currency", "period"}
FEE_FIELDS = {"amount", "currency"}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NOT_CURRENCIES = frozenset({"XXX", "XTS"})


class FieldError(ValueError):
    """A field of the submitted JSON is missing or wrong: answered with 422."""

    def __init__(self, field: str | None, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Submission:
    """A listing's fields, checked and normalised, ready to store."""

    title: str
    occupation: str
    employer_name: str | None
    employer_country: str | None
    employer_city: str | None
    employer_address: str | None
    salary_amount: Decimal | None
    salary_currency: str | None
    salary_period: str | None
    hours_per_week: int | None
    vacancies: int | None
    contract_languages: list[str] | None
    worker_fee_amount: Decimal | None
    worker_fee_currency: str | None
    visa_type: str | None
    closing_date: date | None


def parse(body: Any) -> Submission:
    """Check ``body`` (decoded JSON) and give the listing, or raise ``FieldError``."""
    if not isinstance(body, dict):
        raise FieldError(None, "The body must be a JSON object.", "invalid_body")
    _only(body, FIELDS, "")
    employer = _object(body, "employer", EMPLOYER_FIELDS)
    salary = _object(body, "salary", SALARY_FIELDS)
    fees = _object(body, "worker_fees", FEE_FIELDS)
    return Submission(
        title=_text(body, "title", "title", 2, 120, required=True),
        occupation=_choice(body, "occupation", "occupation", OCCUPATIONS, required=True),
        employer_name=_text(employer, "name", "employer.name", 2, 200,
                            required=employer is not None),
        employer_country=_country(employer, "employer.country"),
        employer_city=_text(employer, "city", "employer.city", 1, 100),
        employer_address=_text(employer, "address", "employer.address", 1, 300),
        salary_amount=_amount(salary, "salary.amount", positive=True),
        salary_currency=_currency(salary, "salary.currency"),
        salary_period=_choice(salary, "period", "salary.period", PERIODS,
                              required=salary is not None),
        hours_per_week=_integer(body, "hours_per_week", 1, 168),
        vacancies=_integer(body, "vacancies", 1, 100_000),
        contract_languages=_languages(body),
        worker_fee_amount=_amount(fees, "worker_fees.amount", positive=False),
        worker_fee_currency=_currency(fees, "worker_fees.currency"),
        visa_type=_choice(body, "visa_type", "visa_type", VISA_TYPES),
        closing_date=_date(body, "closing_date"),
    )


def _only(obj: dict, allowed: set[str], prefix: str) -> None:
    for key in obj:
        if key not in allowed:
            path = f"{prefix}{key}"
            raise FieldError(path, f"Unknown field {path!r}; allowed: "
                                   f"{', '.join(sorted(allowed))}.", "unknown_field")


def _object(body: dict, key: str, allowed: set[str]) -> dict | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError(key, f"{key} must be an object.", "type")
    _only(value, allowed, f"{key}.")
    return value


def _missing(path: str) -> FieldError:
    return FieldError(path, f"{path} is required.", "missing")


def _text(obj: dict | None, key: str, path: str, shortest: int, longest: int,
          required: bool = False) -> str | None:
    value = None if obj is None else obj.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return None
    if not isinstance(value, str):
        raise FieldError(path, f"{path} must be a string.", "type")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Cn", "Co") for ch in value
           if ch not in "\t\n"):
        raise FieldError(path, f"{path} holds control or invalid characters.")
    text = " ".join(value.split())
    if len(text) < shortest:
        if required or text:
            raise FieldError(path, f"{path} must have at least {shortest} characters.")
        return None
    if len(text) > longest:
        raise FieldError(path, f"{path} must have at most {longest} characters.")
    return text


def _choice(obj: dict | None, key: str, path: str, allowed: tuple[str, ...],
            required: bool = False) -> str | None:
    value = None if obj is None else obj.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return None
    if not isinstance(value, str) or value not in allowed:
        raise FieldError(path, f"{path} must be one of: {', '.join(allowed)}.")
    return value


def _country(obj: dict | None, path: str) -> str | None:
    if obj is None:
        return None
    value = obj.get("country")
    if value is None:
        raise _missing(path)
    if not isinstance(value, str) or not _COUNTRY.match(value) or not is_known_country(value):
        raise FieldError(path, f"{path} must be an ISO 3166-1 alpha-2 country code such as "
                               "SA or AE.")
    return value


@cache
def _currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies()) - _NOT_CURRENCIES


def _currency(obj: dict | None, path: str) -> str | None:
    if obj is None:
        return None
    value = obj.get("currency")
    if value is None:
        raise _missing(path)
    if not isinstance(value, str) or not _CURRENCY.match(value) or value not in _currencies():
        raise FieldError(path, f"{path} must be an ISO 4217 currency code such as SAR or KES.")
    return value


def _amount(obj: dict | None, path: str, positive: bool) -> Decimal | None:
    if obj is None:
        return None
    value = obj.get("amount")
    if value is None:
        raise _missing(path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(path, f"{path} must be a number.", "type")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(path, f"{path} must be a finite number.")
    if value < 0 or (positive and value == 0) or value > MAX_AMOUNT:
        low = "more than 0" if positive else "0 or more"
        raise FieldError(path, f"{path} must be {low} and at most {MAX_AMOUNT:,}.")
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if positive and amount == 0:
        raise FieldError(path, f"{path} must be more than 0.")
    return amount


def _integer(obj: dict, key: str, low: int, high: int) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(key, f"{key} must be a whole number.", "type")
    if not low <= value <= high:
        raise FieldError(key, f"{key} must be between {low} and {high:,}.")
    return value


@cache
def _language_codes() -> frozenset[str]:
    from babel import Locale

    return frozenset(code for code in Locale("en").languages if _LANGUAGE.match(code))


def _languages(body: dict) -> list[str] | None:
    value = body.get("contract_languages")
    if value is None:
        return None
    if not isinstance(value, list):
        raise FieldError("contract_languages", "contract_languages must be a list of "
                                               "language codes such as [\"en\", \"ar\"].", "type")
    if len(value) > 10:
        raise FieldError("contract_languages", "contract_languages may list at most 10 "
                                               "languages.")
    codes: list[str] = []
    for n, item in enumerate(value):
        path = f"contract_languages[{n}]"
        if not isinstance(item, str) or item not in _language_codes():
            raise FieldError(path, f"{path} must be an ISO 639-1 language code such as en, "
                                   "ar or ru.")
        if item not in codes:
            codes.append(item)
    return codes


def _date(body: dict, key: str) -> date | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise FieldError(key, f"{key} must be an ISO date, YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(key, f"{key} is not a real date.") from None
