"""Placement transitions: the path, its sources and its dates."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.models import Placement, PlacementTransition
from app.models.placement import PLACEMENT_STATES
from app.placements.service import TransitionError, allowed, open_placement, transition


def test_the_path_goes_forward_and_may_skip_unseen_steps():
    for earlier, later in zip(PLACEMENT_STATES[:6], PLACEMENT_STATES[1:7], strict=True):
        assert allowed(earlier, later)
        assert not allowed(later, earlier)
    assert allowed("contracted", "departed")
    assert allowed("employed", "employed")
    assert allowed("arrived", "returned") and allowed("ended", "returned")
    assert not allowed("applied", "returned") and not allowed("returned", "employed")
    assert not allowed("applied", "ended") and not allowed("applied", "nonsense")


@pytest.mark.parametrize("source", ["person", "agency", "immigration", "destination", "staff"])
def test_every_transition_is_kept_with_its_source_and_time(svc, source):
    start = utcnow() - timedelta(days=60)
    with svc.db.session() as session:
        placement = Placement(phone="+254712345678", country="SA")
        for n, status in enumerate(PLACEMENT_STATES[:7]):
            transition(session, placement, status, source=source, source_ref=f"ref-{n}",
                       evidence="test", occurred_at=start + timedelta(days=n))
        placement_id = placement.id
    with svc.db.Session() as session:
        steps = session.scalars(select(PlacementTransition).where(
            PlacementTransition.placement_id == placement_id).order_by(PlacementTransition.id)
        ).all()
        placement = session.get(Placement, placement_id)
        assert [s.to_status for s in steps] == list(PLACEMENT_STATES[:7])
        assert [s.from_status for s in steps] == [None, *PLACEMENT_STATES[:6]]
        assert {s.source for s in steps} == {source}
        assert placement.status == "employed"
        assert placement.departed_on == (start + timedelta(days=4)).date()
        assert placement.arrived_at is not None


def test_future_dates_and_impossible_orders_are_refused(svc):
    with svc.db.session() as session:
        placement = Placement(phone="+254712345678", country="QA")
        transition(session, placement, "departed", source="immigration",
                   occurred_at=utcnow() - timedelta(days=3))
        with pytest.raises(TransitionError) as future:
            transition(session, placement, "arrived", source="person",
                       occurred_at=utcnow() + timedelta(days=2))
        assert future.value.code == "future_date"
        with pytest.raises(TransitionError) as order:
            transition(session, placement, "arrived", source="person",
                       occurred_at=utcnow() - timedelta(days=10))
        assert order.value.code == "out_of_order"
        with pytest.raises(TransitionError) as backwards:
            transition(session, placement, "applied", source="agency")
        assert backwards.value.code == "bad_transition"


def test_open_placement_finds_the_latest_unfinished_one(svc):
    with svc.db.session() as session:
        old = Placement(phone="+254712345678", country="SA")
        transition(session, old, "departed", source="person")
        transition(session, old, "returned", source="person")
        new = Placement(phone="+254712345678", country="AE")
        transition(session, new, "contracted", source="agency")
        assert open_placement(session, phone="+254712345678").id == new.id
        assert open_placement(session, phone="+254700000000") is None
