"""Render every screen in every language with worst-case answers, to check fit and alphabet."""

from __future__ import annotations

from collections.abc import Iterator

from app.i18n import LANGUAGES, translate
from app.sms.gsm import bad_chars
from menus.engine import new_state, render
from menus.journey import Choice, Flow, Input, Invisible, Menu, Pick, Screen


def samples(flow: Flow) -> dict:
    """Merge every journey's worst-case sample answers."""
    merged: dict = {}
    for journey in flow.journeys:
        merged.update(journey.samples)
    return merged


def renderings(flow: Flow) -> Iterator[tuple[str, str, str]]:
    """Yield (screen id, language, text) for every page and error variant of every screen."""
    data = samples(flow)
    for screen in flow.screens.values():
        if isinstance(screen, Invisible):
            continue
        for lang in LANGUAGES:
            for variant in _variants(screen):
                state = new_state(flow, lang, **data)
                state.update(screen=screen.id, history=["main.home"], error=variant)
                pages = 1
                if isinstance(screen, Menu | Choice):
                    pages = 1 + _extra_pages(flow, state)
                for page in range(pages):
                    state["page"] = page
                    yield screen.id, lang, render(flow, state, translate)


def _variants(screen: Screen) -> list:
    errors = [None, ["err.choice", {}]]
    if isinstance(screen, Input):
        errors = [None, *([key, {"max": 40}] for key in screen.error_keys)]
    if isinstance(screen, Pick):
        errors = [None, [screen.error, {}]]
    return errors


def _extra_pages(flow: Flow, state: dict) -> int:
    seen = {render(flow, dict(state, page=0), translate)}
    for page in range(1, 100):
        text = render(flow, dict(state, page=page), translate)
        if text in seen:
            return page - 1
        seen.add(text)
    return 99


def screen_problems(flow: Flow) -> list[str]:
    """List every rendering over ``flow.max_chars`` or outside GSM-7."""
    found = []
    for screen_id, lang, text in renderings(flow):
        if len(text) > flow.max_chars:
            found.append(f"{lang}: {screen_id} is {len(text)} characters (max {flow.max_chars})")
        bad = bad_chars(text)
        if bad:
            found.append(f"{lang}: {screen_id} has non-GSM-7 characters {bad!r}")
    return found
