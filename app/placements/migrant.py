"""A migrant reports by SMS: ``NEW JOB`` (``KAZI MPYA``) and ``RETURNED`` (``NIMERUDI``).

The keyword router matches on a text's first word, so ``NEW JOB`` is routed by
``NEW`` (and ``KAZI MPYA`` by ``KAZI``); the handler reads the second word, and
a text that only starts with ``NEW`` or ``KAZI`` (an answer to an open dialogue
such as an employer called "New Vision Ltd", or anything else) is given to the
open dialogue or answered like unknown text. One-word spellings (``NEWJOB``,
``KAZIMPYA``) and punctuation (``new-job!``) work too.

Each keyword finds the sender's placement (by registration, else by number) and
opens an SMS dialogue (``menus/migrant_sms.py``) carrying the placement, its
country and the date of its last step. Its last answer emits an event whose
handler records the step with source ``person``: ``employed`` with the new
employer (an ``Employer`` row), or ``returned``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import dialogues
from app.db import aware, utcnow
from app.events import Hop, handles
from app.keywords import KeywordContext, active_person, keyword, unknown
from app.listings.service import employer_for
from app.models import Contact, Person, Placement, PlacementTransition
from app.models.placement import ABROAD_STATES
from app.phones import country_of
from app.placements.declaration import recompute_irregular
from app.placements.service import OPEN_STATES, TransitionError, transition
from menus.engine import Event
from menus.travel import KENYA

log = logging.getLogger(__name__)

NEW_WORDS = {"NEW": frozenset({"JOB", "JOBS", "EMPLOYER", "WORK"}),
             "KAZI": frozenset({"MPYA"})}
"""Two-word keywords: the first word routes, the second must be one of these."""

ONE_WORD_NEW = frozenset({"NEWJOB", "KAZIMPYA"})

RETURN_WORDS = ("RETURNED", "RETURN", "NIMERUDI", "NIMEREJEA")

SWAHILI_WORDS = frozenset({"KAZI", "KAZIMPYA", "NIMERUDI", "NIMEREJEA"})
"""Keywords in Kiswahili: the dialogue is in Kiswahili unless the number chose a language."""

RETURN_FROM = (*ABROAD_STATES, "ended")
"""States a placement can be closed from by a return home."""

_WORDS = re.compile(r"[^\W_]+")


def words(text: str | None) -> list[str]:
    """Give the words of a text, upper-cased, punctuation dropped."""
    return [w.upper() for w in _WORDS.findall(text or "")]


def says_new_job(text: str | None) -> bool:
    """Tell whether a text is the NEW JOB keyword in any of its spellings."""
    found = words(text)
    if not found:
        return False
    if found[0] in ONE_WORD_NEW:
        return True
    return len(found) > 1 and found[1] in NEW_WORDS.get(found[0], ())


# Finding the placement ----------------------------------------------------------------


def placement_of(session: Session, person: Person | None, phone: str,
                 states: tuple[str, ...]) -> Placement | None:
    """Give the newest placement in ``states`` of the registered person, else of the number."""
    query = select(Placement).where(Placement.status.in_(states))
    if person is not None:
        found = session.scalar(query.where(Placement.person_id == person.id)
                               .order_by(Placement.id.desc()).limit(1))
        if found is not None:
            return found
    return session.scalar(query.where(Placement.phone == phone)
                          .order_by(Placement.id.desc()).limit(1))


def last_step_at(session: Session, placement: Placement | None) -> datetime | None:
    """Give when the placement's last recorded step happened."""
    if placement is None or placement.id is None:
        return None
    return aware(session.scalar(
        select(PlacementTransition.occurred_at)
        .where(PlacementTransition.placement_id == placement.id)
        .order_by(PlacementTransition.occurred_at.desc(), PlacementTransition.id.desc())
        .limit(1)))


def kenya_date(moment: datetime | None) -> str | None:
    """Give the Kenyan calendar date of a moment, as ISO text."""
    return moment.astimezone(KENYA).date().isoformat() if moment else None


def moment_on(day: date, floor: datetime | None, now: datetime | None = None) -> datetime:
    """Give the moment a step reported only by its day happened.

    Today means now. An earlier day means its noon in Kenya, but never before the
    placement's last step when that was the same day (the order must hold).
    """
    now = now or utcnow()
    if day >= now.astimezone(KENYA).date():
        return now
    noon = datetime.combine(day, time(12), KENYA).astimezone(UTC)
    if floor is not None and floor.astimezone(KENYA).date() == day and noon < floor:
        return min(floor, now)
    return noon


def _language(ctx: KeywordContext) -> str:
    """Answer in Kiswahili when the keyword was, unless the number chose a language."""
    chosen = ctx.session.scalar(select(Contact.lang).where(Contact.phone == ctx.phone))
    person = ctx.person()
    if chosen or (person is not None and person.lang):
        return ctx.lang
    first = words(ctx.inbound.text)[:1]
    return "sw" if first and first[0] in SWAHILI_WORDS else ctx.lang


def _not_ours(ctx: KeywordContext) -> None:
    """A text that only starts like our keyword: an answer to an open dialogue, or unknown."""
    if dialogues.answer(ctx.svc, ctx.session, ctx.phone, ctx.inbound.text or "",
                        reply_key=f"reply:{ctx.inbound.id}"):
        return
    unknown(ctx)


# Keywords -----------------------------------------------------------------------------


@keyword("NEWJOB", "NEW", "KAZIMPYA", "KAZI")
def new_job(ctx: KeywordContext) -> None:
    """Open the new-job dialogue: employer, city, start date."""
    if not says_new_job(ctx.inbound.text):
        return _not_ours(ctx)
    ctx.lang = _language(ctx)
    person = ctx.person()
    placement = placement_of(ctx.session, person, ctx.phone, OPEN_STATES)
    if person is None and placement is None:
        ctx.reply("sms.mig_unknown", kind="migrant_report")
        return
    abroad = country_of(ctx.phone)
    country = (placement.country if placement is not None else None) or (
        abroad if abroad and abroad != "KE" else None)
    dialogues.start(ctx.svc, ctx.session, ctx.phone, "mj.employer", lang=ctx.lang,
                    ref=f"newjob:{ctx.inbound.id}", kind="migrant_report",
                    data={"mj_placement_id": placement.id if placement else None,
                          "mj_country": country,
                          "mj_since": kenya_date(last_step_at(ctx.session, placement))})


@keyword(*RETURN_WORDS)
def returned(ctx: KeywordContext) -> None:
    """Open the return dialogue: the date they came back."""
    ctx.lang = _language(ctx)
    person = ctx.person()
    placement = placement_of(ctx.session, person, ctx.phone, RETURN_FROM)
    if placement is None:
        ctx.reply("sms.mig_no_trip" if person is not None else "sms.mig_unknown",
                  kind="migrant_report")
        return
    dialogues.start(ctx.svc, ctx.session, ctx.phone, "mr.date", lang=ctx.lang,
                    ref=f"return:{ctx.inbound.id}", kind="migrant_report",
                    data={"mr_placement_id": placement.id,
                          "mr_since": kenya_date(last_step_at(ctx.session, placement))})


# What the dialogues' answers mean -----------------------------------------------------


def record_job_change(session: Session, phone: str, ref: str, data: dict[str, Any],
                      person: Person | None) -> PlacementTransition:
    """Record ``employed`` with the new employer (source ``person``); once per dialogue."""
    source_ref = f"sms:{ref}"[:100]
    done = session.scalar(select(PlacementTransition)
                          .where(PlacementTransition.source_ref == source_ref))
    if done is not None:
        return done
    placement = _reload(session, data.get("mj_placement_id"), OPEN_STATES)
    if placement is None:
        placement = placement_of(session, person, phone, OPEN_STATES)
    country = str(data.get("mj_country") or (placement.country if placement else "") or "")
    if placement is None:
        placement = Placement(person_id=person.id if person else None, phone=phone,
                              country=country, occupation=person.occupation if person else None)
    day = date.fromisoformat(str(data["mj_start"]))
    # The step first: a refused one must leave nothing behind, not even the employer.
    step = transition(session, placement, "employed", source="person", source_ref=source_ref,
                      evidence=f"SMS NEW JOB: {data['mj_employer']}, {data['mj_city']}"[:1000],
                      occurred_at=moment_on(day, last_step_at(session, placement)))
    employer = employer_for(session, str(data["mj_employer"]), country,
                            city=str(data["mj_city"]))
    placement.employer_id = employer.id
    placement.country = country or placement.country
    return step


def record_return(session: Session, phone: str, ref: str, data: dict[str, Any],
                  person: Person | None) -> PlacementTransition:
    """Record ``returned`` (source ``person``); once per dialogue."""
    source_ref = f"sms:{ref}"[:100]
    done = session.scalar(select(PlacementTransition)
                          .where(PlacementTransition.source_ref == source_ref))
    if done is not None:
        return done
    placement = _reload(session, data.get("mr_placement_id"), RETURN_FROM) or placement_of(
        session, person, phone, RETURN_FROM)
    if placement is None:
        raise TransitionError("bad_transition", "no trip abroad to close")
    day = date.fromisoformat(str(data["mr_date"]))
    return transition(session, placement, "returned", source="person", source_ref=source_ref,
                      evidence="SMS RETURNED",
                      occurred_at=moment_on(day, last_step_at(session, placement)))


def _reload(session: Session, placement_id: Any, states: tuple[str, ...]) -> Placement | None:
    if not placement_id:
        return None
    placement = session.get(Placement, int(placement_id))
    return placement if placement is not None and placement.status in states else None


def _refused(hop: Hop, screen: str, exc: TransitionError) -> str:
    """Keep why the step was refused, and name the screen that says so."""
    log.info("migrant report refused (%s)", exc.code)
    hop.state["data"]["mig_reason"] = exc.code
    return screen


@handles("JobChangeReported")
def _job_change_reported(hop: Hop, event: Event) -> str | None:
    """Record the new job; when the step cannot be, show why."""
    person = active_person(hop.session, hop.phone)
    try:
        step = record_job_change(hop.session, hop.phone, hop.ref, dict(event.data), person)
    except TransitionError as exc:
        return _refused(hop, "mj.failed", exc)
    _after(hop, step)


@handles("ReturnReported")
def _return_reported(hop: Hop, event: Event) -> str | None:
    """Record the return home; when the step cannot be, show why."""
    person = active_person(hop.session, hop.phone)
    try:
        step = record_return(hop.session, hop.phone, hop.ref, dict(event.data), person)
    except TransitionError as exc:
        return _refused(hop, "mr.failed", exc)
    _after(hop, step)


def _after(hop: Hop, step: PlacementTransition) -> None:
    placement = hop.session.get(Placement, step.placement_id)
    recompute_irregular(hop.session, placement.person_id if placement else None)
