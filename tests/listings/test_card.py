"""app/listings/card.py: a checked listing fits one screen and one GSM-7 SMS, whatever it holds."""

from __future__ import annotations

import itertools

import pytest

from app.i18n import LANGUAGES, translate
from app.listings import card
from app.models.listing import LISTING_STATUSES
from app.sms.gsm import is_gsm7

LICENCES = ("valid", "suspended", "revoked", "expired", "none")

WORST = {
    "code": "K7MZQ2", "title": "Domestic worker and caregiver for an elderly couple – live-in",
    "country": "CF", "salary_amount": "99999.99", "salary_currency": "SAR",
    "salary_period": "month",
    "employer": "Société Al-Nour Household & Facilities Management Services Company W.L.L.",
    "agency": "Example International Recruitment and Manpower Consultants [Kenya] Ltd",
    "agency_id": 1,
}
"""Long names, a non-GSM-7 dash and accents, extension characters ([ ]) that cost two septets."""


@pytest.mark.parametrize("lang,status,licence",
                         list(itertools.product(LANGUAGES, LISTING_STATUSES, LICENCES)))
def test_every_answer_fits_one_screen_and_one_sms(lang, status, licence) -> None:
    job = {**WORST, "status": status, "licence": licence}
    for keys in (("job.ok", "job.warn"), ("sms.job_ok", "sms.job_warn")):
        key = card.pick(job, *keys)
        text = translate(lang, key, **card.labels(job, lang, translate, [key]))
        assert len(text) <= 160, (key, len(text), text)
        assert is_gsm7(text) and not set("[]{}\\^~|€") & set(text), text
        assert "K7MZQ2" in text
        assert (key.endswith("ok")) == (status == "approved" and licence == "valid")


def test_short_names_are_kept_whole() -> None:
    job = {**WORST, "title": "House help", "country": "SA", "salary_amount": "1500",
           "employer": "Al Noor", "agency": "Savanna Ltd", "status": "approved",
           "licence": "valid"}
    values = card.labels(job, "en", translate, ["job.ok"])
    assert values["job_title"] == "House help" and values["job_agency"] == "Savanna Ltd"
    assert values["job_employer"] == "Al Noor" and values["job_country"] == "Saudi Arabia"
    assert values["job_salary"] == "SAR 1,500/month"


@pytest.mark.parametrize("amount,text", [("1500", "1,500"), ("7.5", "7.50"),
                                         ("250000", "250k"), ("1200000", "1.2M"),
                                         ("3000000", "3M")])
def test_amounts_are_written_short(amount, text) -> None:
    assert card.amount_text(amount) == text


def test_plain_folds_names_to_basic_gsm7() -> None:
    assert card.plain("Société Générale – Dubaï") == "Société Générale Dubai"
    assert card.plain("Al\nNoor [KSA]") == "Al Noor KSA"


def test_a_listing_without_salary_or_employer_says_so() -> None:
    job = {"code": "K7MZQ2", "status": "rejected", "licence": "valid", "title": "Cook",
           "country": "RU"}
    values = card.labels(job, "sw", translate, ["job.warn"])
    assert values["job_salary"] == "mshahara haujatajwa"
    assert values["job_employer"] == "hajatajwa"
