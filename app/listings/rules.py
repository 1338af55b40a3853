"""Red-flag rules for job listings (contract §6, REFERENCE.md "Red flags").

Each rule is a small function of ``ListingFacts`` that gives ``None`` or a ``Flag``
with a stable rule id, a severity and a plain-words message the agency can act on.
``evaluate`` runs them all: any ``reject`` flag rejects the listing, else any
``review`` flag sends it to a person, else it is approved. Every flag is kept.

Severity choices, where the contract leaves room:
- ``conflict_destination`` is ``review``, not ``reject``: the destination alone does
  not prove a listing is fake (there are government-to-government and humanitarian
  postings), and ``needs_review`` is never shown to the public as approved, so people
  checking the code are still warned. The signs that do prove it (vague security or
  "general" titles, tourist visas, fees, military work) reject on their own.
- ``salary_norm`` is ``review``: the norms are estimates, and both too low
  (exploitation) and too high (a lure) need a person to look.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.languages import get_official_languages

from app.reference.countries import CONFLICT_OR_RESTRICTED, country_name
from app.reference.salary_norms import deviation, norm_for

REJECT, REVIEW = "reject", "review"
"""Flag severities: ``reject`` decides the outcome; ``review`` asks a person to decide."""

SALARY_LOW = 0.6
"""Below this share of the corridor norm's midpoint, a salary needs review."""

SALARY_HIGH = 2.5
"""Above this multiple of the corridor norm's midpoint, a salary needs review (a lure)."""

MAX_VACANCIES = 500
"""More vacancies than this in one listing needs review: bulk recruiting is how
"visa deposit" schemes collect from many people at once."""

MAX_HOURS = 60
"""Hours a week above this need review (ILO indicator: excessive overtime); Qatar's
and the UAE's labour laws cap normal hours plus overtime near this figure."""

VAGUE_TITLES = (
    "general worker", "general workers", "general labourer", "general laborer",
    "general labour", "general duties", "general", "security", "security guard",
    "security officer", "guard", "helper", "helpers", "any job", "any work", "all jobs",
    "worker", "workers", "labourer", "laborer", "unskilled", "various", "assistant",
)
"""Titles that name no real job; REFERENCE.md flags them for conflict destinations."""

VAGUE_WORDS = ("general", "security", "guard", "helper", "any job", "any work", "unskilled")
"""Words that make a title vague wherever they appear in it."""

VAGUE_OCCUPATIONS = frozenset({"general_labourer", "security_guard", "other"})
"""Occupation codes that say as little as a vague title."""

MILITARY_WORDS = (
    "army", "military", "soldier", "soldiers", "combat", "armed", "militia", "mercenary",
    "front line", "frontline", "war zone", "defence contractor", "defense contractor",
)
"""Words that mean armed work, which no licensed agency may recruit for (the Russia cases)."""

TOURIST_VISAS = frozenset({"tourist", "visit"})
"""Visa types that do not allow work at all."""


@dataclass(frozen=True)
class Flag:
    """One red flag on a listing: which rule, how serious, and why in plain words."""

    rule: str
    severity: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class ListingFacts:
    """What the rules look at: the listing's fields and its agency's licence that day."""

    title: str
    occupation: str
    destination: str | None
    employer_name: str | None
    salary_amount: Decimal | None
    salary_currency: str | None
    salary_period: str | None
    hours_per_week: int | None
    vacancies: int | None
    contract_languages: tuple[str, ...] | None
    worker_fee_amount: Decimal | None
    worker_fee_currency: str | None
    visa_type: str | None
    closing_date: date | None
    licence_status: str
    """The agency's licence on the day checked: valid, suspended, revoked, expired, none."""
    on: date
    """The day the listing is checked on (Kenyan calendar)."""


Rule = Callable[[ListingFacts], "Flag | None"]
RULES: list[Rule] = []
"""Every rule, in the order their flags are listed."""


def rule(func: Rule) -> Rule:
    """Add a rule to ``RULES``."""
    RULES.append(func)
    return func


def evaluate(facts: ListingFacts) -> tuple[str, list[Flag]]:
    """Run every rule: give the outcome (approved, needs_review, rejected) and the flags."""
    flags = [flag for check in RULES if (flag := check(facts)) is not None]
    if any(f.severity == REJECT for f in flags):
        return "rejected", flags
    if flags:
        return "needs_review", flags
    return "approved", flags


def _words(text: str | None) -> str:
    """Lower-case ``text`` with every run of non-letters as one space, padded for matching."""
    return " " + re.sub(r"[^a-z]+", " ", (text or "").lower()).strip() + " "


def _mentions(text: str | None, phrases: tuple[str, ...]) -> str | None:
    words = _words(text)
    for phrase in phrases:
        if f" {phrase} " in words:
            return phrase
    return None


def destination_languages(iso2: str) -> tuple[str, ...]:
    """Give the official languages of a country (CLDR), e.g. SA -> ("ar",), RU -> ("ru",)."""
    code = (iso2 or "").upper()
    return get_official_languages(code) or get_official_languages(code, de_facto=True)


# --- licence and completeness ---------------------------------------------------------------


@rule
def licence_not_valid(facts: ListingFacts) -> Flag | None:
    """Only an agency with a valid licence on the day may advertise a job."""
    if facts.licence_status == "valid":
        return None
    if facts.licence_status == "none":
        message = "The agency has no NEA licence on the register."
    else:
        message = (f"The agency's NEA licence is {facts.licence_status} on "
                   f"{facts.on.isoformat()}; only a licensed agency may advertise jobs.")
    return Flag("licence_not_valid", REJECT, message)


@rule
def employer_missing(facts: ListingFacts) -> Flag | None:
    """A listing must name the employer abroad."""
    if facts.employer_name:
        return None
    return Flag("employer_missing", REJECT, "No employer is named; give the employer abroad.")


@rule
def destination_missing(facts: ListingFacts) -> Flag | None:
    """A listing must say which country the job is in."""
    if facts.destination:
        return None
    return Flag("destination_missing", REJECT,
                "No destination country is given (employer.country).")


@rule
def salary_missing(facts: ListingFacts) -> Flag | None:
    """A listing must state the pay."""
    if facts.salary_amount and facts.salary_currency and facts.salary_period:
        return None
    return Flag("salary_missing", REJECT, "No salary is given; state the amount, currency "
                                          "and period.")


@rule
def contract_missing(facts: ListingFacts) -> Flag | None:
    """A listing must come with a written contract, so its languages must be listed."""
    if facts.contract_languages:
        return None
    return Flag("contract_missing", REJECT,
                "No contract languages are given; every worker needs a written contract.")


# --- money ------------------------------------------------------------------------------------


@rule
def worker_fee(facts: ListingFacts) -> Flag | None:
    """The employer pays: any fee charged to the worker rejects the listing (ILO C181)."""
    if facts.worker_fee_amount is None or facts.worker_fee_amount <= 0:
        return None
    amount = f"{facts.worker_fee_currency or ''} {_amount(facts.worker_fee_amount)}".strip()
    return Flag("worker_fee", REJECT,
                f"The worker is charged a fee of {amount}. Agencies may not charge workers "
                "any fee: the employer pays all recruitment costs.")


@rule
def worker_fee_undeclared(facts: ListingFacts) -> Flag | None:
    """A listing that does not say what the worker pays needs a person to ask."""
    if facts.worker_fee_amount is not None:
        return None
    return Flag("worker_fee_undeclared", REVIEW,
                "The listing does not declare worker fees; state worker_fees (it must be 0).")


@rule
def salary_norm(facts: ListingFacts) -> Flag | None:
    """A salary far from the corridor norm is a sign of exploitation or of a lure."""
    if not (facts.destination and facts.salary_amount and facts.salary_currency
            and facts.salary_period):
        return None
    norm = norm_for(facts.destination, facts.occupation)
    if norm is None:
        return None
    ratio = deviation(norm, float(facts.salary_amount), facts.salary_currency,
                      facts.salary_period)
    where = country_name(facts.destination)
    usual = f"{norm.currency} {_amount(norm.min_monthly)}-{_amount(norm.max_monthly)} a month"
    if ratio is None:
        return Flag("salary_norm", REVIEW,
                    f"The salary is in {facts.salary_currency}, so it could not be compared "
                    f"with the usual pay for this job in {where} ({usual}).")
    if ratio < SALARY_LOW:
        return Flag("salary_norm", REVIEW,
                    f"The salary is far below the usual pay for this job in {where} ({usual}).")
    if ratio > SALARY_HIGH:
        return Flag("salary_norm", REVIEW,
                    f"The salary is far above the usual pay for this job in {where} ({usual}); "
                    "offers that look too good are a common lure.")
    return None


# --- destination and job ----------------------------------------------------------------------


@rule
def conflict_destination(facts: ListingFacts) -> Flag | None:
    """Jobs in a country at war or under travel restrictions need a person to check them."""
    if facts.destination not in CONFLICT_OR_RESTRICTED:
        return None
    return Flag("conflict_destination", REVIEW,
                f"{country_name(facts.destination)} is a conflict or restricted destination; "
                "an officer must check this listing before it can be advertised.")


@rule
def vague_title(facts: ListingFacts) -> Flag | None:
    """Vague security or "general" jobs in conflict destinations are how people were
    recruited into armies (the Russia cases)."""
    if facts.destination not in CONFLICT_OR_RESTRICTED:
        return None
    title = _words(facts.title).strip()
    vague = (title in VAGUE_TITLES or _mentions(facts.title, VAGUE_WORDS)
             or facts.occupation in VAGUE_OCCUPATIONS)
    if not vague:
        return None
    return Flag("vague_title", REJECT,
                f'"{facts.title}" does not say what the job is, and the destination is '
                f"{country_name(facts.destination)}; name the actual job and duties.")


@rule
def military_work(facts: ListingFacts) -> Flag | None:
    """No agency may recruit for armed or military work, anywhere."""
    word = _mentions(facts.title, MILITARY_WORDS)
    if word is None:
        return None
    return Flag("military_work", REJECT,
                f'The title mentions "{word}": recruiting for armed or military work is not '
                "allowed.")


@rule
def tourist_visa(facts: ListingFacts) -> Flag | None:
    """Working on a tourist or visit visa is illegal and leaves the worker unprotected."""
    if facts.visa_type not in TOURIST_VISAS:
        return None
    return Flag("tourist_visa", REJECT,
                f"The job uses a {facts.visa_type} visa. Working on a tourist or visit visa is "
                "illegal and leaves the worker unprotected; a work visa is required.")


@rule
def visa_not_work(facts: ListingFacts) -> Flag | None:
    """A visa that is neither work nor tourist (student, other, none) needs checking."""
    if facts.visa_type == "work" or facts.visa_type in TOURIST_VISAS:
        return None
    kind = f"a {facts.visa_type} visa" if facts.visa_type else "no visa type"
    return Flag("visa_not_work", REVIEW,
                f"The listing gives {kind}; jobs abroad need a work visa.")


@rule
def contract_language(facts: ListingFacts) -> Flag | None:
    """The contract must be in English and in the destination's language."""
    if not facts.contract_languages or not facts.destination:
        return None
    given = set(facts.contract_languages)
    local = destination_languages(facts.destination)
    missing = []
    if "en" not in given:
        missing.append("English")
    if local and not given.intersection(local):
        from babel import Locale

        names = [Locale("en").languages.get(code, code) for code in local]
        missing.append(" or ".join(names))
    if not missing:
        return None
    return Flag("contract_language", REJECT,
                f"The contract must be in {' and '.join(missing)} as well, so that the worker "
                f"and the employer in {country_name(facts.destination)} can both read it.")


@rule
def vacancies_high(facts: ListingFacts) -> Flag | None:
    if facts.vacancies is None or facts.vacancies <= MAX_VACANCIES:
        return None
    return Flag("vacancies_high", REVIEW,
                f"{facts.vacancies} vacancies in one listing is unusually many (over "
                f"{MAX_VACANCIES}); an officer must check the job order.")


@rule
def hours_excessive(facts: ListingFacts) -> Flag | None:
    if facts.hours_per_week is None or facts.hours_per_week <= MAX_HOURS:
        return None
    return Flag("hours_excessive", REVIEW,
                f"{facts.hours_per_week} hours a week is excessive (over {MAX_HOURS}).")


@rule
def closing_date_past(facts: ListingFacts) -> Flag | None:
    if facts.closing_date is None or facts.closing_date >= facts.on:
        return None
    return Flag("closing_date_past", REJECT,
                f"The closing date {facts.closing_date.isoformat()} has passed; a closed job "
                "may not be advertised.")


def _amount(value: float | Decimal) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.2f}"
