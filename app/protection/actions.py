"""What staff do to a case from the console, as the same actions officers take by SMS.

ACK, NOTE and CLOSE are ``cases.acknowledge``, ``cases.add_note`` and ``cases.close``,
the very functions behind the officers' SMS commands; the console passes a ``Staff``
in the officer's place. The actions only staff take live here: ``reassign`` (to
another mission or officer) and ``message_reporter``. Each runs in the caller's
transaction and leaves a line on the case's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.db import utcnow
from app.extensions import Services
from app.i18n import translate
from app.models import Case, Officer
from app.protection import cases, escalation, texts, timeline
from app.reference.missions import by_code
from app.sms.outbox import queue_sms

STAFF_SMS_LIMIT = texts.SMS_LIMIT
"""A staff message to a reporter is one SMS, prefix included."""


@dataclass(frozen=True)
class Staff:
    """A console user acting on a case in an officer's place.

    ``id`` is None: the user is not on the officers' roster, so ``Case.acknowledged_by``
    stays empty and the timeline names them ``staff:<user id>``.
    """

    user_id: int
    name: str
    id: None = None

    @property
    def actor(self) -> str:
        return f"staff:{self.user_id}"


class ActionError(ValueError):
    """The action cannot be taken as asked (the message says why, for staff)."""


acknowledge = cases.acknowledge
add_note = cases.add_note
close = cases.close


def reassign(session: Session, svc: Services, case: Case, by: Officer | Staff, *,
             mission_code: str | None = None, officer: Officer | None = None,
             now: datetime | None = None) -> str:
    """Hand the case to another mission (its duty officers must take it up) or officer.

    To a mission: the case is that mission's, open again, and its officers are told
    from level 0 on a fresh clock. To an officer: the case moves to their mission,
    they get the alert SMS, and if it was taken up they now hold it.
    """
    now = now or utcnow()
    if case.status == "closed":
        raise ActionError("A closed case cannot be reassigned.")
    if officer is not None:
        if not officer.active:
            raise ActionError("That officer is not active.")
        return _to_officer(session, svc, case, by, officer, now)
    mission = by_code((mission_code or "").strip().upper())
    if mission is None:
        raise ActionError("Choose a mission.")
    if mission.code == case.mission_code:
        raise ActionError(f"The case is already with {mission.code}.")
    old, case.mission_code = case.mission_code, mission.code
    timeline.add(session, case, "reassigned", f"{old} -> {mission.code}", now=now,
                 actor=cases.actor_of(by))
    if case.status == "acknowledged":
        case.status = "open"
        case.acknowledged_at = None
        case.acknowledged_by = None
    escalation.reroute(session, svc, case, now)
    return mission.code


def _to_officer(session: Session, svc: Services, case: Case, by: Officer | Staff,
                officer: Officer, now: datetime) -> str:
    old = case.mission_code
    case.mission_code = officer.mission_code
    moved = f"{old} -> {officer.mission_code}, " if old != officer.mission_code else ""
    timeline.add(session, case, "reassigned", f"{moved}to {officer.name}", now=now,
                 actor=cases.actor_of(by))
    if case.status == "acknowledged":
        case.acknowledged_by = officer.id
    queue_sms(session, officer.phone, escalation.alert_text(svc, case, 0), kind="officer_alert",
              queue=escalation.QUEUE,
              dedupe_key=f"case:{case.id}:assign:{officer.id}:{int(now.timestamp())}")
    return officer.mission_code


def staff_sms_room(case: Case) -> int:
    """Give how many characters a staff message to this case's reporter may have."""
    base = translate(case.lang, "sms.staff_message", case_ref=case.ref, fill="")
    return STAFF_SMS_LIMIT - len(base)


def message_reporter(session: Session, svc: Services, case: Case, by: Officer | Staff,
                     text: str, *, nonce: str, now: datetime | None = None) -> None:
    """SMS the reporter in their language's frame; ``nonce`` makes a resubmission a no-op."""
    now = now or utcnow()
    source_ref = cases.fit_ref(f"staff-sms:{case.id}:{nonce}")
    if timeline.seen(session, source_ref):
        return  # the same form sent twice
    words = texts.gsm_clean(text)
    if not words:
        raise ActionError("Write the message.")
    if len(words) > staff_sms_room(case):
        raise ActionError(f"The message is {len(words)} characters; one SMS leaves room for "
                          f"{staff_sms_room(case)}.")
    body = translate(case.lang, "sms.staff_message", case_ref=case.ref, fill=words)
    queue_sms(session, case.reporter_phone, body, kind="staff_message", queue="critical",
              dedupe_key=f"case:{case.id}:staff:{nonce[:60]}",
              person_id=case.person_id if case.reporter_is_subject else None)
    timeline.add(session, case, "sms_out", words, now=now, actor=cases.actor_of(by),
                 source_ref=source_ref)
