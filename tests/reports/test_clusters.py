"""``kazi report clusters``: many people naming one recruiter; agencies tied to a bad one."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from app.db import utcnow
from app.models import AgencyComplaint, Case, Director
from app.reports.clusters import NAME_PEOPLE, PHONE_PEOPLE, phones_in
from tests.partners.helpers import add_agency, add_check, declare

AGENT = "+254799000111"


def declarations(svc, n: int, *, agent_phone=AGENT, agency_query=None, days_ago=10,
                 first=0) -> None:
    with svc.db.session() as session:
        for k in range(first, first + n):
            declare(session, None, agent_phone=agent_phone, agency_query=agency_query,
                    phone=f"+2547{k:08d}", created_at=utcnow() - timedelta(days=days_ago))


def clusters(runner, *args: str) -> list[dict]:
    result = runner.invoke(args=["report", "clusters", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_five_people_naming_one_agent_phone_are_a_cluster(svc, runner):
    declarations(svc, PHONE_PEOPLE)
    [row] = clusters(runner)
    assert row["signal"] == "recruiter_phone" and row["people"] == PHONE_PEOPLE
    assert row["value"] == "+254******111"  # masked
    assert row["sources"] == ["declaration"]
    assert AGENT not in json.dumps(row)


def test_four_people_are_not_a_cluster_and_one_person_counts_once(svc, runner):
    declarations(svc, PHONE_PEOPLE - 1)
    declarations(svc, 3, first=0)  # the same people declaring again
    assert clusters(runner) == []


def test_complaints_and_cases_count_with_declarations(svc, runner):
    agency_id = add_agency(svc)
    declarations(svc, PHONE_PEOPLE - 2)
    with svc.db.session() as session:
        session.add(AgencyComplaint(agency_id=agency_id, phone="+254711999001", kind="fee",
                                    channel="sms", text="He asked 20000 on 0799 000111 mpesa"))
        session.add(Case(ref="C1", reporter_phone="+966501234567", mission_code="RUH",
                         severity="high", channel="sms", agency_id=agency_id,
                         first_text="Agent 254799000111 took my passport. My number "
                                    "+966501234567"))
    [row] = clusters(runner)
    assert row["people"] == PHONE_PEOPLE
    assert row["sources"] == ["case", "complaint", "declaration"]
    assert row["agencies"] == ["NEA/PEA/2024/0001"]


def test_only_the_window_counts(svc, runner):
    declarations(svc, PHONE_PEOPLE - 1, days_ago=10)
    declarations(svc, 1, days_ago=120, first=50)
    assert clusters(runner) == []
    old_window = (utcnow() - timedelta(days=150)).date().isoformat()
    assert clusters(runner, "--from", old_window)[0]["people"] == PHONE_PEOPLE


def test_an_agent_phone_that_is_an_agencys_names_the_agency(svc, runner):
    add_agency(svc, licence_no="NEA/PEA/2024/0007", phone=AGENT)
    declarations(svc, PHONE_PEOPLE)
    assert clusters(runner)[0]["agencies"] == ["NEA/PEA/2024/0007"]


def test_five_people_typing_one_unlicensed_agency_name(svc, runner):
    for k, typed in enumerate(["Athi River Jobs", "athi river jobs", "ATHI-RIVER JOBS",
                               "Athi River Jobs.", "athi  river  jobs"]):
        declarations(svc, 1, agent_phone=None, agency_query=typed, first=k)
    [row] = clusters(runner)
    assert row["signal"] == "recruiter_name" and row["people"] == NAME_PEOPLE


def test_agencies_sharing_a_phone_director_or_address_with_a_bad_one(svc, runner):
    good = add_agency(svc, licence_no="NEA/PEA/2024/0001", phone="+254711000001",
                      address="Plot 7, Athi River")
    bad = add_agency(svc, licence_no="NEA/PEA/2024/0002", status="revoked", name="Bad Ltd",
                     phone="+254711000001", address="plot 7 athi river")
    add_agency(svc, licence_no="NEA/PEA/2024/0003", name="Fine A", phone="+254711000009")
    add_agency(svc, licence_no="NEA/PEA/2024/0004", name="Fine B", phone="+254711000009")
    with svc.db.session() as session:
        session.add(Director(agency_id=good, name="John Doe", name_key="johndoe"))
        session.add(Director(agency_id=bad, name="John Doe", name_key="johndoe"))
    add_check(svc, good, "+254755555555")
    rows = clusters(runner)
    assert {r["signal"] for r in rows} == {"agency_phone", "agency_address", "agency_director"}
    for row in rows:
        assert row["agencies"] == ["NEA/PEA/2024/0001", "NEA/PEA/2024/0002"]
        assert row["people"] == 1
    assert next(r for r in rows if r["signal"] == "agency_phone")["value"] == "+254******001"


def test_the_report_prints_csv(svc, runner):
    declarations(svc, PHONE_PEOPLE)
    result = runner.invoke(args=["report", "clusters"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows == [{"signal": "recruiter_phone", "value": "+254******111",
                     "people": str(PHONE_PEOPLE), "agencies": "",
                     "first_seen": rows[0]["first_seen"], "last_seen": rows[0]["last_seen"],
                     "sources": "declaration"}]


def test_phone_numbers_are_found_in_free_text():
    assert phones_in("call 0712 345 678 or +255 754 123 456, not 12345") == [
        "+254712345678", "+255754123456"]
    assert phones_in(None) == []
