"""Registers: agencies, the listing review queue, irregular worklists, partner events."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from app.models import Agency, AuditEntry, JobListing, Placement


def listing(svc, code: str) -> JobListing:
    with svc.db.Session() as session:
        return session.scalar(select(JobListing).where(JobListing.code == code))


def audited(svc, prefix: str) -> list[AuditEntry]:
    with svc.db.Session() as session:
        return list(session.scalars(select(AuditEntry).where(
            AuditEntry.action.startswith(prefix))))


def test_agency_page_shows_licence_history_listings_complaints_and_alerts(console, world,
                                                                          svc):
    html = console("nea_officer").get(f"/console/agencies/{world.agency_id}").get_data(
        as_text=True)
    for text in ("NEA/PEA/2024/0001", "import:test.csv", "Visa fraud reported in Nairobi",
                 "asked for a visa deposit", "RV1234", "Open distress cases</dt><dd>2"):
        assert text in html, text
    assert audited(svc, "agency.view")[0].target == f"agency:{world.agency_id}"


def test_agencies_list_searches_by_name_or_licence(console, world):
    officer = console("nea_officer")
    assert "Example Recruitment" in officer.get("/console/agencies?q=example").get_data(
        as_text=True)
    assert "Example Recruitment" in officer.get(
        "/console/agencies?q=NEA/PEA/2024/0001").get_data(as_text=True)
    assert "Example Recruitment" not in officer.get(
        "/console/agencies?q=nothing-like-it").get_data(as_text=True)
    assert "Example Recruitment" not in officer.get(
        "/console/agencies?status=revoked").get_data(as_text=True)


def test_approving_a_listing_records_the_reason_as_a_flag(console, world, svc):
    officer = console("nea_officer")
    assert world.listing_code in officer.get("/console/listings/review").get_data(as_text=True)
    response = officer.post(f"/console/listings/{world.listing_code}/review",
                            {"decision": "approve", "reason": "Employer confirmed by phone."})
    assert response.status_code == 303
    stored = listing(svc, world.listing_code)
    assert stored.status == "approved"
    assert stored.flags[-1] == {"rule": "nea_review", "severity": "review",
                                "message": "Approved after NEA review: Employer confirmed "
                                           "by phone."}
    assert stored.flags[0]["rule"] == "salary_norm"      # the rule's flag is kept
    [entry] = audited(svc, "listing.")
    assert (entry.action, entry.target) == ("listing.approve", f"listing:{world.listing_code}")
    assert f'id="l-{world.listing_code}"' not in officer.get(
        "/console/listings/review").get_data(as_text=True)


def test_rejecting_a_listing_counts_against_the_agency(console, world, svc):
    console("nea_admin").post(f"/console/listings/{world.listing_code}/review",
                              {"decision": "reject", "reason": "A guard job with no employer."})
    stored = listing(svc, world.listing_code)
    assert stored.status == "rejected" and stored.flags[-1]["severity"] == "reject"
    with svc.db.Session() as session:
        assert session.get(Agency, world.agency_id).listings_rejected == 1


def test_a_decision_needs_a_reason_and_a_listing_waiting(console, world, svc):
    officer = console("nea_officer")
    officer.post(f"/console/listings/{world.listing_code}/review",
                 {"decision": "reject", "reason": " "})
    assert listing(svc, world.listing_code).status == "needs_review"
    officer.post(f"/console/listings/{world.listing_code}/review",
                 {"decision": "approve", "reason": "ok"})
    again = officer.post(f"/console/listings/{world.listing_code}/review",
                         {"decision": "reject", "reason": "changed my mind"})
    assert again.status_code == 303
    assert listing(svc, world.listing_code).status == "approved"
    assert [e.action for e in audited(svc, "listing.")] == ["listing.approve"]


def make_irregular(svc, placement_id: int) -> None:
    """Make a placement abroad irregular: its permit gone, its visa a visit visa.

    Then the nightly recompute runs, as it would overnight: the worklist reads its flags.
    """
    from app.models import Permit
    from workers.irregular import recompute_irregular

    with svc.db.session() as session:
        session.execute(update(Placement).where(Placement.id == placement_id)
                        .values(visa_type="visit"))
        session.execute(update(Permit).where(Permit.placement_id == placement_id)
                        .values(expires_on=date.today() - timedelta(days=1)))
    recompute_irregular()


def test_worklists_are_per_mission(console, world, svc):
    make_irregular(svc, world.placement_id)
    doha_placement = world.placement_id + 1
    make_irregular(svc, doha_placement)
    ruh = console("consular_officer").get("/console/worklists?mission=KE-DOH").get_data(
        as_text=True)
    assert f"#{world.placement_id}<" in ruh and f"#{doha_placement}<" not in ruh
    assert "permit_expired" in ruh
    officer = console("nea_officer")
    every = officer.get("/console/worklists").get_data(as_text=True)
    assert f"#{world.placement_id}<" in every and f"#{doha_placement}<" in every
    doha = officer.get("/console/worklists?mission=KE-DOH").get_data(as_text=True)
    assert f"#{doha_placement}<" in doha and f"#{world.placement_id}<" not in doha
    assert officer.get("/console/worklists?mission=XX-NOPE").status_code == 404


def test_a_worklist_shows_a_person_once_with_their_newest_placement(console, world, svc):
    make_irregular(svc, world.placement_id)
    with svc.db.session() as session:  # the same person, placed again in Qatar later
        older = session.get(Placement, world.placement_id)
        newer = Placement(person_id=older.person_id, phone=older.phone, country="QA",
                          status="employed", visa_type="visit",
                          departed_on=date.today() - timedelta(days=3))
        session.add(newer)
        session.flush()
        newer_id = newer.id
    make_irregular(svc, newer_id)
    html = console("nea_officer").get("/console/worklists").get_data(as_text=True)
    assert f"#{newer_id}<" in html and f"#{world.placement_id}<" not in html
    # A placement that is regular again leaves the list once the flags are recomputed.
    with svc.db.session() as session:
        session.execute(update(Placement).where(Placement.id == newer_id)
                        .values(status="returned"))
    from workers.irregular import recompute_irregular

    recompute_irregular()
    html = console("nea_officer").get("/console/worklists").get_data(as_text=True)
    assert f"#{world.placement_id}<" in html and f"#{newer_id}<" not in html


def test_unmatched_partner_events_are_listed(console, world):
    html = console("nea_officer").get("/console/partner-events").get_data(as_text=True)
    assert "evt-unmatched-1" in html and "no person with that national ID" in html
    html = console("nea_officer").get("/console/partner-events?status=rejected").get_data(
        as_text=True)
    assert "evt-unmatched-1" not in html


def test_safeguarding_flags_are_an_nea_worklist_and_on_the_persons_timeline(
        console, world, svc):
    import json

    from app.models import SafeguardingFlag

    with svc.db.session() as session:
        session.add(SafeguardingFlag(
            kind="minor_placement", person_id=world.person_id, source_ref="t:minor-placement",
            details=json.dumps({"birth_year": 2009, "agency_id": world.agency_id,
                                "country": "SA"})))
        session.add(SafeguardingFlag(kind="minor_abroad", phone="+254700000999",
                                     source_ref="t:minor-abroad",
                                     details=json.dumps({"birth_year": 2010})))
    html = console("nea_officer").get("/console/safeguarding").get_data(as_text=True)
    assert "an agency tried to place a minor abroad" in html
    assert "Example Recruitment Ltd" in html and "Saudi Arabia" in html and "2009" in html
    assert "a minor asked to work abroad" in html and "not registered" in html
    only = console("nea_officer").get("/console/safeguarding?kind=minor_abroad")
    assert "an agency tried" not in only.get_data(as_text=True).split("<tbody>")[1]
    assert console("consular_officer").get("/console/safeguarding").status_code == 403
    assert console("analyst").get("/console/safeguarding").status_code == 403
    with svc.db.Session() as session:
        assert session.scalars(select(AuditEntry.action)
                               .where(AuditEntry.action == "safeguarding.list")).all()
    timeline = console("consular_officer").get(f"/console/people/{world.person_id}")
    assert "SAFEGUARDING: an agency tried to place a minor abroad" in timeline.get_data(
        as_text=True)
