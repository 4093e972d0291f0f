from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from calltally.drivers.asterisk_csv import AsteriskCsvDriver
from calltally.drivers.asterisk_csv.driver import device_of, dial_target, leg_outcome
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
    local_to_utc,
)

from .helpers import raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")
REPO = Path(__file__).resolve().parents[3]
FOREIGN_SAMPLE = REPO / ".." / "shared" / "samples" / "asterisk-cdr-custom" / "Master.csv"


def driver(zone: dt.tzinfo = ROME, **options) -> AsteriskCsvDriver:
    return AsteriskCsvDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def master18() -> list:
    return driver().parse_many(raw_lines("asterisk_master18.csv"))


def line(*fields: str) -> bytes:
    return ",".join(fields).encode()


def test_it_reads_every_line_of_an_18_column_master_csv(master18):
    assert rejects(master18) == []
    assert len(records(master18)) == 9


def test_it_reads_an_answered_outbound_call_in_the_sites_local_time(master18):
    call = master18[0]
    assert call.start == utc(2026, 3, 2, 8, 0, 0)  # 09:00 in Rome
    assert call.answer == utc(2026, 3, 2, 8, 0, 7)
    assert (call.talk_seconds, call.ring_seconds) == (120, 7)
    assert (call.calling, call.called, call.original_called) == ("1001", "0039061234567", "0039061234567")
    assert (call.orig_device, call.dest_device) == ("PJSIP/1001", "PJSIP/carrier")
    assert call.pbx_call_id == "1772438400.1"
    assert call.disposition == ANSWERED
    # "carrier" is not known to be a trunk: the Miner decides from the extension plan
    assert call.direction_hint is None


def test_a_configured_trunk_peer_makes_the_call_outbound():
    out = driver(trunk_peers=["Carrier"]).parse_many(raw_lines("asterisk_master18.csv"))
    assert out[0].direction_hint == OUTBOUND
    assert out[1].direction_hint == INBOUND
    assert out[7].direction_hint == OUTBOUND  # SIP/carrier, congested


def test_it_reads_an_inbound_call_by_its_context(master18):
    call = master18[1]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called) == ("0612345678", "1002")


def test_it_reads_an_internal_call(master18):
    call = master18[2]
    assert call.direction_hint == INTERNAL
    assert (call.orig_device, call.dest_device) == ("SIP/1003", "SIP/1004")


def test_it_reads_an_unanswered_call(master18):
    call = master18[3]
    assert call.answer is None
    assert call.disposition == NO_ANSWER and not call.answered
    assert (call.talk_seconds, call.ring_seconds) == (0, 20)


def test_it_reads_a_busy_call_whose_answer_is_an_empty_quoted_string(master18):
    call = master18[4]
    assert call.answer is None
    assert call.disposition == BUSY


def test_it_reads_a_clid_that_is_not_utf8_and_a_dahdi_trunk(master18):
    call = master18[5]
    assert isinstance(call, CdrRecord)
    assert call.direction_hint == INBOUND
    assert call.orig_device == "DAHDI/1"
    assert call.calling == "0612000111"


def test_a_failed_dial_to_a_dahdi_group_is_outbound(master18):
    call = master18[6]
    assert call.disposition == FAILED
    assert call.dest_device == ""
    assert call.direction_hint == OUTBOUND  # from the Dial target DAHDI/g0


def test_congestion_counts_as_busy(master18):
    assert master18[7].disposition == BUSY


def test_it_reads_the_account_code(master18):
    assert master18[8].account_code == "CC42"


def test_usegmtime_reads_times_as_utc():
    call = driver(usegmtime=True).parse(raw_lines("asterisk_master18.csv")[0])
    assert call.start == utc(2026, 3, 2, 9, 0, 0)


def test_it_reads_a_21_column_master_csv_with_a_header_line_and_crlf():
    lines = raw_lines("asterisk_master21.csv")
    assert all(raw.endswith(b"\r") for raw in lines)
    out = driver().parse_many(lines)
    assert out[0] == Skip("header line")
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 6
    assert calls[0].pbx_call_id == "1772442000.17"
    # the leg after the transfer shares the linked id of the call it came from
    assert calls[2].pbx_call_id == calls[1].pbx_call_id == "1772442060.19"
    assert calls[1].direction_hint == INBOUND  # from-did
    assert calls[5].calling == "0039333111222" and calls[5].disposition == NO_ANSWER


@pytest.mark.parametrize("width", [16, 17, 19, 20])
def test_it_reads_the_layouts_without_uniqueid_or_userfield(width):
    fields = ['"ACC"', '"1001"', '"1002"', '"from-internal"', '"""A"" <1001>"', '"SIP/1001-00000001"',
              '"SIP/1002-00000002"', '"Dial"', '"SIP/1002"', '"2026-03-02 09:00:00"', '"2026-03-02 09:00:05"',
              '"2026-03-02 09:01:05"', "65", "60", '"ANSWERED"', '"DOCUMENTATION"']
    extra = {
        16: [],
        17: ['"1772438400.1"'],
        19: ['""', '"1772438400.9"', "9"],
        20: ['"1772438400.1"', '""', '"1772438400.9"', "9"],
    }[width]
    call = driver().parse(line(*fields, *extra))
    assert isinstance(call, CdrRecord)
    assert (call.talk_seconds, call.ring_seconds, call.account_code) == (60, 5, "ACC")
    expected_id = {16: "", 17: "1772438400.1", 19: "1772438400.9", 20: "1772438400.9"}[width]
    assert call.pbx_call_id == expected_id


def test_a_17_field_line_with_a_userfield_instead_of_a_uniqueid():
    raw = raw_lines("asterisk_master18.csv")[8]
    assert raw.endswith(b',"1772438880.15","project-x"')
    call = driver().parse(raw.replace(b',"1772438880.15"', b""))  # drop the uniqueid, keep the userfield
    assert isinstance(call, CdrRecord)
    assert call.pbx_call_id == "" and call.account_code == "CC42"


def test_a_header_line_is_skipped():
    header = (b"accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,"
              b"end,duration,billsec,disposition,amaflags,uniqueid,userfield")
    assert driver().parse(header) == Skip("header line")
    assert driver().parse(b'"accountcode","src","dst"') == Skip("header line")


def test_a_line_with_the_wrong_number_of_fields_is_rejected():
    out = driver().parse(b'"","1001","1002"')
    assert out == Reject("3 fields; an Asterisk cdr_csv line has 16 to 18, or 19 to 21 with newcdrcolumns")


def test_a_line_with_an_unreadable_date_is_rejected():
    raw = raw_lines("asterisk_master18.csv")[0].replace(b"2026-03-02 09:00:00", b"2026-13-02 09:00:00")
    assert driver().parse(raw) == Reject("unreadable start time '2026-13-02 09:00:00'")
    raw = raw_lines("asterisk_master18.csv")[0].replace(b"2026-03-02 09:00:07", b"yesterday")
    assert driver().parse(raw) == Reject("unreadable answer time 'yesterday'")
    raw = raw_lines("asterisk_master18.csv")[0].replace(b"2026-03-02 09:02:07", b"soon")
    assert driver().parse(raw) == Reject("unreadable end time 'soon'")


def test_a_line_with_a_duration_that_is_not_a_number_is_rejected():
    raw = raw_lines("asterisk_master18.csv")[0].replace(b",127,120,", b",12x,120,")
    assert driver().parse(raw) == Reject("duration is not a whole number of seconds: '12x'")
    raw = raw_lines("asterisk_master18.csv")[0].replace(b",127,120,", b",127,,")
    assert driver().parse(raw) == Reject("billsec is not a whole number of seconds: ''")


def test_a_bom_blank_lines_and_a_truncated_line_are_handled():
    lines = raw_lines("asterisk_master18.csv")
    clean = driver().parse_many(lines)
    damaged = [b"\xef\xbb\xbf" + lines[0], b"", lines[1][:60], *lines[2:]]
    out = driver().parse_many(damaged)
    assert out[0] == clean[0]
    assert out[1] == Skip("blank line")
    assert isinstance(out[2], Reject)
    assert out[3:] == clean[2:]


def test_parse_and_parse_many_agree():
    lines = raw_lines("asterisk_master18.csv") + raw_lines("asterisk_master21.csv")
    d = driver()
    assert [d.parse(raw) for raw in lines] == driver().parse_many(lines)


def test_times_in_the_repeated_autumn_hour_read_as_local_to_utc_does():
    raw = raw_lines("asterisk_master18.csv")[0]
    for local in ("2026-10-25 02:30:00", "2026-10-25 01:59:59", "2026-10-25 03:00:00", "2026-03-29 02:30:00"):
        call = driver().parse(raw.replace(b"2026-03-02 09:00:00", local.encode()))
        assert call.start == local_to_utc(dt.datetime.fromisoformat(local), ROME), local


def test_cisco_lines_are_rejected_not_raised():
    out = driver().parse_many(raw_lines("cucm10_cdr.csv"))
    assert all(isinstance(o, Reject | Skip) for o in out)


def test_channel_names_lose_their_per_call_suffix():
    assert device_of("PJSIP/carrier-0000001a") == "PJSIP/carrier"
    assert device_of("Local/100@from-internal-00000003;2") == "Local/100@from-internal"
    assert device_of("DAHDI/1-1") == "DAHDI/1"
    assert device_of("PJSIP/1001") == "PJSIP/1001"
    assert device_of("") == ""


def test_dial_targets_name_the_device():
    assert dial_target("PJSIP/0039061234567@carrier,300,Tt") == "PJSIP/carrier"
    assert dial_target("SIP/carrier/0039022222333,60") == "SIP/carrier"
    assert dial_target("DAHDI/g0/0999,60") == "DAHDI/g0"
    assert dial_target("SIP/301&SIP/200,60,t") == "SIP/301"
    assert dial_target("s,1") == ""


@pytest.mark.parametrize(
    ("options", "context", "expected"),
    [
        ({}, "from-pstn", INBOUND),
        ({}, "carrier-pstn", INBOUND),
        ({}, "from-internal", None),
        ({"inbound_contexts": ["incoming"]}, "incoming", INBOUND),
        ({"inbound_contexts": ["incoming"]}, "from-did", None),
        ({"inbound_contexts": ["incoming"]}, "from-pstn", INBOUND),  # the suffixes still apply
        ({"inbound_context_suffixes": []}, "carrier-pstn", None),
        ({"outbound_contexts": ["outrt-1"]}, "outrt-1", OUTBOUND),
    ],
)
def test_the_context_gives_the_direction_when_the_channels_do_not(options, context, expected):
    fields = ['""', '"0612"', '"1002"', f'"{context}"', '""', '"PJSIP/peer-00000001"',
              '"PJSIP/other-00000002"', '"Dial"', '""', '"2026-03-02 09:00:00"', '""',
              '"2026-03-02 09:00:05"', "5", "0", '"NO ANSWER"', '"DOCUMENTATION"', '"1.1"', '""']
    assert driver(**options).parse(line(*fields)).direction_hint == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"usegmtime": "yes"}, "usegmtime' must be true or false"),
        ({"trunk_peers": "carrier"}, "must be a list of strings"),
        ({"inbound_contexts": [1]}, "non-empty strings"),
        ({"trunks": ["x"]}, "unknown asterisk_csv option"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        AsteriskCsvDriver.validate_options(options)


def test_a_foreign_cdr_custom_master_csv_does_not_make_it_raise():
    if not FOREIGN_SAMPLE.is_file():
        pytest.skip(f"the shared sample {FOREIGN_SAMPLE} is not on this machine")
    lines = FOREIGN_SAMPLE.read_bytes().splitlines()
    d = driver()
    out = d.parse_many(lines)
    assert len(out) == len(lines)
    assert all(isinstance(o, CdrRecord | Skip | Reject) for o in out)
    assert all(isinstance(d.parse(raw), CdrRecord | Skip | Reject) for raw in lines)
    assert any(isinstance(o, Reject) and "cdr_custom" in o.detail for o in out)


@pytest.fixture(scope="module")
def unanswered_legs() -> list:
    return driver(trunk_peers=["carrier"]).parse_many(raw_lines("asterisk_unanswered_legs.csv"))


def test_a_ring_group_nobody_answered_has_no_talk_time_on_any_row(unanswered_legs):
    rows = unanswered_legs[:3]
    assert all(isinstance(row, CdrRecord) for row in rows)
    assert [(row.talk_seconds, row.answer, row.answered) for row in rows] == [(0, None, False)] * 3
    assert [row.disposition for row in rows] == [NO_ANSWER] * 3
    assert [row.final_called for row in rows] == ["201", "202", ""]
    assert {row.leg_key for row in rows} == {"1772445600.20"}


def test_a_no_answer_leg_with_its_answer_filled_in_rang_for_its_whole_duration(unanswered_legs):
    leg = unanswered_legs[0]
    assert (leg.ring_seconds, leg.talk_seconds, leg.answer) == (60, 0, None)
    assert leg.start == utc(2026, 3, 2, 10, 0, 0) and leg.direction_hint == INBOUND


def test_the_rows_the_dialplan_alone_answered_are_missed_calls(unanswered_legs):
    hangup, playback, voicemail, queue = unanswered_legs[2:6]
    for row in (hangup, playback, voicemail, queue):
        assert (row.disposition, row.talk_seconds, row.answer, row.answered) == (NO_ANSWER, 0, None, False)
    assert [row.ring_seconds for row in (hangup, playback, voicemail, queue)] == [63, 15, 50, 61]
    assert queue.direction_hint == INBOUND and queue.dest_device == ""


def test_a_busy_row_with_billsec_has_no_talk_time(unanswered_legs):
    busy = unanswered_legs[6]
    assert (busy.disposition, busy.talk_seconds, busy.ring_seconds, busy.answer) == (BUSY, 0, 5, None)


def test_a_conference_is_answered_although_no_destination_channel_is_named(unanswered_legs):
    conference = unanswered_legs[7]
    assert (conference.disposition, conference.talk_seconds, conference.ring_seconds) == (ANSWERED, 300, 1)
    assert conference.answered


def test_the_phone_that_answered_a_ring_group_keeps_its_talk_time(unanswered_legs):
    answered = unanswered_legs[8]
    assert (answered.disposition, answered.talk_seconds, answered.ring_seconds) == (ANSWERED, 120, 8)
    assert answered.answer == utc(2026, 3, 2, 10, 30, 8) and answered.final_called == "203"


@pytest.fixture(scope="module")
def trunk_targets() -> list:
    options = {"trunk_peers": ["5550100"], "outbound_contexts": ["outrt-main"]}
    return driver(**options).parse_many(raw_lines("asterisk_trunk_targets.csv"))


def test_a_trunk_channel_is_never_the_phone_a_row_reached(trunk_targets):
    dahdi, sip_peer, by_context, zap, ring_group = trunk_targets
    assert (dahdi.dest_device, dahdi.direction_hint, dahdi.final_called) == ("DAHDI/1", OUTBOUND, "")
    assert (sip_peer.dest_device, sip_peer.direction_hint, sip_peer.final_called) == ("SIP/5550100", OUTBOUND, "")
    assert (zap.dest_device, zap.direction_hint, zap.final_called) == ("Zap/3", OUTBOUND, "")
    assert ring_group.final_called == "202"
    assert by_context.final_called == ""


def test_an_outbound_rows_destination_is_the_outside_line_even_with_a_numbered_peer(trunk_targets):
    by_context = trunk_targets[2]
    assert (by_context.dest_device, by_context.direction_hint) == ("PJSIP/7001", OUTBOUND)
    assert by_context.final_called == ""


T0 = utc(2026, 3, 2, 10, 0, 0)


@pytest.mark.parametrize(
    ("disposition", "lastapp", "dstchannel", "expected"),
    [
        ("ANSWERED", "Dial", "PJSIP/201", (ANSWERED, 50, 10, T0)),
        ("NO ANSWER", "Dial", "PJSIP/201", (NO_ANSWER, 0, 60, None)),
        ("BUSY", "Dial", "PJSIP/201", (BUSY, 0, 60, None)),
        ("FAILED", "Dial", "", (FAILED, 0, 60, None)),
        ("CONGESTION", "Dial", "SIP/carrier", (BUSY, 0, 60, None)),
        ("ANSWERED", "Hangup", "", (NO_ANSWER, 0, 60, None)),
        ("ANSWERED", "Dial", "", (NO_ANSWER, 0, 60, None)),
        ("ANSWERED", "Queue", "", (NO_ANSWER, 0, 60, None)),
        ("ANSWERED", "ConfBridge", "", (ANSWERED, 50, 10, T0)),
        ("ANSWERED", "Playback", None, (ANSWERED, 50, 10, T0)),  # the file has no dstchannel column
        ("", "Dial", "PJSIP/201", (ANSWERED, 50, 10, T0)),  # unknown text with billsec: answered
    ],
)
def test_talk_time_comes_from_billsec_and_the_disposition_never_from_the_answer_instant_alone(
        disposition, lastapp, dstchannel, expected):
    assert leg_outcome(disposition, 60, 50, T0, lastapp, dstchannel) == expected
