"""I'm going abroad: the pre-departure declaration, with red flags warned on the spot.

A registered person tells where they are going (a country picked or typed), the
agency (searched in the register, its licence status shown at once), the job-offer
code (optional, checked), the employer, the departure date, the passport number,
the visa and a relative's phone. Each red flag is warned about the moment it shows,
on its own screen, in plain words, and counted again on the summary before the
person confirms: an agency that is not valid (or not on the register), a conflict
destination, a job offer that is not approved (or unknown), a visit or tourist visa
for work. Confirming emits ``DepartureDeclared``
(``app.placements.declaration``): the placement, the passport (encrypted, with a
blind index) and an SMS of their rights and how to ask for help from abroad, where
USSD does not work. A guest is asked to register first.

The journey opens with ``DepartureStarted``, whose handler puts the caller's own
number into the session, so that it can be refused as the relative's.
"""

from __future__ import annotations

from typing import Any

from app.agencies.names import display_name, gsm_text
from app.reference.countries import country_name
from menus import travel
from menus.agency import PER_PAGE, match_id, pick_lines
from menus.agency import query as agency_query
from menus.job_check import job_code
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
    Pick,
    Router,
    Update,
)

MAX_CHARS = 160
"""The screen budget names are shortened to fit (``USSD_MAX_CHARS`` default)."""

VISAS = ("work", "visit", "tourist", "student", "none")
"""Visa answers; ``none`` means the visa has not been issued yet."""

NOT_FOR_WORK = ("visit", "tourist")
"""Visas on which nobody may work: a red flag for a job abroad."""

KEYS = (
    "dep_country", "dep_agency_query", "dep_agency_matches", "dep_agency_updated",
    "dep_agency_page", "dep_agency_id", "dep_agency", "dep_agent_phone",
    "dep_job_code", "dep_job", "dep_employer", "dep_date", "dep_passport", "dep_visa",
    "dep_kin",
)
"""Answers of this journey, cleared when it starts again in the same session."""


def red_flags(data: dict[str, Any]) -> list[str]:
    """List the red flags in a declaration's answers (names of ``RED_FLAGS``)."""
    flags = []
    agency = data.get("dep_agency")
    if data.get("dep_agency_query") and (not agency or agency.get("status") != "valid"):
        flags.append("agency_not_valid")
    if data.get("dep_visa") in NOT_FOR_WORK:
        flags.append("visa_not_for_work")
    if travel.is_conflict(data.get("dep_country")):
        flags.append("conflict_destination")
    job = data.get("dep_job")
    if data.get("dep_job_code") and (not job or job.get("status") != "approved"):
        flags.append("listing_not_approved")
    return flags


# Routes and validators ---------------------------------------------------------------


def _after_dest(ctx: Context) -> str:
    return "dep.conflict" if travel.is_conflict(ctx.data["dep_country"]) else "dep.agency"


def agency_search(value: str, ctx: Context) -> Any:
    """Search the register through the port; keep the matches for the next screens (and
    the agency, when it is the one match), forgetting the agency answered before."""
    found = ctx.port.agencies.search(value)
    ctx.data["dep_agency_matches"] = found["matches"]
    ctx.data["dep_agency_updated"] = found["updated"]
    ctx.data["dep_agency_page"] = 0
    ctx.data.pop("dep_agency", None)
    ctx.data.pop("dep_agent_phone", None)
    if len(found["matches"]) == 1:
        ctx.data["dep_agency_id"] = match_id(found["matches"][0])
    return value


def _after_agency(ctx: Context) -> str:
    matches = ctx.data.get("dep_agency_matches") or []
    if not matches:
        return "dep.agency_none"
    return "dep.agency_chosen" if len(matches) == 1 else "dep.agency_pick"


def _read_agency(ctx: Context) -> dict[str, Any]:
    """Read the chosen agency's licence in force today."""
    agency = ctx.port.departure.agency(int(ctx.data["dep_agency_id"]))
    if agency is None:  # gone from the register since the search
        return {"dep_agency_matches": []}
    return {"dep_agency": agency}


def _agency_status(ctx: Context) -> str:
    """Warn unless the agency's licence is valid; say so if it has left the register."""
    if not ctx.data.get("dep_agency_matches"):
        return "dep.agency_none"
    return "dep.job" if ctx.data["dep_agency"]["status"] == "valid" else "dep.agency_warn"


def listing(value: str, ctx: Context) -> Any:
    """Read the listing a code names through the port, for the next screens."""
    ctx.data["dep_job"] = ctx.port.departure.listing(value) if value else None
    return value


def _after_job(ctx: Context) -> str:
    if not ctx.data.get("dep_job_code"):
        return "dep.employer"
    job = ctx.data.get("dep_job")
    if job is None:
        return "dep.job_unknown"
    return "dep.employer" if job["status"] == "approved" else "dep.job_warn"


def passport_free(value: str, ctx: Context) -> Any:
    """Refuse a passport number another registered person holds."""
    if ctx.port.departure.passport_taken(value, ctx.data.get("dep_phone")):
        return Invalid("err.passport_taken")
    return value


def _after_visa(ctx: Context) -> str:
    return "dep.visa_warn" if ctx.data.get("dep_visa") in NOT_FOR_WORK else "dep.kin"


JOURNEY = Journey(
    name="departure",
    start="dep.start",
    screens=(
        Menu("dep.guest", "dep.guest", options=(Option("main.register", "reg.consent"),)),
        Update("dep.start", forget=KEYS, next="dep.dest", emit="DepartureStarted"),
        Choice("dep.dest", "dep.dest", items=travel.country_items, match=travel.country_match,
               save="dep_country", validators=(travel.abroad,),
               error_keys=("err.country_home",), next=_after_dest,
               routes=("dep.conflict", "dep.agency")),
        Menu("dep.conflict", "dep.conflict", options=(
            Option("dep.continue", "dep.agency"),
            Option("dep.change_country", "dep.dest"),
        )),
        Input("dep.agency", "dep.agency", save="dep_agency_query", next=_after_agency,
              validators=(agency_query, agency_search),
              routes=("dep.agency_none", "dep.agency_chosen", "dep.agency_pick"),
              error_keys=("err.agency_query", "err.too_long")),
        Pick("dep.agency_pick", "dep.agency_pick", entries="dep_agency_matches",
             page="dep_agency_page", per_page=PER_PAGE, save="dep_agency_id", value=match_id,
             next="dep.agency_chosen", error="err.agency_pick"),
        Update("dep.agency_chosen", update=_read_agency, next=_agency_status,
               routes=("dep.job", "dep.agency_warn", "dep.agency_none")),
        Menu("dep.agency_warn", "dep.agency_warn", options=(
            Option("dep.continue", "dep.job"),
            Option("dep.change_agency", "dep.agency"),
        )),
        Menu("dep.agency_none", "dep.agency_none", options=(
            Option("dep.search_again", "dep.agency"),
            Option("dep.continue", "dep.agent_phone"),
        )),
        Input("dep.agent_phone", "dep.agent_phone", save="dep_agent_phone", next="dep.job",
              validators=(travel.optional(travel.phone),), error_keys=("err.phone",)),
        Input("dep.job", "dep.job", save="dep_job_code", next=_after_job,
              validators=(travel.optional(job_code), listing),
              routes=("dep.employer", "dep.job_unknown", "dep.job_warn"),
              error_keys=("err.job_code", "err.job_chars")),
        Menu("dep.job_unknown", "dep.job_unknown", options=(
            Option("dep.code_again", "dep.job"),
            Option("dep.continue", "dep.employer"),
        )),
        Menu("dep.job_warn", "dep.job_warn", options=(
            Option("dep.continue", "dep.employer"),
            Option("dep.code_again", "dep.job"),
        )),
        Input("dep.employer", "dep.employer", save="dep_employer", next="dep.date",
              validators=(travel.short_text(60),),
              error_keys=("err.empty", "err.gsm", "err.too_long", "err.text_short")),
        Input("dep.date", "dep.date", save="dep_date", next="dep.passport",
              validators=(travel.departure_date,),
              error_keys=("err.empty", "err.date_format", "err.date_impossible",
                          "err.date_long_ago", "err.date_far")),
        Input("dep.passport", "dep.passport", save="dep_passport", next="dep.visa",
              validators=(travel.passport, passport_free),
              error_keys=("err.empty", "err.passport", "err.passport_taken")),
        Menu("dep.visa", "dep.visa", save="dep_visa", options=tuple(
            Option(f"visa.{kind}", "dep.visa_check", value=kind) for kind in VISAS
        )),
        Router("dep.visa_check", route=_after_visa, routes=("dep.visa_warn", "dep.kin")),
        Menu("dep.visa_warn", "dep.visa_warn", options=(
            Option("dep.continue", "dep.kin"),
            Option("dep.change_visa", "dep.visa"),
        )),
        Input("dep.kin", "dep.kin", save="dep_kin", next="dep.summary",
              validators=(travel.phone, travel.not_own("dep_phone")),
              error_keys=("err.empty", "err.phone", "err.phone_own")),
        Confirm("dep.summary", "dep.summary", yes="dep.done", no="dep.cancelled",
                emit="DepartureDeclared"),
        End("dep.done", "dep.done"),
        End("dep.cancelled", "dep.cancelled"),
    ),
    samples={
        "dep_phone": "+254712345678",
        "dep_country": "CF",
        "dep_agency_query": "Bartholomew Kipchirchir Overseas Recruitment Agency Ltd",
        "dep_agency_updated": "2026-11-24",
        "dep_agency_matches": [
            [1000 + n, "Bartholomew Kipchirchir Overseas Recruitment Agency Ltd",
             f"NEA/PEA/2024/{1000 + n:04d}", "valid"] for n in range(12)
        ],
        "dep_agency": {"id": 1, "name": "Bartholomew Kipchirchir Overseas Recruitment Agency",
                       "licence_no": "NEA/PEA/2024/1234", "status": "suspended",
                       "expires_on": "2026-12-31"},
        "dep_job_code": "K7MZQ2",
        "dep_job": {"id": 1, "code": "K7MZQ2", "status": "needs_review", "country": "SA"},
        "dep_employer": "Al Noor Household and Facilities Management Services Co",
        "dep_date": "2026-12-31",
        "dep_passport": "AK12345678",
        "dep_visa": "student",
        "dep_kin": "+971501234567",
        "days": 30,
    },
    derive=lambda values, lang, t: derive(values, lang, t),
)


# Labels ------------------------------------------------------------------------------


DERIVED = dict.fromkeys((
    "dep_country_name", "dep_agency_typed", "dep_agency_count", "dep_agency_lines",
    "dep_agency_label", "dep_agency_status", "dep_agency_line", "dep_job_status",
    "dep_date_label", "dep_visa_label", "dep_kin_label", "dep_flags_line",
    "dep_agency_short", "dep_employer_short", "dep_register_date", "dep_visa_word",
), "")
"""Every value ``derive`` gives, blank until there is something to show."""


def derive(values: dict, lang: str, t) -> dict:
    """Give the departure screens their country, agency, status and summary labels."""
    if values.keys().isdisjoint(KEYS):
        return dict(DERIVED)
    out: dict[str, Any] = dict(DERIVED)
    country = values.get("dep_country")
    out["dep_country_name"] = country_name(country, lang) if country else ""
    out["dep_register_date"] = travel.show_date(values.get("dep_agency_updated")) or "-"
    typed = str(values.get("dep_agency_query") or "")
    out["dep_agency_typed"] = '"' + gsm_text(typed, 28) + '"' if typed else ""
    matches = values.get("dep_agency_matches") or []
    if len(matches) > 1:
        out["dep_agency_count"] = len(matches)
        header = t(lang, "dep.agency_pick", dep_agency_count=len(matches), dep_agency_lines="")
        out["dep_agency_lines"] = pick_lines(matches, int(values.get("dep_agency_page") or 0),
                                             lang, t, header)
    agency = values.get("dep_agency") or {}
    name = agency.get("name", "") if agency else typed
    if agency:
        out["dep_agency_status"] = t(lang, f"agency.status.{agency.get('status', 'valid')}",
                                     expires=travel.show_date(agency.get("expires_on")) or "-")
        warn = _menu_footer(lang, t, "dep.continue", "dep.change_agency")
        out["dep_agency_label"] = display_name(name, _width(
            lambda w: t(lang, "dep.agency_warn", **{
                **values, **out, "dep_agency_label": display_name(name, w)}) + warn))

        def job_screen(w: int) -> str:
            line = t(lang, "dep.agency_line", **{**out, "dep_agency_label": display_name(name, w)})
            return t(lang, "dep.job", **{**values, **out, "dep_agency_line": line})

        width = _width(job_screen)
        out["dep_agency_line"] = t(lang, "dep.agency_line", **{
            **out, "dep_agency_label": display_name(name, width)})
    job = values.get("dep_job") or {}
    if job:
        out["dep_job_status"] = t(lang, f"dep.listing.{job.get('status', 'pending')}")
    out["dep_date_label"] = travel.show_date(values.get("dep_date"))
    visa = values.get("dep_visa")
    out["dep_visa_label"] = t(lang, f"visa.{visa}") if visa in VISAS else ""
    out["dep_visa_word"] = out["dep_visa_label"].lower()
    out["dep_kin_label"] = travel.local_phone(values.get("dep_kin"))
    flags = red_flags(values)
    out["dep_flags_line"] = "\n" + t(lang, "dep.flags", count=len(flags)) if flags else ""
    if agency:
        status = t(lang, f"dep.status.{agency.get('status', 'valid')}")
    else:
        status = t(lang, "dep.status.none") if typed else ""
    employer = str(values.get("dep_employer") or "")
    confirm = f"\n1 {t(lang, 'nav.confirm')}\n2 {t(lang, 'nav.cancel')}"

    def summary(w: int) -> str:
        return t(lang, "dep.summary", **{
            **values, **out, "dep_agency_short": f"{display_name(name, w)} ({status})",
            "dep_employer_short": gsm_text(employer, w)}) + confirm

    width = _width(summary)
    out["dep_agency_short"] = f"{display_name(name, width)} ({status})" if name else ""
    out["dep_employer_short"] = gsm_text(employer, width)
    return out


def _menu_footer(lang: str, t, *labels: str) -> str:
    lines = [f"{n} {t(lang, label)}" for n, label in enumerate(labels, start=1)]
    return "\n" + "\n".join([*lines, f"0 {t(lang, 'nav.back')}"])


def _width(screen) -> int:
    """Give the widest name (8 to 34 characters) with which ``screen(width)`` fits."""
    for width in range(34, 8, -1):
        if len(screen(width)) <= MAX_CHARS:
            return width
    return 8
