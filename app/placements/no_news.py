"""Open the case a "no news from my relative" report calls for (``menus/no_news.py``).

The relative is found when we can: by their number (a registered person or a
placement's number), else as the person who named the reporter as next of kin
when declaring their departure. The case goes through the protection intake
(``app.protection.cases.open_case``) like every other, so it is escalated to the
mission covering the country at once and the reporter gets its receipt.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events import Hop, handles
from app.extensions import Services
from app.keywords import active_person
from app.models import Case, Placement
from app.placements.service import OPEN_STATES
from menus import no_news, travel
from menus.engine import Event

log = logging.getLogger(__name__)

SINCE_WORDS = {"week": "less than a week", "month": "1 to 4 weeks",
               "months": "1 to 3 months", "longer": "more than 3 months"}
"""How long, in the case's first words (officers read English)."""


def relative_placement(session: Session, reporter: str,
                       subject_phone: str | None) -> Placement | None:
    """Find the relative's placement by their number, else by the reporter as next of kin."""
    query = select(Placement).where(Placement.status.in_(OPEN_STATES))
    if subject_phone:
        person = active_person(session, subject_phone)
        where = (Placement.person_id == person.id) if person else (
            Placement.phone == subject_phone)
        return session.scalar(query.where(where).order_by(Placement.id.desc()).limit(1))
    named = session.scalars(query.where(Placement.next_of_kin_phone == reporter)
                            .order_by(Placement.id.desc())).all()
    people = {p.person_id or p.phone for p in named}
    return named[0] if len(people) == 1 else None  # several relatives: do not guess


def report(svc: Services, session: Session, phone: str, ref: str, data: dict[str, Any],
           lang: str, channel: str = "ussd") -> Case:
    """Open (or add to) the reporter's case about their silent relative."""
    from app.protection.cases import open_case  # the one way in for every case

    country = data.get("nn_country")
    since = data.get("nn_since")
    placement = relative_placement(session, phone, data.get("nn_subject_phone"))
    text = f"No news from a relative abroad for {SINCE_WORDS.get(since, 'some time')}"
    if travel.is_conflict(country):
        text += " (in a conflict or restricted country)"
    case = open_case(
        session, svc, reporter_phone=phone, channel=channel, text=text, category="other",
        severity=no_news.severity(since, country), country=country,
        subject_phone=data.get("nn_subject_phone"), subject_name=data.get("nn_subject_name"),
        person_id=placement.person_id if placement else None,
        placement_id=placement.id if placement else None, lang=lang,
        source_ref=f"{channel}:{ref}:nonews",
    )
    log.info("no-news report opened or joined case %d", case.id)
    return case


@handles("NoNewsReported")
def _no_news_reported(hop: Hop, event: Event) -> None:
    """Open the case in this hop and show its reference."""
    case = report(hop.svc, hop.session, hop.phone, hop.ref, dict(event.data), hop.lang,
                  channel=hop.channel)
    hop.state["data"]["case_ref"] = case.ref
