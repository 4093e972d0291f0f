"""Whole files into the spool, exactly once, even when an attempt is cut short."""

from __future__ import annotations

import pytest

from calltally.spool import services
from calltally.spool.models import SpooledFile
from calltally.spool.services import spool_file

pytestmark = pytest.mark.django_db


def spooled(spool, code="HQ") -> list[bytes]:
    return [record.raw for day in spool.days(code) for record in spool.iter_day(code, day)]


@pytest.fixture
def cdr_file(tmp_path):
    lines = [f'"","20{n % 10}","0612345{n:03d}","ctx","","","","","","2026-03-02 10:00:00",,,"5","3"'.encode()
             for n in range(300)]
    path = tmp_path / "cdr.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return path, lines


class Crash(Exception):
    """Stands for a kill: the process stops here."""


def test_a_file_is_spooled_once_and_its_row_completed(make_site, spool, cdr_file):
    site = make_site("HQ")
    path, lines = cdr_file
    first = spool_file(site, path, spool)
    again = spool_file(site, path, spool)
    assert (first.records, first.duplicate, again.records, again.duplicate) == (300, False, 0, True)
    assert spooled(spool) == lines
    row = SpooledFile.objects.get()
    assert (row.complete, row.records) == (True, 300) and row.source.startswith("import:cdr.csv #")


def test_an_import_killed_after_its_records_were_spooled_is_completed_without_a_duplicate(
    make_site, spool, cdr_file, monkeypatch
):
    site = make_site("HQ")
    path, lines = cdr_file
    real = services._append_lines

    def append_then_crash(*args, **kwargs):
        real(*args, **kwargs)
        raise Crash  # after the fsync, before the row is completed

    monkeypatch.setattr(services, "_append_lines", append_then_crash)
    with pytest.raises(Crash):
        spool_file(site, path, spool)
    assert SpooledFile.objects.get().complete is False
    monkeypatch.setattr(services, "_append_lines", real)
    retry = spool_file(site, path, spool)
    assert (retry.records, retry.duplicate) == (0, False)
    assert spooled(spool) == lines  # each record once
    assert SpooledFile.objects.get().records == 300


def test_an_import_killed_half_way_appends_only_the_rest_even_among_other_sources_records(
    make_site, spool, cdr_file, monkeypatch
):
    site = make_site("HQ")
    path, lines = cdr_file
    monkeypatch.setattr(services, "CHUNK", 4000)  # several appends for one file
    real_append = spool.append
    calls = []

    def append_twice_then_crash(code, records, source, received=None):
        calls.append(1)
        if len(calls) == 3:
            raise Crash
        return real_append(code, records, source, received)

    monkeypatch.setattr(spool, "append", append_twice_then_crash)
    with pytest.raises(Crash):
        spool_file(site, path, spool)
    monkeypatch.setattr(spool, "append", real_append)
    done_before = len(spooled(spool))
    assert 0 < done_before < 300
    # A PBX streaming over TCP writes to the same day file meanwhile.
    spool.append("HQ", [b"tcp record 1", b"tcp record 2"], "tcp:10.0.0.5")
    retry = spool_file(site, path, spool)
    assert retry.records == 300 - done_before
    stored = spooled(spool)
    assert [raw for raw in stored if not raw.startswith(b"tcp")] == lines
    assert stored.count(b"tcp record 1") == 1
