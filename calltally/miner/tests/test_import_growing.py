"""`calltally import` of a file that grows all day: every call once, whatever the leg merging."""

from __future__ import annotations

import json
import os
import time

import pytest

from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension

pytestmark = pytest.mark.django_db


def ring_group_call(n: int) -> list[bytes]:
    """One inbound call to ring group 600 (phones 201 and 202; 202 answers): two rows, one linkedid."""
    minute = f"2026-03-02 {8 + n // 60:02d}:{n % 60:02d}"
    caller = f"06{n:08d}"
    rows = []
    for sequence, (phone, answered) in enumerate((("201", False), ("202", True))):
        if answered:
            answer, end, duration, billsec, state = f"{minute}:05", f"{minute}:50", 50, 45, "ANSWERED"
        else:
            answer, end, duration, billsec, state = "", f"{minute}:05", 5, 0, "NO ANSWER"
        rows.append(
            f'"","{caller}","600","from-pstn","""Caller"" <{caller}>","PJSIP/trunk-{n:08x}","PJSIP/{phone}-{n:08x}",'
            f'"Dial","PJSIP/201&PJSIP/202,30","{minute}:00","{answer}","{end}",{duration},{billsec},"{state}",'
            f'"DOCUMENTATION","{n}.{sequence}","","","{n}.0",{sequence}'.encode())
    return rows


def master_csv(calls: int) -> bytes:
    return b"".join(row + b"\n" for n in range(calls) for row in ring_group_call(n))


@pytest.fixture
def hq(make_site, spool):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=number) for number in ("201", "202")])
    return site


def imported(cli, path) -> dict:
    return json.loads(cli("import", "--site", "HQ", str(path), "--json"))


def settled(path) -> None:
    """As the file would be an hour after the PBX last wrote it."""
    old = time.time() - 3600
    os.utime(path, (old, old))


@pytest.mark.parametrize("merge_legs", [False, True])
def test_a_master_csv_imported_every_night_as_it_grows_gives_each_call_once(hq, cli, tmp_path, merge_legs):
    hq.merge_legs = merge_legs
    hq.save()
    path = tmp_path / "Master.csv"
    path.write_bytes(master_csv(500))  # 1,000 lines
    first = imported(cli, path)
    path.write_bytes(master_csv(550))  # 100 more lines by the next night
    second = imported(cli, path)
    assert (first["files"][0]["records"], second["files"][0]["records"]) == (1000, 100)
    assert second["files"][0]["continued_from_byte"] == len(master_csv(500))
    assert not DiscardedCall.objects.exists()
    if merge_legs:
        assert Call.objects.count() == 550  # one call per ring group…
        assert Call.rows.filter(kind="leg").count() == 1100  # …made of its two legs, not four
    else:
        assert Call.objects.count() == 1100  # each row a call: 1,000 + 100, not 2,100
    assert imported(cli, path)["files"][0]["already_imported"] is True
    assert Call.rows.count() == (1650 if merge_legs else 1100)


def test_a_copy_cut_in_the_middle_of_a_line_holds_that_line_until_the_file_is_imported_again(hq, cli, tmp_path):
    hq.merge_legs = False
    hq.save()
    whole = master_csv(20)
    path = tmp_path / "Master.csv"
    path.write_bytes(whole[: whole.index(ring_group_call(10)[1]) + 30])  # copied while a row was written
    first = imported(cli, path)["files"][0]
    assert (first["records"], first["pending_bytes"]) == (21, 30)
    path.write_bytes(whole)
    assert imported(cli, path)["files"][0]["records"] == 19
    assert Call.objects.count() == 40
    assert not DiscardedCall.objects.exists()


def test_a_file_without_a_final_line_end_not_changed_for_a_while_gives_its_last_call(hq, cli, tmp_path):
    hq.merge_legs = False
    hq.save()
    path = tmp_path / "export.csv"
    path.write_bytes(master_csv(3).rstrip(b"\n"))
    settled(path)
    result = imported(cli, path)
    assert (result["files"][0]["records"], result["files"][0]["pending_bytes"]) == (6, 0)
    assert Call.objects.count() == 6


def test_an_edited_master_csv_is_reported_in_the_output_and_adds_only_its_changed_line(hq, cli, tmp_path):
    hq.merge_legs = False
    hq.save()
    path = tmp_path / "Master.csv"
    path.write_bytes(master_csv(10))
    imported(cli, path)
    path.write_bytes(master_csv(10).replace(b'"ANSWERED","DOCUMENTATION","3.1"', b'"ANSWERED","BILLING","3.1"'))
    out = cli("import", "--site", "HQ", str(path))
    assert "1 records spooled" in out and "WARNING: Master.csv does not continue what was spooled" in out
    assert Call.objects.count() == 21  # the edited row is a new record; the one it replaced stays
