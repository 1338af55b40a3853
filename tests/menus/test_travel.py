"""Answers about travel abroad: dates, passports, phone numbers, as people type them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from menus.journey import Context, Invalid
from menus.travel import (
    departure_date,
    kenya_today,
    not_own,
    optional,
    parse_date,
    passport,
    past_date,
    phone,
)

CTX = Context({"data": {"own": "+254712345678", "since": "2026-11-01"}}, None, None)
TODAY = date(2026, 11, 24)


@pytest.mark.parametrize("typed,expected", [
    ("05-01-2027", date(2027, 1, 5)), ("5/1/2027", date(2027, 1, 5)),
    ("05.01.2027", date(2027, 1, 5)), ("05 01 2027", date(2027, 1, 5)),
    ("05012027", date(2027, 1, 5)), ("today", TODAY), ("LEO", TODAY),
    ("jana", TODAY - timedelta(days=1)),
])
def test_dates_are_read_as_people_type_them(typed, expected):
    assert parse_date(typed, TODAY) == expected


@pytest.mark.parametrize("typed,key", [
    ("31-02-2027", "err.date_impossible"), ("00-01-2027", "err.date_impossible"),
    ("2027-01-05", "err.date_format"), ("5 Jan 2027", "err.date_format"),
    ("050127", "err.date_format"), ("", "err.empty"),
])
def test_impossible_or_unreadable_dates_say_why(typed, key):
    found = parse_date(typed, TODAY)
    assert isinstance(found, Invalid) and found.key == key


def test_a_departure_may_be_a_month_ago_to_a_year_ahead():
    today = kenya_today()
    assert departure_date((today - timedelta(days=30)).strftime("%d%m%Y"), CTX)
    assert departure_date((today + timedelta(days=300)).strftime("%d%m%Y"), CTX)
    assert departure_date((today - timedelta(days=31)).strftime("%d%m%Y"),
                          CTX).key == "err.date_long_ago"
    assert departure_date((today + timedelta(days=400)).strftime("%d%m%Y"),
                          CTX).key == "err.date_far"


def test_a_past_date_is_not_in_the_future_nor_before_the_last_step():
    check = past_date("since")
    assert check("today", CTX) == kenya_today().isoformat()
    assert check((kenya_today() + timedelta(days=1)).strftime("%d%m%Y"),
                 CTX).key == "err.date_future"
    refused = check("31-10-2026", CTX)
    assert refused.key == "err.date_before" and refused.values == {"since": "01/11/2026"}


@pytest.mark.parametrize("typed,expected", [
    ("AK1234567", "AK1234567"), ("ak 123 4567", "AK1234567"), ("A-1234567", "A1234567"),
    ("BK12345678", "BK12345678"),
])
def test_passport_numbers_are_normalised(typed, expected):
    assert passport(typed, CTX) == expected


@pytest.mark.parametrize("typed", ["12345678", "ABC123456", "AK12345", "AK123456789", "AK12 34X"])
def test_malformed_passport_numbers_are_refused(typed):
    assert passport(typed, CTX).key == "err.passport"


def test_phone_numbers_in_kenya_and_abroad():
    assert phone("0722 000 111", CTX) == "+254722000111"
    assert phone("966501234567", CTX) == "+966501234567"
    assert phone("+971-50-123-4567", CTX) == "+971501234567"
    assert phone("12", CTX).key == "err.phone"
    assert not_own("own")("+254712345678", CTX).key == "err.phone_own"
    assert optional(phone)("1", CTX) == ""
