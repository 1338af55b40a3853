"""Write one page of a check-in run: its CheckIn rows, their SMS, and their send jobs.

Both writers take one keyset page of eligible placements (``eligible.page_query``)
and, in the caller's transaction, write a check-in and a message per placement due,
then defer the page's send batches (``app.checkins.batches``). ``write_page`` reads
the rows into Python and uses the arithmetic of ``due.py``; on PostgreSQL
``write_page_pg`` does the same in one statement on the server, giving back only
each batch's message ids. No dialogue row is stored per person: a reply opens the
check-in's dialogue when it comes (``app.checkins.replies.awaited_checkin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    and_,
    case,
    cast,
    extract,
    func,
    insert,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import REGCLASS, aggregate_order_by
from sqlalchemy.orm import Session

from app.checkins.batches import KIND, cut_batches, defer_batches
from app.checkins.due import FIRST_AFTER, current_sequence, due_at
from app.checkins.eligible import page_query
from app.checkins.replies import FIRST_SCREEN
from app.db import aware, insert_many, utcnow
from app.extensions import Services
from app.i18n import LANGUAGES, translate
from app.models import CheckIn, Message
from app.models.message import PENDING
from app.ports import Ports
from menus import engine


@dataclass
class Page:
    """What one page did: its counts, and the last placement id read (None: no rows)."""

    last_id: int | None = None
    checked: int = 0
    created: int = 0
    not_due: int = 0
    already_sent: int = 0
    busy_number: int = 0
    batches: int = 0


def write_page(svc: Services, session: Session, moment: datetime, rows: Sequence[Any],
                openings: dict[str, str]) -> Page:
    """Write one page's check-ins and SMS, and defer their send jobs (portable)."""
    page = Page(last_id=rows[-1].id if rows else None, checked=len(rows))
    todo: list[tuple[Any, int, str]] = []
    numbers: set[str] = set()
    for row in rows:
        sequence = current_sequence(aware(row.arrived_at), moment)
        if sequence < 1:
            page.not_due += 1
        elif (row.latest or 0) >= sequence:
            page.already_sent += 1
        elif row.phone in numbers:
            page.busy_number += 1  # two placements, one phone: the other waits a run
        else:
            numbers.add(row.phone)
            lang = row.lang if row.lang in LANGUAGES else LANGUAGES[0]
            todo.append((row, sequence, lang))
    if not todo:
        return page
    now = utcnow()
    for _, _, lang in todo:
        if lang not in openings:
            openings[lang] = opening(svc, lang)
    keys = [f"checkin:{row.id}:{sequence}" for row, sequence, _ in todo]
    message_id = dict((key, id_) for id_, key in insert_many(
        session, Message.__table__,
        [{"to_phone": row.phone, "body": openings[lang], "kind": KIND, "queue": "bulk",
          "dedupe_key": key, "status": PENDING, "attempts": 0, "person_id": row.person_id,
          "created_at": now, "updated_at": now}
         for (row, _, lang), key in zip(todo, keys, strict=True)],
        returning=("id", "dedupe_key"),
    ))
    batches = cut_batches(svc, [(message_id[key], lang)
                                for (_, _, lang), key in zip(todo, keys, strict=True)])
    batch_of = {mid: ids[0] for ids in batches for mid in ids}
    insert_many(session, CheckIn.__table__, [
        {"placement_id": row.id, "phone": row.phone, "sequence": sequence,
         "due_at": due_at(aware(row.arrived_at), sequence), "status": "sent",
         "message_id": message_id[key], "batch": batch_of[message_id[key]],
         "sent_at": moment}
        for (row, sequence, _), key in zip(todo, keys, strict=True)
    ])
    defer_batches(svc, session, batches)
    page.created, page.batches = len(todo), len(batches)
    return page


def write_page_pg(svc: Services, session: Session, moment: datetime,
                   awake: Sequence[str | None], after: int, size: int,
                   openings: dict[str, str]) -> Page:
    """Do what ``write_page`` does in one PostgreSQL statement, and defer the send jobs.

    The page query, the due arithmetic of ``due.py``, the checks and the batching run
    on the server; message ids come from their sequence there, so the check-ins can
    name them in the same statement. Only the counts and each batch's message ids
    come back: the rows never travel to Python and back.
    """
    for lang in LANGUAGES:
        if lang not in openings:
            openings[lang] = opening(svc, lang)
    naive_moment = literal(moment.astimezone(UTC).replace(tzinfo=None), DateTime())
    page = page_query(moment, awake, after, size).cte("page")
    # current_sequence(): months from the first check-in (arrival + 7 days, in UTC
    # wall-clock time, as Python counts) to the moment, one less if the moment comes
    # before that many months on; PostgreSQL clamps to the month's end like add_months.
    first = func.timezone("UTC", page.c.arrived_at) + literal(FIRST_AFTER)
    months = cast((extract("year", naive_moment) - extract("year", first)) * 12
                  + extract("month", naive_moment) - extract("month", first), Integer)
    dated = select(page, first.label("first_at"), months.label("months")).cte("dated")
    sequence = (dated.c.months + 1 - case(
        (dated.c.first_at + func.make_interval(0, dated.c.months) > naive_moment, 1), else_=0))
    due = select(dated, case((dated.c.first_at > naive_moment, 0), else_=sequence)
                 .label("sequence")).cte("due")
    todo = (select(due, func.row_number().over(partition_by=due.c.phone, order_by=due.c.id)
                   .label("nth"))
            .where(due.c.sequence >= 1, func.coalesce(due.c.latest, 0) < due.c.sequence)
            .cte("todo"))
    lang = case((todo.c.lang.in_(LANGUAGES), todo.c.lang), else_=LANGUAGES[0])
    fresh = (select(todo.c.id.label("placement_id"), todo.c.person_id, todo.c.phone,
                    todo.c.sequence, todo.c.first_at, lang.label("lang"),
                    func.nextval(_sequence_of(session, Message)).label("message_id"))
             .where(todo.c.nth == 1).cte("fresh").prefix_with("MATERIALIZED"))
    numbered = select(fresh, func.row_number().over(partition_by=fresh.c.lang,
                                                    order_by=fresh.c.message_id)
                      .label("rn")).cte("numbered")
    batch_size = max(int(svc.config["SMS_BATCH_SIZE"]), 1)
    batched = select(numbered, func.min(numbered.c.message_id).over(
        partition_by=(numbered.c.lang, (numbered.c.rn - 1) // batch_size)).label("batch")
    ).cte("batched")
    # One body per language (a CASE: a VALUES list of them would keep SQLAlchemy from
    # caching the statement's compiled form).
    body = case({code: literal(openings[code], Text) for code in LANGUAGES},
                value=batched.c.lang)
    now = utcnow()
    messages = insert(Message.__table__).from_select(
        ["id", "to_phone", "body", "kind", "queue", "dedupe_key", "status", "attempts",
         "person_id", "created_at", "updated_at"],
        select(batched.c.message_id, batched.c.phone, body, literal(KIND),
               literal("bulk"), literal(f"{KIND}:") + cast(batched.c.placement_id, String)
               + ":" + cast(batched.c.sequence, String),
               literal(PENDING), literal(0), batched.c.person_id, literal(now), literal(now))
    ).cte("new_messages")
    checkins = insert(CheckIn.__table__).from_select(
        ["placement_id", "phone", "sequence", "due_at", "status", "message_id", "batch",
         "sent_at"],
        select(batched.c.placement_id, batched.c.phone,
               batched.c.sequence,
               func.timezone("UTC", batched.c.first_at
                             + func.make_interval(0, batched.c.sequence - 1)),
               literal("sent"), batched.c.message_id, batched.c.batch, literal(moment))
    ).cte("new_checkins")
    summary = select(
        func.count().label("checked"), func.max(due.c.id).label("last_id"),
        func.count().filter(due.c.sequence < 1).label("not_due"),
        func.count().filter(and_(due.c.sequence >= 1,
                                 func.coalesce(due.c.latest, 0) >= due.c.sequence))
        .label("already_sent"),
        select(func.count()).where(todo.c.nth > 1).scalar_subquery().label("busy_number"),
    ).subquery("summary")
    jobs = (select(batched.c.lang, batched.c.batch,
                   func.array_agg(aggregate_order_by(batched.c.message_id,
                                                     batched.c.message_id)).label("ids"))
            .group_by(batched.c.lang, batched.c.batch).subquery("jobs"))
    result = session.execute(
        select(summary, jobs.c.ids)
        .select_from(summary.outerjoin(jobs, true()))
        .order_by(jobs.c.lang, jobs.c.batch)
        .add_cte(messages, checkins)
    ).all()
    first_row = result[0]
    batches = [list(row.ids) for row in result if row.ids is not None]
    defer_batches(svc, session, batches)
    return Page(last_id=first_row.last_id, checked=first_row.checked,
                created=sum(len(ids) for ids in batches), not_due=first_row.not_due,
                already_sent=first_row.already_sent, busy_number=first_row.busy_number,
                batches=len(batches))


def _sequence_of(session: Session, model: type) -> Any:
    """Give the sequence of ``model``'s id column, as a regclass for ``nextval``."""
    name = session.execute(text("SELECT pg_get_serial_sequence(:table, 'id')"),
                           {"table": model.__table__.name}).scalar_one()
    return cast(literal(name), REGCLASS)


def opening(svc: Services, lang: str) -> str:
    """Render the check-in's first screen in ``lang``, once per language and run."""
    state = engine.new_state(svc.flow, lang)
    step = engine.begin(svc.flow, state, Ports(svc), translate, at=FIRST_SCREEN)
    return engine.render(svc.flow, step.state, translate)
