"""menus/journey.py: the flow is checked when built and drawn as a graph."""

import pytest

from menus.journey import End, Flow, Journey, JourneyError, Menu, Option
from tests.menus.toy import flow


@pytest.fixture
def toy():
    return flow()


def test_broken_flows_are_reported():
    broken = Flow([Journey("x", "a", (
        Menu("a", "a", options=(Option("b", "nowhere"),)),
        End("orphan", "done"),
    ))], home="a", entry="a")
    problems = broken.problems({"en": {"a"}})
    assert any("nowhere" in p for p in problems)
    assert any("orphan: unreachable" in p for p in problems)
    assert any("missing text 'b'" in p for p in problems)


def test_duplicate_screen_ids_are_refused():
    with pytest.raises(JourneyError):
        Flow([Journey("x", "a", (End("a", "a"), End("a", "b")))], home="a", entry="a")


def test_mermaid_graph_names_every_screen(toy):
    graph = toy.mermaid()
    assert graph.startswith("flowchart TD")
    assert "sure --> done" in graph and "sure --> no" in graph
