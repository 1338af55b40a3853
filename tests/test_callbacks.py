"""The callback form reader: the same fields as ``parse_qsl`` for any body."""

from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from app.callbacks import parse_urlencoded


def _first_values(body: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        fields.setdefault(key, value)
    return fields


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab=&%+2B4A0fz é*#\x00"), max_size=40) | st.text())
def test_any_body_reads_as_parse_qsl_reads_it(body):
    assert parse_urlencoded(body) == _first_values(body)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=8))
def test_encoded_fields_come_back_first_value_first(pairs):
    body = urlencode(pairs)
    expected: dict[str, str] = {}
    for key, value in pairs:
        expected.setdefault(key, value)
    assert parse_urlencoded(body) == expected


def test_an_at_ussd_callback_reads_whole():
    body = ("sessionId=ATUid_1&serviceCode=%2A384%2A2026%23&phoneNumber=%2B254712345678"
            "&networkCode=63902&text=2%2AJane+Wanjiru&text=again&flag")
    assert parse_urlencoded(body) == {
        "sessionId": "ATUid_1", "serviceCode": "*384*2026#", "phoneNumber": "+254712345678",
        "networkCode": "63902", "text": "2*Jane Wanjiru", "flag": ""}
