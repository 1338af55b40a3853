"""The menu engine: pure steps through declarative journeys.

A call is ``step(flow, state, text) -> Step``. The engine imports no Flask,
Redis or SQL: lookups go through the injected ``port`` and side effects leave
as ``Event`` objects for the caller to commit. The same flow serves USSD hops
and SMS dialogues, because an SMS reply is just one more input.

The screens it walks are declared with ``menus.journey``'s types. State is a plain
JSON-able dict the caller stores between hops::

    {"screen": "reg.name", "lang": "en", "data": {...}, "history": [...],
     "page": 0, "error": None, "filter": None}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from menus.journey import (
    Choice,
    Confirm,
    Context,
    End,
    Flow,
    Input,
    Invalid,
    Invisible,
    JourneyError,
    Menu,
    Option,
    Pick,
    Resume,
    Route,
    Router,
    Screen,
    Translate,
    Update,
)

BACK = "0"
HOME = "00"
MORE = "98"


@dataclass(frozen=True)
class Event:
    """A side effect for the caller to commit, e.g. ``RegistrationCompleted``."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """What one input produced: the screen to show, whether it ends, the new state."""

    screen: str
    end: bool
    state: dict
    events: tuple[Event, ...] = ()


def new_state(flow: Flow, lang: str | None = None, **data: Any) -> dict:
    """Make the state of a session that has not shown a screen yet."""
    return {
        "screen": flow.entry,
        "lang": lang,
        "data": dict(data),
        "history": [],
        "page": 0,
        "error": None,
        "filter": None,
    }


def begin(flow: Flow, state: dict, port: Any, translate: Translate,
          at: str | None = None) -> Step:
    """Show the first screen of a session, following routers from the entry, or from
    ``at`` (where an SMS dialogue opens)."""
    return _arrive(flow, state, at or state["screen"], port, translate, [], push=False)


def step(flow: Flow, state: dict, text: str, port: Any, translate: Translate) -> Step:
    """Apply one input to the session state and return the next screen."""
    state = _copy(state)
    text = text.strip()
    screen = flow[state["screen"]]
    state["error"] = None
    if text == HOME:
        state["history"] = []
        return _arrive(flow, state, flow.home, port, translate, [], push=False)
    if text == BACK and state["history"]:
        previous = state["history"].pop()
        state["filter"] = None
        return _arrive(flow, state, previous, port, translate, [], push=False)
    ctx = Context(state, port, translate)
    if isinstance(screen, Menu):
        return _menu(flow, screen, ctx, text)
    if isinstance(screen, Choice):
        return _choice(flow, screen, ctx, text)
    if isinstance(screen, Input):
        return _input(flow, screen, ctx, text)
    if isinstance(screen, Pick):
        return _pick(flow, screen, ctx, text)
    if isinstance(screen, Confirm):
        if text == "1":
            events = [Event(screen.emit, dict(state["data"]))] if screen.emit else []
            return _arrive(flow, state, screen.yes, port, translate, events)
        if text == "2":
            return _arrive(flow, state, screen.no, port, translate, [])
        return _reject(flow, state, Invalid("err.choice"), translate)
    # An End screen never receives input; a stray one restarts at home.
    return _arrive(flow, state, flow.home, port, translate, [], push=False)


def divert(flow: Flow, state: dict, target: str, translate: Translate, port: Any = None, *,
           reason: str | None = None, events: tuple[Event, ...] = ()) -> Step:
    """Show ``target`` instead of the screen a step reached, whose events could not be
    committed as asked (an agency gone from the register, a step refused, an ID taken
    meanwhile); ``reason`` is a text key said above it. The way back stays as it was.

    Handlers name the screen (``app.events.apply`` gives it); the move is the engine's.
    """
    if isinstance(flow[target], Invisible):
        raise JourneyError(f"cannot divert to {target}: it is never shown")
    state = _copy(state)
    state.update(screen=target, page=0, filter=None, error=[reason, {}] if reason else None)
    return _show(flow, state, translate, port, events)


def render(flow: Flow, state: dict, translate: Translate, port: Any = None) -> str:
    """Render the current screen of ``state`` in its language, paged to fit.

    A wrong answer's reason goes above the screen; when both do not fit, the reason
    replaces the screen's text (the person has just read it) and the options stay.
    """
    screen = flow[state["screen"]]
    lang = state.get("lang") or "en"
    values = flow.values(state["data"], lang, translate)
    body = translate(lang, screen.text, **values) if screen.text else ""
    if not state.get("error"):
        return _compose(flow, screen, state, body, values, translate, port)
    key, err_values = state["error"]
    reason = translate(lang, key, **{**values, **err_values})
    text = _compose(flow, screen, state, reason + "\n" + body, values, translate, port)
    plain = _compose(flow, screen, dict(state, page=0), body, values, translate, port)
    if len(text) > flow.max_chars or (MORE + " ") in text and (MORE + " ") not in plain:
        return _compose(flow, screen, state, reason, values, translate, port)
    return text


def _compose(flow: Flow, screen: Screen, state: dict, body: str, values: dict,
             translate: Translate, port: Any) -> str:
    lang = state.get("lang") or "en"
    if isinstance(screen, Confirm):
        yes, no = translate(lang, screen.yes_label), translate(lang, screen.no_label)
        return "\n".join([body, f"1 {yes}", f"2 {no}"])
    if isinstance(screen, Menu):
        ctx = Context(state, port, translate)
        lines = [f"{n} {translate(lang, o.label, **values)}" for n, o in _visible(screen, ctx)]
        return _page(flow, state, body, lines, translate)
    if isinstance(screen, Choice):
        lines = [f"{n} {label}" for n, _value, label in _choice_items(screen, state)]
        return _page(flow, state, body, lines, translate)
    return body


def _page(flow: Flow, state: dict, body: str, lines: list[str], translate: Translate) -> str:
    """Cut option lines into pages that fit ``flow.max_chars`` with 98/0 footers."""
    lang = state.get("lang") or "en"
    more = f"{MORE} {translate(lang, 'nav.more')}"
    back = f"{BACK} {translate(lang, 'nav.back')}"
    pages = _pages(body, lines, more, back if state["history"] else None, flow.max_chars)
    page = min(state.get("page", 0), len(pages) - 1)
    return pages[page]


def _pages(
    body: str, lines: list[str], more: str, back: str | None, limit: int
) -> list[str]:
    footer = [back] if back else []
    whole = "\n".join([body, *lines, *footer])
    if len(whole) <= limit:
        return [whole]
    pages: list[str] = []
    current: list[str] = []
    for line in lines:
        trial = "\n".join([body, *current, line, more, *footer])
        if current and len(trial) > limit:
            pages.append("\n".join([body, *current, more, *footer]))
            current = []
        current.append(line)
    pages.append("\n".join([body, *current, *footer]))
    return pages


def page_count(flow: Flow, state: dict, translate: Translate, port: Any = None) -> int:
    """Count the pages the current screen needs."""
    screen = flow[state["screen"]]
    if not isinstance(screen, Menu | Choice):
        return 1
    probe = dict(state, page=10**6)
    last = render(flow, probe, translate, port)
    count = 0
    while count < 1000:
        if render(flow, dict(state, page=count), translate, port) == last:
            return count + 1
        count += 1
    return count


def _visible(screen: Menu, ctx: Context) -> list[tuple[int, Option]]:
    shown = [o for o in screen.options if o.when is None or o.when(ctx)]
    return list(enumerate(shown, start=1))


def _choice_items(screen: Choice, state: dict) -> list[tuple[int, Any, str]]:
    items = list(screen.items(state.get("lang") or "en"))
    wanted = state.get("filter")
    if wanted:
        items = [item for item in items if item[1] in wanted]
    return items


def _menu(flow: Flow, screen: Menu, ctx: Context, text: str) -> Step:
    state = ctx.state
    if text == MORE:
        return _next_page(flow, ctx)
    for number, option in _visible(screen, ctx):
        if text == str(number):
            if screen.save == "lang":  # the language is session state, not an answer
                state["lang"] = option.value
            elif screen.save:
                state["data"][screen.save] = option.value
            events = [Event(option.emit, dict(state["data"]))] if option.emit else []
            return _arrive(flow, state, option.goto, ctx.port, ctx.translate, events)
    return _reject(flow, state, Invalid("err.choice"), ctx.translate, ctx.port)


def _choice(flow: Flow, screen: Choice, ctx: Context, text: str) -> Step:
    state = ctx.state
    if text == MORE:
        return _next_page(flow, ctx)
    items = _choice_items(screen, state)
    for number, value, _label in items:
        if text == str(number):
            return _chosen(flow, screen, ctx, value)
    matches = list(screen.match(text)) if screen.match and text else []
    if len(matches) == 1:
        return _chosen(flow, screen, ctx, matches[0])
    if matches:
        state["filter"] = matches
        state["page"] = 0
        return _show(flow, state, ctx.translate, ctx.port)
    return _reject(flow, state, Invalid("err.choice"), ctx.translate, ctx.port)


def _chosen(flow: Flow, screen: Choice, ctx: Context, value: Any) -> Step:
    state = ctx.state
    state["filter"] = None
    for validator in screen.validators:
        verdict = validator(value, ctx)
        if isinstance(verdict, Invalid):  # asked afresh: unanswered, its list from the top
            state["data"].pop(screen.save, None)
            state["page"] = 0
            return _reject(flow, state, verdict, ctx.translate, ctx.port)
        value = verdict
    state["data"][screen.save] = value
    target = _route(screen.next, state, ctx.port, ctx.translate)
    return _arrive(flow, state, target, ctx.port, ctx.translate, [])


def _input(flow: Flow, screen: Input, ctx: Context, text: str) -> Step:
    value: Any = text
    for validator in screen.validators:
        verdict = validator(value, ctx)
        if isinstance(verdict, Invalid):
            return _reject(flow, ctx.state, verdict, ctx.translate, ctx.port)
        value = verdict
    ctx.state["data"][screen.save] = value
    target = _route(screen.next, ctx.state, ctx.port, ctx.translate)
    return _arrive(flow, ctx.state, target, ctx.port, ctx.translate, [])


def _pick(flow: Flow, screen: Pick, ctx: Context, text: str) -> Step:
    entries = ctx.data.get(screen.entries) or []
    page = int(ctx.data.get(screen.page) or 0)
    if text == MORE:
        if (page + 1) * screen.per_page >= len(entries):
            return _reject(flow, ctx.state, Invalid(screen.error), ctx.translate, ctx.port)
        ctx.data[screen.page] = page + 1  # the same screen, not a step back to stack
        return _show(flow, ctx.state, ctx.translate, ctx.port)
    if not text.isdigit() or not 1 <= int(text) <= len(entries):
        return _reject(flow, ctx.state, Invalid(screen.error), ctx.translate, ctx.port)
    ctx.data[screen.save] = screen.value(entries[int(text) - 1])
    target = _route(screen.next, ctx.state, ctx.port, ctx.translate)
    return _arrive(flow, ctx.state, target, ctx.port, ctx.translate, [])


def _next_page(flow: Flow, ctx: Context) -> Step:
    state = ctx.state
    if state.get("page", 0) + 1 >= page_count(flow, state, ctx.translate, ctx.port):
        return _reject(flow, state, Invalid("err.choice"), ctx.translate, ctx.port)
    state["page"] = state.get("page", 0) + 1
    return _show(flow, state, ctx.translate, ctx.port)


def _reject(
    flow: Flow, state: dict, verdict: Invalid, translate: Translate, port: Any = None
) -> Step:
    state["error"] = [verdict.key, dict(verdict.values)]
    return _show(flow, state, translate, port)


def _show(flow: Flow, state: dict, translate: Translate, port: Any, events=()) -> Step:
    screen = flow[state["screen"]]
    return Step(render(flow, state, translate, port), isinstance(screen, End), state,
                tuple(events))


def _arrive(
    flow: Flow,
    state: dict,
    target: str,
    port: Any,
    translate: Translate,
    events: list[Event],
    push: bool = True,
) -> Step:
    """Move to ``target``, passing invisible screens, and collect the events on the way."""
    if push and state["screen"] != target:
        history = state["history"]
        if not isinstance(flow[state["screen"]], Invisible):
            history.append(state["screen"])
    state["page"] = 0
    state["filter"] = None
    hops = 0
    while True:
        if target == flow.home:  # home is a fresh start: nothing to go back to
            state["history"] = []
        screen = flow[target]
        state["screen"] = target
        if isinstance(screen, Invisible):
            if screen.emit:
                events.append(Event(screen.emit, dict(state["data"])))
            target = _pass(screen, state, port, translate)
            hops += 1
            if hops > 50:
                raise JourneyError(f"router loop at {screen.id}")
            continue
        if isinstance(screen, End) and screen.emit:
            events.append(Event(screen.emit, dict(state["data"])))
        return _show(flow, state, translate, port, events)


def _pass(screen: Invisible, state: dict, port: Any, translate: Translate) -> str:
    """Make an invisible screen's change, if it has one, and name where it leads."""
    data = state["data"]
    if isinstance(screen, Update):
        for key in screen.forget:
            data.pop(key, None)
        if screen.update is not None:
            data.update(screen.update(_read_only(state, port, translate)))
        return _route(screen.next, state, port, translate)
    if isinstance(screen, Resume):
        saved = data.pop(screen.saved, None) or {}
        stopped = data.pop(screen.at, None)
        data.update(saved.get("data") or {})
        state["history"] = list(saved.get("history") or [])
        return stopped if stopped in screen.routes else screen.fallback
    assert isinstance(screen, Router)
    return _route(screen.route, state, port, translate)


def _route(route: str | Route, state: dict, port: Any, translate: Translate) -> str:
    """Name the next screen: a route chooses, from a state it cannot change."""
    return route(_read_only(state, port, translate)) if callable(route) else route


def _read_only(state: dict, port: Any, translate: Translate) -> Context:
    view = {**state, "data": MappingProxyType(state["data"]), "history": tuple(state["history"])}
    return Context(MappingProxyType(view), port, translate)  # type: ignore[arg-type]


def _copy(state: dict) -> dict:
    return {
        **state,
        "data": dict(state.get("data") or {}),
        "history": list(state.get("history") or []),
    }
