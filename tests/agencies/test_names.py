"""app/agencies/names.py: search keys for names and licence numbers, display text."""

from datetime import date

import pytest

from app.agencies.names import (
    display_name,
    gsm_text,
    licence_key,
    licence_query,
    name_key,
    names_agree,
    parse_licence,
    person_key,
    same_name,
)
from app.sms.gsm import is_gsm7


@pytest.mark.parametrize("name", [
    "Savanna Recruitment Agency Ltd", "SAVANNA RECRUITMENT AGENCY LIMITED", "savanna ltd.",
    "Savanna (K) Ltd", "The Savanna Recruiters Co.", "Savanna International Agencies",
    "  savanna   employment   bureau  ", "Savanna Manpower Services Company Limited",
])
def test_legal_forms_and_trade_words_are_dropped(name):
    assert name_key(name) == "savanna"


def test_distinctive_words_digits_and_places_stay():
    assert name_key("Gulf Star Manpower Ltd") == "gulfstar"
    assert name_key("Kenya Overseas 2000 Ltd") == "kenyaoverseas2000"
    assert name_key("O'Brien & Sons Ltd") == "obriensons"
    assert name_key("Élite Café Agency") == "elitecafe"


def test_a_name_of_generic_words_only_keeps_them():
    assert name_key("International Recruitment Agency Ltd") == "internationalrecruitmentagency"
    assert name_key("Ltd") == "ltd"


def test_person_key_keeps_every_word():
    assert person_key("Jane  O'Neill-Wanjiru") == "janeoneillwanjiru"


@pytest.mark.parametrize("raw", [
    "NEA/PEA/2024/0001", "nea/pea/2024/0001", " NEA / PEA / 2024 / 0001 ", "NEA-PEA-2024-0001",
    "NEA.PEA.2024.1", "NEA PEA 2024 0001", "neapea/2024/00001",
])
def test_licence_numbers_are_read_tolerantly_and_made_canonical(raw):
    assert parse_licence(raw, date(2026, 11, 24)) == "NEA/PEA/2024/0001"


@pytest.mark.parametrize("raw", [
    "", "garbage", "NEA/2024/0001", "PEA/2024/0001", "NEA/PEA/24/0001", "NEA/PEA/2024/",
    "NEA/PEA/2024/0000", "NEA/PEA/1985/0001", "NEA/PEA/2031/0001", "NEA/PEA/2024/0001/7",
    "NEA/XYZ/2024/0001", "NEA/PEA/2024/123456", "NEA/PEA/2024/12a",
])
def test_garbage_licence_numbers_are_refused(raw):
    assert parse_licence(raw, date(2026, 11, 24)) is None


def test_a_canonical_licence_is_found_by_year_and_number():
    assert licence_key("NEA/PEA/2024/0042") == (2024, 42)


@pytest.mark.parametrize("typed", [
    "NEA/PEA/2024/0001", "nea pea 2024 1", "2024/0001", "2024 1", "20240001", "PEA-2024-0001",
    "licence no 2024/0001", "Lic. 2024.0001", "NEA*PEA*2024*0001",
])
def test_a_typed_licence_number_is_recognised(typed):
    assert licence_query(typed) == (2024, 1)


@pytest.mark.parametrize("typed", ["Savanna", "Gulf 2000", "Kenya 2024 Jobs", "2024", "12",
                                   "NEA", "star 2024 1", "1999999999"])
def test_names_are_not_taken_for_licence_numbers(typed):
    assert licence_query(typed) is None


def test_display_names_drop_the_legal_suffix_fit_and_stay_gsm7():
    assert display_name("Savanna Recruitment Agency Ltd", 30) == "Savanna Recruitment Agency"
    assert display_name("Savanna (K) Ltd.") == "Savanna"
    assert display_name("Bartholomew Kipchirchir Overseas Recruitment", 20) == \
        "Bartholomew Kipchi.."
    shown = display_name("Żyrardów “Best” Jobs – Agency Ltd", 40)
    assert is_gsm7(shown) and "Zyrardow" in shown
    assert gsm_text("a{b}c€ [x] ~y", 40) == "abc x y"
    assert len(gsm_text("x" * 80, 20)) == 20


@pytest.mark.parametrize("typed", [
    "savanna", "Savanna Ltd", "SAVANNA RECRUITMENT AGENCY LIMITED", "Savanna, Recruitment-Agency.",
    "the savanna (K) ltd", "agency savanna",
])
def test_a_name_typed_with_words_dropped_agrees_with_the_register(typed):
    assert names_agree(typed, "Savanna Recruitment Agency Ltd")


@pytest.mark.parametrize("typed", [
    "alnoor", "ALNOOR travel", "al noor travel and recruitment", "noortravel",
])
def test_words_run_together_agree(typed):
    assert names_agree(typed, "Al-Noor Travel & Recruitment Co. Ltd")


@pytest.mark.parametrize("typed", [
    "Savanna International Agency",  # a generic word swapped: maybe another outfit
    "Savannah Agency", "savana", "savanna agensy ltd",  # misspelt
    "savan",  # part of a word
    "ltd", "",  # nothing that names anything
])
def test_a_changed_misspelt_or_partial_word_does_not_agree(typed):
    assert not names_agree(typed, "Savanna Recruitment Agency Ltd")


def test_a_name_typed_in_full_is_the_same_name_in_any_order_and_case():
    assert same_name("savanna recruitment agency", "Savanna Recruitment Agency Ltd")
    assert same_name("AGENCY SAVANNA RECRUITMENT LIMITED", "Savanna Recruitment Agency Ltd")
    assert not same_name("savanna recruitment", "Savanna Recruitment Agency Ltd")  # a word short
    assert not same_name("savanna", "Savanna Ltd")  # no generic word: not typed in full
