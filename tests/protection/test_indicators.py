"""app/protection/indicators.py: the ILO keyword and answer map, English and Kiswahili."""

from __future__ import annotations

import pytest

from app.models.protection import CATEGORIES
from app.protection import indicators
from app.protection.indicators import INDICATORS, detect, for_category

# Each of the 11 ILO indicators, found from an English and a Kiswahili message.
EXAMPLES = {
    "abuse_of_vulnerability": ("I have no visa and I am pregnant", "sina kibali, mjamzito"),
    "deception": ("This is a different job from the contract", "walinidanganya kuhusu kazi"),
    "restriction_of_movement": ("they locked me in the house", "wamenifungia ndani"),
    "isolation": ("madam took my phone", "wamechukua simu yangu"),
    "physical_sexual_violence": ("my boss beats me", "wananipiga kila siku"),
    "intimidation_threats": ("he threatens to deport me", "ananitishia kila siku"),
    "retention_of_documents": ("boss took my passport", "wameshika pasipoti yangu"),
    "withholding_of_wages": ("they have not paid me for 3 months", "hawajanilipa mshahara"),
    "debt_bondage": ("I owe the agency a big debt", "nina deni kubwa la wakala"),
    "abusive_conditions": ("no food and I sleep on the floor", "njaa, hakuna chakula"),
    "excessive_overtime": ("I work 20 hours with no day off", "nafanya masaa mengi bila kupumzika"),
}


def test_every_ilo_indicator_has_examples() -> None:
    assert set(EXAMPLES) == set(INDICATORS)
    assert len(INDICATORS) == 11


@pytest.mark.parametrize(("indicator", "text"), [
    (name, text) for name, pair in EXAMPLES.items() for text in pair
])
def test_each_indicator_is_found_in_english_and_kiswahili(indicator: str, text: str) -> None:
    assert indicator in detect(text).indicators


@pytest.mark.parametrize(("text", "indicator", "category", "severity"), [
    ("boss took my passport", "retention_of_documents", "passport_held", "high"),
    ("HELP!! Boss took my PASSPORT.", "retention_of_documents", "passport_held", "high"),
    ("hawajanilipa mshahara", "withholding_of_wages", "unpaid_wages", "high"),
    ("wananipiga", "physical_sexual_violence", "abuse", "critical"),
    ("locked in", "restriction_of_movement", "confinement", "critical"),
    ("Msaada, wamenifungia ndani", "restriction_of_movement", "confinement", "critical"),
])
def test_the_brief_examples(text, indicator, category, severity) -> None:
    found = detect(text)
    assert indicator in found.indicators
    assert (found.category, found.severity) == (category, severity)


@pytest.mark.parametrize("text", ["they sent us to the army", "Military camp, help",
                                  "nimepelekwa vita", "jeshi la Urusi", "they gave me a gun"])
def test_forced_or_military_work_is_its_own_critical_category(text) -> None:
    found = detect(text)
    assert found.military is True
    assert (found.category, found.severity) == ("forced_work", "critical")


@pytest.mark.parametrize("text", ["I am in danger", "HATARI!", "dharura, nisaidie",
                                  "they will kill me", "SOS"])
def test_danger_is_critical_whatever_else(text) -> None:
    assert detect(text).severity == "critical"


@pytest.mark.parametrize("text", ["HELP", "msaada", "nipigie simu tafadhali",
                                  "I will pay the fee", "", None, "!!!"])
def test_words_that_show_nothing_find_nothing(text) -> None:
    found = detect(text)
    assert found.indicators == ()
    assert found.severity == "normal"
    assert found.category is None


@pytest.mark.parametrize(("text", "category"), [
    ("I am sick, hospital please", "medical"),
    ("nimekamatwa na polisi", "detention"),
    ("nataka kurudi nyumbani", "wants_return"),
    ("please send me home", "wants_return"),
])
def test_words_suggest_other_categories(text, category) -> None:
    assert detect(text).category == category


def test_the_answer_map_covers_every_category() -> None:
    for category in CATEGORIES:
        found, severity = for_category(category)
        assert set(found) <= set(INDICATORS)
        assert severity in ("critical", "high", "normal")
    assert for_category("abuse") == (("physical_sexual_violence",), "critical")
    assert for_category("confinement") == (("restriction_of_movement",), "critical")
    assert for_category("forced_work")[1] == "critical"
    assert for_category("passport_held") == (("retention_of_documents",), "high")
    assert for_category("wants_return") == ((), "normal")
    assert for_category(None) == ((), "normal")


def test_severity_only_goes_up_and_indicators_keep_ilo_order() -> None:
    assert indicators.higher("high", "critical") == "critical"
    assert indicators.higher("critical", "normal") == "critical"
    assert indicators.higher(None, "high") == "high"
    assert indicators.merge(("withholding_of_wages",), ["deception", "withholding_of_wages"]) == (
        "deception", "withholding_of_wages")
    assert indicators.parse(indicators.store(("deception", "isolation"))) == (
        "deception", "isolation")
    assert indicators.store(()) is None
