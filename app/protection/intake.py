"""Distress reports in: SMS keywords from any number, USSD "Get help", and the SMS
dialogue that fills in what a bare HELP did not say.

Every path calls ``cases.report`` inside the transaction of the job or hop that
brought the report, so the case is created and escalated at once. The dialogue
(``menus/help_sms.py``) starts only afterwards; its answers update the case.
"""

from __future__ import annotations

import logging

from app import dialogues
from app.events import Hop, handles
from app.keywords import KeywordContext, keyword
from app.models import Case
from app.protection import cases
from menus.engine import Event

log = logging.getLogger(__name__)

ENGLISH_WORDS = ("HELP", "HLP", "HELPP", "HELLP", "HEELP", "HEPL", "HALP", "HELPME", "SOS",
                 "S0S", "SOSS", "SOSOS", "DANGER")
"""Distress keywords in English, with common slips (``S0S`` with a zero, ``HELLP``)."""

SWAHILI_WORDS = ("MSAADA", "MSADA", "MSAADAA", "MSAAD", "MSAADHA", "MSADAA", "MASAADA",
                 "SAIDIA", "NISAIDIE", "NISAIDIENI", "TUSAIDIE", "SAIDIENI", "HATARI")
"""Distress keywords in Kiswahili ("msaada" help, "nisaidie" help me, "hatari" danger)."""

CRITICAL_WORDS = frozenset({"SOS", "S0S", "SOSS", "SOSOS", "DANGER", "HATARI"})
"""Keywords that say danger by themselves: the case is critical from the start."""

KEYWORD_SEVERITY = "high"
"""A bare HELP: serious until its words or answers say more (they can only raise it)."""

DIALOGUE_PREFIX = "help"
"""Help dialogues are named ``help:<case id>``."""


def typed_keyword(text: str | None) -> str:
    """Give the first word as typed, letters and digits only: ``S.O.S`` gives ``SOS``."""
    first = (text or "").strip().split(maxsplit=1)
    return "".join(ch for ch in first[0] if ch.isalnum()).upper() if first else ""


@keyword(*ENGLISH_WORDS, *SWAHILI_WORDS)
def distress(ctx: KeywordContext) -> None:
    """Open (or add to) the sender's case at once; then ask what the words did not say."""
    typed = typed_keyword(ctx.inbound.text)
    lang = cases.known_language(ctx.session, ctx.phone) or (
        "sw" if typed in SWAHILI_WORDS else "en")
    ctx.lang = lang
    severity = "critical" if typed in CRITICAL_WORDS else KEYWORD_SEVERITY
    done = cases.report(ctx.session, ctx.svc, reporter_phone=ctx.phone, channel="sms",
                        text=ctx.inbound.text, severity=severity, lang=lang,
                        source_ref=f"sms:{ctx.inbound.id}")
    case = done.case
    if done.outcome == "opened" and (case.category is None or case.country is None):
        screen = "helpsms.category" if case.category is None else "helpsms.country"
        dialogues.start(ctx.svc, ctx.session, ctx.phone, screen, lang=lang,
                        ref=f"{DIALOGUE_PREFIX}:{case.id}", queue="critical",
                        kind="help_dialogue",
                        data={"case_ref": case.ref, "help_case_id": case.id,
                              "help_country": case.country})
    log.info("inbound sms %d: distress, case %d %s", ctx.inbound.id, case.id, done.outcome)


@handles("DistressReported")
def _distress_reported(hop: Hop, event: Event) -> None:
    """USSD "Get help": open the case in this hop and show its reference."""
    data = event.data
    relative = data.get("help_for") == "relative"
    done = cases.report(
        hop.session, hop.svc, reporter_phone=hop.phone, channel=hop.channel,
        category=data.get("help_category"), country=data.get("help_country"),
        subject_phone=data.get("help_subject_phone") if relative else None,
        subject_name=data.get("help_subject_name") if relative else None,
        lang=hop.lang, source_ref=f"{hop.channel}:{hop.ref}",
    )
    hop.state["data"]["case_ref"] = done.case.ref
    hop.state["data"]["help_desk"] = cases.desk(done.case)


@handles("HelpCategoryGiven")
def _category_given(hop: Hop, event: Event) -> None:
    """The dialogue's first answer: what happened, as a number or in words."""
    case = _dialogue_case(hop)
    answer = event.data.get("help_answer") or {}
    if case is None:
        return
    if answer.get("category"):
        cases.set_category(hop.session, hop.svc, case, str(answer["category"]))
    elif answer.get("words"):
        cases.add_words(hop.session, hop.svc, case, str(answer["words"]))


@handles("HelpCountryGiven")
def _country_given(hop: Hop, event: Event) -> None:
    """The dialogue's second answer: where; an open case goes to that mission."""
    case = _dialogue_case(hop)
    if case is not None and event.data.get("help_country"):
        cases.set_country(hop.session, hop.svc, case, str(event.data["help_country"]))


def _dialogue_case(hop: Hop) -> Case | None:
    case_id = hop.state.get("data", {}).get("help_case_id")
    if not case_id:
        return None
    return hop.session.get(Case, int(case_id), with_for_update=True)
