"""What each role may see, as SQL: the scope is in the query, not only in the template.

A consular officer sees their mission's cases (and, where a country has two
missions, the cases of that country either mission holds; at headquarters, every
case escalated to headquarters) and the people linked to those cases or placed in
a country their mission covers. NEA administrators see everything; other roles no
case and no person.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.models import Case, Placement, User
from app.protection.escalation import TOP
from app.reference.missions import HQ, by_code, missions_for

CASE_ROLES = ("consular_officer",)
"""Roles (besides nea_admin) that read and act on cases and people."""


def cases_where(user: User) -> ColumnElement[bool]:
    """Give the WHERE clause of the cases ``user`` may see."""
    if user.role == "nea_admin":
        return true()
    if user.role != "consular_officer" or not user.mission_code:
        return false()
    code = user.mission_code
    clauses: list[ColumnElement[bool]] = [Case.mission_code == code]
    mission = by_code(code)
    for country in (mission.covers if mission else ()):
        shared = tuple(m.code for m in missions_for(country))
        if len(shared) > 1:
            clauses.append(and_(Case.country == country, Case.mission_code.in_(shared)))
    if code == HQ.code:
        clauses.append(Case.escalation_level >= TOP)
    return or_(*clauses)


def people_where(user: User, person_id_column) -> ColumnElement[bool]:
    """Give the WHERE clause on a person id column for the people ``user`` may see."""
    if user.role == "nea_admin":
        return true()
    if user.role != "consular_officer" or not user.mission_code:
        return false()
    by_case = select(Case.person_id).where(cases_where(user), Case.person_id.is_not(None))
    clauses = [person_id_column.in_(by_case)]
    mission = by_code(user.mission_code)
    if mission and mission.covers:
        placed = select(Placement.person_id).where(Placement.country.in_(mission.covers),
                                                   Placement.person_id.is_not(None))
        clauses.append(person_id_column.in_(placed))
    return or_(*clauses)


def mission_countries(user: User) -> tuple[str, ...] | None:
    """Give the countries a consular officer's mission covers; None for every country."""
    if user.role != "consular_officer":
        return None
    mission = by_code(user.mission_code or "")
    return mission.covers if mission else ()
