"""The pure engine, on a small flow of its own: menus, paging, input, confirm, routers."""

import sys

import pytest

from menus.engine import begin, divert, new_state, step
from menus.journey import (
    Choice,
    End,
    Flow,
    Invalid,
    Journey,
    JourneyError,
    Pick,
    Resume,
    Update,
)
from tests.menus.toy import flow, t


@pytest.fixture
def toy():
    return flow()


def go(toy, state, *inputs):
    result = None
    for value in inputs:
        result = step(toy, state, value, None, t)
        state = result.state
    return result


def first(toy, **data):
    return begin(toy, new_state(toy, "en", **data), None, t)


def test_begin_follows_routers_to_the_first_screen(toy):
    shown = first(toy)
    assert shown.screen == "Home\n1 A\n2 B"
    assert shown.state["screen"] == "home"
    assert not shown.end


def test_option_conditions_hide_and_show_options(toy):
    assert "3 Pick" not in first(toy).screen
    assert "3 Pick" in first(toy, show_pick=True).screen


def test_wrong_choice_reshows_the_screen_with_a_reason(toy):
    shown = go(toy, first(toy).state, "7")
    assert shown.screen.startswith("Invalid choice.\nHome")
    assert shown.state["screen"] == "home"
    assert not shown.end


def test_input_validator_error_then_success(toy):
    state = go(toy, first(toy).state, "1").state
    bad = go(toy, state, "abc")
    assert bad.screen == "Age is a number.\nYour age?"
    good = go(toy, bad.state, "42")
    assert good.state["data"]["age"] == 42
    assert good.screen == "Sure 42?\n1 Yes\n2 No"


def test_confirm_emits_its_event_and_ends(toy):
    done = go(toy, first(toy).state, "1", "30", "1")
    assert done.end
    assert done.screen == "Done 30"
    assert [e.name for e in done.events] == ["Confirmed"]
    assert done.events[0].data["age"] == 30


def test_confirm_no_emits_nothing(toy):
    cancelled = go(toy, first(toy).state, "1", "30", "2")
    assert cancelled.end and cancelled.events == ()


def test_back_and_home(toy):
    state = go(toy, first(toy).state, "1", "30").state
    back = go(toy, state, "0")
    assert back.state["screen"] == "ask"
    home = go(toy, state, "00")
    assert home.state["screen"] == "home"
    assert home.state["history"] == []


def test_long_menu_pages_with_98_and_keeps_numbers(toy):
    page1 = go(toy, first(toy).state, "2")
    assert "98 More" in page1.screen and "0 Back" in page1.screen
    assert len(page1.screen) <= 160
    page2 = go(toy, page1.state, "98")
    assert page2.state["page"] == 1
    assert page2.screen != page1.screen
    last_on_page1 = int(page1.screen.split("\n")[-3].split(" ")[0])
    first_on_page2 = int(page2.screen.split("\n")[1].split(" ")[0])
    assert first_on_page2 == last_on_page1 + 1
    chosen = go(toy, page2.state, "24")
    assert chosen.state["data"]["chosen"] == 24


def test_98_past_the_last_page_is_a_wrong_choice(toy):
    state = go(toy, first(toy).state, "2").state
    for _ in range(10):
        shown = go(toy, state, "98")
        state = shown.state
    assert shown.screen.startswith("Invalid choice.")


def test_every_page_fits_a_small_screen():
    small = flow(max_chars=60)
    state = go(small, first(small).state, "2").state
    for _ in range(12):
        shown = go(small, state, "98")
        assert len(shown.screen) <= 60, shown.screen
        state = shown.state


def test_choice_by_number_and_by_typed_name(toy):
    state = go(toy, first(toy, show_pick=True).state, "3").state
    by_number = go(toy, state, "17")
    assert by_number.state["data"]["item"] == "v17"
    narrowed = go(toy, state, "number 2")
    assert narrowed.state["filter"]  # several matches: the list is narrowed
    assert "2 Item number 2" in narrowed.screen and "1 Item number 1\n" not in narrowed.screen
    exact = go(toy, state, "number 30")
    assert exact.state["data"]["item"] == "v30"


PICK_TEXTS = {"list": "Page {found_page}", "done": "Got {chosen}", "err.pick": "Pick a number."}


def tr(lang, key, /, **values):
    return PICK_TEXTS[key].format(**values)


def test_pick_turns_its_pages_in_place_and_saves_the_value_picked():
    flow = Flow([Journey("p", "list", (
        Pick("list", "list", entries="found", page="found_page", per_page=2, save="chosen",
             value=lambda entry: entry.upper(), next="done", error="err.pick"),
        End("done", "done"),
    ))], home="list", entry="list")
    shown = begin(flow, new_state(flow, "en", found=["a", "b", "c", "d", "e"], found_page=0),
                  None, tr)
    assert shown.screen == "Page 0"
    turned = step(flow, shown.state, "98", None, tr)
    assert turned.screen == "Page 1" and turned.state["history"] == []
    last = step(flow, step(flow, turned.state, "98", None, tr).state, "98", None, tr)
    assert last.screen == "Pick a number.\nPage 2"  # no page after the last
    assert step(flow, turned.state, "6", None, tr).screen.startswith("Pick a number.")
    picked = step(flow, turned.state, "4", None, tr)  # numbers run on across pages
    assert picked.end and picked.screen == "Got D" and picked.state["history"] == ["list"]


def passing_flow(route):
    """A flow of invisible screens in front of two shown ones."""
    return Flow([Journey("i", "start", (
        Update("start", forget=("old",), update=lambda ctx: {"seen": ctx.data.get("hint")},
               next=route, routes=("list", "done"), emit="Started"),
        Choice("list", "list", items=lambda lang: [(1, "KE", "Kenya"), (2, "SA", "Saudi")],
               save="country", next="back", validators=(no_kenya,),
               error_keys=("err.home",)),
        Resume("back", saved="saved", at="at", routes=("list",), fallback="done"),
        End("done", "done"),
    ))], home="start", entry="start")


def no_kenya(value, ctx):
    return Invalid("err.home") if value == "KE" else value


PASS_TEXTS = {"list": "Where?", "done": "Done", "err.home": "Not home.", "err.choice": "?",
              "nav.more": "More", "nav.back": "Back"}


def pt(lang, key, /, **values):
    return PASS_TEXTS[key]


def test_an_update_changes_the_data_then_its_route_chooses():
    flow = passing_flow(lambda ctx: "list" if ctx.data.get("seen") else "done")
    shown = begin(flow, new_state(flow, "en", old="y", hint="x"), None, pt)
    assert shown.screen.startswith("Where?") and shown.state["data"] == {"hint": "x", "seen": "x"}
    assert [(e.name, dict(e.data)) for e in shown.events] == [
        ("Started", {"old": "y", "hint": "x"})]  # emitted on arrival, before the change


def test_a_route_cannot_change_the_state():
    def meddling(ctx):
        ctx.data["sneaked"] = True
        return "list"

    flow = passing_flow(meddling)
    with pytest.raises(TypeError):
        begin(flow, new_state(flow, "en"), None, pt)


def test_a_choice_refused_by_its_validator_is_asked_again_unanswered():
    flow = passing_flow(lambda ctx: "list")
    state = begin(flow, new_state(flow, "en", country="SA"), None, pt).state
    assert state["screen"] == "list"
    refused = step(flow, state, "1", None, pt)
    assert refused.screen == "Not home.\nWhere?\n1 Kenya\n2 Saudi"
    assert refused.state["screen"] == "list" and "country" not in refused.state["data"]


def test_resume_puts_back_answers_and_path_then_goes_where_it_stopped():
    flow = passing_flow(lambda ctx: "list")
    state = begin(flow, new_state(flow, "en"), None, pt).state
    state["data"].update(saved={"data": {"name": "Amina"}, "history": ["x", "y"]}, at="list")
    resumed = step(flow, state, "2", None, pt)
    assert resumed.screen.startswith("Where?")
    assert resumed.state["history"] == ["x", "y"]
    assert resumed.state["data"] == {"seen": None, "country": "SA", "name": "Amina"}
    state["data"].update(saved={"data": {}, "history": []}, at="nowhere")
    assert step(flow, state, "2", None, pt).screen == "Done"


def test_begin_can_open_at_a_given_screen(toy):
    assert begin(toy, new_state(toy, "en"), None, t, at="ask").screen == "Your age?"


def test_divert_shows_another_screen_with_a_reason_and_keeps_the_way_back(toy):
    state = go(toy, first(toy).state, "1", "30").state  # at "sure", back to "ask"
    moved = divert(toy, state, "ask", t, reason="err.age")
    assert moved.screen == "Age is a number.\nYour age?" and not moved.end
    assert moved.state["history"] == state["history"] and state["screen"] == "sure"
    assert divert(toy, state, "done", t).end
    with pytest.raises(JourneyError):
        divert(toy, state, "start", t)  # a router is never shown


def test_language_changes_rendering(toy):
    state = new_state(toy, "sw")
    assert begin(toy, state, None, t).screen.startswith("Home!")


def test_state_is_not_mutated(toy):
    state = first(toy).state
    snapshot = repr(state)
    go(toy, state, "1")
    assert repr(state) == snapshot


def test_engine_imports_no_flask_redis_or_sql():
    import subprocess

    code = ("import sys, menus, menus.engine, menus.registration; "
            "bad = [m for m in ('flask', 'redis', 'sqlalchemy', 'rq') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
