"""The callback form reader: the first value of each field, and no more than 64 KB read."""

from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge

from app.callbacks import CALLBACK_MAX_BODY, form

_app = Flask(__name__)


def _read(body: str | bytes, content_type: str = "application/x-www-form-urlencoded"):
    with _app.test_request_context("/ussd", method="POST", data=body,
                                   content_type=content_type):
        return form()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=8))
def test_encoded_fields_come_back_first_value_first(pairs):
    body = urlencode(pairs)
    expected: dict[str, str] = {}
    for key, value in pairs:
        expected.setdefault(key, value)
    assert _read(body) == expected


def test_an_at_ussd_callback_reads_whole():
    body = ("sessionId=ATUid_1&serviceCode=%2A384%2A2026%23&phoneNumber=%2B254712345678"
            "&networkCode=63902&text=2%2AJane+Wanjiru&text=again&flag")
    assert _read(body) == {
        "sessionId": "ATUid_1", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
        "networkCode": "63902", "text": "2*Jane Wanjiru", "flag": ""}


def test_a_body_over_the_limit_is_refused_and_one_at_it_is_read():
    field = "text="
    at_limit = field + "x" * (CALLBACK_MAX_BODY - len(field))
    assert _read(at_limit) == {"text": "x" * (CALLBACK_MAX_BODY - len(field))}
    with pytest.raises(RequestEntityTooLarge):
        _read(at_limit + "x")


def test_a_body_that_is_not_utf8_reads_as_no_fields():
    """The view then answers as for any callback missing its fields (400)."""
    assert _read(b"sessionId=ATUid_1&text=\xff\xfe") == {}
