"""SMS ``AGENCY <licence or name>`` (Kiswahili ``WAKALA``): the agency check as one SMS.

The answer is in the number's language; ``WAKALA`` from a number whose language we do
not know is answered in Kiswahili.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from app.agencies import checks
from app.agencies.index import current_index
from app.agencies.search import nearest_only, search
from app.keywords import KeywordContext, active_person, keyword
from app.models import Contact


@keyword("AGENCY", "WAKALA", "AGENCIES")
def agency(ctx: KeywordContext) -> None:
    """Answer with the agency's status, or a not-found warning, or up to three matches.

    Matches of which none has the name typed (a word changed or misspelt) are
    offered as the nearest names, with licence numbers to check, never answered or
    said to match as if one were the agency typed.
    """
    if _first_word(ctx.inbound.text) == "WAKALA" and not _known_language(ctx):
        ctx.lang = "sw"  # asked in Kiswahili by a number we know nothing about
    query = " ".join(ctx.rest.split())[:60]
    if sum(ch.isalnum() for ch in query) < 2:
        ctx.reply("sms.agency_usage", kind="agency_usage")
        return
    index = current_index(ctx.svc.db, ctx.svc.redis)
    matches = search(index, query)
    if nearest_only(query, matches):
        _send(ctx, checks.sms_nearest(ctx.lang, matches), "agency_list")
        return
    if len(matches) > 1:
        _send(ctx, checks.sms_several(ctx.lang, matches, len(matches)), "agency_list")
        return
    if not matches:
        updated = index.updated_on
        rule = checks.next_rule(ctx.svc, ctx.phone)
        _send(ctx, checks.sms_not_found(ctx.lang, query, updated, rule), "agency_check")
        return
    result, rule = checks.check(ctx.svc, ctx.session, matches[0].agency_id, ctx.phone, "sms")
    if result is None:
        _send(ctx, checks.sms_not_found(ctx.lang, query, None, rule), "agency_check")
        return
    _send(ctx, checks.sms_answer(ctx.lang, result, rule), "agency_check")


def _first_word(text: str) -> str:
    words = re.findall(r"[^\W_]+", text or "")
    return words[0].upper() if words else ""


def _known_language(ctx: KeywordContext) -> bool:
    if ctx.session.scalar(select(Contact.lang).where(Contact.phone == ctx.phone)):
        return True
    return active_person(ctx.session, ctx.phone) is not None


def _send(ctx: KeywordContext, text: checks.SmsText, kind: str) -> None:
    key, values = text
    ctx.reply(key, kind=kind, **values)
