"""app/agencies/register.py through ``kazi agencies import``: good, bad and repeated files."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.agencies import register
from app.models import Agency, Director, Licence, LicenceChange, RegisterImport
from tests.agencies.helpers import (
    agency_named,
    count,
    days,
    licence,
    row,
    run_import,
    write,
)

GOOD = [
    row(),
    row("nea / pea / 2023 / 17", "Gulf Star Manpower Services Ltd", "Suspended", days(200),
        "0722000002", "", "Moi Avenue, Mombasa", "Halima Hassan"),
    row("NEA/PEA/2022/0003", "Crescent Overseas Placement Ltd", "revoked", days(-30),
        "", "", "", ""),
]


def test_good_rows_are_imported_with_history_and_a_summary(runner, svc, tmp_path):
    result = run_import(runner, write(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    assert "register.csv: 3 rows: added=3 updated=0 unchanged=0 invalid=0" in result.output
    gulf = licence(svc, "NEA/PEA/2023/0017")  # stored canonical
    assert gulf.status == gulf.register_status == "suspended"
    savanna = agency_named(svc, "Savanna Recruitment Agency Ltd")
    assert savanna.name_key == "savanna" and savanna.phone == "+254711000001"
    assert agency_named(svc, "Gulf Star Manpower Services Ltd").phone == "+254722000002"
    assert count(svc, Director) == 3
    assert count(svc, LicenceChange, LicenceChange.source == "import:register.csv",
                 LicenceChange.old_status.is_(None)) == 3
    with svc.db.Session() as session:
        record = session.scalar(select(RegisterImport))
    assert (record.source, record.added, record.invalid) == ("register.csv", 3, 0)


def test_revoked_stays_revoked_after_its_date(svc, runner, tmp_path):
    run_import(runner, write(tmp_path, GOOD))
    revoked = licence(svc, "NEA/PEA/2022/0003")
    assert (revoked.status, revoked.register_status) == ("revoked", "revoked")


@pytest.mark.parametrize("status", ["valid", "suspended", "expired"])
def test_a_licence_past_its_date_is_expired_whatever_the_row_says(svc, runner, tmp_path,
                                                                   status):
    run_import(runner, write(tmp_path, [row(status=status, expires_on=days(-1))]))
    stored = licence(svc, "NEA/PEA/2024/0001")
    assert stored.status == "expired"
    assert stored.register_status == status


def test_expiry_today_is_still_valid(svc, runner, tmp_path):
    run_import(runner, write(tmp_path, [row(expires_on=days(0))]))
    assert licence(svc, "NEA/PEA/2024/0001").status == "valid"


def test_reimport_updates_keeps_history_and_counts_unchanged(svc, runner, tmp_path):
    run_import(runner, write(tmp_path, GOOD, "register-2026-10.csv"))
    changed = [
        row(status="suspended", directors="Jane Wanjiru;Peter Otieno"),  # status + director
        GOOD[1],  # as before
        [*GOOD[2][:5], "info@crescent.co.ke", *GOOD[2][6:]],  # only the email
        row("NEA/PEA/2025/0100", "Neema Careers Ltd"),  # new
    ]
    result = run_import(runner, write(tmp_path, changed, "register-2026-11.csv"))
    assert "4 rows: added=1 updated=2 unchanged=1 invalid=0 (status changes: 1)" in result.output
    savanna = licence(svc, "NEA/PEA/2024/0001")
    assert savanna.status == "suspended"
    with svc.db.Session() as session:
        history = session.scalars(select(LicenceChange).where(
            LicenceChange.licence_id == savanna.id).order_by(LicenceChange.id)).all()
        directors = session.scalars(select(Director.name).where(
            Director.agency_id == savanna.agency_id).order_by(Director.id)).all()
    assert [(c.old_status, c.new_status, c.source) for c in history] == [
        (None, "valid", "import:register-2026-10.csv"),
        ("valid", "suspended", "import:register-2026-11.csv"),
    ]
    assert directors == ["Jane Wanjiru", "Peter Otieno"]
    assert agency_named(svc, "Crescent Overseas Placement Ltd").email == "info@crescent.co.ke"
    assert count(svc, RegisterImport) == 2
    again = run_import(runner, write(tmp_path, changed, "register-2026-11.csv"))
    assert "added=0 updated=0 unchanged=4 invalid=0 (status changes: 0)" in again.output
    assert count(svc, LicenceChange) == 5


def test_a_new_expiry_date_is_history_too(svc, runner, tmp_path):
    run_import(runner, write(tmp_path, [row(expires_on=days(-5))]))
    result = run_import(runner, write(tmp_path, [row(expires_on=days(360))]))
    assert "updated=1" in result.output and "(status changes: 1)" in result.output
    stored = licence(svc, "NEA/PEA/2024/0001")
    assert stored.status == "valid"
    with svc.db.Session() as session:
        renewal = session.scalars(select(LicenceChange).order_by(LicenceChange.id.desc())).first()
    assert (renewal.old_status, renewal.new_status) == ("expired", "valid")
    assert str(renewal.new_expires_on) == days(360)


def test_a_row_the_database_refuses_is_reported_and_the_rest_kept(svc, runner, tmp_path,
                                                                 monkeypatch):
    run_import(runner, write(tmp_path, [row()]))
    real = register._existing

    def blind(session, licence_nos):  # as if a concurrent import added it meanwhile
        return {k: v for k, v in real(session, licence_nos).items() if k != "NEA/PEA/2024/0001"}

    monkeypatch.setattr(register, "_existing", blind)
    result = run_import(runner, write(tmp_path, [
        row("NEA/PEA/2024/0002", "Amani Ltd"), row(name="Savanna Clone Ltd"),
        row("NEA/PEA/2024/0003", "Baraka Ltd"),
    ]))
    assert result.exit_code == 0, result.output
    assert "line 3: the database refused the row" in result.output
    assert "added=2 updated=0 unchanged=0 invalid=1" in result.output
    assert agency_named(svc, "Savanna Clone Ltd") is None
    assert agency_named(svc, "Amani Ltd") and agency_named(svc, "Baraka Ltd")
    assert count(svc, Agency) == 3


def big_register(n: int, status: str = "valid") -> list[list[str]]:
    return [row(f"NEA/PEA/{2019 + i % 7}/{i + 1:04d}", f"Agency Number {i} Kazi Ltd", status,
                days(30 + i % 300), f"+2547{11000000 + i:08d}", f"info{i}@agency.co.ke",
                f"Plot {i}, Moi Avenue, Nairobi", f"Director {i} One;Director {i} Two")
            for i in range(n)]


def test_five_thousand_rows_import_without_a_select_per_row(svc, runner, tmp_path):
    rows = big_register(5000)
    path = write(tmp_path, rows, "big.csv")
    selects = []
    event.listen(svc.db.engine, "before_cursor_execute",
                 lambda _c, _cur, stmt, *_a: selects.append(1) if stmt.lstrip().upper()
                 .startswith("SELECT") else None)
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "added=5000 updated=0 unchanged=0 invalid=0" in result.output
    assert "importing big.csv" in result.stderr  # the progress bar of a large file
    assert len(selects) < 50, len(selects)  # a few per batch of 500, never one per row
    selects.clear()
    rows[7][2] = "revoked"
    again = run_import(runner, write(tmp_path, rows, "big.csv"))
    assert "added=0 updated=1 unchanged=4999 invalid=0 (status changes: 1)" in again.output
    assert len(selects) < 50, len(selects)
    assert count(svc, Licence) == 5000 and count(svc, Director) == 10000
    assert licence(svc, "NEA/PEA/2019/0008").status == "revoked"


def test_a_small_file_shows_no_progress_bar(runner, tmp_path):
    result = run_import(runner, write(tmp_path, [row()]))
    assert "importing" not in result.stderr
