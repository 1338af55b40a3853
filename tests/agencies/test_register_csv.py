"""app/agencies/register_csv.py through ``kazi agencies import``: bad rows, headers, files."""

from __future__ import annotations

import pytest

from app.models import Agency, Director, Licence, RegisterImport
from tests.agencies.helpers import (
    HEADER,
    agency_named,
    count,
    csv_text,
    licence,
    row,
    run_import,
    write,
)


BAD = [
    (row(licence_no=""), "licence_no is empty"),
    (row(licence_no="PEA-24-1"), "licence_no 'PEA-24-1' is not like NEA/PEA/2024/0001"),
    (row(name=""), "agency_name is empty"),
    (row(name="1234 5678"), "agency_name '1234 5678' has no letters"),
    (row(name="A" * 201), "agency_name is longer than 200 characters"),
    (row(status="active"), "status 'active' is not one of valid, suspended, revoked, expired"),
    (row(expires_on="31/12/2026"), "expires_on '31/12/2026' is not an ISO date (YYYY-MM-DD)"),
    (row(expires_on="2026-02-30"), "expires_on '2026-02-30' is not an ISO date"),
    (row(expires_on=""), "expires_on is empty (a valid licence must have an expiry date)"),
    (row(phone="12345"), "phone '12345' is not a valid phone number"),
    (row(email="info@@x"), "email 'info@@x' is not an email address"),
    (row(email="info at savanna"), "email 'info at savanna' is not an email address"),
    (row(address="x" * 301), "physical_address is longer than 300 characters"),
    (row(directors="Jane Doe;1234"), "director '1234' is not a name"),
]


@pytest.mark.parametrize("bad,reason", BAD, ids=[r for _, r in BAD])
def test_each_bad_row_is_reported_with_its_line_and_never_half_imported(svc, runner, tmp_path,
                                                                        bad, reason):
    other = row("NEA/PEA/2024/0002", "Tumaini Jobs Ltd")
    bad = [bad[0] or "NEA/PEA/2024/0009", *bad[1:]] if bad[0] == "" and "licence" not in \
        reason else bad
    result = run_import(runner, write(tmp_path, [other, bad]))
    assert result.exit_code == 0, result.output
    assert "added=1 updated=0 unchanged=0 invalid=1" in result.output
    assert f"line 3: {reason}" in result.output
    assert count(svc, Agency) == 1 and count(svc, Licence) == 1
    assert count(svc, Director) == 2  # only the good row's two directors
    assert agency_named(svc, "Tumaini Jobs Ltd") is not None


def test_several_reasons_of_one_row_are_all_given(runner, tmp_path):
    result = run_import(runner, write(tmp_path, [row(status="ok", phone="1", email="x")]))
    line = next(li for li in result.output.splitlines() if li.startswith("line 2:"))
    assert "status 'ok'" in line and "phone '1'" in line and "email 'x'" in line


def test_line_numbers_count_quoted_line_breaks_and_skip_blank_lines(runner, tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(
        HEADER + "\n"
        + ",".join(row()[:6]) + ',"Kimathi House\nMoi Ave\nNairobi",Jane Doe\n'
        + "\n"
        + ",".join(row("NEA/PEA/2024/0002", status="bad", address="Moi Ave")) + "\n"
        + ",".join(row("NEA/PEA/2024/0003")[:5]) + "\n",
        encoding="utf-8")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "line 6: status 'bad'" in result.output
    assert "line 7: has 5 fields, expected 8" in result.output
    assert "added=1" in result.output


def test_duplicate_licences_in_one_file(svc, runner, tmp_path):
    same = row("NEA/PEA/2024/0005", "Amani Jobs Ltd")
    result = run_import(runner, write(tmp_path, [
        same, row("NEA/PEA/2024/0006", "Baraka Ltd"), same,  # an exact repeat: first kept
        row("NEA/PEA/2024/0006", "Baraka Two Ltd"),  # a conflicting repeat: both refused
        row("nea/pea/2024/5", "Amani Jobs Ltd"),  # the same licence, spelt otherwise
    ]))
    assert "line 4: duplicate licence_no NEA/PEA/2024/0005: already on line 2" in result.output
    assert "line 3: licence_no NEA/PEA/2024/0006 appears again on line 5 with different " \
           "details" in result.output
    assert "line 5: duplicate licence_no NEA/PEA/2024/0006: already on line 3" in result.output
    assert "line 6: duplicate licence_no NEA/PEA/2024/0005" in result.output
    assert "added=1 updated=0 unchanged=0 invalid=4" in result.output
    assert licence(svc, "NEA/PEA/2024/0006") is None


@pytest.mark.parametrize("header,reason", [
    ("licence_no,agency_name,status,expires_on,phone,email", "missing physical_address"),
    ("licence,name,status,expires,phone,email,address,directors", "wrong header"),
    ("", "the file is empty"),
])
def test_a_wrong_header_fails_the_command_and_writes_nothing(svc, runner, tmp_path, header,
                                                            reason):
    path = tmp_path / "bad.csv"
    path.write_text(header + ("\n" + ",".join(row()) if header else ""), encoding="utf-8")
    result = run_import(runner, path)
    assert result.exit_code != 0
    assert reason in result.output
    assert count(svc, Agency) == 0 and count(svc, RegisterImport) == 0


def test_unreadable_and_non_utf8_files_fail_the_command(svc, runner, tmp_path):
    assert run_import(runner, tmp_path / "missing.csv").exit_code != 0
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((HEADER + "\n" + ",".join(row(name="Caf\xe9 Jobs Ltd")) + "\n")
                      .encode("latin-1"))
    result = run_import(runner, latin)
    assert result.exit_code != 0 and "not UTF-8" in result.output
    assert count(svc, Agency) == 0


def test_a_bom_and_extra_columns_are_tolerated(svc, runner, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("\ufeff" + csv_text([[*row(), "Nairobi"]], HEADER + ",county"),
                    encoding="utf-8")
    result = run_import(runner, path)
    assert result.exit_code == 0 and "added=1" in result.output
    assert "ignored unknown column(s): county" in result.output
