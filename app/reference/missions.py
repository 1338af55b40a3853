"""Kenya's diplomatic missions abroad and the countries each covers (accreditation).

Sources:
- Kenya Ministry of Foreign and Diaspora Affairs, "Kenya Missions Abroad" list (mfa.go.ke);
  the missions' own sites (e.g. kenyaembassy.nl, kenyaembassy.org.sa, kenyaembassytelaviv.com).
- Press reports for accreditations that the list does not spell out, cited per row in the
  CSV `notes` column: Kuwait covers Bahrain and Lebanon (Bahrain This Month, May 2023; Daily
  Nation and CNN, 2020 - Lebanon has an honorary consul in Beirut, no embassy); Cairo covers
  Jordan (Daily Nation, 2015; The Brief, 2019 - no embassy in Amman); Berlin covers Poland
  (gov.pl, 2024 - no embassy in Warsaw); Jeddah consulate opened 2024, inaugurated Nov 2025
  (MFDA statement).
- Where an accreditation could not be confirmed the CSV says so in `notes`. Check a row
  before showing it to users or routing a critical case to it on that basis alone.

Routing rule: a country covered by no mission goes to `HQ` (the diaspora desk in Nairobi).
A country covered by more than one mission (a capital embassy plus a consulate) must be
declared in `SHARED_COVERAGE`; the first mission listed in the CSV is the primary one and is
what `mission_for` returns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from app.reference.countries import is_known_country


@dataclass(frozen=True, slots=True)
class Mission:
    """A Kenyan mission abroad and the ISO2 countries it covers."""

    code: str
    name: str
    city: str
    country: str
    covers: tuple[str, ...]
    notes: str = ""

    @property
    def label(self) -> str:
        """Return a short display label, e.g. "Embassy of Kenya, Riyadh"."""
        return f"{self.name}, {self.city}"


HQ = Mission(
    code="HQ",
    name="Diaspora desk, Nairobi",
    city="Nairobi",
    country="KE",
    covers=(),
    notes="Ministry of Foreign and Diaspora Affairs headquarters; covers every country that "
    "no mission covers, and is the last escalation level for all.",
)

# Countries deliberately covered by two missions, in priority order (primary first).
SHARED_COVERAGE: dict[str, tuple[str, ...]] = {
    "SA": ("KE-RUH", "KE-JED"),
    "AE": ("KE-AUH", "KE-DXB"),
    "US": ("KE-WAS", "KE-LAX"),
}


def _load() -> tuple[Mission, ...]:
    path = resources.files("app.reference").joinpath("data", "missions.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    missions = tuple(
        Mission(
            code=row["code"].strip(),
            name=row["name"].strip(),
            city=row["city"].strip(),
            country=row["country"].strip().upper(),
            covers=tuple(c.strip().upper() for c in row["covers"].split(";") if c.strip()),
            notes=(row.get("notes") or "").strip(),
        )
        for row in rows
    )
    _validate(missions)
    return missions


def _validate(missions: tuple[Mission, ...]) -> None:
    # Fail at import: a bad row would silently send a distress case to the wrong desk.
    codes = [m.code for m in missions]
    if len(set(codes)) != len(codes) or "HQ" in codes:
        raise ValueError("missions.csv: mission codes must be unique and not 'HQ'")
    coverers: dict[str, list[str]] = {}
    for m in missions:
        for iso2 in m.covers:
            if not is_known_country(iso2):
                raise ValueError(f"missions.csv: {m.code} covers unknown country {iso2!r}")
            coverers.setdefault(iso2, []).append(m.code)
    shared = {iso2: tuple(c) for iso2, c in coverers.items() if len(c) > 1}
    if shared != SHARED_COVERAGE:
        raise ValueError(f"missions.csv: shared coverage {shared} != declared {SHARED_COVERAGE}")


MISSIONS: tuple[Mission, ...] = _load()

_BY_CODE = {m.code: m for m in (*MISSIONS, HQ)}
_COVERING: dict[str, tuple[Mission, ...]] = {}
for _m in MISSIONS:
    for _iso2 in _m.covers:
        _COVERING[_iso2] = (*_COVERING.get(_iso2, ()), _m)


def by_code(code: str) -> Mission | None:
    """Return the mission with this code (including "HQ"), or None."""
    return _BY_CODE.get((code or "").strip().upper())


def missions_for(iso2: str) -> tuple[Mission, ...]:
    """Return every mission covering the country, primary first; empty if none does."""
    return _COVERING.get((iso2 or "").strip().upper(), ())


def mission_for(iso2: str) -> Mission:
    """Return the primary mission covering the country, or HQ if no mission does."""
    covering = missions_for(iso2)
    return covering[0] if covering else HQ
