"""Every journey: a valid graph, every screen in every language, fit for a feature phone."""

import re

import pytest

from app.i18n import LANGUAGES, catalog, keys, placeholders, translate
from app.sms.gsm import bad_chars, is_gsm7
from menus import JOURNEYS, build_flow
from menus.journey import Confirm, End, Input, Invisible, Menu
from menus.screens import renderings, screen_problems

FLOW = build_flow()
RENDERINGS = list(renderings(FLOW))


def test_journeys_have_no_dangling_unreachable_or_untranslated_screens():
    assert FLOW.problems({lang: keys(lang) for lang in LANGUAGES}) == []


def test_every_screen_is_rendered_in_every_language():
    shown = {(screen_id, lang) for screen_id, lang, _ in RENDERINGS}
    for screen in FLOW.screens.values():
        if isinstance(screen, Invisible):
            continue
        for lang in LANGUAGES:
            assert (screen.id, lang) in shown


@pytest.mark.parametrize("screen_id,lang,text", RENDERINGS,
                         ids=[f"{s}-{lang}-{n}" for n, (s, lang, _) in enumerate(RENDERINGS)])
def test_screen_fits_and_is_gsm7(screen_id, lang, text):
    assert len(text) <= 160, f"{screen_id} [{lang}] is {len(text)} chars:\n{text}"
    assert is_gsm7(text), f"{screen_id} [{lang}] has {bad_chars(text)}"
    assert "{" not in text and "}" not in text, f"unfilled placeholder in {screen_id}"


def test_screen_problems_reports_a_screen_that_is_too_long():
    small = build_flow(max_chars=40)
    assert any("characters (max 40)" in p for p in screen_problems(small))


def test_locales_have_the_same_keys_and_placeholders():
    english = catalog("en")
    for lang in LANGUAGES:
        other = catalog(lang)
        assert set(other) == set(english), set(other) ^ set(english)
        for key, text in english.items():
            assert placeholders(other[key]) == placeholders(text), key


def test_kiswahili_is_really_translated():
    english, swahili = catalog("en"), catalog("sw")
    same = {key for key in english if english[key] == swahili[key]}
    # Only the bilingual language screen and proper names may be identical.
    assert same <= {"lang.choose", "lang.en", "lang.sw", "main.language", "where.kenya",
                    "main.member", "occ.nurse"} | {k for k in same if k.startswith("occ.")
                                                   and len(english[k]) < 4}


def test_every_sms_text_is_one_gsm7_sms_with_long_values():
    values = {"first_name": "Bartholomew", "reg_no": "KS12345678", "service_code": "*384*2026#"}
    for lang in LANGUAGES:
        for key in (k for k in catalog(lang) if k.startswith("sms.")):
            text = translate(lang, key, **values)
            assert len(text) <= 160 and is_gsm7(text), (lang, key, text)


def test_registration_fits_in_fourteen_screens():
    asked = [s for s in FLOW.screens.values()
             if s.id.startswith("reg.") and isinstance(s, Menu | Input | Confirm)
             and s.id not in ("reg.minor",)]
    ends = [s for s in FLOW.screens.values() if s.id == "reg.done" and isinstance(s, End)]
    assert len(asked) + len(ends) <= 14


def test_journey_files_declare_samples_for_their_placeholders():
    available = set()
    for journey in JOURNEYS:
        available |= set(journey.samples)
    available |= set(FLOW.values({}, "en", translate))
    for key in FLOW.text_keys():
        for name in placeholders(catalog("en")[key]):
            assert name in available or name in {"max"}, (key, name)


def test_the_app_refuses_to_load_journeys_with_a_text_missing():
    from app.extensions import checked_flow

    assert checked_flow(160).screens.keys() == FLOW.screens.keys()  # the shipped ones load
    missing = sorted(FLOW.text_keys())[0]
    broken = {lang: keys(lang) - {missing} for lang in LANGUAGES}
    with pytest.raises(RuntimeError, match=f"sw: missing text '{re.escape(missing)}'"):
        checked_flow(160, locales=broken)
