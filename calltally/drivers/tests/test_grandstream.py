from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.drivers.base import (
    ANSWERED,
    BUSY,
    INBOUND,
    INTERNAL,
    NO_ANSWER,
    OUTBOUND,
    CdrRecord,
    DriverConfigError,
    DriverOptions,
    Reject,
    Skip,
)
from calltally.drivers.grandstream import GrandstreamDriver
from calltally.drivers.grandstream.synth import COLUMNS, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")


def driver(zone: dt.tzinfo = ROME, **options) -> GrandstreamDriver:
    return GrandstreamDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def ucm() -> list:
    return driver().parse_many(raw_lines("grandstream_ucm.csv"))


def test_it_reads_every_row_and_skips_the_header_that_starts_with_acctid(ucm):
    assert ucm[0] == Skip("header line")
    assert rejects(ucm) == [] and len(records(ucm)) == 8


def test_it_reads_an_outbound_call_through_a_trunk(ucm):
    call = ucm[1]
    assert call.start == utc(2026, 3, 2, 8, 0, 0) and call.answer == utc(2026, 3, 2, 8, 0, 7)
    assert (call.talk_seconds, call.ring_seconds) == (120, 7)
    assert (call.calling, call.called) == ("1001", "00390612345678")
    assert (call.orig_device, call.dest_device) == ("1001", "Carrier")
    assert call.direction_hint == OUTBOUND and call.disposition == ANSWERED
    assert call.pbx_call_id == "1772438400.1-1001"


def test_inbound_and_internal_calls_follow_the_trunk_name_columns(ucm):
    assert ucm[2].direction_hint == INBOUND
    assert (ucm[2].orig_device, ucm[2].dest_device, ucm[2].final_called) == ("Carrier", "1002", "1002")
    assert ucm[3].direction_hint == INTERNAL and (ucm[3].orig_device, ucm[3].dest_device) == ("1003", "1004")


def test_unanswered_and_busy_calls(ucm):
    assert ucm[4].disposition == NO_ANSWER and ucm[4].answer is None and ucm[4].ring_seconds == 25
    assert ucm[5].disposition == BUSY


def test_a_no_answer_row_with_billsec_and_an_answer_time_has_no_talk_time():
    names = COLUMNS.split(",")
    row = dict.fromkeys(names, "")
    row.update(AcctId="1", src="0612345678", dst="1001", start="2026-03-02 10:00:00",
               answer="2026-03-02 10:00:00", duration="60", billsec="60", disposition="NO ANSWER",
               src_trunk_name="carrier", session="s1")
    driver = GrandstreamDriver()
    [rec] = driver.parse_many([COLUMNS.encode(), ",".join(row[c] for c in names).encode()])[1:]
    assert (rec.disposition, rec.talk_seconds, rec.ring_seconds, rec.answered) == (NO_ANSWER, 0, 60, False)


def test_it_reads_the_account_code(ucm):
    assert ucm[6].account_code == "C42"


def test_a_transferred_call_shares_the_session_and_names_who_transferred(ucm):
    first, second = ucm[7], ucm[8]
    assert first.pbx_call_id == second.pbx_call_id == "1772438760.13-3471112222"
    assert second.redirecting == "1008" and first.redirecting == ""


def test_columns_are_found_by_name_without_acctid():
    d = driver(dt.UTC)
    assert d.parse(b"start,src,dst,billsec,duration,disposition,dst_trunk_name") == Skip("header line")
    call = d.parse(b"2026-03-02 09:00:00,1001,0612,10,12,ANSWERED,Carrier")
    assert (call.talk_seconds, call.ring_seconds, call.direction_hint) == (10, 2, OUTBOUND)


def test_the_header_survives_a_restart_through_the_state():
    lines = raw_lines("grandstream_ucm.csv")
    d = driver()
    d.parse(lines[0])
    fresh = driver()
    fresh.set_state(json.loads(json.dumps(d.get_state())))
    assert fresh.parse(lines[1]) == d.parse(lines[1])
    assert isinstance(driver().parse(lines[1]), Reject)
    assert isinstance(driver(columns=COLUMNS.split(",")).parse(lines[1]), CdrRecord)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"columns": "start"}, "list of column names"), ({"columns": ["start"]}, "lacks the column"),
     ({"trunks": []}, "unknown grandstream option")],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        GrandstreamDriver.validate_options(options)


def test_bad_values_truncated_and_foreign_lines_are_rejected():
    lines = raw_lines("grandstream_ucm.csv")
    d = driver()
    d.parse(lines[0])
    assert isinstance(d.parse(lines[1][:100]), Reject)
    assert d.parse(lines[1].replace(b"2026-03-02 09:00:00", b"yesterday")) == Reject(
        "unreadable start time 'yesterday'")
    assert isinstance(d.parse(lines[1].replace(b",127,120,", b",127,x,")), Reject)
    assert all(isinstance(o, Reject | Skip) for o in d.parse_many(raw_lines("asterisk_master18.csv")))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_random_bytes_never_raise(chunks):
    d = driver()
    d.parse(raw_lines("grandstream_ucm.csv")[0])
    assert len(d.parse_many(chunks)) == len(chunks)
    assert all(isinstance(d.parse(c), CdrRecord | Skip | Reject) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(
    start=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    ring=st.integers(0, 300),
    talk=st.integers(0, 50_000),
    src=st.from_regex(r"[0-9]{3,15}", fullmatch=True),
    dst=st.from_regex(r"[0-9]{3,15}", fullmatch=True),
    trunks=st.sampled_from((("Carrier", ""), ("", "Carrier"), ("", ""))),
)
def test_a_generated_row_reads_back(start, ring, talk, src, dst, trunks):
    start = start.replace(microsecond=0)
    d = driver(dt.UTC)
    d.parse(COLUMNS.encode())
    width = len(COLUMNS.split(","))
    cells = [""] * width
    cells[2], cells[3], cells[10] = src, dst, f"{start:%Y-%m-%d %H:%M:%S}"
    cells[13], cells[14], cells[15] = str(ring + talk), str(talk), "ANSWERED" if talk else "NO ANSWER"
    cells[-2], cells[-1] = trunks
    call = d.parse(",".join(cells).encode())
    assert call.start == start.replace(tzinfo=dt.UTC)
    assert (call.talk_seconds, call.ring_seconds, call.calling, call.called) == (talk, ring, src, dst)
    assert call.direction_hint == (INBOUND if trunks[0] else OUTBOUND if trunks[1] else INTERNAL)


def test_two_thousand_synthetic_rows_read_without_a_reject():
    out = driver(dt.UTC).parse_many(list(synthesize(2000)))
    assert rejects(out) == [] and len(records(out)) == 2000
