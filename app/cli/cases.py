"""``kazi cases list|show|failed-sends``: distress cases for staff at a terminal.

``failed-sends`` lists every case SMS (officer alerts, reporter updates) that AT
refused for good or that ran out of attempts, so no failure stays silent.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import or_, select

from app.db import aware
from app.extensions import services
from app.models import Case, CaseEvent, Escalation, Message
from app.models.message import FAILED
from app.phones import masked
from app.protection import cases as case_rules
from app.protection import indicators

group = AppGroup("cases", help="Distress cases: list, show, failed sends.")


def case_messages(case_id: int):
    """Select the SMS a case caused: officer alerts and updates, reporter receipts."""
    return select(Message).where(or_(Message.dedupe_key.like(f"esc:{case_id}:%"),
                                     Message.dedupe_key.like(f"case:{case_id}:%")))


def _when(moment) -> str:
    moment = aware(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


@group.command("list")
@click.option("--status", type=click.Choice(["open", "acknowledged", "closed", "all"]),
              default="all", show_default=True)
@click.option("--limit", default=50, show_default=True)
def list_cases(status: str, limit: int) -> None:
    """List the newest cases: reference, status, severity, level, mission, category."""
    svc = services()
    with svc.db.Session() as session:
        query = select(Case).order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
        if status != "all":
            query = query.where(Case.status == status)
        rows = list(session.scalars(query))
    if not rows:
        click.echo("no cases")
        return
    for case in rows:
        click.echo(f"{case.ref}  {_when(case.opened_at)}  {case.status:<12} "
                   f"{case.severity:<8} L{case.escalation_level} {case.mission_code:<7} "
                   f"{case.country or '--'}  {case.category or '-'}")


@group.command("show")
@click.argument("ref")
def show(ref: str) -> None:
    """Show one case: details, ILO indicators, timeline, escalations and its SMS."""
    svc = services()
    with svc.db.Session() as session:
        case = case_rules.by_ref(session, ref)
        if case is None:
            raise click.ClickException(f"no case {ref}")
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                      .order_by(CaseEvent.at, CaseEvent.id)))
        levels = list(session.scalars(select(Escalation).where(Escalation.case_id == case.id)
                                      .order_by(Escalation.id)))
        messages = list(session.scalars(case_messages(case.id).order_by(Message.id)))
    who = "self" if case.reporter_is_subject else (
        f"relative {case.subject_phone or case.subject_name}")
    click.echo(f"case {case.ref}: {case.status}, {case.severity}, category "
               f"{case.category or '-'}, country {case.country or '-'}, mission "
               f"{case.mission_code}, level {case.escalation_level}")
    click.echo(f"reporter {case.reporter_phone} ({who}), channel {case.channel}, "
               f"language {case.lang}, opened {_when(case.opened_at)}")
    click.echo(f"links: person {case.person_id or '-'}, placement {case.placement_id or '-'}, "
               f"agency {case.agency_id or '-'}, employer {case.employer_id or '-'}")
    names = [indicators.INDICATORS[i] for i in indicators.parse(case.indicators)]
    click.echo(f"ILO indicators: {'; '.join(names) or 'none found'}")
    if case.next_escalation_at:
        click.echo(f"next escalation due {_when(case.next_escalation_at)}")
    click.echo("timeline:")
    for event in events:
        click.echo(f"  {_when(event.at)}  {event.kind:<12} {event.actor or '':<11} "
                   f"{event.text or ''}")
    click.echo("escalations:")
    for row in levels:
        click.echo(f"  L{row.level} {row.mission_code:<7} {row.status:<9} "
                   f"{row.recipients} officer(s), due {_when(row.due_at)}")
    click.echo("messages:")
    for message in messages:
        reason = f" ({message.failure_reason})" if message.failure_reason else ""
        click.echo(f"  #{message.id} {message.kind:<14} to {masked(message.to_phone)}  "
                   f"{message.status}{reason}, {message.attempts} attempt(s)")


@group.command("failed-sends")
@click.option("--all", "everything", is_flag=True, help="Every failed SMS, not only cases'.")
def failed_sends(everything: bool) -> None:
    """List SMS that failed for good: case alerts and reporter updates first of all."""
    svc = services()
    with svc.db.Session() as session:
        query = select(Message).where(Message.status == FAILED).order_by(Message.id)
        if not everything:
            query = query.where(or_(Message.dedupe_key.like("esc:%"),
                                    Message.dedupe_key.like("case:%")))
        rows = list(session.scalars(query))
        refs = {}
        for message in rows:
            key = message.dedupe_key.split(":")
            if key[0] in ("esc", "case") and len(key) > 1 and key[1].isdigit():
                case = session.get(Case, int(key[1]))
                refs[message.id] = case.ref if case else "?"
    if not rows:
        click.echo("no failed sends")
        return
    for message in rows:
        click.echo(f"#{message.id} case {refs.get(message.id, '-')} {message.kind} to "
                   f"{masked(message.to_phone)}: {message.failure_reason or 'failed'} "
                   f"after {message.attempts} attempt(s), {_when(message.updated_at)}")
    click.echo(f"{len(rows)} failed send(s)")


def register(app: Flask) -> None:
    app.cli.add_command(group)
