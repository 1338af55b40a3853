"""What journeys are written in: screens, options, validators' verdicts and routes.

A journey file (``menus/<journey>.py``) declares its screens with these types; the
``Flow`` merges every journey into one graph and checks it when built. Walking the
graph, one input at a time, is ``menus.engine``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Translate(Protocol):
    def __call__(self, lang: str, key: str, /, **values: Any) -> str: ...


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
"""Names the next screen. A route only chooses: the engine gives it a read-only state,
and a data change belongs to a validator, an ``Update`` or the engine."""


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
    validators: tuple[Validator, ...] = ()
    """Checks of the item chosen; a refusal leaves the question unanswered."""
    error_keys: tuple[str, ...] = ()

    def targets(self) -> tuple[str, ...]:
        return (self.next,) if isinstance(self.next, str) else self.routes

    def text_keys(self) -> tuple[str, ...]:
        return (self.text, *self.error_keys)


@dataclass(frozen=True)
class Pick(Screen):
    """Pick one entry of a list the journey found (search results), a page at a time.

    The list is ``data[entries]`` and the page on show ``data[page]``. The screen's
    text draws that page itself (``page_of`` cuts it), since such entries need their
    own fitting: ``per_page`` to a page, numbered on from page to page. 98 turns the
    page; a number saves ``value(entry)`` under ``save`` and goes ``next``; anything
    else is refused with ``error``.
    """

    entries: str = ""
    page: str = ""
    per_page: int = 3
    save: str = ""
    value: Callable[[Any], Any] = lambda entry: entry
    next: str | Route = ""
    routes: tuple[str, ...] = ()
    error: str = "err.choice"

    def targets(self) -> tuple[str, ...]:
        return (self.next,) if isinstance(self.next, str) else self.routes

    def text_keys(self) -> tuple[str, ...]:
        return (self.text, self.error)


def page_of(entries: Sequence[Any], page: int, per_page: int) -> tuple[int, list[Any], bool]:
    """Cut one page of a ``Pick``'s list: the number of its first entry, its entries, and
    whether another page follows."""
    start = page * per_page
    return start + 1, list(entries[start:start + per_page]), start + per_page < len(entries)


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
class Invisible(Screen):
    """Base of the screens never shown: each passes the person on at once, to one of
    ``routes``, emitting ``emit`` on arrival (with the data as it arrived)."""

    text: str = ""
    routes: tuple[str, ...] = ()
    emit: str | None = None

    def targets(self) -> tuple[str, ...]:
        return self.routes

    def text_keys(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class Router(Invisible):
    """An invisible decision: ``route(ctx)`` names the next screen among ``routes``."""

    route: Route = lambda ctx: ""


@dataclass(frozen=True)
class Update(Invisible):
    """An invisible change of the data, made by the engine, then a choice like a router's.

    ``forget`` names answers to drop (a journey started again in the same session);
    ``update(ctx)`` gives values to set, e.g. a record read through the port. Then
    ``next`` names the screen, as a router's ``route`` does.
    """

    forget: tuple[str, ...] = ()
    update: Callable[[Context], Mapping[str, Any]] | None = None
    next: str | Route = ""

    def targets(self) -> tuple[str, ...]:
        return (self.next,) if isinstance(self.next, str) else self.routes


@dataclass(frozen=True)
class Resume(Invisible):
    """Put back a journey cut off earlier (answers and path), then go where it stopped.

    ``data[saved]`` holds ``{"data": answers, "history": screens}`` and ``data[at]``
    the screen it stopped at; both are forgotten as the answers come back. A screen
    not among ``routes`` goes to ``fallback`` instead.
    """

    saved: str = ""
    at: str = ""
    fallback: str = ""

    def targets(self) -> tuple[str, ...]:
        return (*self.routes, self.fallback)


@dataclass(frozen=True)
class Journey:
    """One journey file's screens, with its entry screen and worst-case samples."""

    name: str
    start: str
    screens: tuple[Screen, ...]
    samples: Mapping[str, Any] = field(default_factory=dict)
    derive: Callable[[dict, str, Translate], dict] | None = None


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
