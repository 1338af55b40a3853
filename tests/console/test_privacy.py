"""An analyst sees aggregates only: never a name, a phone, a national ID or a reference."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Case, Person
from tests.console.conftest import DOHA_REPORTER, REPORTER
from tests.console.test_access import TABLE


def personal_data(svc, world) -> list[str]:
    """Everything that names or identifies someone in the ``world`` fixture."""
    with svc.db.Session() as session:
        people = list(session.scalars(select(Person)))
        refs = list(session.scalars(select(Case.ref)))
    values = [REPORTER, DOHA_REPORTER, "31415926", "27182818", *refs]
    for person in people:
        values += [person.full_name, person.reg_no, person.full_name.split()[0]]
    return values


def test_an_analyst_never_sees_personal_data_anywhere(console, world, svc):
    analyst = console("analyst")
    secrets = personal_data(svc, world)
    paths = [path.format(**vars(world)) for method, path, _ in TABLE if method == "GET"]
    pages = {"/console/analytics"}
    for path in paths:
        response = analyst.get(path, follow_redirects=True)
        body = response.get_data(as_text=True)
        leaked = [value for value in secrets if value and value in body]
        assert leaked == [], (path, leaked)
        pages.add(path)
    # Every download the dashboard offers, too.
    dashboard = analyst.get("/console/analytics").get_data(as_text=True)
    for link in sorted(set(re.findall(r'href="(/console/analytics/[^"]+\.csv[^"]*)"',
                                      dashboard)))[:20]:
        body = analyst.get(link.replace("&amp;", "&")).get_data(as_text=True)
        assert [v for v in secrets if v and v in body] == [], link


def test_an_analyst_is_refused_every_case_person_and_register_page(console, world):
    analyst = console("analyst")
    for method, path, expected in TABLE:
        if method == "GET" and expected["analyst"] == 403:
            assert analyst.get(path.format(**vars(world))).status_code == 403, path
