"""SMS dialogues: run a journey over SMS, where each reply is the next input.

The engine and journeys are the ones USSD uses. The state lives in SQL (an SMS
reply may come days later and must survive a Redis restart), encrypted because
it holds answers. Each screen goes out as one SMS through ``queue_sms``.

A dialogue can also be *implied*: a question sent to many numbers at once (a
check-in) stores no dialogue row per number. When a number with no open dialogue
replies, the openers registered with ``@implied`` (``app.features`` imports their
modules) are asked whether that number is waiting on such a question; the first that
says so gives the screen, language and ref, and the dialogue starts there, as if it
had been stored when the question went out, and takes the reply as its first input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import registry
from app.db import aware, utcnow
from app.events import Hop, apply
from app.extensions import Services
from app.i18n import translate
from app.models.dialogue import SmsDialogue
from app.ports import Ports
from app.sms.outbox import queue_sms
from menus import engine

DEFAULT_TTL = timedelta(days=3)
"""How long an unanswered dialogue waits for its next reply."""


@dataclass(frozen=True)
class Implied:
    """A question a number was sent without a stored dialogue: where its dialogue starts."""

    screen: str
    lang: str
    ref: str


Opener = Callable[[Services, Session, str], Implied | None]
_openers: list[Opener] = []


def implied(opener: Opener) -> Opener:
    """Register ``opener``: given a number with no open dialogue, the question it awaits."""
    _openers.append(opener)
    return opener


def start(svc: Services, session: Session, phone: str, screen: str, *, lang: str, ref: str,
          data: dict[str, Any] | None = None, ttl: timedelta = DEFAULT_TTL,
          queue: str = "default", kind: str = "dialogue") -> engine.Step:
    """Open a dialogue at ``screen`` and queue its first SMS; replaces any open one."""
    step = _begin(svc, session, phone, screen, lang=lang, ref=ref, data=data)
    text = engine.render(svc.flow, step.state, translate)
    queue_sms(session, phone, text, kind=kind, queue=queue, dedupe_key=f"dlg:{ref}:0")
    _save(svc, session, phone, ref, step, 0, ttl)
    return step


def active(session: Session, phone: str) -> SmsDialogue | None:
    """Give the number's open dialogue, if one is waiting and not expired."""
    dialogue = session.scalar(select(SmsDialogue).where(SmsDialogue.phone == phone))
    if dialogue is None or aware(dialogue.expires_at) < utcnow():
        return None
    return dialogue


def answer(svc: Services, session: Session, phone: str, text: str, reply_key: str,
           queue: str = "default") -> engine.Step | None:
    """Feed an SMS reply to the number's open (or implied) dialogue; None when it has none."""
    dialogue = active(session, phone)
    if dialogue is not None:
        state = json.loads(svc.cipher.decrypt(dialogue.state_enc))
        ref, number = dialogue.ref, dialogue.step
    else:
        opened = _implied(svc, session, phone)
        if opened is None:
            return None
        ref, number = opened.ref, 0
        state = _begin(svc, session, phone, opened.screen, lang=opened.lang, ref=ref).state
    step = _commit(svc, session, phone, ref,
                   engine.step(svc.flow, state, text, Ports(svc), translate))
    body = engine.render(svc.flow, step.state, translate)
    queue_sms(session, phone, body, kind="dialogue", queue=queue, dedupe_key=reply_key)
    _save(svc, session, phone, ref, step, number + 1, DEFAULT_TTL)
    return step


def _begin(svc: Services, session: Session, phone: str, screen: str, *, lang: str, ref: str,
           data: dict[str, Any] | None = None) -> engine.Step:
    """Enter ``screen`` in a new state and commit the events entering it emits."""
    state = engine.new_state(svc.flow, lang, **(data or {}))
    step = engine.begin(svc.flow, state, Ports(svc), translate, at=screen)
    return _commit(svc, session, phone, ref, step)


def _commit(svc: Services, session: Session, phone: str, ref: str,
            step: engine.Step) -> engine.Step:
    """Commit the step's events; show the screen a handler asks for instead, if any."""
    if not step.events:
        return step
    instead = apply(Hop(svc, session, phone, ref, step.state, channel="sms"), step.events)
    if instead is None:
        return step
    return engine.divert(svc.flow, step.state, instead, translate, events=step.events)


def _implied(svc: Services, session: Session, phone: str) -> Implied | None:
    registry.check("implied dialogue")
    for opener in _openers:
        found = opener(svc, session, phone)
        if found is not None:
            return found
    return None


def close(session: Session, phone: str) -> None:
    """Forget the number's dialogue."""
    session.execute(delete(SmsDialogue).where(SmsDialogue.phone == phone))


def _save(svc: Services, session: Session, phone: str, ref: str, step: engine.Step,
          number: int, ttl: timedelta) -> None:
    if step.end:
        close(session, phone)
        return
    sealed = svc.cipher.encrypt(json.dumps(step.state, separators=(",", ":")))
    dialogue = session.scalar(select(SmsDialogue).where(SmsDialogue.phone == phone))
    if dialogue is None:
        session.add(SmsDialogue(phone=phone, ref=ref, state_enc=sealed, step=number,
                                expires_at=utcnow() + ttl))
    else:
        dialogue.ref, dialogue.state_enc, dialogue.step = ref, sealed, number
        dialogue.expires_at = utcnow() + ttl
