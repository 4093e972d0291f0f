from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from calltally.drivers import get_driver_class
from calltally.drivers.avaya_cm import AvayaCmDriver
from calltally.drivers.base import (
    ANSWERED,
    BUSY,
    FAILED,
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

ROME = ZoneInfo("Europe/Rome")
# The customized record of the fixture, as page 2 of system-parameters cdr lists it.
FIELDS = [
    ["date", 6], "space", ["time", 4], "space", ["duration", 4], "space", ["cond-code", 1], "space",
    ["code-dial", 4], "space", ["code-used", 4], "space", ["dialed-num", 18], "space", ["calling-num", 15], "space",
    "acct-code", "space", "auth_code", "space", "in-trk-code", "space", "in-crt-id", "space", "out-crt-id", "space",
    "VDN", "return",
]


def driver(**options) -> AvayaCmDriver:
    return AvayaCmDriver(DriverOptions(timezone=ROME, options=options))


@pytest.fixture(scope="module")
def custom() -> list:
    return driver(fields=FIELDS, date_format="day/month").parse_many(raw_lines("avaya_cm_customized.txt"))


def test_it_is_registered_and_reads_a_customized_record(custom):
    assert get_driver_class("avaya_cm") is AvayaCmDriver
    assert [type(o) for o in custom].count(CdrRecord) == 10
    assert [o.detail for o in rejects(custom)] == [
        "duration 9999: the clock was changed during the call, its length is unknown"]


def test_an_ars_call_is_outbound_with_the_access_code_before_the_number(custom):
    call = custom[0]
    # ended 09:02 in Rome (08:02 UTC) after 2 min 1 tenth
    assert call.start == utc(2026, 3, 2, 8, 2) - dt.timedelta(seconds=126)
    assert (call.talk_seconds, call.ring_seconds, call.disposition) == (126, 0, ANSWERED)
    assert call.direction_hint == OUTBOUND
    assert (call.calling, call.called, call.original_called) == ("4001", "90612345678", "0612345678")
    assert (call.orig_device, call.dest_device, call.account_code) == ("", "101", "4711")


def test_an_incoming_call(custom):
    call = custom[1]
    assert call.direction_hint == INBOUND
    assert call.talk_seconds == 630  # 0105: 10 minutes 5 tenths
    assert call.start == utc(2026, 3, 2, 8, 15) - dt.timedelta(seconds=630)
    assert (call.calling, call.called, call.orig_device) == ("0298765432", "4002", "102")


def test_an_intraswitch_call(custom):
    call = custom[2]
    assert (call.direction_hint, call.calling, call.called, call.talk_seconds) == (INTERNAL, "4001", "4003", 72)


def test_a_trunk_access_code_call_and_a_conference_over_a_trunk_are_outbound(custom):
    tac, conference = custom[3], custom[4]
    assert (tac.direction_hint, tac.called, tac.dest_device, tac.talk_seconds) == (OUTBOUND, "1015551234", "101", 240)
    assert (conference.direction_hint, conference.called, conference.talk_seconds) == (OUTBOUND, "0611112222", 1380)


def test_ring_interval_records(custom):
    assert custom[5] == Skip("ring interval of an answered call (condition code G)")
    abandoned, busy = custom[6], custom[7]
    assert (abandoned.direction_hint, abandoned.disposition, abandoned.answered) == (INBOUND, NO_ANSWER, False)
    assert (abandoned.talk_seconds, abandoned.ring_seconds) == (0, 24)
    assert abandoned.start == utc(2026, 3, 2, 9, 1) - dt.timedelta(seconds=24)
    assert (busy.direction_hint, busy.disposition, busy.calling) == (INBOUND, BUSY, "0299990002")


def test_an_ineffective_call_attempt_failed(custom):
    call = custom[8]
    assert (call.disposition, call.talk_seconds, call.answered) == (FAILED, 0, False)
    assert (call.direction_hint, call.called) == (OUTBOUND, "90900123456")  # the access code was dialled


def test_an_authorisation_code_stands_for_a_missing_account_code(custom):
    call = custom[10]
    assert (call.account_code, call.called) == ("998877", "900442012345678")


def test_a_call_that_ended_after_midnight_started_the_day_before(custom):
    call = custom[11]
    assert call.start == utc(2026, 3, 2, 22, 58)  # 03/03 00:01 in Rome, 3 minutes


def test_month_first_dates_are_the_default():
    out = driver(fields=FIELDS).parse(raw_lines("avaya_cm_customized.txt")[0])
    assert out.start.date() == dt.date(2026, 2, 3)
    bad = driver(fields=FIELDS).parse(raw_lines("avaya_cm_customized.txt")[0].replace(b"020326", b"130326"))
    assert isinstance(bad, Reject) and "unreadable date '130326'; expected mmddyy" in bad.detail


def test_time_is_start():
    out = driver(fields=FIELDS, date_format="day/month", time_is="start").parse(raw_lines("avaya_cm_customized.txt")[0])
    assert out.start == utc(2026, 3, 2, 8, 2)


def test_sec_dur_gives_seconds_and_ucid_the_call_id():
    fields = [["date", 6], ["time", 4], ["sec-dur", 5], ["cond-code", 1], ["dialed-num", 10], ["calling-num", 5],
              ["ucid", 20]]
    out = driver(fields=fields).parse(b"0302260902  1377" + b"0612345678" + b"4001 " + b"00001001234567890123")
    assert (out.talk_seconds, out.direction_hint, out.pbx_call_id) == (137, OUTBOUND, "00001001234567890123")
    assert out.start == utc(2026, 3, 2, 8, 2) - dt.timedelta(seconds=137)


# --- the fixed layouts: no date, the receive instant gives the day -----------------------

UNFORMATTED_RECEIVED = ["2026-03-02T08:02:05+00:00", "2026-03-03T00:01:00+00:00", "2026-03-02T23:03:30+00:00"]


def test_the_unformatted_layout_takes_the_day_from_the_receive_instant():
    d = driver(layout="unformatted")
    assert d.needs_received
    out = d.parse_received(raw_lines("avaya_cm_unformatted.txt"), UNFORMATTED_RECEIVED)
    outbound, inbound, internal = out
    assert outbound.start == utc(2026, 3, 2, 8, 2) - dt.timedelta(seconds=126)
    assert (outbound.direction_hint, outbound.calling, outbound.called, outbound.account_code) == (
        OUTBOUND, "4001", "90612345678", "4711")
    assert outbound.dest_device == "101"
    # 23:58 in Rome, received at 01:01 the next day
    assert inbound.start == utc(2026, 3, 2, 22, 58) - dt.timedelta(seconds=630)
    assert (inbound.direction_hint, inbound.calling, inbound.called, inbound.orig_device) == (
        INBOUND, "0298765432", "4002", "102")
    # 00:03 in Rome, received at 00:03:30
    assert internal.start == utc(2026, 3, 2, 23, 3) - dt.timedelta(seconds=72)
    assert internal.direction_hint == INTERNAL


def test_a_record_without_date_or_receive_instant_is_rejected():
    d = driver(layout="unformatted")
    out = d.parse_many(raw_lines("avaya_cm_unformatted.txt"))
    assert all(isinstance(o, Reject) and "no date" in o.detail for o in out)
    assert d.parse_received(raw_lines("avaya_cm_unformatted.txt")[:1], ["yesterday"])[0].detail.startswith(
        "the record has no date")


def test_the_int_isdn_layout():
    out = driver(layout="int-isdn").parse_received(
        raw_lines("avaya_cm_int_isdn.txt"), ["2026-03-02T08:02:05+00:00", "2026-03-02T08:15:30+00:00"])
    outbound, inbound = records(out)
    assert (outbound.called, outbound.talk_seconds, outbound.account_code) == ("90612345678", 126, "4711")
    assert outbound.start == utc(2026, 3, 2, 8, 2) - dt.timedelta(seconds=126)
    assert (inbound.direction_hint, inbound.calling, inbound.called, inbound.orig_device) == (
        INBOUND, "0298765432", "4002", "102")


def test_a_customized_record_with_a_date_needs_no_receive_instant():
    assert not driver(fields=FIELDS).needs_received


# --- what is refused ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "raw, detail",
    [
        (b"020326 0902", "the record ends before its time, duration and condition code"),
        (b"020326 0962 0021 7", "unreadable time '0962'"),
        (b"020326 0902 00x1 7", "unreadable duration '00x1'"),
        (b"020326 0902 0021  ", "no condition code"),
    ],
)
def test_unreadable_records_are_rejected(raw, detail):
    out = driver(fields=FIELDS, date_format="day/month").parse(raw)
    assert isinstance(out, Reject) and detail in out.detail, out


def test_blank_lines_are_skipped():
    assert driver(layout="int-isdn").parse_many([b"", b"   \r", b"\x00\x00"]) == [Skip("blank line")] * 3


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "needs the site's customized record as option 'fields'"),
        ({"layout": "printer"}, "'layout' must be one of customized, unformatted, int-isdn"),
        ({"layout": "unformatted", "fields": ["date"]}, "'fields' is for the customized layout"),
        ({"fields": "date,time"}, "must be the customized record's data items in order"),
        ({"fields": ["date", "time", "mystery"]}, "field 'mystery' has no standard length"),
        ({"fields": [["date", 0]]}, "the length must be 1 to 99"),
        ({"fields": [["date", 6, 1]]}, "must be a name or a [name, length] pair"),
        ({"fields": ["date", "time", "duration"]}, "fields lack cond-code"),
        ({"fields": ["date", "time", "cond-code"]}, "fields lack duration or sec-dur"),
        ({"layout": "int-isdn", "date_format": "yy/mm/dd"}, "'date_format' must be month/day or day/month"),
        ({"layout": "int-isdn", "time_is": "middle"}, "'time_is' must be end"),
        ({"layout": "int-isdn", "trunks": []}, "unknown avaya_cm option(s) trunks"),
    ],
)
def test_wrong_options_are_refused_with_a_message(options, message):
    with pytest.raises(DriverConfigError) as caught:
        AvayaCmDriver.validate_options(options)
    assert message in str(caught.value)


def test_parse_many_agrees_with_parse():
    d = driver(fields=FIELDS, date_format="day/month")
    lines = raw_lines("avaya_cm_customized.txt")
    assert d.parse_many(lines) == [d.parse(raw) for raw in lines]
