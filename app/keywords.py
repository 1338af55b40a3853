"""SMS keywords: one router from an incoming text's first word to its handler.

Handlers register with ``@keyword("STOP", "ACHA", ...)``, and ``app.features`` imports
their modules (``KEYWORDS``); the words of every language share one registry, because
people mix languages. A text matches on its first word, upper-cased and stripped of
punctuation, so ``stop.``, `` Stop `` and ``STOP!`` all pause check-ins. Anything
unknown gets one short help SMS.

A handler runs inside the job's transaction. It changes rows through
``ctx.session`` and answers with ``ctx.reply``, whose dedupe key is the incoming
SMS, so a retried job never replies twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import registry
from app.db import utcnow
from app.extensions import Services
from app.i18n import translate
from app.models import Contact, InboundSms, Message, Person
from app.sms.outbox import queue_sms

Handler = Callable[["KeywordContext"], None]
"""A keyword's handler: acts on the context, replies through ``ctx.reply``."""

HELP_COOLDOWN = timedelta(minutes=10)
"""Send the help SMS to a number at most once in this window, so an auto-responder
answering our help with more unknown text cannot start an endless SMS loop."""

_WORD = re.compile(r"[^\W_]+")
_REST_LEAD = " \t\r\n.,;:!?-*#"

_registry: dict[str, Handler] = {}


@dataclass
class KeywordContext:
    """What a handler needs: the services, the open session, who wrote and what."""

    svc: Services
    session: Session
    inbound: InboundSms
    phone: str
    word: str
    """The route's main keyword (``STOP``, also when ``ACHA`` came); empty for unknown text."""
    rest: str
    """The text after the keyword, e.g. the case code of ``ACK K7MZQ2``."""
    lang: str
    replies: list[Message] = field(default_factory=list)

    def contact(self) -> Contact:
        """Give this number's Contact, creating it if the number is new."""
        contact = self.session.scalar(select(Contact).where(Contact.phone == self.phone))
        if contact is None:
            contact = Contact(phone=self.phone)
            self.session.add(contact)
        return contact

    def person(self) -> Person | None:
        """Give the active registered person with this number, if any."""
        return active_person(self.session, self.phone)

    def replied_lately(self, kind: str, within: timedelta) -> bool:
        """Tell whether this number was sent an SMS of ``kind`` in the last ``within``."""
        return self.session.scalar(
            select(Message.id).where(
                Message.to_phone == self.phone, Message.kind == kind,
                Message.created_at >= utcnow() - within,
            ).limit(1)
        ) is not None

    def reply(self, key: str, *, kind: str = "reply", queue: str = "default",
              **values: object) -> Message:
        """Queue the one reply to this SMS: text ``key`` in the sender's language."""
        values.setdefault("service_code", self.svc.config["USSD_SERVICE_CODE"])
        return self.reply_text(translate(self.lang, key, **values), kind=kind, queue=queue)

    def reply_text(self, body: str, *, kind: str = "reply", queue: str = "default") -> Message:
        """Queue the one reply to this SMS, already written (``reply`` writes it from a key)."""
        message = queue_sms(self.session, self.phone, body, kind=kind, queue=queue,
                            dedupe_key=f"reply:{self.inbound.id}")
        self.replies.append(message)
        return message


def keyword(*words: str) -> Callable[[Handler], Handler]:
    """Register a handler for these keywords (any language, any case)."""
    if not words:
        raise ValueError("keyword() needs at least one word")

    def register(handler: Handler) -> Handler:
        for word in words:
            if not _WORD.fullmatch(word.strip()):
                raise ValueError(f"keyword {word!r} is not a single word of letters or digits")
            key = normalise(word)
            taken = _registry.get(key)
            if taken is not None and _name(taken) != _name(handler):
                raise ValueError(f"keyword {key} is already routed to {_name(taken)}")
            _registry[key] = handler
        handler.route_name = normalise(words[0]).lower()  # type: ignore[attr-defined]
        return handler

    return register


def normalise(word: str) -> str:
    """Give a word as the registry keys it: upper case, no surrounding space."""
    return word.strip().upper()


def route(text: str) -> tuple[Handler, str]:
    """Pick the handler for an incoming text and give it with the text after the keyword."""
    registry.check("keyword")
    match = _WORD.search(text or "")
    if match is None:
        return unknown, (text or "").strip()
    handler = _registry.get(normalise(match.group()))
    if handler is None:
        return _spelled(text)
    return handler, text[match.end():].lstrip(_REST_LEAD).rstrip()


def _spelled(text: str) -> tuple[Handler, str]:
    """Route a keyword spelled letter by letter (``S.O.S``, ``S O S``), else ``unknown``."""
    letters, end = [], 0
    for match in _WORD.finditer(text):
        if len(match.group()) != 1:
            break
        letters.append(match.group())
        end = match.end()
    handler = _registry.get(normalise("".join(letters))) if len(letters) > 1 else None
    if handler is None:
        return unknown, text.strip()
    return handler, text[end:].lstrip(_REST_LEAD).rstrip()


def route_name(handler: Handler) -> str:
    """Give the short name a route is stored under on the InboundSms (``stop``)."""
    return getattr(handler, "route_name", None) or handler.__name__


def reply_language(session: Session, phone: str) -> str:
    """Give the language to answer a number in: its Contact's, its person's, or English."""
    lang = session.scalar(select(Contact.lang).where(Contact.phone == phone))
    if lang:
        return lang
    person = active_person(session, phone)
    return (person.lang if person else None) or "en"


def active_person(session: Session, phone: str) -> Person | None:
    """Give the active registered person with this number, if any."""
    return session.scalar(
        select(Person).where(Person.phone == phone, Person.status == "active").limit(1)
    )


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def unknown(ctx: KeywordContext) -> None:
    """Answer text that is no keyword with one short help SMS."""
    if not ctx.replied_lately("help", HELP_COOLDOWN):
        ctx.reply("sms.help", kind="help")


unknown.route_name = "unknown"  # type: ignore[attr-defined]


@keyword("STOP", "ACHA", "SIMAMISHA")
def stop(ctx: KeywordContext) -> None:
    """Pause check-ins for this number; the help line keeps working."""
    ctx.contact().checkins_paused = True
    ctx.reply("sms.stopped", kind="stop_confirm")


@keyword("START", "ANZA", "ENDELEA")
def start(ctx: KeywordContext) -> None:
    """Resume check-ins for this number."""
    ctx.contact().checkins_paused = False
    ctx.reply("sms.started", kind="start_confirm")
