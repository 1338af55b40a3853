"""``agency_risk``: the agencies most in need of attention, by ``agencies``' risk score.

The top ``TOP`` agencies with any signal, highest score first (ties by licence
number). The score and its weights are explained in ``app.reports.agencies``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.reports import Params, Row
from app.reports.agencies import as_row, signals
from app.reports.aggregates import aggregate

TOP = 20
"""How many agencies the ranking shows."""

COLUMNS = ("licence_no", "agency_name", "status", "risk_score", "police_alerts", "cases",
           "complaints", "listings_rejected", "placements")


@aggregate("agency_risk", title="Top agencies by risk", columns=COLUMNS,
           note="Risk score = 10 x police alerts + 3 x distress cases + 2 x complaints "
                "+ rejected listings + 20 if placing without a valid licence.")
def agency_risk(session: Session, params: Params) -> list[Row]:
    """The agencies with the highest risk score (top 20)."""
    ranked = signals(session, params).subquery("ranked")
    query = (select(ranked).where(ranked.c.risk_score > 0)
             .order_by(ranked.c.risk_score.desc(), ranked.c.licence_no).limit(TOP))
    return [{c: as_row(row)[c] for c in COLUMNS} for row in session.execute(query)]
