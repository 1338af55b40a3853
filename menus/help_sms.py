"""After an SMS HELP: ask what happened and where, when the words did not say.

The case is open and its officers alerted before this dialogue sends its first
SMS; the answers only fill in the case (``HelpCategoryGiven``,
``HelpCountryGiven``), which may raise its severity or send it to the mission
of the country named. ``app.protection.intake`` starts it at ``helpsms.category``
(category unknown) or ``helpsms.country`` (only the country unknown).

The first question takes a number *or words*: a person in trouble who writes
"they took my phone" instead of "8" must not be told "invalid choice" and lose
those words. Words are added to the case (and read for a category).
"""

from __future__ import annotations

from typing import Any

from menus import travel
from menus.journey import Choice, Context, End, Input, Invalid, Journey, Router

CATEGORY_ANSWERS: tuple[str, ...] = (
    "unpaid_wages", "passport_held", "abuse", "confinement", "forced_work", "detention",
    "medical", "other",
)
"""The numbered answers of ``helpsms.category``, in the order its text lists them."""


def category_answer(value: str, ctx: Context) -> Any:
    """Accept 1-8 as a category, or any words (kept for the case); refuse other numbers."""
    text = " ".join(value.split())
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(CATEGORY_ANSWERS):
            return {"category": CATEGORY_ANSWERS[number - 1]}
        return Invalid("err.help_category")
    if not any(ch.isalpha() for ch in text):
        return Invalid("err.help_category")
    return {"words": text[:500]}


def _after_category(ctx: Context) -> str:
    return "helpsms.saved" if ctx.data.get("help_country") else "helpsms.country"


JOURNEY = Journey(
    name="help_sms",
    start="helpsms.category",
    screens=(
        Input("helpsms.category", "helpsms.category", save="help_answer",
              next="helpsms.answered", validators=(category_answer,),
              error_keys=("err.help_category",)),
        Router("helpsms.answered", route=_after_category, emit="HelpCategoryGiven",
               routes=("helpsms.country", "helpsms.saved")),
        Choice("helpsms.country", "helpsms.country", items=travel.country_items,
               save="help_country", next="helpsms.country_given", match=travel.country_match),
        Router("helpsms.country_given", route=lambda ctx: "helpsms.saved",
               routes=("helpsms.saved",), emit="HelpCountryGiven"),
        End("helpsms.saved", "helpsms.saved"),
    ),
    samples={"case_ref": "K7MZQ2"},
)

ENTRIES = ("helpsms.category", "helpsms.country")
"""Where ``app.protection.intake`` opens this dialogue."""
