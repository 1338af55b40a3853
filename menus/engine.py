"""The menu engine: pure steps through declarative journeys.

A call is ``step(flow, state, text) -> Step``. The engine imports no Flask,
Redis or SQL: lookups go through the injected ``port`` and side effects leave
as ``Event`` objects for the caller to commit. The same flow serves USSD hops
and SMS dialogues, because an SMS reply is just one more input.

State is a plain JSON-able dict the caller stores between hops::

    {"screen": "reg.name", "lang": "en", "data": {...}, "history": [...],
     "page": 0, "error": None, "filter": None}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

BACK = "0"
HOME = "00"
MORE = "98"


class Translate(Protocol):
    def __call__(self, lang: str, key: str, /, **values: Any) -> str: ...


@dataclass(frozen=True)
class Event:
    """A side effect for the caller to commit, e.g. ``RegistrationCompleted``."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What a screen may look at while deciding: state, injected port, translator."""

    state: dict
    port: Any
    translate: Translate

    @property
    def data(self) -> dict:
        return self.state["data"]

    @property
    def lang(self) -> str:
        return self.state.get("lang") or "en"


# A validator returns None when the value is fine, or (error_key, cleaned) pairs.
# It returns the cleaned value on success so screens can store normalised input.
@dataclass(frozen=True)
class Invalid:
    """A validator's verdict that the input is wrong, with a locale key saying why."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


Validator = Callable[[str, Context], "Invalid | Any"]
Route = Callable[[Context], str]


@dataclass(frozen=True)
class Option:
    """One numbered choice on a menu."""

    label: str
    goto: str
    value: Any = None
    when: Callable[[Context], bool] | None = None
    emit: str | None = None


@dataclass(frozen=True)
class Screen:
    """Base of every screen type: an id and a locale key for its text."""

    id: str
    text: str

    def targets(self) -> tuple[str, ...]:
        return ()

    def text_keys(self) -> tuple[str, ...]:
        return (self.text,)


@dataclass(frozen=True)
class Menu(Screen):
    """Numbered options; long lists page with 98, 0 goes back, 00 goes home."""

    options: tuple[Option, ...] = ()
    save: str | None = None

    def targets(self) -> tuple[str, ...]:
        return tuple(o.goto for o in self.options)

    def text_keys(self) -> tuple[str, ...]:
        return (self.text, *(o.label for o in self.options))


@dataclass(frozen=True)
class Choice(Screen):
    """Pick one item from a long data list, by its number or by typing its name.

    ``items(lang)`` gives ``(number, value, label)`` triples; ``match(text)`` gives
    the values that a typed answer could mean, best first (a forgiving match).
    """

    items: Callable[[str], Sequence[tuple[int, Any, str]]] = lambda lang: ()
    save: str = ""
    next: str | Route = ""
    match: Callable[[str], Sequence[Any]] | None = None
    routes: tuple[str, ...] = ()

    def targets(self) -> tuple[str, ...]:
        return (self.next,) if isinstance(self.next, str) else self.routes


@dataclass(frozen=True)
class Input(Screen):
    """Free text, checked by validators that carry their own translated error."""

    save: str = ""
    next: str | Route = ""
    validators: tuple[Validator, ...] = ()
    routes: tuple[str, ...] = ()
    error_keys: tuple[str, ...] = ()

    def targets(self) -> tuple[str, ...]:
        return (self.next,) if isinstance(self.next, str) else self.routes

    def text_keys(self) -> tuple[str, ...]:
        return (self.text, *self.error_keys)


@dataclass(frozen=True)
class Confirm(Screen):
    """A summary with 1 yes / 2 no; yes emits the screen's event."""

    yes: str = ""
    no: str = ""
    emit: str | None = None
    yes_label: str = "nav.confirm"
    no_label: str = "nav.cancel"

    def targets(self) -> tuple[str, ...]:
        return (self.yes, self.no)

    def text_keys(self) -> tuple[str, ...]:
        return (self.text, self.yes_label, self.no_label)


@dataclass(frozen=True)
class End(Screen):
    """The last screen of a session; may emit an event on arrival."""

    emit: str | None = None


@dataclass(frozen=True)
class Router(Screen):
    """An invisible decision: ``route(ctx)`` names the next screen among ``routes``."""

    route: Route = lambda ctx: ""
    routes: tuple[str, ...] = ()
    emit: str | None = None
    text: str = ""

    def targets(self) -> tuple[str, ...]:
        return self.routes

    def text_keys(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class Journey:
    """One journey file's screens, with its entry screen and worst-case samples."""

    name: str
    start: str
    screens: tuple[Screen, ...]
    samples: Mapping[str, Any] = field(default_factory=dict)
    derive: Callable[[dict, str, Translate], dict] | None = None


@dataclass(frozen=True)
class Step:
    """What one input produced: the screen to show, whether it ends, the new state."""

    screen: str
    end: bool
    state: dict
    events: tuple[Event, ...] = ()


class JourneyError(ValueError):
    """A journey is broken: a dangling transition, an orphan screen or a missing key."""


class Flow:
    """Journeys merged into one graph of screens, checked when built."""

    def __init__(
        self,
        journeys: Iterable[Journey],
        home: str,
        entry: str,
        max_chars: int = 160,
        sms_entries: Iterable[str] = (),
    ) -> None:
        self.journeys = tuple(journeys)
        self.home = home
        self.entry = entry
        self.max_chars = max_chars
        # Screens an SMS dialogue may start at (``app.dialogues.start``): reachable
        # although no USSD menu links to them.
        self.sms_entries = tuple(sms_entries)
        self.screens: dict[str, Screen] = {}
        for journey in self.journeys:
            for screen in journey.screens:
                if screen.id in self.screens:
                    raise JourneyError(f"screen {screen.id!r} is declared twice")
                self.screens[screen.id] = screen

    def __getitem__(self, screen_id: str) -> Screen:
        return self.screens[screen_id]

    def values(self, data: Mapping[str, Any], lang: str, translate: Translate) -> dict:
        """Give the values a screen may show: the data plus each journey's derived labels."""
        values = dict(data)
        for journey in self.journeys:
            if journey.derive:
                values.update(journey.derive(values, lang, translate))
        return values

    def problems(self, locales: Mapping[str, set[str]] | None = None) -> list[str]:
        """List what is wrong with the graph: dangling, unreachable, untranslated."""
        found: list[str] = []
        for start in (self.home, self.entry, *self.sms_entries):
            if start not in self.screens:
                found.append(f"start screen {start!r} does not exist")
        for screen in self.screens.values():
            for target in screen.targets():
                if target not in self.screens:
                    found.append(f"{screen.id} -> {target!r}: no such screen")
        reachable = self._reachable()
        for screen_id in self.screens:
            if screen_id not in reachable:
                found.append(f"{screen_id}: unreachable")
        for lang, keys in (locales or {}).items():
            for key in sorted(self.text_keys()):
                if key not in keys:
                    found.append(f"{lang}: missing text {key!r}")
        return found

    def text_keys(self) -> set[str]:
        keys = {"nav.more", "nav.back", "err.choice"}
        for screen in self.screens.values():
            keys.update(k for k in screen.text_keys() if k)
        return keys

    def _reachable(self) -> set[str]:
        seen: set[str] = set()
        todo = [self.home, self.entry, *self.sms_entries]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.screens:
                continue
            seen.add(current)
            todo.extend(self.screens[current].targets())
        return seen

    def mermaid(self) -> str:
        """Draw the graph as a Mermaid flowchart."""
        lines = ["flowchart TD"]
        for screen in self.screens.values():
            kind = type(screen).__name__
            lines.append(f'    {_node(screen.id)}["{screen.id} ({kind})"]')
            for target in dict.fromkeys(screen.targets()):
                lines.append(f"    {_node(screen.id)} --> {_node(target)}")
        return "\n".join(lines) + "\n"


def _node(screen_id: str) -> str:
    return screen_id.replace(".", "_").replace("-", "_")


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


def begin(flow: Flow, state: dict, port: Any, translate: Translate) -> Step:
    """Show the first screen of a session, following routers from the entry."""
    return _arrive(flow, state, state["screen"], port, translate, [], push=False)


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
    if isinstance(screen, Confirm):
        if text == "1":
            events = [Event(screen.emit, dict(state["data"]))] if screen.emit else []
            return _arrive(flow, state, screen.yes, port, translate, events)
        if text == "2":
            return _arrive(flow, state, screen.no, port, translate, [])
        return _reject(flow, state, Invalid("err.choice"), translate)
    # An End screen never receives input; a stray one restarts at home.
    return _arrive(flow, state, flow.home, port, translate, [], push=False)


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
    ctx.state["data"][screen.save] = value
    ctx.state["filter"] = None
    target = screen.next(ctx) if callable(screen.next) else screen.next
    return _arrive(flow, ctx.state, target, ctx.port, ctx.translate, [])


def _input(flow: Flow, screen: Input, ctx: Context, text: str) -> Step:
    value: Any = text
    for validator in screen.validators:
        verdict = validator(value, ctx)
        if isinstance(verdict, Invalid):
            return _reject(flow, ctx.state, verdict, ctx.translate, ctx.port)
        value = verdict
    ctx.state["data"][screen.save] = value
    target = screen.next(ctx) if callable(screen.next) else screen.next
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
    """Move to ``target``, following routers, and collect the events on the way."""
    if push and state["screen"] != target:
        history = state["history"]
        if not isinstance(flow[state["screen"]], Router):
            history.append(state["screen"])
    state["page"] = 0
    state["filter"] = None
    hops = 0
    while True:
        if target == flow.home:  # home is a fresh start: nothing to go back to
            state["history"] = []
        screen = flow[target]
        state["screen"] = target
        if isinstance(screen, Router):
            ctx = Context(state, port, translate)
            if screen.emit:
                events.append(Event(screen.emit, dict(state["data"])))
            target = screen.route(ctx)
            hops += 1
            if hops > 50:
                raise JourneyError(f"router loop at {screen.id}")
            continue
        if isinstance(screen, End) and screen.emit:
            events.append(Event(screen.emit, dict(state["data"])))
        return _show(flow, state, translate, port, events)


def _copy(state: dict) -> dict:
    return {
        **state,
        "data": dict(state.get("data") or {}),
        "history": list(state.get("history") or []),
    }
