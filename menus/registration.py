"""Registration of a job seeker: consent first, then 10 questions and a summary."""

from functools import lru_cache
from typing import Any

from app.reference.counties import COUNTIES, match_county
from app.reference.countries import DESTINATIONS, country_name
from menus import validators as v
from menus.journey import (
    Choice,
    Confirm,
    Context,
    End,
    Input,
    Invalid,
    Journey,
    Menu,
    Option,
    Update,
)

CONSENT_VERSION = "2026-11-v1"
"""Version of the consent notice text; stored with every registration."""

DESTINATION_CHOICES = DESTINATIONS[:7]
"""Countries offered by number on the destination screen; 8 means any."""

OCCUPATIONS = (
    "domestic_worker", "driver", "security_guard", "cleaner", "cook", "caregiver",
    "nurse", "construction_worker", "hospitality", "farm_worker", "teacher",
    "electrician", "plumber", "other",
)


def _county_items(lang: str):
    return [(c.code, c.code, c.name) for c in COUNTIES]


def _county_match(text: str):
    return [c.code for c in match_county(text)]


def destinations(value: str, ctx: Context):
    """Read up to three numbers from the destination list, e.g. ``1 3``."""
    parts = value.replace(",", " ").replace("*", " ").split()
    if not parts:
        return Invalid("err.empty")
    if not all(p.isdigit() for p in parts):
        return Invalid("err.dest")
    numbers = list(dict.fromkeys(int(p) for p in parts))
    limit = len(DESTINATION_CHOICES) + 1
    if len(numbers) > 3 or any(not 1 <= n <= limit for n in numbers):
        return Invalid("err.dest")
    if limit in numbers:
        return ["ANY"]
    return [DESTINATION_CHOICES[n - 1] for n in numbers]


def _where_answers(ctx: Context) -> dict[str, Any]:
    """Mark a minor asking to work abroad (it is flagged); work in Kenya has no destinations."""
    if ctx.data.get("work_where") not in ("abroad", "both"):
        return {"destinations": []}
    return {"minor_abroad": True} if v.age(ctx) < v.ADULT else {}


def _after_where(ctx: Context) -> str:
    if ctx.data.get("work_where") in ("abroad", "both"):
        return "reg.minor" if v.age(ctx) < v.ADULT else "reg.dest"
    return "reg.summary"


SHORT_NAMES = {"AE": "UAE"}
"""Names people use on the street that also keep the list inside one screen."""


@lru_cache(maxsize=8)
def destination_lines(lang: str) -> str:
    """Render the numbered destination list for the destination screen."""
    names = [SHORT_NAMES.get(code) or country_name(code, lang) for code in DESTINATION_CHOICES]
    return "\n".join(f"{n} {name}" for n, name in enumerate(names, start=1))


JOURNEY = Journey(
    name="registration",
    start="reg.consent",
    screens=(
        Menu("reg.consent", "reg.consent", options=(
            Option("nav.next", "reg.consent2"),
            Option("reg.decline", "reg.declined"),
        )),
        Menu("reg.consent2", "reg.consent2", options=(
            Option("reg.agree", "reg.name"),
            Option("reg.decline", "reg.declined"),
        )),
        End("reg.declined", "reg.declined"),
        Input("reg.name", "reg.name", save="full_name", next="reg.id",
              validators=(v.full_name,),
              error_keys=("err.empty", "err.gsm", "err.too_long", "err.name")),
        Input("reg.id", "reg.id", save="national_id", next="reg.yob",
              validators=(v.national_id_format, v.national_id_free),
              error_keys=("err.id_format", "err.id_taken")),
        Input("reg.yob", "reg.yob", save="birth_year", next="reg.gender",
              validators=(v.birth_year,), error_keys=("err.year",)),
        Menu("reg.gender", "reg.gender", save="gender", options=(
            Option("gender.female", "reg.county", value="female"),
            Option("gender.male", "reg.county", value="male"),
            Option("gender.other", "reg.county", value="other"),
        )),
        Choice("reg.county", "reg.county", items=_county_items, match=_county_match,
               save="county", next="reg.edu"),
        Menu("reg.edu", "reg.edu", save="education", options=(
            Option("edu.none", "reg.occ", value="none"),
            Option("edu.primary", "reg.occ", value="primary"),
            Option("edu.secondary", "reg.occ", value="secondary"),
            Option("edu.tvet", "reg.occ", value="tvet"),
            Option("edu.degree", "reg.occ", value="degree"),
        )),
        Menu("reg.occ", "reg.occ", save="occupation", options=tuple(
            Option(f"occ.{code}", "reg.where", value=code) for code in OCCUPATIONS
        )),
        Menu("reg.where", "reg.where", save="work_where", options=(
            Option("where.kenya", "reg.where_route", value="kenya"),
            Option("where.abroad", "reg.where_route", value="abroad"),
            Option("where.both", "reg.where_route", value="both"),
        )),
        Update("reg.where_route", update=_where_answers, next=_after_where,
               routes=("reg.minor", "reg.dest", "reg.summary")),
        Menu("reg.minor", "reg.minor", save="work_where", options=(
            Option("reg.minor_kenya", "reg.summary", value="kenya"),
            Option("reg.minor_exit", "reg.minor_end", value="none"),
        )),
        End("reg.minor_end", "reg.minor_end", emit="MinorAbroadFlagged"),
        Input("reg.dest", "reg.dest", save="destinations", next="reg.summary",
              validators=(destinations,), error_keys=("err.dest",)),
        Confirm("reg.summary", "reg.summary", yes="reg.done", no="reg.cancelled",
                emit="RegistrationCompleted"),
        End("reg.done", "reg.done"),
        End("reg.cancelled", "reg.cancelled"),
    ),
    samples={
        "full_name": "Bartholomew Kipchirchir Wanjiku-Otienoo",
        "national_id": "12345678901234",
        "birth_year": 1998,
        "gender": "female",
        "county": 28,
        "education": "tvet",
        "occupation": "construction_worker",
        "work_where": "both",
        "destinations": ["AE", "SA", "QA"],
        "reg_no": "KS12345678",
        "service_code": "*384*2026#",
    },
    derive=lambda values, lang, t: derive(values, lang, t),
)


def derive(values: dict, lang: str, t) -> dict:
    """Give the summary screen its translated labels."""
    from app.reference.counties import by_code

    county = by_code(values["county"]) if values.get("county") else None
    chosen = values.get("destinations") or []
    codes = ",".join(t(lang, "dest.any") if c == "ANY" else c for c in chosen)
    national_id = str(values.get("national_id") or "")
    name = str(values.get("full_name") or "")
    return {
        "destination_lines": destination_lines(lang),
        "id_tail": national_id[-4:],
        "gender_label": t(lang, f"gender.{values['gender']}") if values.get("gender") else "",
        "county_name": county.name if county else "",
        "education_label": t(lang, f"edu.{values['education']}") if values.get("education") else "",
        "occupation_label": (
            t(lang, f"occ.{values['occupation']}") if values.get("occupation") else ""
        ),
        "where_label": (
            t(lang, f"where.{values['work_where']}")
            if values.get("work_where") in ("kenya", "abroad", "both") else ""
        ),
        "destinations_label": f"({codes})" if codes else "",
        "name_short": name if len(name) <= 30 else name[:28] + "..",
    }
