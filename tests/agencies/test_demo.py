"""``kazi seed-demo``: a realistic, deterministic register of about 300 agencies."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from app.agencies import demo
from app.agencies.index import current_index
from app.agencies.search import search
from app.models import Agency, Director, Licence, RegisterImport
from tests.agencies.helpers import count


def test_seed_demo_loads_a_register_in_the_2023_proportions(runner, svc):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "added=300 agencies=300" in result.output
    with svc.db.Session() as session:
        statuses = Counter(session.scalars(select(Licence.status)))
        phones = session.scalars(select(Agency.phone)).all()
        addresses = session.scalars(select(Agency.physical_address)).all()
    assert sum(statuses.values()) == 300
    assert statuses["valid"] == round(300 * 531 / 932) == 171
    assert statuses["suspended"] >= 15 and statuses["revoked"] >= 15
    assert statuses["expired"] >= 40
    assert all(p.startswith("+254") for p in phones)
    assert sum("Nairobi" in a for a in addresses) > 50
    assert count(svc, Director) >= 300
    assert count(svc, RegisterImport, RegisterImport.source == "demo") == 1


def test_the_fixed_agencies_answer_every_status(runner, svc):
    runner.invoke(args=["seed-demo"])
    index = current_index(svc.db, svc.redis)
    found = {q: search(index, q)[0].status for q in
             ("NEA/PEA/2024/0001", "gulf star", "crescent overseas", "nuru employment")}
    assert found == {"NEA/PEA/2024/0001": "valid", "gulf star": "suspended",
                     "crescent overseas": "revoked", "nuru employment": "expired"}


def test_seeding_again_changes_nothing(runner, svc):
    runner.invoke(args=["seed-demo"])
    def counters():
        with svc.db.Session() as session:
            return session.execute(select(Agency.name, Agency.complaints_count,
                                          Agency.placements_count).order_by(Agency.id)).all()

    before = counters()
    again = runner.invoke(args=["seed-demo"])
    assert "added=0" in again.output and "unchanged=300" in again.output
    assert counters() == before
    assert any(complaints for _name, complaints, _placements in before)


def test_the_same_day_gives_the_same_register():
    day = date(2026, 11, 24)
    first, second = demo.demo_rows(300, day), demo.demo_rows(300, day)
    assert first == second
    assert len({r.licence_no for r in first}) == 300
    assert len({r.name for r in first}) == 300
    lagging = [r for r in first if r.register_status == "valid" and r.expires_on < day]
    assert lagging  # some rows say valid after their date, as a lagging register does
    revoked_directors = {d for r in first if r.register_status == "revoked" for d in r.directors}
    assert any(d in revoked_directors for r in first if r.register_status == "valid"
               for d in r.directors)  # a director shared with a revoked agency: a red flag


def test_other_features_seeds_run_after_the_register(runner, svc, monkeypatch):
    import sys
    import types

    calls = []
    fake = types.ModuleType("tests_fake_demo")
    fake.seed = lambda session: calls.append(session) or {"listings": 7}
    monkeypatch.setitem(sys.modules, "tests_fake_demo", fake)
    monkeypatch.setattr(demo, "EXTRA_SEEDS", (fake,))
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "seed-demo tests_fake_demo: listings=7" in result.output
    assert len(calls) == 1
