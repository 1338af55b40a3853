"""No news from my relative abroad (USSD, under "Get help"): family at home report silence.

Silence is how trouble abroad often first shows (a phone taken, confinement), and
families in Kenya can dial USSD when the migrant cannot. The reporter gives the
relative's phone number or name, the country (a foreign number gives it by
itself), and how long it has been. Confirming emits ``NoNewsReported``
(``app.placements.no_news``), which opens a case through the protection intake:
category ``other``, severity ``high`` after more than 30 days or in a conflict
country, else ``normal``. The last screen shows the case reference.
"""

from __future__ import annotations

from typing import Any

from app.reference.countries import country_name
from menus import travel
from menus.journey import (
    Choice,
    Confirm,
    Context,
    End,
    Input,
    Invalid,
    Journey,
    Menu,
    Option,
    Update,
)

SINCE = (("nn.since_week", "week", 7), ("nn.since_month", "month", 30),
         ("nn.since_months", "months", 90), ("nn.since_longer", "longer", 180))
"""How long since the last contact: (label key, value, at most about how many days)."""

SINCE_DAYS = {value: days for _label, value, days in SINCE}

HIGH_AFTER_DAYS = 30
"""Silence longer than this makes the case ``high``."""

KEYS = ("nn_subject", "nn_subject_phone", "nn_subject_name", "nn_country", "nn_since",
        "case_ref")


def severity(since: str | None, country: str | None) -> str:
    """Give the case severity for this silence: high when long, or in a conflict country."""
    if SINCE_DAYS.get(since or "", 0) > HIGH_AFTER_DAYS or travel.is_conflict(country):
        return "high"
    return "normal"


def subject(value: str, ctx: Context) -> Any:
    """Accept the relative's phone number (any country) or their name."""
    text = " ".join(value.split())
    digits = text.replace(" ", "").replace("-", "")
    if not text:
        return Invalid("err.empty")
    if digits.lstrip("+").isdigit():
        found = travel.phone(digits, ctx)
        return Invalid("err.nn_subject") if isinstance(found, Invalid) else found
    name = travel.short_text(40)(text, ctx)
    if isinstance(name, Invalid):
        return name if name.key in ("err.gsm", "err.too_long") else Invalid("err.nn_subject")
    return name


def _file_who(ctx: Context) -> dict[str, Any]:
    """File the answer as a phone or a name; a foreign number tells the country."""
    value = str(ctx.data.get("nn_subject") or "")
    is_phone = value.startswith("+")
    filed = {"nn_subject_phone": value if is_phone else None,
             "nn_subject_name": None if is_phone else value}
    if travel.abroad_of(value):
        filed["nn_country"] = travel.abroad_of(value)
    return filed


def _after_who(ctx: Context) -> str:
    return "nn.since" if travel.abroad_of(str(ctx.data.get("nn_subject") or "")) else "nn.where"


JOURNEY = Journey(
    name="no_news",
    start="nn.start",
    screens=(
        Update("nn.start", forget=KEYS, next="nn.who"),
        Input("nn.who", "nn.who", save="nn_subject", next="nn.filed", validators=(subject,),
              error_keys=("err.empty", "err.nn_subject", "err.gsm", "err.too_long")),
        Update("nn.filed", update=_file_who, next=_after_who, routes=("nn.since", "nn.where")),
        Choice("nn.where", "nn.where", items=travel.country_items, match=travel.country_match,
               save="nn_country", validators=(travel.abroad,),
               error_keys=("err.country_home",), next="nn.since"),
        Menu("nn.since", "nn.since", save="nn_since", options=tuple(
            Option(label, "nn.confirm", value=value) for label, value, _days in SINCE)),
        Confirm("nn.confirm", "nn.confirm", yes="nn.sent", no="nn.cancelled",
                emit="NoNewsReported", yes_label="nn.send"),
        End("nn.sent", "nn.sent"),
        End("nn.cancelled", "nn.cancelled"),
    ),
    samples={
        "nn_subject": "Bartholomew Kipchirchir Wanjiku-Otieno",
        "nn_subject_name": "Bartholomew Kipchirchir Wanjiku-Otieno",
        "nn_country": "CF",
        "nn_since": "months",
        "case_ref": "K7MZQ2",
    },
    derive=lambda values, lang, t: derive(values, lang, t),
)


DERIVED = dict.fromkeys(("nn_subject_label", "nn_country_name", "nn_since_label"), "")


def derive(values: dict, lang: str, t) -> dict:
    """Give the confirm screen the relative, the country and the time in words."""
    if "nn_subject" not in values and "nn_country" not in values:
        return dict(DERIVED)
    since = {value: label for label, value, _days in SINCE}.get(values.get("nn_since") or "")
    who = values.get("nn_subject_phone") or values.get("nn_subject_name") or ""
    country = values.get("nn_country")
    return {
        "nn_subject_label": travel.short_label(travel.local_phone(who) if who.startswith("+")
                                               else who, 30),
        "nn_country_name": country_name(country, lang) if country else "",
        "nn_since_label": t(lang, since).lower() if since else "",
    }
