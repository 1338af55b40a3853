"""Tests for app.reference.countries."""

import zoneinfo

import babel
import pytest

from app.reference.countries import (
    CONFLICT_OR_RESTRICTED,
    DESTINATIONS,
    country_name,
    is_gsm7,
    is_known_country,
    match_country,
    timezone_for,
)

# The GSM 03.38 sets, written out again so the test is independent of the module.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ!\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXT = "^{}\\[~]|€"
GSM7 = set(GSM7_BASIC) | set(GSM7_EXT)

ALL_CODES = sorted(
    c for c in babel.Locale("en").territories
    if len(c) == 2 and c.isalpha() and c not in {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
)


def test_destinations_shape() -> None:
    assert DESTINATIONS[:8] == ("SA", "AE", "QA", "KW", "OM", "BH", "JO", "LB")
    assert 15 <= len(DESTINATIONS) <= 25
    assert len(set(DESTINATIONS)) == len(DESTINATIONS)
    assert all(is_known_country(c) for c in DESTINATIONS)


def test_restricted_list() -> None:
    assert {"RU", "UA", "LY", "IQ", "AF", "SY", "YE", "SD", "SS", "SO"} <= CONFLICT_OR_RESTRICTED
    assert all(is_known_country(c) for c in CONFLICT_OR_RESTRICTED)
    assert "SA" not in CONFLICT_OR_RESTRICTED


@pytest.mark.parametrize("locale", ["en", "sw"])
@pytest.mark.parametrize("iso2", ALL_CODES)
def test_every_name_is_gsm7_and_short(iso2: str, locale: str) -> None:
    name = country_name(iso2, locale)
    assert name and set(name) <= GSM7, (iso2, locale, name)
    assert len(name) <= 20, (iso2, locale, name)
    assert is_gsm7(name)


def test_names_come_from_babel() -> None:
    assert country_name("SA", "en") == "Saudi Arabia"
    assert country_name("SA", "sw") == "Saudia"
    assert country_name("DE", "sw") == "Ujerumani"
    assert country_name("RU", "sw") == "Urusi"
    assert country_name("sa", "sw_KE") == "Saudia"


def test_overrides() -> None:
    assert country_name("CI", "en") == "Cote d'Ivoire"
    assert country_name("GB", "sw") == "Uingereza"


def test_unknown_code_is_returned_as_is() -> None:
    assert country_name("XX") == "XX"


def test_is_gsm7() -> None:
    assert is_gsm7("Saudi Arabia [KSA] €5")
    assert not is_gsm7("Côte d’Ivoire")
    assert not is_gsm7("Россия")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("saudi", "SA"), ("Saudia", "SA"), ("uarabuni", "SA"), ("Saudi Arabia", "SA"),
        ("KSA", "SA"), ("sa", "SA"), ("dubai", "AE"), ("uae", "AE"), ("UAE", "AE"),
        ("Falme za Kiarabu", "AE"), ("qatar", "QA"), ("urusi", "RU"), ("russia", "RU"),
        ("Russia", "RU"), ("uk", "GB"), ("uingereza", "GB"), ("marekani", "US"),
        ("usa", "US"), ("Ujerumani", "DE"), ("kanada", "CA"), ("Türkiye", "TR"),
        ("turkey", "TR"), ("bahareni", "BH"), ("lebanon", "LB"), ("jordan", "JO"),
    ],
)
def test_match_country_exact(text: str, expected: str) -> None:
    assert match_country(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"), [("germny", "DE"), ("polnd", "PL"), ("qatr", "QA"), ("kuwet", "KW")]
)
def test_match_country_typos(text: str, expected: str) -> None:
    result = match_country(text)
    assert result and result[0] == expected


def test_match_country_prefix_prefers_destinations() -> None:
    result = match_country("united")
    assert result[:3] == ["AE", "GB", "US"]
    assert match_country("emir")[0] == "AE"


@pytest.mark.parametrize("text", ["", "  ", "?!", "zzzzqqq"])
def test_match_country_garbage(text: str) -> None:
    assert match_country(text) == []


def test_match_country_limit() -> None:
    assert len(match_country("s", limit=2)) == 2
    assert match_country("s", limit=0) == []


@pytest.mark.parametrize("iso2", sorted(set(DESTINATIONS) | CONFLICT_OR_RESTRICTED))
def test_timezone_for_listed_countries(iso2: str) -> None:
    zone = timezone_for(iso2)
    assert zone != "UTC"
    zoneinfo.ZoneInfo(zone)


def test_timezone_for_examples_and_fallback() -> None:
    assert timezone_for("SA") == "Asia/Riyadh"
    assert timezone_for("qa") == "Asia/Qatar"
    assert timezone_for("FR") == "Europe/Paris"  # via phonenumbers
    assert timezone_for("XX") == "UTC"
    assert timezone_for("") == "UTC"
