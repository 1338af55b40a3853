"""menus/checkin.py: the check-in journey, stepped through the pure engine."""

from __future__ import annotations

import pytest

from app.i18n import translate
from menus import JOURNEYS, SMS_ENTRIES, build_flow
from menus.checkin import PROBLEMS
from menus.engine import begin, new_state, step
from menus.journey import Flow

FLOW = build_flow()


def opened(screen: str = "checkin.ask", lang: str = "en") -> dict:
    state = new_state(FLOW, lang)
    state["screen"] = screen
    return begin(FLOW, state, None, translate).state


@pytest.mark.parametrize(("answer", "screen", "end", "events"), [
    ("1", "checkin.fine", True, ["CheckInFine"]),
    ("2", "checkin.problem", False, ["CheckInProblem"]),
    ("3", "checkin.danger", True, ["CheckInDanger"]),
    ("4", "checkin.ask", False, []),
])
def test_each_answer_goes_where_it_should(answer, screen, end, events) -> None:
    result = step(FLOW, opened(), answer, None, translate)
    assert (result.state["screen"], result.end) == (screen, end)
    assert [e.name for e in result.events] == events


@pytest.mark.parametrize(("choice", "category"), [(str(n), c) for n, (_, c) in
                                                   enumerate(PROBLEMS, start=1)])
def test_each_problem_reports_its_category(choice, category) -> None:
    state = step(FLOW, opened(), "2", None, translate).state
    result = step(FLOW, state, choice, None, translate)
    assert result.end and result.state["screen"] == "checkin.reported"
    [event] = result.events
    assert (event.name, event.data["checkin_category"]) == ("CheckInProblemReported", category)


def test_the_problem_menu_goes_back_to_the_question() -> None:
    state = step(FLOW, opened(), "2", None, translate).state
    result = step(FLOW, state, "0", None, translate)
    assert result.state["screen"] == "checkin.ask" and not result.events


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_question_is_one_sms_with_three_numbered_answers(lang) -> None:
    text = begin(FLOW, opened(lang=lang), None, translate).screen
    assert len(text) <= 160
    assert text.splitlines()[1:] == [f"{n} {translate(lang, key)}" for n, key in (
        (1, "checkin.opt_fine"), (2, "checkin.opt_problem"), (3, "checkin.opt_danger"))]


def test_only_sms_entries_make_the_check_in_reachable() -> None:
    assert {"checkin.ask", "checkin.problem"} <= set(SMS_ENTRIES)
    assert FLOW.problems() == []
    ussd_only = Flow(JOURNEYS, home="main.home", entry="entry")
    assert "checkin.ask: unreachable" in ussd_only.problems()
    broken = Flow(JOURNEYS, home="main.home", entry="entry", sms_entries=("checkin.nope",))
    assert "start screen 'checkin.nope' does not exist" in broken.problems()
