"""Check a job offer: type the listing's 6-character code, see whether it is safe.

The answer names the agency and its licence status, the employer, country, title,
salary and the listing's status, with a warning unless the listing is approved and
its agency licensed. An unknown code is a warning too (the advert may be fake),
never an error. Codes are forgiving of case, spaces and dashes; a typed 0, O, 1 or I
gets a hint, because codes never hold them (see ``app.listings.codes``).
"""

from __future__ import annotations

from typing import Any

from app.listings import card, codes
from menus.journey import Context, End, Input, Invalid, Journey, Update

RESULT_KEYS = ("job.ok", "job.warn")
"""Screens that show a found listing: without and with a warning."""


def job_code(value: str, ctx: Context):
    """Accept a listing code as typed (``k7m zq2``); give it upper-case, or say what is wrong."""
    try:
        return codes.parse(value)
    except codes.CodeError as exc:
        return Invalid("err.job_chars" if exc.reason == "look_alike" else "err.job_code")


def _lookup(ctx: Context) -> dict[str, Any]:
    """Read the listing the code names through the port."""
    return {"job": ctx.port.listings.check(ctx.data["job_code"])
            if ctx.port is not None else None}


def _result(ctx: Context) -> str:
    job = ctx.data.get("job")
    return "job.unknown" if job is None else card.pick(job, *RESULT_KEYS)


def derive(values: dict, lang: str, t) -> dict:
    """Give the result screens their labels, fitted to one screen."""
    job = values.get("job")
    if not job:
        return dict.fromkeys(card.LABELS, "")
    return card.labels(job, lang, t, [card.pick(job, *RESULT_KEYS)])


JOURNEY = Journey(
    name="job_check",
    start="job.code",
    screens=(
        Input("job.code", "job.code", save="job_code", next="job.lookup",
              validators=(job_code,), error_keys=("err.job_code", "err.job_chars")),
        Update("job.lookup", update=_lookup, next=_result,
               routes=("job.ok", "job.warn", "job.unknown")),
        End("job.ok", "job.ok", emit="JobChecked"),
        End("job.warn", "job.warn", emit="JobChecked"),
        End("job.unknown", "job.unknown"),
    ),
    samples={
        "job_code": "K7MZQ2",
        "job": {
            "code": "K7MZQ2", "status": "pending", "licence": "suspended",
            "title": "Domestic worker and caregiver for elderly couple, live-in, 6 days",
            "country": "CF", "salary_amount": "9999999.99", "salary_currency": "SAR",
            "salary_period": "month",
            "employer": "Al Noor Household and Facilities Management Services Company",
            "agency": "Example International Recruitment and Manpower Consultants Ltd",
            "agency_id": 1,
        },
    },
    derive=lambda values, lang, t: derive(values, lang, t),
)
