"""``MYDATA``: a person asks by SMS what Kazi Salama holds about them.

The answer goes to the number that asked, which is the number the record is keyed
by, and fits one GSM-7 SMS: the registration number, name, year of birth, county,
the last three digits of the national ID (never the whole of it), the latest
placement's country, the date consent was given, and how to erase it all (the USSD
profile menu, ``app.registration.withdraw``). A number with no registration is told
so, and what little is kept for it. Like the help SMS, one answer per number per
``MYDATA_COOLDOWN``: each SMS costs money, and an auto-responder must not loop.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from app.i18n import translate
from app.keywords import KeywordContext, keyword
from app.models import Person, Placement
from app.protection.texts import country_label, fitted
from app.reference.counties import by_code

MYDATA_COOLDOWN = timedelta(minutes=10)
"""At most one answer to ``MYDATA`` per number in this window."""

KIND = "mydata"


@keyword("MYDATA", "DATAYANGU", "TAARIFAZANGU")
def mydata(ctx: KeywordContext) -> None:
    """Tell the sender what is held about them, in one SMS."""
    if ctx.replied_lately(KIND, MYDATA_COOLDOWN):
        return
    person = ctx.person()
    if person is None:
        ctx.reply("sms.mydata_none", kind=KIND)
        return
    body = fitted(ctx.lang, "sms.mydata", fill=person.full_name or "-",
                  reg_no=person.reg_no or "-", birth_year=person.birth_year or "-",
                  county=_county(person), id_tail=_id_tail(ctx, person),
                  placement=_placement(ctx, person),
                  consent_date=person.consent_at.date().isoformat(),
                  service_code=ctx.svc.config["USSD_SERVICE_CODE"])
    ctx.reply_text(body, kind=KIND)


def _county(person: Person) -> str:
    county = by_code(person.county_code) if person.county_code else None
    return county.name if county else "-"


def _id_tail(ctx: KeywordContext, person: Person) -> str:
    """The national ID's last three digits; the ID itself never leaves the database."""
    if not person.national_id_enc:
        return "-"
    return ctx.svc.cipher.decrypt(person.national_id_enc)[-3:]


def _placement(ctx: KeywordContext, person: Person) -> str:
    """The latest placement's destination, or the word for none."""
    country = ctx.session.scalar(
        select(Placement.country)
        .where(or_(Placement.person_id == person.id, Placement.phone == ctx.phone))
        .order_by(Placement.id.desc()).limit(1)
    )
    if country is None:
        return translate(ctx.lang, "mydata.no_placement")
    return country_label(country, ctx.lang)
