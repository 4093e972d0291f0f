import datetime as dt
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.spool.storage import Spool, escape, split_lines, unescape

UTC = dt.UTC
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_escaping_keeps_every_byte(raw):
    stored = escape(raw)
    assert b"\n" not in stored and b"\r" not in stored
    assert unescape(stored) == raw


def test_it_reads_back_exactly_what_was_appended(tmp_path):
    spool = Spool(tmp_path)
    records = [b"plain", b"with\ttab", b"back\\slash \\n literal", b"caf\xe9 latin-1", b"\x00\xff binary", b"a\rb"]
    result = spool.append("HQ", records, "test", received=NOON)
    assert result.count == len(records)
    assert result.path == tmp_path / "HQ" / "2026-03-02.cdr"
    read, end = spool.read("HQ", NOON.date(), 0, 100)
    assert [r.raw for r in read] == records
    assert end == result.end_offset == result.path.stat().st_size
    assert read[0].received.startswith("2026-03-02T12:00:00")
    assert read[0].source == "test"


def test_records_land_in_the_file_of_their_utc_day(tmp_path):
    spool = Spool(tmp_path)
    spool.append("HQ", [b"one"], "t", received=dt.datetime(2026, 3, 2, 23, 59, tzinfo=UTC))
    spool.append("HQ", [b"two"], "t", received=dt.datetime(2026, 3, 3, 0, 1, tzinfo=UTC))
    assert spool.days("HQ") == [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]


def test_reading_resumes_from_an_offset_and_honours_the_batch_size(tmp_path):
    spool = Spool(tmp_path)
    spool.append("HQ", [f"record {i}".encode() for i in range(10)], "t", received=NOON)
    first, offset = spool.read("HQ", NOON.date(), 0, 4)
    rest, end = spool.read("HQ", NOON.date(), offset, 100)
    assert [r.raw for r in first + rest] == [f"record {i}".encode() for i in range(10)]
    assert rest[0].offset == offset
    assert spool.read("HQ", NOON.date(), end, 100) == ([], end)


def test_an_unterminated_last_line_is_not_read_and_is_cut_by_the_next_append(tmp_path):
    spool = Spool(tmp_path)
    spool.append("HQ", [b"complete"], "t", received=NOON)
    path = spool.path("HQ", NOON.date())
    with open(path, "ab") as handle:  # what a crash in the middle of a write leaves
        handle.write(b"2026-03-02T12:00:01.000000Z\tt\ttorn rec")
    read, end = spool.read("HQ", NOON.date(), 0, 100)
    assert [r.raw for r in read] == [b"complete"]
    spool.append("HQ", [b"next"], "t", received=NOON)
    read, _ = spool.read("HQ", NOON.date(), 0, 100)
    assert [r.raw for r in read] == [b"complete", b"next"]


def test_a_file_that_is_only_a_torn_line_is_emptied_before_appending(tmp_path):
    spool = Spool(tmp_path)
    path = spool.path("HQ", NOON.date())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"2026-03-02T12:00:01.000000Z\tt\ttorn")
    spool.append("HQ", [b"first"], "t", received=NOON)
    assert [r.raw for r in spool.read("HQ", NOON.date(), 0, 10)[0]] == [b"first"]


def test_appends_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    Spool(tmp_path).append("HQ", [b"x"], "t", received=NOON)
    assert len(synced) >= 1


def test_a_line_the_spool_did_not_write_is_kept_whole(tmp_path):
    spool = Spool(tmp_path)
    path = spool.path("HQ", NOON.date())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"edited by hand\n")
    [record], _ = spool.read("HQ", NOON.date(), 0, 10)
    assert record.raw == b"edited by hand" and record.received == ""


def test_split_lines_accepts_every_line_ending_and_drops_empty_lines():
    assert split_lines(b"a\r\nb\nc\rd\n\n\r\n") == [b"a", b"b", b"c", b"d"]
