"""Get help (USSD): for me or for a relative abroad; the country and what happened.

Family at home are a main source of reports, and USSD does not work abroad, so
"a relative abroad" asks for their phone or name first. A foreign number gives
the country by itself; otherwise the country is typed (a forgiving match) or
picked. The last answer emits ``DistressReported``: the case is opened and the
officers alerted inside that hop's transaction, and the last screen shows the
case reference. Few hops on purpose: 3 for me, 3 or 4 for a relative.
"""

from __future__ import annotations

from typing import Any

from app.phones import try_normalise
from app.sms.gsm import is_gsm7
from menus import travel
from menus.journey import Choice, Context, End, Input, Invalid, Journey, Menu, Option, Update

CATEGORY_OPTIONS: tuple[tuple[str, str], ...] = (
    ("help.cat_unpaid", "unpaid_wages"),
    ("help.cat_passport", "passport_held"),
    ("help.cat_abuse", "abuse"),
    ("help.cat_confined", "confinement"),
    ("help.cat_deceived", "deception"),
    ("help.cat_forced", "forced_work"),
    ("help.cat_medical", "medical"),
    ("help.cat_arrested", "detention"),
    ("help.cat_return", "wants_return"),
    ("help.cat_other", "other"),
)
"""What happened: (label key, case category of ``app.models.protection.CATEGORIES``)."""


def subject(value: str, ctx: Context) -> Any:
    """Accept the relative's phone number (any country) or their name."""
    text = " ".join(value.split())
    if not text:
        return Invalid("err.help_subject")
    digits = text.replace(" ", "").replace("-", "")
    if digits.lstrip("+").isdigit():
        phone = try_normalise(digits)
        if phone is None and not digits.startswith(("+", "0")):
            phone = try_normalise("+" + digits)
        return phone if phone else Invalid("err.help_subject")
    if not is_gsm7(text) or len(text) > 40 or not any(ch.isalpha() for ch in text):
        return Invalid("err.help_subject")
    return text


def _file_subject(ctx: Context) -> dict[str, Any]:
    """File the answer as a phone or a name; a foreign number tells the country."""
    value = ctx.data.get("help_subject") or ""
    is_phone = value.startswith("+")
    filed = {"help_subject_phone": value if is_phone else None,
             "help_subject_name": None if is_phone else value}
    if travel.abroad_of(value):
        filed["help_country"] = travel.abroad_of(value)
    return filed


def _after_subject(ctx: Context) -> str:
    return "help.what" if travel.abroad_of(ctx.data.get("help_subject") or "") else "help.where"


KEYS = ("help_subject", "help_subject_phone", "help_subject_name", "help_country",
        "help_category", "case_ref", "help_desk")
"""Answers of this journey, forgotten when it starts again in the same session."""


def categories(goto: str, emit: str | None = None) -> tuple[Option, ...]:
    """The "what happened" options, shared with the SMS dialogue."""
    return tuple(Option(label, goto, value=category, emit=emit)
                 for label, category in CATEGORY_OPTIONS)


JOURNEY = Journey(
    name="help",
    start="help.start",
    screens=(
        Update("help.start", forget=KEYS, next="help.who"),
        Menu(
            "help.who",
            "help.who",
            save="help_for",
            options=(
                Option("help.me", "help.where", value="me"),
                Option("help.relative", "help.rel", value="relative"),
                Option("help.no_news", "nn.start"),
            ),
        ),
        Input("help.rel", "help.rel", save="help_subject", next="help.rel_done",
              validators=(subject,), error_keys=("err.help_subject",)),
        Update("help.rel_done", update=_file_subject, next=_after_subject,
               routes=("help.what", "help.where")),
        Choice("help.where", "help.where", items=travel.country_items, save="help_country",
               next="help.what", match=travel.country_match),
        Menu("help.what", "help.what", save="help_category", options=categories("help.sent")),
        End("help.sent", "help.sent", emit="DistressReported"),
    ),
    samples={"case_ref": "K7MZQ2", "help_desk": "Washington DC"},
)
