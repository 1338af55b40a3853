"""The ILO's 11 indicators of forced labour, found in what a person writes or answers.

A distress text (English, Kiswahili, or both mixed, as people write) is matched
against a small shipped keyword map; a category answered on a menu maps to
indicators too. The map is for triage, not for proof: it shows an officer at a
glance what the first words suggest, and it sets the severity that starts the
escalation clock. Misses cost little (the officer reads the words); so patterns
prefer catching "wananipiga" and "hawajanilipa" to precision.

Sources: ILO, "ILO indicators of forced labour" (2012); REFERENCE.md, "Red flags
... from the person"; DESIGN.md §6 (violence, confinement, forced or military
work, or danger are critical).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

INDICATORS: dict[str, str] = {
    "abuse_of_vulnerability": "Abuse of vulnerability",
    "deception": "Deception",
    "restriction_of_movement": "Restriction of movement",
    "isolation": "Isolation",
    "physical_sexual_violence": "Physical and sexual violence",
    "intimidation_threats": "Intimidation and threats",
    "retention_of_documents": "Retention of identity documents",
    "withholding_of_wages": "Withholding of wages",
    "debt_bondage": "Debt bondage",
    "abusive_conditions": "Abusive working and living conditions",
    "excessive_overtime": "Excessive overtime",
}
"""The ILO's 11 indicators, by the id stored (comma-separated) on ``Case.indicators``."""

SEVERITY_RANK = {"normal": 0, "high": 1, "critical": 2}
"""Severities in order; a case's severity only ever goes up."""

# Each entry: indicator id -> regular expressions matched on normalised text (lower
# case, no accents, apostrophes dropped, single spaces). English first, then Kiswahili.
_PATTERNS: dict[str, tuple[str, ...]] = {
    "retention_of_documents": (
        r"passport", r"pasport", r"pasi?pot", r"\bdocuments?\b", r"\bpapers\b",
        r"(?:took|taken|take|keeps?|kept|hold|holds|held|has) (?:my |our )?(?:id|visa)\b",
        r"pasipoti", r"kitambulisho", r"hati ya kusafiria", r"vibali vyangu",
    ),
    "withholding_of_wages": (
        r"\bnot (?:been )?paid", r"\bunpaid", r"\bno (?:salary|pay|wages?|money)\b",
        r"(?:havent|hasnt|didnt|dont|doesnt|wont|never|refuse[sd]? to) (?:\w+ )?pa(?:y|id)\b",
        r"\bsalary\b", r"\bwages?\b",
        r"mshahara", r"\w*ja(?:ni|tu)?lipa\b", r"hawanilipi", r"hanilipi",
        r"sijalipwa", r"\bsilipwi\b", r"hakuna malipo", r"bila malipo",
    ),
    "physical_sexual_violence": (
        r"\bbeat(?:s|en|ing)?\b", r"\bhit(?:s|ting)?\b", r"\bslap", r"\bkick", r"\bburn",
        r"\bpunch", r"\brape", r"\bsexual", r"\bmolest", r"\bviolen", r"\babus(?:e|ed|ing)\b",
        r"\btorture", r"\binjured by\b", r"\battack",
        r"\w*nipiga\b", r"\w*pigwa\b", r"\bkupiga\b", r"\bkipigo", r"\w*nibaka\b", r"\w*bakwa\b",
        r"\bubakaji", r"\bunyanyasaji", r"\bdhulma\b", r"\bmateso\b", r"\w*nitesa\b",
        r"\w*nichoma\b",
    ),
    "restriction_of_movement": (
        r"\block(?:ed)? (?:me |us )?(?:in|up|inside)\b", r"\block(?:ed)? (?:me|us)\b",
        r"\bcan ?not (?:go out|leave|get out)", r"\bcant (?:go out|leave|get out)",
        r"\bnot allowed (?:to )?(?:go out|leave)", r"\bwont let (?:me|us) (?:go|leave)",
        r"\bconfined\b", r"\btrapped\b", r"\bimprisoned\b", r"\bprisoner\b",
        r"\w*fungia\b", r"\w*fungiwa\b", r"\bsiwezi kutoka\b", r"\bhawaniruhusu kutoka\b",
        r"\bsiruhusiwi kutoka\b", r"\bnimefungwa\b",
    ),
    "isolation": (
        r"(?:took|taken|take|broke|keeps?) (?:away )?(?:my |our )?phone",
        r"\bno (?:phone|contact)\b", r"\bcant (?:call|talk to) (?:my )?family",
        r"\bisolated\b", r"\bhidden\b",
        r"\w*chukua simu\b", r"simu yangu (?:ime|wame|ame)chukuliwa", r"\w*nyang.?anya simu",
        r"\bsina simu\b", r"\bhakuna mawasiliano\b",
    ),
    "intimidation_threats": (
        r"\bthreat", r"\bkill (?:me|us)\b", r"\bwill kill\b", r"\bscared\b", r"\bafraid\b",
        r"\bblackmail", r"\bdeport me\b", r"\bjail me\b",
        r"\bvitisho\b", r"\w*nitishia\b", r"\bkutishia\b", r"\btishio\b", r"\w*niua\b",
        r"\bnaogopa\b", r"\bhofu\b",
    ),
    "debt_bondage": (
        r"\bdebt\b", r"\bi owe\b", r"\bowe (?:them|him|her|the agency)\b", r"\bloan\b",
        r"\bpay (?:it )?back\b", r"\brecruitment fee",
        r"\bdeni\b", r"\bmadeni\b", r"\bnadaiwa\b", r"\bmkopo\b",
    ),
    "abusive_conditions": (
        r"\bno food\b", r"\bhungry\b", r"\bstarv", r"\bsleep (?:on the )?floor\b",
        r"\bno (?:bed|water|rest)\b", r"\bdirty\b",
        r"\bnjaa\b", r"\bhakuna chakula\b", r"\bsina chakula\b", r"\bhawanipi chakula\b",
        r"\bnalala (?:chini|sakafuni)\b",
    ),
    "excessive_overtime": (
        r"\bovertime\b", r"\bno (?:day off|rest day|off day)\b", r"\b(?:1[4-9]|2[0-4]) ?hours\b",
        r"\bwork all (?:day and night|night)\b", r"\bnever rest\b",
        r"\bmasaa mengi\b", r"\bsaa (?:1[4-9]|2[0-4])\b", r"\bbila (?:kupumzika|mapumziko)\b",
        r"\bhakuna siku ya (?:kupumzika|mapumziko)\b", r"\bsipumziki\b",
    ),
    "deception": (
        r"\bdifferent (?:job|work|contract|employer)\b", r"\bnot the (?:job|work)\b",
        r"\bcontract (?:was )?changed\b", r"\blied\b", r"\bcheated\b", r"\btricked\b",
        r"\bfake (?:job|contract|agency)\b", r"\bpromised\b",
        r"\w*danganya\b", r"\w*danganywa\b", r"\bkazi tofauti\b", r"\bmkataba tofauti\b",
        r"\btapeli\b", r"\bwalituahidi\b", r"\bwaliniahidi\b",
    ),
    "abuse_of_vulnerability": (
        r"\bno (?:visa|papers|permit)\b", r"\billegal\b", r"\bundocumented\b",
        r"\bpregnant\b", r"\bunder ?age\b", r"\bminor\b",
        r"\bsina (?:kibali|visa|vibali)\b", r"\bbila (?:kibali|visa)\b", r"\bmjamzito\b",
    ),
}

_MILITARY = (
    r"\barmy\b", r"\bmilitary\b", r"\bsoldiers?\b", r"\bwar\b", r"\bfront ?line\b",
    r"\bcombat\b", r"\bweapons?\b", r"\bguns?\b", r"\bfight(?:ing)? in\b", r"\bmercenar",
    r"\bvita\b", r"\bjeshi\b", r"\bwanajeshi\b", r"\bmwanajeshi\b", r"\bsilaha\b",
    r"\bbunduki\b",
)
"""Forced or military work (the Russia cases): a category of its own, always critical."""

_DANGER = (
    r"\bdanger", r"\bemergency\b", r"\bkill", r"\bdie\b", r"\bdying\b", r"\bdead\b",
    r"\bsuicide\b", r"\bsave (?:me|us)\b", r"\bsos\b", r"\burgent",
    r"\bhatari\b", r"\bdharura\b", r"\bkufa\b", r"\bnitakufa\b", r"\bkujiua\b", r"\w*okoe\b",
    r"\bnisaidie haraka\b",
)
"""Words that say the person is in danger now: the case is critical whatever else."""

_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "medical": (
        r"\bsick\b", r"\bhospital", r"\binjur", r"\bpain\b", r"\bbleeding\b",
        r"\bmgonjwa\b", r"\bnaumwa\b", r"\bhospitali", r"\bnimeumia\b", r"\bugonjwa\b",
    ),
    "detention": (
        r"\barrest", r"\bdetain", r"\bdetention\b", r"\bin (?:jail|prison)\b", r"\bpolice\b",
        r"\bdeportation cent", r"\bnimekamatwa\b", r"\bamekamatwa\b", r"\bjela\b",
        r"\bgerezani\b", r"\bpolisi\b", r"\bmahabusu\b",
    ),
    "wants_return": (
        r"\b(?:go|come|return|send me|take me) (?:back )?home\b", r"\breturn to kenya\b",
        r"\bgo back\b", r"\bkurudi (?:nyumbani|kenya)\b", r"\bnataka kurudi\b",
        r"\bnirudishe\b", r"\bnirudi\b",
    ),
}

CATEGORY_INDICATORS: dict[str, tuple[str, ...]] = {
    "unpaid_wages": ("withholding_of_wages",),
    "passport_held": ("retention_of_documents",),
    "abuse": ("physical_sexual_violence",),
    "confinement": ("restriction_of_movement",),
    "deception": ("deception",),
    "forced_work": ("deception", "intimidation_threats"),
    "medical": (),
    "detention": (),
    "wants_return": (),
    "other": (),
}
"""The answer map: what a category chosen on a menu shows by itself."""

CATEGORY_SEVERITY: dict[str, str] = {
    "abuse": "critical",
    "confinement": "critical",
    "forced_work": "critical",
    "passport_held": "high",
    "unpaid_wages": "high",
    "deception": "high",
    "medical": "high",
    "detention": "high",
    "wants_return": "normal",
    "other": "normal",
}
"""Violence, confinement and forced or military work are critical (contract §6)."""

_CATEGORY_FROM_INDICATOR = (
    ("physical_sexual_violence", "abuse"),
    ("restriction_of_movement", "confinement"),
    ("retention_of_documents", "passport_held"),
    ("withholding_of_wages", "unpaid_wages"),
    ("deception", "deception"),
)
"""Which category the words suggest, most serious first."""

_CRITICAL_INDICATORS = frozenset({"physical_sexual_violence", "restriction_of_movement"})


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_MATCHERS = {name: _compile(patterns) for name, patterns in _PATTERNS.items()}
_MILITARY_RE = _compile(_MILITARY)
_DANGER_RE = _compile(_DANGER)
_CATEGORY_RES = {name: _compile(patterns) for name, patterns in _CATEGORY_WORDS.items()}


@dataclass(frozen=True)
class Finding:
    """What a text shows: ILO indicators, a suggested category and a severity."""

    indicators: tuple[str, ...]
    category: str | None
    severity: str
    danger: bool = False
    military: bool = False


def normalise(text: str) -> str:
    """Lower-case, drop accents and apostrophes, keep letters and digits as words."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['\u2019\u2018`]", "", text)
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def detect(text: str | None) -> Finding:
    """Read a distress text: which indicators, which category, how severe."""
    words = normalise(text or "")
    if not words:
        return Finding((), None, "normal")
    found = tuple(name for name in INDICATORS if _MATCHERS[name].search(words))
    military = bool(_MILITARY_RE.search(words))
    danger = bool(_DANGER_RE.search(words))
    category = None
    if military:
        category = "forced_work"
    else:
        category = next((cat for ind, cat in _CATEGORY_FROM_INDICATOR if ind in found), None)
        if category is None:
            category = next((cat for cat, rx in _CATEGORY_RES.items() if rx.search(words)),
                            None)
    indicators = found
    if military:
        indicators = merge(indicators, CATEGORY_INDICATORS["forced_work"])
    severity = CATEGORY_SEVERITY.get(category or "", "normal")
    if danger or military or _CRITICAL_INDICATORS & set(found):
        severity = "critical"
    return Finding(indicators, category, severity, danger=danger, military=military)


def for_category(category: str | None) -> tuple[tuple[str, ...], str]:
    """Give the indicators and severity a category answer shows by itself."""
    return CATEGORY_INDICATORS.get(category or "", ()), CATEGORY_SEVERITY.get(category or "",
                                                                              "normal")


def merge(*groups: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """Join indicator lists, in the ILO's order, each once."""
    wanted = {name for group in groups if group for name in group}
    return tuple(name for name in INDICATORS if name in wanted)


def parse(stored: str | None) -> tuple[str, ...]:
    """Read ``Case.indicators`` (comma-separated ids)."""
    return tuple(part for part in (stored or "").split(",") if part in INDICATORS)


def store(indicators: tuple[str, ...]) -> str | None:
    """Write indicators as ``Case.indicators`` stores them."""
    return ",".join(indicators) or None


def higher(a: str | None, b: str | None) -> str:
    """Give the more severe of two severities."""
    a, b = a or "normal", b or "normal"
    return a if SEVERITY_RANK.get(a, 0) >= SEVERITY_RANK.get(b, 0) else b
