"""A small flow of every screen type, and its texts, for the engine's and journey's tests."""

from __future__ import annotations

from menus.journey import Choice, Confirm, End, Flow, Input, Invalid, Journey, Menu, Option, Router

TEXTS = {
    "home": "Home", "a": "A", "opt": "An option with a long label", "b": "B",
    "long": "Pick one", "ask": "Your age?",
    "sure": "Sure {age}?", "done": "Done {age}", "no": "Cancelled", "pick": "Pick",
    "nav.more": "More", "nav.back": "Back", "nav.confirm": "Yes", "nav.cancel": "No",
    "err.choice": "Invalid choice.", "err.age": "Age is a number.",
}


def t(lang, key, /, **values):
    return TEXTS[key].format(**values) + ("" if lang == "en" else "!")


def age(value, ctx):
    return int(value) if value.isdigit() else Invalid("err.age")


ITEMS = [(n, f"v{n}", f"Item number {n}") for n in range(1, 31)]


def flow(max_chars=160):
    return Flow([Journey("toy", "start", (
        Router("start", route=lambda ctx: "home", routes=("home",)),
        Menu("home", "home", options=(
            Option("a", "ask"),
            Option("b", "long"),
            Option("pick", "choice", when=lambda ctx: ctx.data.get("show_pick")),
        )),
        Menu("long", "long", save="chosen",
             options=tuple(Option("opt", "ask", value=n) for n in range(1, 25))),
        Choice("choice", "pick", items=lambda lang: ITEMS, save="item", next="ask",
               match=lambda text: [v for n, v, label in ITEMS if text in label]),
        Input("ask", "ask", save="age", next="sure", validators=(age,), error_keys=("err.age",)),
        Confirm("sure", "sure", yes="done", no="no", emit="Confirmed"),
        End("done", "done"),
        End("no", "no"),
    ))], home="home", entry="start", max_chars=max_chars)
