"""A migrant's own news by SMS, where USSD does not reach: a new job, or back home.

Both run as SMS dialogues (``app.dialogues``), opened by the keywords in
``app.placements.migrant``: ``NEW JOB`` / ``KAZI MPYA`` asks the new employer's
name, the city and the start date, then emits ``JobChangeReported``;
``RETURNED`` / ``NIMERUDI`` asks the date they came back, then emits
``ReturnReported``. The dialogue is opened with the date of the placement's last
recorded step (``mj_since``/``mr_since``), so a date before it is refused with a
reason on the spot, like a date in the future. The handler may still refuse (a
step recorded meanwhile); it then shows ``*.failed`` with the reason.
"""

from __future__ import annotations

from menus import travel
from menus.journey import Choice, Context, End, Input, Journey, Router

REASONS = ("future_date", "out_of_order", "bad_transition")
"""Why a step could not be recorded: ``TransitionError`` codes with a text each."""

TEXT_ERRORS = ("err.empty", "err.gsm", "err.too_long", "err.text_short")
DATE_ERRORS = ("err.empty", "err.date_format", "err.date_impossible", "err.date_future",
               "err.date_before")


def _after_city(ctx: Context) -> str:
    return "mj.date" if ctx.data.get("mj_country") else "mj.country"


JOURNEY = Journey(
    name="migrant_sms",
    start="mj.employer",
    screens=(
        Input("mj.employer", "mj.employer", save="mj_employer", next="mj.city",
              validators=(travel.short_text(60),), error_keys=TEXT_ERRORS),
        Input("mj.city", "mj.city", save="mj_city", next=_after_city,
              validators=(travel.short_text(40),), routes=("mj.date", "mj.country"),
              error_keys=TEXT_ERRORS),
        Choice("mj.country", "mj.country", items=travel.country_items,
               match=travel.country_match, save="mj_country",
               validators=(travel.abroad,),  # a job in Kenya is not a job abroad
               error_keys=("err.country_home",), next="mj.date"),
        Input("mj.date", "mj.date", save="mj_start", next="mj.save",
              validators=(travel.past_date("mj_since"),), error_keys=DATE_ERRORS),
        Router("mj.save", route=lambda ctx: "mj.done", routes=("mj.done", "mj.failed"),
               emit="JobChangeReported"),
        End("mj.done", "mj.done"),
        End("mj.failed", "mj.failed"),
        Input("mr.date", "mr.date", save="mr_date", next="mr.save",
              validators=(travel.past_date("mr_since"),), error_keys=DATE_ERRORS),
        Router("mr.save", route=lambda ctx: "mr.done", routes=("mr.done", "mr.failed"),
               emit="ReturnReported"),
        End("mr.done", "mr.done"),
        End("mr.failed", "mr.failed"),
    ),
    samples={
        "mj_employer": "Al Noor Household and Facilities Management Services Co",
        "mj_city": "Khamis Mushait Industrial Area Zone",
        "mj_country": "SA",
        "mj_start": "2026-12-31",
        "mj_since": "2026-11-24",
        "mr_date": "2026-12-31",
        "mr_since": "2026-11-24",
        "mig_reason": "out_of_order",
        "since": "31/12/2026",
    },
    derive=lambda values, lang, t: derive(values, lang, t),
)


DERIVED = dict.fromkeys(("mj_employer_label", "mj_city_label", "mj_start_label",
                         "mr_date_label", "mig_reason_text"), "")
"""Every value ``derive`` gives, blank until there is something to show."""


def derive(values: dict, lang: str, t) -> dict:
    """Give the last SMS its short labels and, when refused, the reason in words."""
    if not any(k in values for k in ("mj_employer", "mr_date", "mig_reason")):
        return dict(DERIVED)
    reason = values.get("mig_reason")
    return {
        "mj_employer_label": travel.short_label(values.get("mj_employer"), 30),
        "mj_city_label": travel.short_label(values.get("mj_city"), 20),
        "mj_start_label": travel.show_date(values.get("mj_start")),
        "mr_date_label": travel.show_date(values.get("mr_date")),
        "mig_reason_text": t(lang, f"mig.reason.{reason}") if reason in REASONS else "",
    }
