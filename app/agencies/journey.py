"""The "Check an agency" journey's port (search) and event handlers (check, report)."""

from __future__ import annotations

import hashlib
from typing import Any

from app.agencies import checks
from app.agencies.index import TOKEN_KEYS, current_index
from app.agencies.search import nearest_only, search
from app.events import Hop, handles
from app.extensions import Services
from app.ports import Known, port
from menus.engine import Event


@port("agencies", rides=(*TOKEN_KEYS, checks.rule_key))
class AgenciesPort:
    """Register lookups for the menus: the search a USSD hop runs, from memory.

    The register's version tokens ride along with the session load (``TOKEN_KEYS``),
    so the search asks Redis nothing more; so does the number's rule rotation, for
    the answer's handler.
    """

    def __init__(self, svc: Services, known: Known) -> None:
        self.svc = svc
        self.known = known

    def search(self, query: str) -> dict[str, Any]:
        """Give the ranked matches (id, name, licence number, status), the register date,
        and whether the matches are only the nearest names to the query (``nearest``)."""
        index = current_index(self.svc.db, self.svc.redis, self.known)
        matches = search(index, query)
        updated = index.updated_on.isoformat() if index.updated_on else None
        return {"matches": [[m.agency_id, m.name, m.licence_no, m.status] for m in matches],
                "updated": updated, "nearest": nearest_only(query, matches)}


@handles("AgencyChecked")
def _agency_checked(hop: Hop, event: Event) -> str | None:
    """Record the check and put the answer, and the rule to end with, on the screen."""
    agency_id = int(event.data["agency_id"])
    result, rule = checks.check(hop.svc, hop.session, agency_id, hop.phone, hop.channel,
                                hop.known, hop.writes)
    data = hop.state["data"]
    data["agency_rule"] = rule
    if result is None:  # gone since the search: say so like any unknown agency
        data["agency_matches"] = []
        return "agency.none"
    data["agency_answer"] = result.as_data()
    return None


@handles("AgencyNotFound")
def _agency_not_found(hop: Hop, event: Event) -> None:
    """Move the rule rotation on; nothing is stored about a search that found nothing."""
    hop.state["data"]["agency_rule"] = (
        checks.next_rule(hop.svc, hop.phone) if hop.writes is None
        else checks.next_rule_on_save(hop.svc, hop.phone, hop.known, hop.writes))


def _ref(hop: Hop, agency_id: int) -> str:
    """Name a report by where it came from, within the column's 100 characters."""
    ref = f"{hop.channel}:{hop.ref}:{agency_id}"
    if len(ref) <= 100:
        return ref
    return f"{hop.channel}:sha1:{hashlib.sha1(ref.encode()).hexdigest()}"


@handles("AgencyReported")
def _agency_reported(hop: Hop, event: Event) -> None:
    """File the report against the agency on the screen, once per session and agency."""
    agency_id = int(event.data["agency_id"])
    complaint = checks.report(hop.session, agency_id, hop.phone,
                              str(event.data["agency_complaint"]), hop.channel,
                              source_ref=_ref(hop, agency_id), redis=hop.svc.redis)
    if complaint is not None:
        hop.session.flush()
        hop.state["data"]["agency_complaint_ref"] = checks.complaint_ref(complaint.id)
