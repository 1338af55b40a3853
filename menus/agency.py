"""Check an agency: type a licence number or a name, read the answer, report the agency.

The search runs in the query's validator, through the ``agencies`` port; one match
goes straight to the answer, several are listed three to a page (98 for more) and
picked by number, none is a plain warning. Matches of which none has the name typed
(a word changed or misspelt: ``app.agencies.search.nearest_only``) are listed as the
nearest names on the register, even one of them: never answered, nor said to match,
as if one were the agency typed.

Arriving at an answer emits ``AgencyChecked``: its handler records the check and puts
the answer and the rule of the rotation into the session data, and the screen is drawn
from that. Reporting the agency emits ``AgencyReported``, which files the complaint.

The list of matches is a ``Pick`` screen (the departure journey's too): the engine
turns its pages and takes the number picked, and its text draws the numbered lines,
since a ``Choice`` takes its items from the language alone and these come from the
search. Every screen is fitted to 160 characters by shortening the agency's name.
"""

from __future__ import annotations

from typing import Any

from app.agencies.names import display_name, gsm_text
from menus.engine import BACK, MORE
from menus.journey import (
    Context,
    End,
    Input,
    Invalid,
    Journey,
    Menu,
    Option,
    Pick,
    Router,
    page_of,
)

MAX_CHARS = 160
"""The screen budget the name is shortened to fit (``USSD_MAX_CHARS`` default)."""

PER_PAGE = 3
"""Matches listed per screen (the departure journey's list too)."""

RULES = ("agency.rule.fees", "agency.rule.contract", "agency.rule.passport")
"""Rule texts in rotation; the same order as ``app.agencies.checks.RULES``."""

COMPLAINTS = ("fee", "passport", "fake_job", "other")


def query(value: str, ctx: Context) -> Any:
    """Accept a licence number or at least two letters or digits of a name."""
    text = " ".join(value.split())
    if sum(ch.isalnum() for ch in text) < 2:
        return Invalid("err.agency_query")
    if len(text) > 60:
        return Invalid("err.too_long", {"max": 60})
    return text


def match_id(match: list) -> int:
    """Give the agency id of a search match ``[id, name, licence number, status]``."""
    return match[0]


def search(value: str, ctx: Context) -> Any:
    """Run the search through the port and keep the matches for the next screens (and the
    agency, when it is the one match)."""
    found = ctx.port.agencies.search(value)
    ctx.data["agency_matches"] = found["matches"]
    ctx.data["agency_updated"] = found["updated"]
    ctx.data["agency_nearest"] = found["nearest"]
    ctx.data["agency_page"] = 0
    if len(found["matches"]) == 1 and not found["nearest"]:  # the answer, without a list
        ctx.data["agency_id"] = match_id(found["matches"][0])
    return value


def _after_search(ctx: Context) -> str:
    matches = ctx.data.get("agency_matches") or []
    if not matches:
        return "agency.notfound"
    if ctx.data.get("agency_nearest"):
        return "agency.nearest"
    return "agency.found" if len(matches) == 1 else "agency.pick"


JOURNEY = Journey(
    name="agency",
    start="agency.ask",
    screens=(
        Input("agency.ask", "agency.ask", save="agency_query", next=_after_search,
              validators=(query, search),
              routes=("agency.notfound", "agency.found", "agency.nearest", "agency.pick"),
              error_keys=("err.agency_query", "err.too_long")),
        Pick("agency.pick", "agency.pick", entries="agency_matches", page="agency_page",
             per_page=PER_PAGE, save="agency_id", value=match_id, next="agency.found",
             error="err.agency_pick"),
        Pick("agency.nearest", "agency.nearest", entries="agency_matches", page="agency_page",
             per_page=PER_PAGE, save="agency_id", value=match_id, next="agency.found",
             error="err.agency_pick"),
        # AgencyChecked's handler diverts to agency.none when the agency has just left
        # the register (``app.agencies.journey``).
        Router("agency.found", route=lambda ctx: "agency.answer",
               routes=("agency.answer", "agency.none"), emit="AgencyChecked"),
        Router("agency.notfound", route=lambda ctx: "agency.none", routes=("agency.none",),
               emit="AgencyNotFound"),
        Menu("agency.answer", "agency.answer", options=(
            Option("agency.report_opt", "agency.report"),
        )),
        Menu("agency.none", "agency.none", options=(
            Option("agency.again", "agency.ask"),
        )),
        Menu("agency.report", "agency.report", save="agency_complaint", options=tuple(
            Option(f"complaint.{kind}", "agency.reported", value=kind, emit="AgencyReported")
            for kind in COMPLAINTS
        )),
        End("agency.reported", "agency.reported"),
    ),
    samples={
        "agency_query": "Bartholomew Kipchirchir Overseas Recruitment Agency Ltd",
        "agency_updated": "2026-11-24",
        "agency_nearest": True,
        "agency_matches": [
            [1000 + n, "Bartholomew Kipchirchir Overseas Recruitment Agency Ltd",
             f"NEA/PEA/2024/{1000 + n:04d}", "valid"] for n in range(12)
        ],
        "agency_answer": {
            "agency_id": 1, "name": "Bartholomew Kipchirchir Overseas Recruitment Agency Ltd",
            "licence_no": "NEA/PEA/2024/1234", "status": "suspended",
            "register_status": "suspended", "expires_on": "2026-12-31",
            "register_updated": "2026-11-24", "complaints": 12345,
        },
        "agency_rule": 1,
        "agency_complaint_ref": "AC123456",
    },
    derive=lambda values, lang, t: derive(values, lang, t),
)


DERIVED = dict.fromkeys(("agency_label", "agency_status", "agency_date", "agency_complaints",
                         "agency_rule_text", "agency_typed", "agency_count", "agency_lines"), "")
"""Every value ``derive`` gives, blank until there is something to show."""


INPUTS = frozenset(("agency_answer", "agency_matches", "agency_query"))
"""What ``derive`` works from: without any of them it gives only blanks."""


def derive(values: dict, lang: str, t) -> dict:
    """Give the agency screens their fitted name, status sentence, rule and list lines."""
    if values.keys().isdisjoint(INPUTS):
        return dict(DERIVED)
    rule = RULES[int(values.get("agency_rule") or 0) % len(RULES)]
    out: dict[str, Any] = {**DERIVED, "agency_rule_text": t(lang, rule),
                           "agency_date": _date(values.get("agency_updated"))}
    answer = values.get("agency_answer") or {}
    if answer:
        out["agency_date"] = _date(answer.get("register_updated"))
        out["agency_complaints"] = answer.get("complaints", 0)
        out["agency_status"] = t(lang, f"agency.status.{answer.get('status', 'valid')}",
                               expires=_date(answer.get("expires_on")))
        rest = t(lang, "agency.answer", **{**values, **out, "agency_label": ""})
        footer = f"\n1 {t(lang, 'agency.report_opt')}\n0 {t(lang, 'nav.back')}"
        out["agency_label"] = display_name(answer.get("name", ""),
                                           _width(rest + footer, 12, 34))
    matches = values.get("agency_matches") or []
    if not matches:  # the not-found screen is the only one that quotes the query
        typed = values.get("agency_query") or ""
        rest = t(lang, "agency.none", **{**values, **out, "agency_typed": ""})
        footer = f"\n1 {t(lang, 'agency.again')}\n0 {t(lang, 'nav.back')}"
        out["agency_typed"] = '"' + gsm_text(typed, _width(rest + footer, 10, 30) - 2) + '"'
    if len(matches) > 1 or values.get("agency_nearest"):
        out["agency_count"] = len(matches)
        heading = (t(lang, "agency.nearest", agency_lines="") if values.get("agency_nearest")
                   else t(lang, "agency.pick", agency_count=len(matches), agency_lines=""))
        out["agency_lines"] = pick_lines(matches, int(values.get("agency_page") or 0), lang, t,
                                       heading)
    return out


def pick_lines(matches: list, page: int, lang: str, t, header: str) -> str:
    """Number one page of matches, with 98 for more and 0 back, fitted to the screen."""
    first, shown, more = page_of(matches, page, PER_PAGE)
    footer = []
    if more:
        footer.append(f"{MORE} {t(lang, 'nav.more')}")
    footer.append(f"{BACK} {t(lang, 'nav.back')}")
    fixed = [f"{n} {_short_licence(licence)}" for n, (_id, _name, licence, _status)
             in enumerate(shown, start=first)]
    spare = MAX_CHARS - len(header) - len("\n".join([*fixed, *footer])) - len(shown)
    width = max(6, min(30, spare // max(len(shown), 1)))
    lines = [f"{n} {display_name(name, width)} {_short_licence(licence)}"
             for n, (_id, name, licence, _status) in enumerate(shown, start=first)]
    return "\n".join([*lines, *footer])


def _short_licence(licence_no: str) -> str:
    """Give ``2024/0001`` for ``NEA/PEA/2024/0001``: enough to tell agencies apart."""
    return "/".join(licence_no.split("/")[-2:])


def _width(rest: str, least: int, most: int) -> int:
    return max(least, min(most, MAX_CHARS - len(rest)))


def _date(value: str | None) -> str:
    if not value:
        return "-"
    year, month, day = str(value)[:10].split("-")
    return f"{day}/{month}/{year}"
