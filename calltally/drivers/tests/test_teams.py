from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.drivers.base import (
    ANSWERED,
    BUSY,
    FAILED,
    INBOUND,
    NO_ANSWER,
    OUTBOUND,
    CdrRecord,
    DriverConfigError,
    DriverOptions,
    Reject,
    Skip,
)
from calltally.drivers.teams import TeamsDriver
from calltally.drivers.teams.driver import direction_of
from calltally.drivers.teams.synth import HEADER, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

CALL_TYPES = ("user_in", "user_out", "user_out_conf", "user_out_transfer", "user_out_forwarding", "conf_in",
              "conf_out", "ucap_in", "ucap_out")


def driver(**options) -> TeamsDriver:
    return TeamsDriver(DriverOptions(options=options))


@pytest.fixture(scope="module")
def pstn() -> list:
    return driver().parse_many(raw_lines("teams_pstn.csv"))


def test_it_reads_every_row_of_a_pstn_usage_report_and_skips_its_header(pstn):
    assert pstn[0] == Skip("header line")
    assert rejects(pstn) == []
    assert len(records(pstn)) == 7


def test_it_reads_an_outbound_call_in_utc(pstn):
    call = pstn[1]
    assert call.start == call.answer == utc(2026, 3, 2, 8, 0, 0)
    assert call.talk_seconds == 125 and call.ring_seconds == 0
    assert (call.calling, call.called, call.original_called) == ("+390255501001", "+390612345678", "+390612345678")
    assert call.direction_hint == OUTBOUND
    assert (call.orig_device, call.dest_device) == ("anna@contoso.example", "Microsoft")
    assert call.pbx_call_id == "5e1a7f3c-1111-4000-8000-00000000aaaa"
    assert call.account_code == "" and call.disposition == ANSWERED


def test_it_reads_an_inbound_call_with_seven_decimals(pstn):
    call = pstn[2]
    assert call.direction_hint == INBOUND
    assert call.start == dt.datetime(2026, 3, 2, 8, 10, 0, 123456, tzinfo=dt.UTC)
    assert (call.orig_device, call.dest_device) == ("Microsoft", "marco@contoso.example")
    assert (call.calling, call.called) == ("+393331234567", "+390255501002")


def test_transfers_and_forwards_to_the_pstn_are_outbound_and_name_the_redirecting_user(pstn):
    assert (pstn[3].direction_hint, pstn[3].redirecting) == (OUTBOUND, "giulia@contoso.example")
    assert (pstn[4].direction_hint, pstn[4].redirecting) == (OUTBOUND, "luca@contoso.example")
    assert pstn[1].redirecting == ""


def test_conference_dial_outs_and_auto_attendant_calls_have_their_direction(pstn):
    assert pstn[5].direction_hint == OUTBOUND
    assert pstn[6].direction_hint == INBOUND


def test_a_call_without_talk_time_is_not_answered(pstn):
    call = pstn[7]
    assert call.disposition == NO_ANSWER and not call.answered and call.answer is None


@pytest.mark.parametrize("call_type", CALL_TYPES)
def test_every_documented_call_type_gives_a_direction(call_type):
    expected = INBOUND if call_type.endswith("_in") else OUTBOUND
    assert direction_of(call_type) == expected
    assert direction_of(call_type.upper()) == expected
    assert direction_of("something_else") is None


def test_it_reads_direct_routing_rows_with_invite_time_and_sip_codes():
    out = driver().parse_many(raw_lines("teams_direct_routing.csv"))
    assert out[0] == Skip("header line") and rejects(out) == []
    ok, busy, cancelled = out[1:]
    assert ok.start == utc(2026, 3, 2, 10, 0, 0) and ok.answer == utc(2026, 3, 2, 10, 0, 8)
    assert (ok.ring_seconds, ok.talk_seconds, ok.direction_hint) == (8, 180, OUTBOUND)
    assert ok.dest_device == "sbc1.contoso.example" and ok.pbx_call_id == "7a1b0000-0000-4000-8000-000000000001"
    assert (busy.disposition, busy.direction_hint, busy.orig_device) == (BUSY, INBOUND, "sbc1.contoso.example")
    assert cancelled.disposition == NO_ANSWER
    failed = driver().parse_many([raw_lines("teams_direct_routing.csv")[0],
                                  raw_lines("teams_direct_routing.csv")[3].replace(b",487,", b",503,")])
    assert failed[1].disposition == FAILED


def test_columns_are_found_by_name_in_any_order():
    d = driver()
    assert d.parse(b"callType,calleeNumber,callerNumber,duration,startDateTime,callId") == Skip("header line")
    call = d.parse(b"user_out,+3906111,+3902555,42,2026-03-02T08:00:00+01:00,abc")
    assert call.start == utc(2026, 3, 2, 7, 0, 0) and call.talk_seconds == 42 and call.pbx_call_id == "abc"


def test_the_header_survives_a_restart_through_the_state():
    d = driver()
    d.parse(raw_lines("teams_pstn.csv")[0])
    state = json.loads(json.dumps(d.get_state()))
    fresh = driver()
    assert isinstance(fresh.parse(raw_lines("teams_pstn.csv")[1]), Reject)
    fresh.set_state(state)
    assert fresh.parse(raw_lines("teams_pstn.csv")[1]) == d.parse(raw_lines("teams_pstn.csv")[1])
    fresh.set_state(None)
    assert isinstance(fresh.parse(raw_lines("teams_pstn.csv")[1]), Reject)


def test_the_columns_option_reads_a_file_without_header():
    d = driver(columns=HEADER.split(","))
    assert isinstance(d.parse(raw_lines("teams_pstn.csv")[1]), CdrRecord)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"columns": "id,callType"}, "list of column names"),
        ({"columns": ["id", "duration"]}, "lacks the column"),
        ({"colums": []}, "unknown teams option"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        TeamsDriver.validate_options(options)


def test_bad_values_truncated_lines_and_foreign_lines_are_rejected():
    lines = raw_lines("teams_pstn.csv")
    d = driver()
    d.parse(lines[0])
    assert isinstance(d.parse(lines[1][:80]), Reject)
    assert d.parse(lines[1].replace(b"2026-03-02T08:00:00Z", b"yesterday")) == Reject(
        "unreadable startDateTime 'yesterday'")
    assert isinstance(d.parse(lines[1].replace(b",125,", b",12x,")), Reject)
    assert d.parse(b"") == Skip("blank line")
    foreign = d.parse_many(raw_lines("asterisk_master18.csv"))
    assert all(isinstance(o, Reject | Skip) for o in foreign)


def test_a_bom_and_crlf_do_not_matter():
    lines = raw_lines("teams_pstn.csv")
    out = driver().parse_many([b"\xef\xbb\xbf" + lines[0] + b"\r", lines[1] + b"\r"])
    assert out == driver().parse_many(lines[:2])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_random_bytes_never_raise(chunks):
    d = driver()
    d.parse(raw_lines("teams_pstn.csv")[0])
    out = d.parse_many(chunks)
    assert len(out) == len(chunks)
    assert all(isinstance(d.parse(c), CdrRecord | Skip | Reject) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(
    start=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    talk=st.integers(0, 100_000),
    caller=st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
    callee=st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True),
    call_type=st.sampled_from(CALL_TYPES),
)
def test_a_generated_row_reads_back(start, talk, caller, callee, call_type):
    start = start.replace(microsecond=0)
    d = driver()
    d.parse(HEADER.encode())
    row = (f"r1,c1,u1,a@b.example,A,{start.isoformat()}Z,{start.isoformat()}Z,{talk},0,{call_type},EUR,{callee},"
           f"CallingPlan,{caller},Domestic,Italy,,MCOPSTN1,Subscriber,Microsoft,microsoft")
    call = d.parse(row.encode())
    assert call.start == start.replace(tzinfo=dt.UTC)
    assert (call.talk_seconds, call.calling, call.called) == (talk, caller, callee)
    assert call.direction_hint == (INBOUND if call_type.endswith("_in") else OUTBOUND)


def test_two_thousand_synthetic_rows_read_without_a_reject():
    lines = list(synthesize(2000))
    out = driver().parse_many(lines)
    assert rejects(out) == [] and len(records(out)) == 2000
    d = driver()
    assert [d.parse(raw) for raw in lines[:300]] == out[:300]
