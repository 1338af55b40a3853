"""app/listings/rules.py: one test per red-flag rule, on listing facts alone."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from app.listings import rules
from app.listings.rules import ListingFacts, destination_languages, evaluate

TODAY = date(2026, 11, 24)

CLEAN = ListingFacts(
    title="House help", occupation="domestic_worker", destination="SA",
    employer_name="Al Noor Household Services", salary_amount=Decimal("1500"),
    salary_currency="SAR", salary_period="month", hours_per_week=48, vacancies=20,
    contract_languages=("en", "ar"), worker_fee_amount=Decimal("0"), worker_fee_currency="KES",
    visa_type="work", closing_date=date(2027, 1, 31), licence_status="valid", on=TODAY,
)


def facts(**changes) -> ListingFacts:
    return dataclasses.replace(CLEAN, **changes)


def flags_of(listing: ListingFacts) -> dict[str, rules.Flag]:
    _outcome, found = evaluate(listing)
    return {flag.rule: flag for flag in found}


def only(listing: ListingFacts) -> tuple[str, rules.Flag]:
    """Give the outcome and the one flag a listing raises."""
    outcome, found = evaluate(listing)
    assert len(found) == 1, [f.rule for f in found]
    return outcome, found[0]


def test_the_contract_example_is_approved_with_no_flags() -> None:
    assert evaluate(CLEAN) == ("approved", [])


def test_every_rule_has_a_stable_unique_id() -> None:
    names = [check.__name__ for check in rules.RULES]
    assert len(names) == len(set(names)) >= 15


@pytest.mark.parametrize("status", ["suspended", "revoked", "expired", "none"])
def test_licence_not_valid_rejects(status) -> None:
    outcome, flag = only(facts(licence_status=status))
    assert (outcome, flag.rule, flag.severity) == ("rejected", "licence_not_valid", "reject")
    assert ("no NEA licence" if status == "none" else status) in flag.message


def test_employer_missing_rejects() -> None:
    outcome, flag = only(facts(employer_name=None))
    assert (outcome, flag.rule) == ("rejected", "employer_missing")


def test_destination_missing_rejects() -> None:
    outcome, found = evaluate(facts(destination=None))
    assert outcome == "rejected"
    assert [f.rule for f in found] == ["destination_missing"]


def test_salary_missing_rejects() -> None:
    outcome, flag = only(facts(salary_amount=None, salary_currency=None, salary_period=None))
    assert (outcome, flag.rule) == ("rejected", "salary_missing")


def test_contract_missing_rejects() -> None:
    outcome, flag = only(facts(contract_languages=None))
    assert (outcome, flag.rule) == ("rejected", "contract_missing")


@pytest.mark.parametrize("amount", [Decimal("1"), Decimal("150000")])
def test_worker_fee_rejects_any_fee(amount) -> None:
    outcome, flag = only(facts(worker_fee_amount=amount, worker_fee_currency="KES"))
    assert (outcome, flag.rule, flag.severity) == ("rejected", "worker_fee", "reject")
    assert "KES" in flag.message and "employer pays" in flag.message


def test_worker_fee_undeclared_needs_review() -> None:
    outcome, flag = only(facts(worker_fee_amount=None, worker_fee_currency=None))
    assert (outcome, flag.rule, flag.severity) == ("needs_review", "worker_fee_undeclared",
                                                   "review")


@pytest.mark.parametrize("amount,period,word", [
    (Decimal("900"), "month", "below"),      # 0.49 x the SAR 1,850 midpoint
    (Decimal("5000"), "month", "above"),     # 2.7 x
    (Decimal("4"), "hour", "below"),         # 832 a month
])
def test_salary_norm_far_from_the_corridor_needs_review(amount, period, word) -> None:
    outcome, flag = only(facts(salary_amount=amount, salary_period=period))
    assert (outcome, flag.rule) == ("needs_review", "salary_norm")
    assert word in flag.message and "SAR 1,500-2,200" in flag.message


@pytest.mark.parametrize("amount", [Decimal("1110"), Decimal("4625")])
def test_salary_norm_within_the_band_is_fine(amount) -> None:
    # 0.6 and 2.5 times the midpoint are still inside the band.
    assert evaluate(facts(salary_amount=amount))[0] == "approved"


def test_salary_norm_in_another_currency_cannot_be_compared() -> None:
    outcome, flag = only(facts(salary_amount=Decimal("400"), salary_currency="USD"))
    assert (outcome, flag.rule) == ("needs_review", "salary_norm")
    assert "could not be compared" in flag.message


def test_salary_norm_is_silent_without_a_norm_for_the_corridor() -> None:
    assert "salary_norm" not in flags_of(facts(occupation="other", title="Tailor"))


@pytest.mark.parametrize("country", ["RU", "UA", "LY", "IQ", "AF"])
def test_conflict_destination_needs_review(country) -> None:
    local = destination_languages(country)
    found = flags_of(facts(destination=country, title="Hotel receptionist",
                           occupation="hospitality", contract_languages=("en", *local)))
    flag = found["conflict_destination"]
    assert flag.severity == "review" and "conflict or restricted" in flag.message


def test_conflict_destination_alone_is_needs_review_not_rejected() -> None:
    outcome, flag = only(facts(destination="IQ", contract_languages=("en", "ar"),
                               occupation="cook", title="Cook", salary_currency="IQD"))
    assert (outcome, flag.rule) == ("needs_review", "conflict_destination")


@pytest.mark.parametrize("title,occupation", [
    ("General worker", "factory_worker"), ("SECURITY", "other"), ("Security guard", "driver"),
    ("Helper", "cleaner"), ("Any job", "cleaner"), ("Warehouse helper", "warehouse_worker"),
    ("Driver", "general_labourer"),
])
def test_vague_title_rejects_for_conflict_destinations(title, occupation) -> None:
    found = flags_of(facts(destination="RU", title=title, occupation=occupation,
                           contract_languages=("en", "ru")))
    assert found["vague_title"].severity == "reject"
    assert evaluate(facts(destination="RU", title=title, occupation=occupation))[0] == "rejected"


def test_vague_title_is_not_a_flag_elsewhere_and_real_jobs_pass() -> None:
    assert "vague_title" not in flags_of(facts(title="Security guard",
                                               occupation="security_guard"))
    assert "vague_title" not in flags_of(facts(destination="RU", title="Welder",
                                               occupation="construction_worker"))


@pytest.mark.parametrize("title", ["Army support staff", "Military cook", "Soldier",
                                   "Front-line logistics"])
def test_military_work_rejects_anywhere(title) -> None:
    found = flags_of(facts(title=title))
    assert found["military_work"].severity == "reject"
    assert evaluate(facts(title=title))[0] == "rejected"


@pytest.mark.parametrize("visa", ["tourist", "visit"])
def test_tourist_visa_rejects(visa) -> None:
    outcome, flag = only(facts(visa_type=visa))
    assert (outcome, flag.rule, flag.severity) == ("rejected", "tourist_visa", "reject")
    assert visa in flag.message


@pytest.mark.parametrize("visa", ["student", "other", None])
def test_visa_not_work_needs_review(visa) -> None:
    outcome, flag = only(facts(visa_type=visa))
    assert (outcome, flag.rule) == ("needs_review", "visa_not_work")


@pytest.mark.parametrize("country,languages,missing", [
    ("SA", ("en",), "Arabic"),
    ("SA", ("ar",), "English"),
    ("RU", ("ru",), "English"),
    ("RU", ("en",), "Russian"),
    ("QA", ("sw", "en"), "Arabic"),
    ("PL", ("en",), "Polish"),
])
def test_contract_language_rejects_without_english_and_the_local_language(
        country, languages, missing) -> None:
    found = flags_of(facts(destination=country, contract_languages=languages))
    flag = found["contract_language"]
    assert flag.severity == "reject" and missing in flag.message


@pytest.mark.parametrize("country,languages", [
    ("RU", ("en", "ru")), ("AE", ("ar", "en", "sw")), ("GB", ("en",)), ("CA", ("en",)),
    ("IL", ("en", "he")),
])
def test_contract_language_accepts_english_plus_the_local_language(country, languages) -> None:
    assert "contract_language" not in flags_of(facts(destination=country,
                                                     contract_languages=languages))


def test_destination_languages_map_gulf_to_arabic_and_russia_to_russian() -> None:
    assert destination_languages("SA") == ("ar",) == destination_languages("AE")
    assert destination_languages("RU") == ("ru",)
    assert destination_languages("US") == ("en",)


def test_vacancies_high_needs_review() -> None:
    outcome, flag = only(facts(vacancies=5000))
    assert (outcome, flag.rule) == ("needs_review", "vacancies_high")
    assert "vacancies_high" not in flags_of(facts(vacancies=500))


def test_hours_excessive_needs_review() -> None:
    outcome, flag = only(facts(hours_per_week=84))
    assert (outcome, flag.rule) == ("needs_review", "hours_excessive")
    assert evaluate(facts(hours_per_week=60))[0] == "approved"


def test_closing_date_past_rejects() -> None:
    outcome, flag = only(facts(closing_date=date(2026, 11, 23)))
    assert (outcome, flag.rule) == ("rejected", "closing_date_past")
    assert evaluate(facts(closing_date=TODAY))[0] == "approved"


def test_every_flag_is_kept_and_reject_wins_over_review() -> None:
    outcome, found = evaluate(facts(destination="RU", title="General worker",
                                    occupation="general_labourer",
                                    salary_currency="USD", salary_amount=Decimal("2500"),
                                    contract_languages=("ru",), visa_type="tourist",
                                    worker_fee_amount=Decimal("1500"),
                                    worker_fee_currency="USD"))
    assert outcome == "rejected"
    assert [f.rule for f in found] == ["worker_fee", "salary_norm", "conflict_destination",
                                       "vague_title", "tourist_visa", "contract_language"]
