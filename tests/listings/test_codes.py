"""app/listings/codes.py: the public code's alphabet, drawing and reading."""

from __future__ import annotations

import pytest

from app.listings import codes


def test_alphabet_has_no_look_alikes_and_32_characters() -> None:
    assert len(codes.ALPHABET) == len(set(codes.ALPHABET)) == 32
    assert not set("0O1I") & set(codes.ALPHABET)
    assert set(codes.ALPHABET) == set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def test_new_codes_are_six_characters_from_the_alphabet_and_vary() -> None:
    drawn = [codes.new_code() for _ in range(2000)]
    assert all(len(code) == 6 and set(code) <= set(codes.ALPHABET) for code in drawn)
    assert len(set(drawn)) >= len(drawn) - 2  # 32**6 codes: clashes are rare, not impossible
    # Every character turns up: the draw uses the whole alphabet.
    assert set("".join(drawn)) == set(codes.ALPHABET)


@pytest.mark.parametrize("typed", ["K7MZQ2", "k7mzq2", " k7m zq2 ", "K7M-ZQ2", "k7m.zq2"])
def test_parse_forgives_case_spaces_and_dashes(typed) -> None:
    assert codes.parse(typed) == "K7MZQ2"


@pytest.mark.parametrize("typed", ["K7MZQ0", "KOMZQ2", "K1MZQ2", "KIMZQ2"])
def test_parse_refuses_look_alikes_instead_of_guessing(typed) -> None:
    with pytest.raises(codes.CodeError) as caught:
        codes.parse(typed)
    assert caught.value.reason == "look_alike"


@pytest.mark.parametrize("typed", ["", "K7MZQ", "K7MZQ22", "K7MZQ!", "K7MZQÉ", "JOB K7MZQ2"])
def test_parse_refuses_what_is_not_six_letters_and_digits(typed) -> None:
    with pytest.raises(codes.CodeError) as caught:
        codes.parse(typed)
    assert caught.value.reason == "format"


def test_is_code_needs_the_exact_form() -> None:
    assert codes.is_code("K7MZQ2")
    assert not codes.is_code("k7mzq2") and not codes.is_code("K7MZQ0")
