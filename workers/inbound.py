"""Handle one incoming SMS: route it by keyword and act, all in one transaction."""

from __future__ import annotations

import logging

from app import dialogues, keywords
from app.db import utcnow
from app.models import InboundSms
from workers import services

log = logging.getLogger(__name__)


def handle_inbound(inbound_id: int) -> str | None:
    """Route a stored InboundSms once; give the route taken, or None if already handled."""
    svc = services()
    with svc.db.session() as session:
        # The row lock (PostgreSQL) makes a concurrent run of this job wait, then
        # see ``processed_at`` and stop; the reply's dedupe key covers the rest.
        inbound = session.get(InboundSms, inbound_id, with_for_update=True)
        if inbound is None or inbound.processed_at is not None:
            log.info("inbound sms %d already handled or gone", inbound_id)
            return None
        handler, rest = keywords.route(inbound.text)
        name = keywords.route_name(handler)
        if _for_dialogue(handler, inbound.text) and dialogues.answer(
            svc, session, inbound.from_phone, inbound.text, reply_key=f"reply:{inbound.id}"
        ):
            inbound.route, inbound.status, inbound.processed_at = "dialogue", "processed", utcnow()
            log.info("inbound sms %d answered an open dialogue", inbound_id)
            return "dialogue"
        ctx = keywords.KeywordContext(
            svc=svc, session=session, inbound=inbound, phone=inbound.from_phone,
            word="" if handler is keywords.unknown else name.upper(), rest=rest,
            lang=keywords.reply_language(session, inbound.from_phone),
        )
        handler(ctx)
        inbound.route = name[:30]
        inbound.status = "processed"
        inbound.processed_at = utcnow()
    log.info("inbound sms %d routed to %s, %d reply(ies)", inbound_id, name, len(ctx.replies))
    return name


def _for_dialogue(handler: keywords.Handler, text: str) -> bool:
    """Tell whether a reply belongs to an open dialogue rather than to a keyword.

    Answers to a dialogue are numbers or free text. A real keyword (HELP, STOP,
    ACK …) always wins, so a person in the middle of a dialogue can still ask for
    help or stop messages.
    """
    first = (text or "").strip().split(" ", 1)[0]
    return handler is keywords.unknown or first.isdigit()
