"""app/protection/timeline.py: the lines of a case's history, and repeats recognised."""

from __future__ import annotations

from app.db import utcnow
from app.models import Case
from app.protection import timeline
from app.protection.cases import open_case

MIGRANT = "+254712345678"


def test_a_line_is_added_and_its_source_is_recognised(svc, roster) -> None:
    with svc.db.session() as session:
        case = open_case(session, svc, reporter_phone=MIGRANT, channel="sms", text="HELP",
                         source_ref="sms:t1")
        line = timeline.add(session, case, "note", "called the family", now=utcnow(),
                            actor="officer:1", source_ref="staff-note:t1")
        session.flush()
        assert (line.case_id, line.kind, line.actor) == (case.id, "note", "officer:1")
        assert timeline.seen(session, "staff-note:t1") and not timeline.seen(session, "other")
        found = timeline.case_of(session, "sms:t1")
        assert isinstance(found, Case) and found.id == case.id
        assert timeline.case_of(session, "other") is None
