"""A file seen again (grown, rotated, edited, re-sent): each of its records in the spool once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from calltally.spool import services
from calltally.spool.models import SpooledFile
from calltally.spool.services import spool_file

pytestmark = pytest.mark.django_db

CUCM12 = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "cucm12_cdr.csv"


def spooled(spool, code="HQ") -> list[bytes]:
    return [record.raw for day in spool.days(code) for record in spool.iter_day(code, day)]


def lines(first: int, count: int) -> list[bytes]:
    return [f'"","201","0612{n:06d}","from-internal","","","","Dial","","2026-03-02 10:00:00",,,"5","3"'.encode()
            for n in range(first, first + count)]


def write(path, records: list[bytes], end: bytes = b"\n", tail: bytes = b""):
    path.write_bytes(b"".join(record + end for record in records) + tail)
    return path


def assert_each_once(stored: list[bytes], expected: list[bytes]) -> None:
    twice = [raw for raw, count in Counter(stored).items() if count > 1]
    assert not twice, f"spooled twice: {twice[:3]}"
    assert sorted(stored) == sorted(expected)


class Crash(Exception):
    """Stands for a kill: the process stops here."""


def test_a_file_imported_again_after_it_grew_spools_only_its_new_lines(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = write(tmp_path / "Master.csv", lines(0, 1000))
    first_size = path.stat().st_size
    assert spool_file(site, path, spool).records == 1000
    write(path, lines(0, 1100))
    grown = spool_file(site, path, spool)
    assert (grown.records, grown.duplicate, grown.continued_from) == (100, False, first_size)
    assert not grown.warning
    assert spooled(spool) == lines(0, 1100)
    # The grown version again is a duplicate; so is the first one (an older copy kept somewhere).
    assert spool_file(site, path, spool).duplicate
    (tmp_path / "old").mkdir()
    assert spool_file(site, write(tmp_path / "old" / "Master.csv", lines(0, 1000)), spool).duplicate
    assert spooled(spool) == lines(0, 1100)


def test_a_file_that_grew_several_times_and_with_crlf_spools_each_line_once(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = tmp_path / "cdr.log"
    for count in (10, 11, 40, 41, 300):
        write(path, lines(0, count), end=b"\r\n")
        spool_file(site, path, spool)
    assert spooled(spool) == lines(0, 300)
    assert SpooledFile.objects.count() == 5


def test_a_version_that_ends_with_a_cr_whose_lf_comes_later_gives_no_empty_record(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = tmp_path / "cdr.log"
    path.write_bytes(b"\r\n".join(lines(0, 5)) + b"\r")  # copied between the CR and the LF
    spool_file(site, path, spool, complete=False)
    write(path, lines(0, 7), end=b"\r\n")
    spool_file(site, path, spool, complete=False)
    assert spooled(spool) == lines(0, 7)


def test_a_record_cut_mid_write_is_held_back_and_spooled_whole_once_the_file_grew(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = tmp_path / "Master.csv"
    records = lines(0, 20)
    whole = b"".join(record + b"\n" for record in records)
    cut = whole.index(records[10]) + 17  # copied while the PBX was writing record 10
    path.write_bytes(whole[:cut])
    first = spool_file(site, path, spool, complete=False)
    assert (first.records, first.pending) == (10, 17)
    assert "held back" in first.describe()
    path.write_bytes(whole)
    grown = spool_file(site, path, spool, complete=False)
    assert (grown.records, grown.pending, grown.warning) == (10, 0, "")
    assert spooled(spool) == records


def test_a_complete_file_without_a_final_line_end_gives_its_last_record(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = write(tmp_path / "export.csv", lines(0, 4), tail=lines(4, 1)[0])
    result = spool_file(site, path, spool)  # complete by default: an FTP upload, a dropped file
    assert (result.records, result.pending) == (5, 0)
    assert spooled(spool) == lines(0, 5)


def test_a_held_last_line_is_spooled_when_the_same_file_comes_again_unchanged(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = write(tmp_path / "export.csv", lines(0, 4), tail=lines(4, 1)[0])
    assert spool_file(site, path, spool, complete=False).pending == len(lines(4, 1)[0])
    assert spooled(spool) == lines(0, 4)
    again = spool_file(site, path, spool, complete=False)
    assert (again.records, again.pending, again.duplicate) == (1, 0, False)
    assert "last record" in again.note
    assert spooled(spool) == lines(0, 5)
    assert spool_file(site, path, spool, complete=False).duplicate  # nothing left to add
    # And once the file grows after all, the line is not spooled twice.
    write(path, lines(0, 6))
    assert spool_file(site, path, spool, complete=False).records == 1
    assert spooled(spool) == lines(0, 6)


def test_a_last_record_taken_as_complete_that_the_file_then_continued_is_reported(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = tmp_path / "Master.csv"
    records = lines(0, 6)
    whole = b"".join(record + b"\n" for record in records)
    cut = whole.index(records[5]) + 9
    path.write_bytes(whole[:cut])
    spool_file(site, path, spool)  # taken as complete: its last line, cut, became a record
    path.write_bytes(whole)
    grown = spool_file(site, path, spool)
    assert "cut mid-write" in grown.warning and "9 bytes" in grown.warning
    # The whole record is there (the cut one too: it was spooled before anyone could know).
    assert spooled(spool) == records[:5] + [records[5][:9], records[5]]


def test_a_rotated_file_under_a_new_name_adds_only_what_followed_the_last_pull(make_site, spool, tmp_path):
    site = make_site("HQ")
    write(tmp_path / "Master.csv", lines(0, 50))
    spool_file(site, tmp_path / "Master.csv", spool)
    for rotated in ("Master.csv.1", "Master-20260302.csv"):
        write(tmp_path / rotated, lines(0, 80))
    assert spool_file(site, tmp_path / "Master.csv.1", spool).records == 30
    assert spool_file(site, tmp_path / "Master-20260302.csv", spool).duplicate  # same content, other name
    # The log begun again under the old name is a new file: spooled whole, said plainly, no warning.
    write(tmp_path / "Master.csv", lines(500, 7))
    fresh = spool_file(site, tmp_path / "Master.csv", spool)
    assert (fresh.records, fresh.warning) == (7, "")
    assert "new file under a name spooled before" in fresh.note
    write(tmp_path / "Master.csv", lines(500, 9))
    assert spool_file(site, tmp_path / "Master.csv", spool).records == 2
    assert_each_once(spooled(spool), lines(0, 80) + lines(500, 9))


def test_a_log_begun_again_under_its_old_name_gets_its_held_last_line_once(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = write(tmp_path / "Master.csv", lines(0, 5))
    spool_file(site, path, spool, complete=False)
    write(path, lines(100, 3), tail=lines(103, 1)[0])  # rotated, and the first rows of the new log
    fresh = spool_file(site, path, spool, complete=False)
    assert (fresh.records, fresh.warning) == (3, "") and fresh.pending
    assert spool_file(site, path, spool, complete=False).records == 1  # unchanged: its last line ends it
    write(path, lines(100, 6))
    assert spool_file(site, path, spool, complete=False).records == 2
    assert spooled(spool) == lines(0, 5) + lines(100, 6)


def test_an_unrelated_name_is_never_taken_for_a_continuation(make_site, spool, tmp_path):
    site = make_site("HQ")
    write(tmp_path / "a.csv", lines(0, 5))
    spool_file(site, tmp_path / "a.csv", spool)
    write(tmp_path / "b.csv", lines(0, 8))  # begins with a.csv, but b is no rotation of a
    assert spool_file(site, tmp_path / "b.csv", spool).records == 8


def test_an_edited_file_is_reported_and_only_its_new_or_changed_lines_are_spooled(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = write(tmp_path / "Master.csv", lines(0, 100))
    spool_file(site, path, spool)
    edited = lines(0, 100)
    edited[40] = edited[40].replace(b'"5","3"', b'"9","7"')  # someone fixed a duration by hand…
    del edited[60]  # …and removed a line
    write(path, edited + lines(100, 5))  # and the PBX went on appending
    result = spool_file(site, path, spool)
    assert result.records == 6
    assert "does not continue what was spooled" in result.warning
    assert "98 of its lines were already there" in result.warning
    assert "6 new or changed lines were spooled" in result.warning
    assert "WARNING" in result.describe()
    stored = spooled(spool)
    assert stored == lines(0, 100) + [edited[40]] + lines(100, 5)
    # The edited file goes on growing: its new lines are plain continuations again.
    write(path, edited + lines(100, 8))
    later = spool_file(site, path, spool)
    assert (later.records, later.warning) == (3, "")


def test_an_older_copy_of_a_file_that_grew_adds_nothing_and_is_reported(make_site, spool, tmp_path):
    site = make_site("HQ")
    path = tmp_path / "Master.csv"
    for count in (10, 30):
        write(path, lines(0, count))
        spool_file(site, path, spool)
    write(path, lines(0, 20))  # a copy taken between the two
    older = spool_file(site, path, spool)
    assert older.records == 0 and "nothing in it is new" in older.warning
    assert spooled(spool) == lines(0, 30)


def test_a_continuation_cut_short_is_completed_by_the_next_attempt(make_site, spool, tmp_path, monkeypatch):
    site = make_site("HQ")
    path = write(tmp_path / "Master.csv", lines(0, 200))
    spool_file(site, path, spool)
    write(path, lines(0, 500))
    monkeypatch.setattr(services, "CHUNK", 4000)  # several appends for the new part
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
    assert 200 < len(spooled(spool)) < 500
    # The PBX wrote more meanwhile: the next attempt finishes the cut one, then adds the rest.
    write(path, lines(0, 520))
    spool_file(site, path, spool)
    assert spooled(spool) == lines(0, 520)
    assert all(row.complete for row in SpooledFile.objects.all())


def test_a_continuation_of_a_file_with_a_header_line_repeats_the_header_in_front(make_site, spool, tmp_path):
    from calltally.miner.pipeline import SiteMiner

    site = make_site("ROME", driver="cisco_ucm", internal_digits_min=4, internal_digits_max=4)
    text = CUCM12.read_bytes()
    header, types, *rows = [line for line in text.splitlines() if line]
    assert len(rows) >= 3
    path = tmp_path / "cdr_export.csv"
    path.write_bytes(b"\n".join([header, types, *rows[:1]]) + b"\n")
    spool_file(site, path, spool)
    path.write_bytes(b"\n".join([header, types, *rows]) + b"\n")
    grown = spool_file(site, path, spool)
    assert grown.records == 2 + len(rows) - 1 and "header" in grown.note
    # The part spooled later reads on its own: its rows come after the header again.
    stored = spooled(spool, "ROME")
    assert stored == [header, types, rows[0], header, types, *rows[1:]]
    mined = SiteMiner(site).mine()
    # The same as the whole file read once, but for the two header lines read again.
    other = make_site("MILAN", driver="cisco_ucm", internal_digits_min=4, internal_digits_max=4)
    spool_file(other, path, spool)
    whole = SiteMiner(other).mine()
    assert (mined.total_calls, mined.discarded, mined.rejected) == (whole.total_calls, whole.discarded, 0)
    assert mined.skipped_other == whole.skipped_other + 2
