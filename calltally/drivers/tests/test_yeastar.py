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
    local_to_utc,
)
from calltally.drivers.yeastar import YeastarDriver
from calltally.drivers.yeastar.synth import HEADERS, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")


def driver(zone: dt.tzinfo = ROME, **options) -> YeastarDriver:
    return YeastarDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def s_series() -> list:
    return driver().parse_many(raw_lines("yeastar_s_series.csv"))


def test_it_reads_every_row_of_an_s_series_export(s_series):
    assert s_series[0] == Skip("header line")
    assert rejects(s_series) == [] and len(records(s_series)) == 7


def test_it_reads_an_outbound_call_in_the_sites_local_time(s_series):
    call = s_series[1]
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert call.answer == utc(2026, 3, 2, 8, 0, 7)
    assert (call.talk_seconds, call.ring_seconds) == (120, 7)
    assert (call.calling, call.called) == ("1001", "00390612345678")
    assert (call.orig_device, call.dest_device) == ("1001", "SIP-Carrier")
    assert call.direction_hint == OUTBOUND and call.pbx_call_id == "1772442000.1"


def test_an_inbound_call_is_called_on_its_did_and_reaches_the_extension(s_series):
    call = s_series[2]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.original_called, call.final_called) == (
        "3331234567", "0255501002", "0255501002", "1002")
    assert (call.orig_device, call.dest_device) == ("SIP-Carrier", "1002")


def test_internal_unanswered_and_busy_calls(s_series):
    assert s_series[3].direction_hint == INTERNAL and s_series[3].dest_device == "1004"
    assert s_series[4].disposition == NO_ANSWER and s_series[4].ring_seconds == 25 and s_series[4].answer is None
    assert s_series[5].disposition == BUSY and not s_series[5].answered


def test_the_pin_code_is_the_account_code(s_series):
    assert s_series[6].account_code == "4321"
    assert s_series[1].account_code == ""


def test_a_call_to_voicemail_with_talk_time_counts_as_answered(s_series):
    assert s_series[7].disposition == ANSWERED and s_series[7].talk_seconds == 20
    line = raw_lines("yeastar_s_series.csv")[7].replace(b",40,20,", b",40,0,")
    d = driver()
    d.parse(raw_lines("yeastar_s_series.csv")[0])
    assert d.parse(line).disposition == NO_ANSWER


def test_it_reads_the_p_series_names_and_legs_of_a_transferred_call():
    out = driver().parse_many(raw_lines("yeastar_p_series.csv"))
    assert rejects(out) == []
    outbound, inbound, transferred = out[1:]
    assert outbound.account_code == "777" and outbound.dest_device == "Carrier-2"
    assert inbound.pbx_call_id == transferred.pbx_call_id == "1772445660.12"
    assert transferred.direction_hint == INTERNAL


def test_it_reads_the_misspelt_dsttrcunkname_column():
    out = driver().parse_many(raw_lines("yeastar_dsttrcunkname.csv"))
    assert out[1].dest_device == "SIP-Carrier" and out[1].direction_hint == OUTBOUND


def test_without_a_type_the_trunks_give_the_direction():
    d = driver()
    d.parse(b"callid,timestart,callfrom,callto,callduraction,talkduraction,srctrunkname,dsttrunkname,status")
    assert d.parse(b"1,2026-03-02 09:00:00,1001,0612,10,5,,T1,ANSWERED").direction_hint == OUTBOUND
    assert d.parse(b"2,2026-03-02 09:00:00,0612,1001,10,5,T1,,ANSWERED").direction_hint == INBOUND
    assert d.parse(b"3,2026-03-02 09:00:00,1002,1001,10,5,,,ANSWERED").direction_hint is None


def test_the_header_survives_a_restart_through_the_state():
    lines = raw_lines("yeastar_p_series.csv")
    d = driver()
    d.parse(lines[0])
    fresh = driver()
    fresh.set_state(json.loads(json.dumps(d.get_state())))
    assert fresh.parse(lines[1]) == d.parse(lines[1])
    assert isinstance(driver().parse(lines[1]), Reject)


def test_the_columns_option_reads_a_file_without_header():
    call = driver(columns=HEADERS[2].split(",")).parse(raw_lines("yeastar_p_series.csv")[1])
    assert isinstance(call, CdrRecord) and call.account_code == "777"


@pytest.mark.parametrize(
    ("options", "message"),
    [({"columns": "callid"}, "list of column names"), ({"columns": ["callid"]}, "lacks the column"),
     ({"timezone": "UTC"}, "unknown yeastar option")],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        YeastarDriver.validate_options(options)


def test_bad_values_truncated_and_foreign_lines_are_rejected():
    lines = raw_lines("yeastar_s_series.csv")
    d = driver()
    d.parse(lines[0])
    assert isinstance(d.parse(lines[1][:40]), Reject)
    assert d.parse(lines[1].replace(b"2026-03-02 09:00:00", b"2026-02-30 09:00:00")) == Reject(
        "unreadable timestart '2026-02-30 09:00:00'")
    assert isinstance(d.parse(lines[1].replace(b",127,120,", b",127,abc,")), Reject)
    assert all(isinstance(o, Reject | Skip) for o in d.parse_many(raw_lines("cucm10_cdr.csv")))


def test_local_times_across_the_autumn_change_read_as_local_to_utc_does():
    lines = raw_lines("yeastar_s_series.csv")
    d = driver()
    d.parse(lines[0])
    for local in ("2026-10-25 02:30:00", "2026-03-29 02:30:00", "2026-10-25 03:00:00"):
        call = d.parse(lines[1].replace(b"2026-03-02 09:00:00", local.encode()))
        assert call.start == local_to_utc(dt.datetime.fromisoformat(local), ROME)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_random_bytes_never_raise(chunks):
    d = driver()
    d.parse(raw_lines("yeastar_s_series.csv")[0])
    assert len(d.parse_many(chunks)) == len(chunks)
    assert all(isinstance(d.parse(c), CdrRecord | Skip | Reject) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(
    start=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    ring=st.integers(0, 300),
    talk=st.integers(1, 50_000),
    src=st.from_regex(r"[0-9]{3,15}", fullmatch=True),
    dst=st.from_regex(r"[0-9]{3,15}", fullmatch=True),
    kind=st.sampled_from(("Inbound", "Outbound", "Internal")),
    generation=st.sampled_from((1, 2)),
)
def test_a_generated_row_reads_back(start, ring, talk, src, dst, kind, generation):
    start = start.replace(microsecond=0)
    d = driver(dt.UTC)
    d.parse(HEADERS[generation].encode())
    row = f"9.1,{start:%Y-%m-%d %H:%M:%S},{src},{dst},{ring + talk},{talk},,,ANSWERED,{kind},,,0,SN,"
    call = d.parse(row.encode())
    assert call.start == start.replace(tzinfo=dt.UTC)
    assert (call.talk_seconds, call.ring_seconds, call.calling, call.called) == (talk, ring, src, dst)
    assert call.direction_hint == {"Inbound": INBOUND, "Outbound": OUTBOUND, "Internal": INTERNAL}[kind]


@pytest.mark.parametrize("generation", [1, 2])
def test_two_thousand_synthetic_rows_read_without_a_reject(generation):
    lines = list(synthesize(2000, generation=generation))
    out = driver(dt.UTC).parse_many(lines)
    assert rejects(out) == [] and len(records(out)) == 2000
