"""app/protection/safeguarding.py: each concern is flagged once, with what staff read."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.models import Person, SafeguardingFlag
from app.protection import safeguarding
from menus.validators import youngest_age


def test_a_flag_is_raised_once_per_ref_and_every_kind_has_words_for_staff(svc) -> None:
    with svc.db.session() as session:
        for _ in range(2):
            safeguarding.flag_minor_abroad(session, "+254700000001",
                                           {"birth_year": 2012, "work_where": "abroad"}, "s1")
    with svc.db.Session() as session:
        [flag] = session.scalars(select(SafeguardingFlag)).all()
    assert (flag.kind, flag.source_ref, flag.phone) == ("minor_abroad", "minor:s1",
                                                        "+254700000001")
    assert json.loads(flag.details) == {"birth_year": 2012, "asked_for": "abroad"}
    assert flag.kind in safeguarding.KINDS


def test_only_a_birth_year_that_may_be_under_18_counts_as_a_minor() -> None:
    year = next(y for y in range(2000, 2030) if youngest_age(y) == 17)
    assert safeguarding.may_be_minor(Person(birth_year=year))
    assert not safeguarding.may_be_minor(Person(birth_year=year - 1))
    assert not safeguarding.may_be_minor(Person(birth_year=None))
