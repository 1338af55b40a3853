"""``kazi report irregular``: one row per person abroad without valid papers, every reason."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from app.listings.service import today
from app.models import Placement
from tests.partners.helpers import add_agency, add_listing, add_person

DEPARTED = today() - timedelta(days=40)


def place(svc, person_id, country="SA", status="employed", agency_id=None, listing_id=None,
          visa_type="work", departed_on=DEPARTED) -> int:
    with svc.db.session() as session:
        placement = Placement(person_id=person_id, phone="+254700000000", country=country,
                              status=status, agency_id=agency_id, listing_id=listing_id,
                              visa_type=visa_type, departed_on=departed_on)
        session.add(placement)
        session.flush()
        return placement.id


def report(runner, *args: str):
    result = runner.invoke(args=["report", *args])
    assert result.exit_code == 0, result.output
    return result.stdout  # the report alone, whatever else writes to stderr meanwhile


def test_the_worklist_has_one_row_per_person_with_every_reason(svc, runner):
    agency_id = add_agency(svc, status="suspended")
    listing_id = add_listing(svc, agency_id)
    amina = add_person(svc, national_id="11111111", phone="+254711111111")
    juma = add_person(svc, national_id="22222222", phone="+254722222222")
    home = add_person(svc, national_id="33333333", phone="+254733333333")
    place(svc, amina, departed_on=DEPARTED - timedelta(days=400), status="employed")
    newest = place(svc, amina, agency_id=agency_id, listing_id=listing_id, visa_type="tourist")
    qatar = place(svc, juma, country="QA")
    place(svc, home, status="returned")
    rows = json.loads(report(runner, "irregular", "--format", "json"))
    assert [(r["country"], r["placement_id"]) for r in rows] == [("QA", qatar), ("SA", newest)]
    saudi = rows[1]
    assert saudi["reasons"] == ["no_work_permit", "visit_visa", "agency_not_valid"]
    assert saudi["reg_no"].startswith("KS") and saudi["agency_licence"] == "NEA/PEA/2024/0001"
    assert saudi["departed_on"] == DEPARTED.isoformat()
    assert rows[0]["reasons"] == ["no_work_permit", "no_approved_placement"]
    # Never an identity number.
    assert "11111111" not in json.dumps(rows) and "national" not in json.dumps(rows)


def test_the_worklist_for_one_mission_as_csv(svc, runner):
    place(svc, add_person(svc, national_id="11111111", phone="+254711111111"))
    place(svc, add_person(svc, national_id="22222222", phone="+254722222222"), country="QA")
    output = report(runner, "irregular", "--country", "qa")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert output.splitlines()[0] == ("country,reg_no,placement_id,status,departed_on,"
                                      "agency_licence,agency_name,reasons")
    assert [r["country"] for r in rows] == ["QA"]
    assert rows[0]["reasons"] == "no_work_permit;no_approved_placement"


def test_the_worklist_filters_on_departure_dates(svc, runner):
    early = place(svc, add_person(svc, national_id="11111111", phone="+254711111111"),
                  departed_on=DEPARTED - timedelta(days=100))
    place(svc, add_person(svc, national_id="22222222", phone="+254722222222"))
    rows = json.loads(report(runner, "irregular", "--format", "json", "--to",
                             (DEPARTED - timedelta(days=1)).isoformat()))
    assert [r["placement_id"] for r in rows] == [early]


def test_an_unknown_report_or_country_is_refused(runner):
    result = runner.invoke(args=["report", "nonsense"])
    assert result.exit_code != 0 and "irregular" in result.output and "clusters" in result.output
    result = runner.invoke(args=["report", "irregular", "--country", "XX"])
    assert result.exit_code != 0 and "country" in result.output


def test_a_mission_scope_keeps_only_its_countries(svc):
    from app.reports import Params
    from app.reports.irregular import rows

    saudi = place(svc, add_person(svc, national_id="11111111", phone="+254711111111"))
    place(svc, add_person(svc, national_id="22222222", phone="+254722222222"), country="QA")
    with svc.db.Session() as session:
        scoped = list(rows(session, Params(countries=("SA",))))
        everyone = list(rows(session, Params()))
    assert [r["placement_id"] for r in scoped] == [saudi]
    assert len(everyone) == 2
