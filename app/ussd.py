"""POST /ussd and /ussd/events: the USSD callbacks, thin around the pure engine.

Per hop: parse the callback, load the session, call the engine, commit what its
events mean, enqueue jobs after commit (the session does that), render the screen.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app
from redis.exceptions import RedisError
from sqlalchemy import and_, literal, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from app import drafts
from app.callbacks import form, require_token
from app.crypto import StateCipher
from app.events import Hop, apply
from app.extensions import Services, services
from app.i18n import translate
from app.models import Contact, Person, RegistrationDraft, UssdEvent
from app.phones import try_normalise
from app.ports import Ports, riding_keys
from app.sessions import FORGET, KEEP, SAME, Loaded, SessionStore, Write
from menus import engine
from menus.main import RESUMABLE

log = logging.getLogger(__name__)
bp = Blueprint("ussd", __name__)

UNAVAILABLE = (
    "Sorry, Kazi Salama is busy. Please try again later.\n"
    "Samahani, huduma haipatikani sasa. Jaribu tena baadaye."
)
"""Shown when Redis or the database is down; both languages, since neither can be looked up."""

BAD_REQUEST = "Sorry, we could not read that request. Please dial again."

def _reply(text: str, end: bool, status: int = 200) -> Response:
    return Response(("END " if end else "CON ") + text, status=status, mimetype="text/plain")


def store(svc: Services) -> SessionStore:
    """Give the app's USSD session store (built once per app)."""
    if "kazi.sessions" not in current_app.extensions:
        current_app.extensions["kazi.sessions"] = SessionStore(
            svc.redis, StateCipher(svc.config["PII_KEYS"]), svc.config["USSD_SESSION_TTL"],
            svc.config["RESUME_WINDOW_SECONDS"],
            riders=lambda phone: riding_keys(svc, phone),
        )
    return current_app.extensions["kazi.sessions"]


@bp.post("/ussd")
def ussd() -> Response:
    require_token()
    try:
        fields = form()
    except RequestEntityTooLarge:
        return _reply(BAD_REQUEST, end=True, status=413)
    session_id = fields.get("sessionId", "").strip()
    phone = try_normalise(fields.get("phoneNumber", ""))
    text = fields.get("text", "")
    if not session_id or len(session_id) > 100 or phone is None or len(text) > 2000:
        return _reply(BAD_REQUEST, end=True, status=400)
    svc = services()
    try:
        return _hop(svc, store(svc), session_id, phone, text)
    except (RedisError, SQLAlchemyError) as exc:
        log.error("ussd hop failed, storage unavailable: %s", type(exc).__name__)
        return _reply(UNAVAILABLE, end=True)
    except Exception:  # noqa: BLE001 - a phone must get a screen, never a 500
        log.exception("ussd hop failed")
        return _reply(UNAVAILABLE, end=True)


def _hop(svc: Services, sessions: SessionStore, session_id: str, phone: str, text: str) -> Response:
    # A lost compare-and-set means a concurrent hop of this session saved first:
    # reload and either return its reply (same text) or apply ours on top of it.
    for _attempt in range(3):
        hop = sessions.load(session_id, phone)
        record = hop.record
        if record is not None and record["text"] == text:
            return _reply(record["reply"], record["end"])  # AT repeated the hop
        writes: list[Write] = []
        step, events_state = _advance(svc, sessions, session_id, phone, text, hop, writes)
        if events_state is None:
            return _reply(step.screen, step.end)
        reply = step.screen
        new_record = {"state": step.state, "text": text, "reply": reply, "end": step.end}
        if sessions.save(session_id, phone, hop, new_record, resume=_resume_value(step),
                         writes=writes):
            return _reply(reply, step.end)
    return _reply(UNAVAILABLE, end=True)


def _advance(svc: Services, sessions: SessionStore, session_id: str, phone: str, text: str,
             hop: Loaded, writes: list[Write]) -> tuple[engine.Step, bool | None]:
    """Run the engine for this hop and commit its events; give the resulting step.

    Redis writes the events ask for are added to ``writes``, for the session's save.
    """
    port = Ports(svc, hop.known)
    flow = svc.flow
    record = hop.record
    if record is None:
        state = _first_state(svc, sessions.resumable(hop), phone)
        step = engine.begin(flow, state, port, translate)
        inputs = [part for part in text.split("*") if part] if text else []
    else:
        step = engine.Step(record["reply"], record["end"], record["state"])
        inputs = [_newest_input(record["text"], text)]
    if step.end:
        return step, None
    events: list[engine.Event] = list(step.events)
    for value in inputs:
        step = engine.step(flow, step.state, value, port, translate)
        events.extend(step.events)
        if step.end:
            break
    if events:
        step = _commit(svc, session_id, phone, step, tuple(events), hop.known, writes)
    return step, True


def _newest_input(previous: str, text: str) -> str:
    """Give what the person typed this hop: ``text`` minus the previous ``text``.

    AT joins every input with ``*``, so an answer that itself holds ``*`` must be
    cut by the known prefix, not by splitting on ``*``.
    """
    if previous == "":
        return text
    if text.startswith(previous + "*"):
        return text[len(previous) + 1:]
    return text.rsplit("*", 1)[-1]


def _first_state(svc: Services, saved: dict[str, Any] | None, phone: str) -> dict[str, Any]:
    """Start a session: the number's language, registration and any unfinished draft.

    One read, no transaction: the contact, the active person and an open draft.
    """
    base = select(literal(phone).label("phone")).subquery()
    query = (
        select(Contact.lang, Person.reg_no, Person.full_name, Person.lang,
               RegistrationDraft.state_enc)
        .select_from(base)
        .outerjoin(Contact, Contact.phone == base.c.phone)
        .outerjoin(Person, and_(Person.phone == base.c.phone, Person.status == "active"))
        .outerjoin(RegistrationDraft, and_(RegistrationDraft.phone == base.c.phone,
                                           RegistrationDraft.completed_at.is_(None)))
        .limit(1)
    )
    with svc.db.read() as conn:
        contact_lang, reg_no, full_name, person_lang, draft = conn.execute(query).one()
    data: dict[str, Any] = {"service_code": svc.config["USSD_SERVICE_CODE"]}
    lang = person_lang or contact_lang
    if reg_no is not None:
        data.update(reg_no=reg_no, first_name=(full_name or "").split(" ")[0])
        saved = None
    elif draft is not None:
        data["had_draft"] = True
        saved = saved or drafts.open_draft(svc, draft)
    if saved and saved.get("screen") in RESUMABLE:
        data.update(resume_screen=saved["screen"],
                    resume={"data": saved.get("data", {}), "history": saved.get("history", [])})
        lang = lang or saved.get("lang")
    return engine.new_state(svc.flow, lang, **data)


def _commit(svc: Services, session_id: str, phone: str, step: engine.Step,
            events: tuple[engine.Event, ...], known: Mapping[str, bytes | None],
            writes: list[Write]) -> engine.Step:
    """Commit the events' meaning in one transaction, then re-render with results."""
    state = step.state
    try:
        with svc.db.session_on_demand() as session:
            instead = apply(Hop(svc, session, phone, session_id, state, known=known,
                                writes=writes), events)
    except IntegrityError:
        # A unique key refused the registration: either a concurrent copy of this
        # very hop won (success), or another person holds this ID (re-ask, say why).
        writes.clear()  # rolled back with the rest of the hop
        with svc.db.Session() as session:
            won = session.scalar(select(Person).where(Person.source_ref == session_id))
        if won is None:
            return engine.divert(svc.flow, state, "reg.id", translate, reason="err.id_taken")
        state["data"].update(reg_no=won.reg_no, first_name=won.first_name)
        instead = None
    if instead is not None:
        return engine.divert(svc.flow, state, instead, translate, events=events)
    screen = engine.render(svc.flow, state, translate)
    return engine.Step(screen, step.end, state, events)


def _resume_value(step: engine.Step) -> str:
    """Keep a registration in progress for a later dial; forget it when it ends."""
    if step.state["screen"] in RESUMABLE:
        return SAME
    if step.state["screen"].startswith("reg.") or any(
        e.name == "RegistrationCompleted" for e in step.events
    ):
        return FORGET
    return KEEP


@bp.post("/ussd/events")
def ussd_events() -> Response:
    require_token()
    fields = form()
    session_id = fields.get("sessionId", "").strip()
    status = fields.get("status", "").strip()
    if not session_id or status not in ("Success", "Incomplete", "Failed"):
        return Response("missing sessionId or status", status=400, mimetype="text/plain")
    phone = try_normalise(fields.get("phoneNumber", ""))
    svc = services()
    try:
        _record_event(svc, session_id, phone, status, fields)
    except (RedisError, SQLAlchemyError) as exc:
        log.error("ussd event not stored: %s", type(exc).__name__)
        return Response("try again", status=503, mimetype="text/plain")
    return Response("OK", mimetype="text/plain")


def _record_event(svc: Services, session_id: str, phone: str | None, status: str,
                  fields: dict[str, str]) -> None:
    """Store AT's end-of-session report once; keep a cut-off registration as a draft."""
    with svc.db.session() as session:
        if session.scalar(select(UssdEvent.id).where(UssdEvent.session_id == session_id)):
            return  # a retried report
        session.add(UssdEvent(
            session_id=session_id, phone=phone, status=status,
            hops=_int(fields.get("hopsCount")), duration_ms=_int(fields.get("durationInMillis")),
            error_message=(fields.get("errorMessage") or "")[:200] or None,
            cost=(fields.get("cost") or "")[:30] or None,
        ))
        if status == "Success" or phone is None:
            return
        drafts.keep(svc, session, session_id, phone, store(svc).resume_state(phone))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None

