from __future__ import annotations

import collections
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from calltally.conftest import sample
from calltally.drivers import get_driver_class
from calltally.drivers.avaya_ipo import AvayaIpoDriver
from calltally.drivers.base import (
    ANSWERED,
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

from .helpers import raw_lines, records, rejects, utc

WARSAW = ZoneInfo("Europe/Warsaw")
HEADER = (b"Call Start,Connected Time,Ring Time,Caller,Direction,Called Number,Dialled Number,Account,Is Internal,"
          b"Call ID,Continuation,Party1Device,Party1Name,Party2Device,Party2Name,Hold Time,Park Time,AuthValid,"
          b"AuthCode,User Charged,Call Charge,Currency,Amount at Last User Change,Call Units,"
          b"Units at Last User Change,Cost per Unit,Mark Up,External Targeting Cause,External Targeter Id,"
          b"External Targeted Number")


def driver(zone: dt.tzinfo = WARSAW) -> AvayaIpoDriver:
    return AvayaIpoDriver(DriverOptions(timezone=zone))


@pytest.fixture(scope="module")
def smdr() -> list:
    return driver().parse_many(raw_lines("avaya_ipo_smdr.txt"))


def test_it_is_registered_and_reads_every_line_of_30_34_and_35_fields(smdr):
    assert get_driver_class("avaya_ipo") is AvayaIpoDriver
    assert rejects(smdr) == []
    assert len(records(smdr)) == 13


def test_it_reads_an_outbound_call_with_its_account_code(smdr):
    call = smdr[0]  # a 30-field line (R8)
    assert call.start == utc(2026, 3, 2, 8, 0, 0)  # 09:00 in Warsaw
    assert (call.talk_seconds, call.ring_seconds, call.disposition, call.answered) == (125, 6, ANSWERED, True)
    assert call.direction_hint == OUTBOUND
    # what the user dialled, access code included; the digits sent to the line
    assert (call.calling, call.called, call.original_called, call.final_called) == (
        "4001", "0612345678", "612345678", "")
    assert (call.orig_device, call.dest_device) == ("E4001", "T9001")
    assert (call.account_code, call.pbx_call_id) == ("4711", "1000101")


def test_it_reads_an_internal_call(smdr):
    call = smdr[1]
    assert call.direction_hint == INTERNAL
    assert (call.calling, call.called, call.final_called) == ("4002", "4003", "4003")
    assert (call.talk_seconds, call.ring_seconds) == (44, 4)


def test_an_inbound_call_counts_its_hold_time_and_names_the_extension_that_had_it(smdr):
    call = smdr[2]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.original_called, call.final_called) == (
        "0221234567", "4001", "223456001", "4001")
    assert (call.orig_device, call.dest_device) == ("T9002", "E4001")  # the line is Party2
    assert (call.talk_seconds, call.ring_seconds) == (90 + 12, 7)


def test_an_inbound_call_sent_to_voicemail_gives_two_segments_of_one_call(smdr):
    first, second = smdr[3], smdr[4]
    assert first.pbx_call_id == second.pbx_call_id == "1000104"
    assert first.start == second.start
    assert (first.final_called, first.talk_seconds) == ("4002", 13 + 11)
    assert (second.direction_hint, second.dest_device, second.final_called) == (INBOUND, "V9501", "")
    assert (second.called, second.talk_seconds, second.ring_seconds) == ("4002", 21, 0)


def test_an_unanswered_inbound_call_without_caller_id(smdr):
    call = smdr[5]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.original_called) == ("", "4003", "4003")
    assert (call.disposition, call.answered, call.talk_seconds, call.ring_seconds) == (NO_ANSWER, False, 0, 15)


def test_an_inbound_call_forwarded_to_an_outside_number_is_an_outbound_call_of_the_forwarder(smdr):
    call = smdr[6]
    assert call.direction_hint == OUTBOUND
    assert (call.calling, call.called, call.final_called, call.redirecting) == (
        "0611112222", "0601234567", "0601234567", "4004")
    assert call.original_called == "4004"
    assert (call.orig_device, call.dest_device) == ("T9001", "T9002")


def test_a_transferred_outbound_call_charges_each_segment_to_the_extension_that_had_it(smdr):
    first, second = smdr[7], smdr[8]  # 35 fields (R11: SMDR record time last)
    assert first.pbx_call_id == second.pbx_call_id == "1000107"
    assert (first.calling, first.redirecting, first.talk_seconds) == ("4001", "", 50)
    assert (second.calling, second.redirecting) == ("4002", "4001")
    assert second.talk_seconds == 130 + 30 + 15  # connected + hold + park
    assert second.called == first.called == "0755550000"


def test_short_codes_and_dials_that_got_no_line(smdr):
    voicemail, no_line = smdr[9], smdr[10]
    assert (voicemail.direction_hint, voicemail.called, voicemail.answered) == (INTERNAL, "*17", False)
    # neither a line nor a short code: the Miner decides from the site's extension plan
    assert (no_line.direction_hint, no_line.calling, no_line.called, no_line.final_called) == (
        None, "4004", "0900123456", "")


def test_a_valid_authorisation_code_stands_for_a_missing_account_code(smdr):
    assert smdr[11].account_code == "99123"
    line = raw_lines("avaya_ipo_smdr.txt")[11].replace(b",1,99123,", b",0,99123,")
    assert driver().parse(line).account_code == ""
    line = raw_lines("avaya_ipo_smdr.txt")[11].replace(b",1,99123,", b",1,n/a,")
    assert driver().parse(line).account_code == ""


def test_is_internal_wins_over_a_line_between_two_nodes(smdr):
    call = smdr[12]
    assert (call.direction_hint, call.dest_device, call.final_called) == (INTERNAL, "T9020", "")


def test_a_header_line_crlf_and_latin1_names_are_read():
    lines = [HEADER + b"\r", b'"Call Start","Connected Time","Ring Time"']
    lines += [raw + b"\r" for raw in raw_lines("avaya_ipo_smdr.txt")[:3]]
    lines.append(raw_lines("avaya_ipo_smdr.txt")[1].replace("Wiśniewski".encode(), "Wi\xb6niewski".encode("latin-1")))
    out = driver().parse_many(lines)
    assert out[:2] == [Skip("header line"), Skip("header line")]
    assert out[2:5] == driver().parse_many(raw_lines("avaya_ipo_smdr.txt")[:3])
    assert isinstance(out[5], CdrRecord) and out[5].calling == "4002"


def test_parse_many_agrees_with_parse():
    lines = raw_lines("avaya_ipo_smdr.txt")
    assert driver().parse_many(lines) == [driver().parse(raw) for raw in lines]


@pytest.mark.parametrize(
    "change, detail",
    [
        (lambda r: r.replace(b"2026/03/02 09:00:00", b"02/03/2026 09:00"), "unreadable Call Start"),
        (lambda r: r.replace(b",00:02:05,", b",2m05s,"), "unreadable Connected Time"),
        (lambda r: r.replace(b",00:02:05,6,", b",00:02:05,six,"), "Ring Time is not a whole number"),
        (lambda r: r.replace(b",4001,O,", b",4001,X,"), "Direction is 'X'"),
        (lambda r: b",".join(r.split(b",")[:12]), "12 fields"),
    ],
)
def test_unreadable_lines_are_rejected_with_the_reason(change, detail):
    out = driver().parse(change(raw_lines("avaya_ipo_smdr.txt")[0]))
    assert isinstance(out, Reject) and detail in out.detail, out


def test_it_has_no_options():
    with pytest.raises(DriverConfigError, match="avaya_ipo has no options"):
        AvayaIpoDriver(DriverOptions(options={"layout": "x"}))


# --- the real capture in ../shared/samples -------------------------------------------

def test_the_ip_office_500_capture_reads_with_zero_rejects():
    lines = sample("avaya-ipoffice/ipo500-2017-08.smdr").read_bytes().splitlines()
    out = driver().parse_many(lines)
    assert len(out) == 284
    assert rejects(out) == [] and all(isinstance(o, CdrRecord) for o in out)
    hints = collections.Counter(o.direction_hint for o in out)
    assert hints == {INTERNAL: 250, OUTBOUND: 27, INBOUND: 7}
    outbound = [o for o in out if o.direction_hint == OUTBOUND]
    assert all(o.dest_device.startswith("T900") and o.orig_device.startswith("E") for o in outbound)
    assert all(o.called.startswith("0") for o in outbound)  # the access code 0 is kept for the site to strip
    inbound = [o for o in out if o.direction_hint == INBOUND]
    assert all(not o.answered and o.ring_seconds > 0 and o.final_called == "212" for o in inbound)
    first = out[0]
    assert first.start == utc(2017, 8, 1, 5, 28, 53)  # 07:28:53 in Warsaw, summer time
    assert (first.calling, first.called, first.talk_seconds, first.ring_seconds) == ("215", "222", 119, 3)
