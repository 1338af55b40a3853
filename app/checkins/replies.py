"""Answers to a check-in: through its SMS dialogue, or late, as a bare 1, 2 or 3.

A campaign stores no dialogue per person: a check-in's dialogue is implied
(``app.dialogues.implied``). The first reply from a number whose latest check-in
went out less than ``REPLY_WINDOW`` ago, is still unanswered and has no other
dialogue open starts it at ``checkin.ask`` in the language the check-in was sent
in, and is its first input. Inside the dialogue (``menus/checkin.py``) the events
below record the answer and open the case. After that window, the keyword router
sends a bare ``1``, ``2`` or ``3`` here: it still counts if the number had a
check-in in the last ``LATE_WINDOW``, because a ``3`` must never be lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import dialogues
from app.db import aware, utcnow
from app.events import Hop, handles
from app.extensions import Services
from app.i18n import LANGUAGES
from app.keywords import KeywordContext, keyword, unknown
from app.models import Case, CheckIn, Contact, Person, Placement
from app.protection.cases import open_case
from menus.engine import Event

log = logging.getLogger(__name__)

LATE_WINDOW = timedelta(days=35)
"""A bare 1/2/3 counts as the answer to a check-in sent this recently."""

REPLY_WINDOW = timedelta(days=7)
"""How long a check-in's dialogue stays open; unanswered by then, it is missed."""

REF_PREFIX = "checkin"
"""Dialogue refs read ``checkin:<check-in id>`` (``…:<inbound id>`` when opened late)."""

FIRST_SCREEN = "checkin.ask"
"""Where each check-in dialogue starts (``menus/checkin.py``)."""

DANGER_TEXT = "Check-in reply 3: in danger"
"""The case's first words when a ``3`` came without words of its own."""


def dialogue_ref(checkin_id: int, inbound_id: int | None = None) -> str:
    """Name a check-in's dialogue so the events can find the check-in again."""
    ref = f"{REF_PREFIX}:{checkin_id}"
    return ref if inbound_id is None else f"{ref}:{inbound_id}"


def checkin_of(session: Session, ref: str) -> CheckIn | None:
    """Give the check-in a dialogue ref names, locked for this transaction."""
    prefix, _, rest = ref.partition(":")
    number = rest.split(":", 1)[0]
    if prefix != REF_PREFIX or not number.isdigit():
        return None
    return session.get(CheckIn, int(number), with_for_update=True)


def record(checkin: CheckIn, answer: str) -> None:
    """Store the latest answer; a ``3`` is never overwritten by a milder one."""
    if checkin.answer == "3" and answer != "3":
        return
    checkin.answer = answer
    checkin.status = "answered"
    checkin.answered_at = utcnow()


def open_checkin_case(session: Session, svc: Services, checkin: CheckIn, *, answer: str,
                      lang: str, category: str | None = None, severity: str | None = None,
                      text: str | None = None, source_ref: str) -> Case:
    """Open the case a check-in answer calls for (or add to the person's open one)."""
    placement = session.get(Placement, checkin.placement_id)
    case = open_case(
        session, svc, reporter_phone=checkin.phone, channel="checkin", text=text,
        category=category, severity=severity,
        country=placement.country if placement else None,
        person_id=placement.person_id if placement else None,
        placement_id=checkin.placement_id, lang=lang, source_ref=source_ref,
    )
    checkin.case_id = case.id
    log.info("check-in %d answer %s opened case %d", checkin.id, answer, case.id)
    return case


# The implied dialogue ------------------------------------------------------------------


@dialogues.implied
def awaited_checkin(svc: Services, session: Session, phone: str) -> dialogues.Implied | None:
    """Give the dialogue of the number's check-in still awaiting its answer, if any.

    Only the number's latest check-in counts, and only while it is ``sent``: once it
    is answered or missed, its question is closed.
    """
    latest = recent_checkin(session, phone)
    if latest is None or latest.status != "sent" or aware(latest.sent_at) < utcnow() - REPLY_WINDOW:
        return None
    return dialogues.Implied(screen=FIRST_SCREEN, lang=checkin_language(session, phone,
                                                                        latest.placement_id),
                             ref=dialogue_ref(latest.id))


def checkin_language(session: Session, phone: str, placement_id: int) -> str:
    """Give the language a check-in goes out in, as the campaign chooses it.

    The number's Contact, else the language of the person placed, else English.
    """
    lang = session.scalar(select(Contact.lang).where(Contact.phone == phone))
    if not lang:
        lang = session.scalar(select(Person.lang).join(Placement, Placement.person_id == Person.id)
                              .where(Placement.id == placement_id))
    return lang if lang in LANGUAGES else LANGUAGES[0]


# In the dialogue ----------------------------------------------------------------------


@handles("CheckInFine")
def fine(hop: Hop, event: Event) -> None:
    """Record a ``1``."""
    checkin = checkin_of(hop.session, hop.ref)
    if checkin is not None:
        record(checkin, "1")


@handles("CheckInProblem")
def problem(hop: Hop, event: Event) -> None:
    """Record a ``2``; the case waits for the kind of problem (or ``missed`` opens it)."""
    checkin = checkin_of(hop.session, hop.ref)
    if checkin is not None:
        record(checkin, "2")


@handles("CheckInProblemReported")
def problem_reported(hop: Hop, event: Event) -> None:
    """Open the case for the problem chosen, its severity set by the category."""
    checkin = checkin_of(hop.session, hop.ref)
    if checkin is None:
        return
    record(checkin, "2")
    category = event.data.get("checkin_category") or "other"
    case = open_checkin_case(
        hop.session, hop.svc, checkin, answer="2", lang=hop.lang, category=category,
        text=f"Check-in reply 2: {category.replace('_', ' ')}",
        source_ref=f"{hop.ref}:2:{category}",
    )
    hop.state["data"]["case_ref"] = case.ref


@handles("CheckInDanger")
def danger(hop: Hop, event: Event) -> None:
    """Open a critical case at once."""
    checkin = checkin_of(hop.session, hop.ref)
    if checkin is None:
        return
    record(checkin, "3")
    case = open_checkin_case(hop.session, hop.svc, checkin, answer="3", lang=hop.lang,
                             severity="critical", text=DANGER_TEXT, source_ref=f"{hop.ref}:3")
    hop.state["data"]["case_ref"] = case.ref


# Late, after the dialogue expired -----------------------------------------------------


def recent_checkin(session: Session, phone: str) -> CheckIn | None:
    """Give the number's latest check-in sent within ``LATE_WINDOW``, locked."""
    return session.scalar(
        select(CheckIn)
        .where(CheckIn.phone == phone, CheckIn.sent_at >= utcnow() - LATE_WINDOW)
        .order_by(CheckIn.sent_at.desc(), CheckIn.id.desc())
        .limit(1)
        .with_for_update()
    )


@keyword("1")
def late_fine(ctx: KeywordContext) -> None:
    """A late ``1``: record it and thank."""
    checkin = recent_checkin(ctx.session, ctx.phone)
    if checkin is None:
        return unknown(ctx)
    record(checkin, "1")
    ctx.reply("checkin.fine", kind="checkin_reply")


@keyword("2")
def late_problem(ctx: KeywordContext) -> None:
    """A late ``2``: record it and ask what the problem is, in a new dialogue."""
    checkin = recent_checkin(ctx.session, ctx.phone)
    if checkin is None:
        return unknown(ctx)
    record(checkin, "2")
    dialogues.start(ctx.svc, ctx.session, ctx.phone, "checkin.problem", lang=ctx.lang,
                    ref=dialogue_ref(checkin.id, ctx.inbound.id), ttl=REPLY_WINDOW,
                    kind="checkin_reply")


@keyword("3")
def late_danger(ctx: KeywordContext) -> None:
    """A late ``3``: open a critical case at once and say so."""
    checkin = recent_checkin(ctx.session, ctx.phone)
    if checkin is None:
        return unknown(ctx)
    record(checkin, "3")
    case = open_checkin_case(
        ctx.session, ctx.svc, checkin, answer="3", lang=ctx.lang, severity="critical",
        text=(ctx.inbound.text or "").strip()[:500] or DANGER_TEXT,
        source_ref=f"{dialogue_ref(checkin.id, ctx.inbound.id)}:3",
    )
    ctx.reply("checkin.danger", kind="checkin_reply", queue="critical", case_ref=case.ref)
