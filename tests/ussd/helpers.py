"""Play USSD transcripts through POST /ussd exactly as Africa's Talking posts them."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Person


ENGLISH = ["1"]
SWAHILI = ["2"]
# After the language: Register, consent page 1, consent page 2.
START = ["1", "1", "1"]
ANSWERS = ["Jane Wanjiru", "12345678", "1995", "1", "kiambu", "3", "1", "3", "1 3"]


def count(svc, model, *where):
    with svc.db.Session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def person(svc, phone="+254712345678"):
    with svc.db.Session() as session:
        return session.scalar(select(Person).where(Person.phone == phone))


def play(p, inputs):
    for value in inputs:
        p.send(value)
    return p.screen


def register(p, lang=ENGLISH, answers=ANSWERS):
    p.dial()
    return play(p, lang + START + answers + ["1"])
