from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltally.drivers.asterisk_custom import AsteriskCustomDriver
from calltally.drivers.asterisk_custom.driver import PRESETS
from calltally.drivers.asterisk_custom.synth import SYNTH_OPTIONS, synthesize
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

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")
SAMPLE = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "asterisk-cdr-custom" / "Master.csv"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def driver(zone: dt.tzinfo = ROME, **options) -> AsteriskCustomDriver:
    return AsteriskCustomDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def master() -> list:
    return driver(trunk_peers=["carrier"]).parse_many(raw_lines("asterisk_custom_master.csv"))


@pytest.fixture(scope="module")
def freepbx() -> list:
    return driver(preset="freepbx").parse_many(raw_lines("asterisk_custom_freepbx.csv"))


def test_it_reads_every_line_of_a_cdr_custom_master_csv(master):
    assert rejects(master) == []
    assert len(records(master)) == 7


def test_it_reads_an_answered_outbound_call_with_an_account_code(master):
    call = master[0]
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert call.answer == utc(2026, 3, 2, 8, 0, 7)
    assert (call.talk_seconds, call.ring_seconds) == (120, 7)
    assert (call.calling, call.called) == ("1001", "0039061234567")
    assert (call.orig_device, call.dest_device) == ("SIP/1001", "SIP/carrier")
    assert call.direction_hint == OUTBOUND
    assert call.account_code == "CC42"
    assert call.pbx_call_id == "1772438400.1"
    assert call.disposition == ANSWERED


def test_it_reads_inbound_internal_and_unanswered_calls(master):
    assert master[1].direction_hint == INBOUND
    assert (master[1].calling, master[1].called) == ("0612345678", "1002")
    assert master[2].direction_hint == INTERNAL
    unanswered = master[3]
    assert unanswered.direction_hint == INBOUND and unanswered.orig_device == "DAHDI/1"
    assert unanswered.answer is None and unanswered.disposition == NO_ANSWER
    assert (unanswered.talk_seconds, unanswered.ring_seconds) == (0, 20)


def test_a_busy_dial_to_a_dahdi_group_is_outbound(master):
    assert master[4].disposition == BUSY
    assert master[4].direction_hint == OUTBOUND


def test_a_transferred_call_shares_its_uniqueid(master):
    assert master[5].pbx_call_id == master[6].pbx_call_id == "1772440200.9"
    assert master[6].direction_hint == INBOUND  # from the trunk peer


def test_a_freepbx_export_with_a_header_line_and_crlf(freepbx):
    assert freepbx[0] == Skip("header line")
    assert rejects(freepbx) == []
    assert len(records(freepbx)) == 6


def test_freepbx_outbound_cnum_makes_the_call_outbound(freepbx):
    call = freepbx[1]
    assert call.direction_hint == OUTBOUND
    assert (call.calling, call.called, call.account_code) == ("1001", "0039061234567", "CC42")
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert (call.talk_seconds, call.ring_seconds) == (120, 7)
    assert freepbx[5].direction_hint == OUTBOUND and freepbx[5].disposition == BUSY


def test_freepbx_did_makes_the_call_inbound_and_is_the_called_number(freepbx):
    call = freepbx[2]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.final_called) == ("0612345678", "0699887766", "1002")
    queue = freepbx[4]
    assert queue.direction_hint == INBOUND and queue.disposition == NO_ANSWER and queue.answer is None


def test_freepbx_internal_call_and_transfer_leg(freepbx):
    assert freepbx[3].direction_hint == INTERNAL
    assert freepbx[6].pbx_call_id == "1772440200.9"  # the linkedid, not the leg's uniqueid


def test_a_header_line_sets_the_columns_even_without_the_preset():
    out = driver().parse_many(raw_lines("asterisk_custom_freepbx.csv"))
    assert rejects(out) == []
    assert records(out)[0].direction_hint == OUTBOUND


def test_the_header_columns_survive_a_restart():
    lines = raw_lines("asterisk_custom_freepbx.csv")
    first = driver()
    first.parse(lines[0])
    state = first.get_state()
    assert state == {"columns": list(PRESETS["freepbx"])}
    second = driver()
    second.set_state(state)
    assert second.parse(lines[1]) == first.parse(lines[1])
    second.set_state(None)
    assert isinstance(second.parse(lines[1]), Reject)


def test_a_site_column_list():
    columns = ["start", "src", "dst", "billsec", "duration", "disposition", "accountcode", "answer", "did"]
    call = driver(columns=columns).parse(b'"2026-03-02 09:00:00","0612","200","10","15","ANSWERED","X","","0699"')
    assert isinstance(call, CdrRecord)
    assert (call.talk_seconds, call.ring_seconds, call.account_code) == (10, 5, "X")
    assert (call.called, call.final_called, call.direction_hint) == ("0699", "200", INBOUND)


def test_epoch_times_and_missing_durations_are_worked_out():
    columns = ["start", "answer", "end", "src", "dst"]
    call = driver(columns=columns).parse(b"1772438400,1772438405,1772438465,1001,1002")
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert (call.talk_seconds, call.ring_seconds) == (60, 5)


def test_the_real_cdr_custom_capture_parses_without_a_reject():
    if not SAMPLE.is_file():
        pytest.skip(f"the shared Asterisk cdr_custom sample {SAMPLE} is not on this machine")
    lines = SAMPLE.read_bytes().split(b"\n")
    out = driver(ZoneInfo("UTC")).parse_many(lines)
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 14
    assert calls[0].calling == "client1" and calls[0].called == "6789" and calls[0].talk_seconds == 13
    assert calls[1].disposition == NO_ANSWER and calls[1].answer is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preset": "mysql"}, "must be one of cdr_custom, freepbx"),
        ({"preset": "freepbx", "columns": ["start"]}, "not both"),
        ({"columns": "start,src"}, "must be a list of strings"),
        ({"columns": ["src", "dst"]}, "must include 'start' or 'calldate'"),
        ({"columns": ["start", "Start"]}, "twice"),
        ({"usegmtime": 1}, "true or false"),
        ({"template": ["x"]}, "unknown asterisk_custom option"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        AsteriskCustomDriver.validate_options(options)


def test_a_truncated_line_is_rejected_and_a_bom_and_blank_line_are_handled():
    lines = raw_lines("asterisk_custom_master.csv")
    clean = driver().parse_many(lines)
    out = driver().parse_many([b"\xef\xbb\xbf" + lines[0], b"", lines[1][:80], *lines[2:]])
    assert out[0] == clean[0]
    assert out[1] == Skip("blank line")
    assert isinstance(out[2], Reject)
    assert out[3:] == clean[2:]


def test_bad_values_are_rejected_with_the_reason():
    raw = raw_lines("asterisk_custom_master.csv")[0]
    assert driver().parse(raw.replace(b'"127"', b'"12x"')) == Reject("duration is not a whole number of seconds: '12x'")
    out = driver().parse(raw.replace(b"2026-03-02 09:00:00", b"2026-13-02 09:00:00"))
    assert out == Reject("unreadable start time '2026-13-02 09:00:00'")


def test_another_brands_lines_are_rejected_or_skipped():
    for name in ("asterisk_master18.csv", "cucm10_cdr.csv", "threecx_v18.txt"):
        out = driver().parse_many(raw_lines(name))
        assert all(isinstance(o, Reject | Skip) for o in out), name


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_random_bytes_never_raise(raws):
    out = driver().parse_many(raws)
    assert len(out) == len(raws)
    assert all(isinstance(o, CdrRecord | Skip | Reject) for o in out)
    assert all(isinstance(driver().parse(raw), CdrRecord | Skip | Reject) for raw in raws)


def test_parse_and_parse_many_agree():
    lines = raw_lines("asterisk_custom_master.csv") + raw_lines("asterisk_custom_freepbx.csv")
    d = driver()
    assert [d.parse(raw) for raw in lines] == driver().parse_many(lines)


_NUMBER = st.text("0123456789", min_size=2, max_size=15)
_CHANNELS = {"inbound": ("DAHDI/1-1", "PJSIP/{}-2"), "outbound": ("PJSIP/{}-1", "DAHDI/2-2"),
             "internal": ("PJSIP/{}-1", "PJSIP/{}-2")}


@FUZZ
@given(
    start=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2037, 12, 31)),
    ring=st.integers(0, 300),
    talk=st.integers(0, 20_000),
    calling=_NUMBER,
    called=_NUMBER,
    direction=st.sampled_from(sorted(_CHANNELS)),
    preset=st.sampled_from(sorted(PRESETS)),
)
def test_a_generated_record_round_trips(start, ring, talk, calling, called, direction, preset):
    start = start.replace(microsecond=0)
    answer = start + dt.timedelta(seconds=ring)
    end = answer + dt.timedelta(seconds=talk)
    channel, dstchannel = (c.format("1") for c in _CHANNELS[direction])
    values = {
        "calldate": str(start), "start": str(start), "answer": str(answer), "end": str(end), "src": calling,
        "dst": called, "dcontext": "from-internal", "channel": channel, "dstchannel": dstchannel,
        "lastapp": "Dial", "duration": str(ring + talk), "billsec": str(talk), "disposition": "ANSWERED",
        "uniqueid": "1.1", "sequence": "1",
    }
    raw = ",".join(f'"{values.get(c, "")}"' for c in PRESETS[preset]).encode()
    call = driver(preset=preset).parse(raw)
    assert isinstance(call, CdrRecord), call
    assert call.start == local_to_utc(start, ROME)
    assert (call.talk_seconds, call.ring_seconds) == (talk, ring)
    assert (call.calling, call.called, call.direction_hint) == (calling, called, direction)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_synthesized_lines_read_back_without_a_reject(preset):
    options = dict(SYNTH_OPTIONS, preset=preset)
    out = driver(ZoneInfo("UTC"), **options).parse_many(list(synthesize(2000, preset=preset)))
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 2000
    assert {c.direction_hint for c in calls} == {INBOUND, OUTBOUND, INTERNAL}
    assert calls[0].start == utc(2026, 3, 2, 8, 0, 0)


def test_a_header_with_columns_of_another_product_is_not_taken():
    header = b"AcctId,accountcode,src,dst,dcontext,clid,start,answer,end,duration,billsec,disposition,src_trunk_name"
    d = driver()
    assert isinstance(d.parse(header), Reject)
    assert d.get_state() is None
    site = driver(columns=["AcctId", "src", "dst", "start", "billsec"])
    assert site.parse(b"AcctId,src,dst,start,billsec") == Skip("header line")
    assert site.parse(b'7,1001,1002,"2026-03-02 09:00:00",30').talk_seconds == 30


@pytest.fixture(scope="module")
def unanswered_legs() -> list:
    return driver(trunk_peers=["carrier"]).parse_many(raw_lines("asterisk_custom_unanswered_legs.csv"))


def test_a_ring_group_nobody_answered_has_no_talk_time_on_any_row(unanswered_legs):
    rows = unanswered_legs[:3]
    assert all(isinstance(row, CdrRecord) for row in rows)
    assert [(row.disposition, row.talk_seconds, row.answer, row.answered) for row in rows] == [
        (NO_ANSWER, 0, None, False)] * 3
    assert [row.ring_seconds for row in rows] == [60, 60, 63]
    assert [row.final_called for row in rows] == ["201", "202", ""]


def test_the_rows_the_dialplan_alone_answered_are_missed_calls(unanswered_legs):
    background, queue = unanswered_legs[3:5]
    for row in (background, queue):
        assert (row.disposition, row.talk_seconds, row.answer, row.answered) == (NO_ANSWER, 0, None, False)
    assert (background.ring_seconds, queue.ring_seconds) == (15, 61)


def test_a_failed_dial_with_billsec_has_no_talk_time_and_stays_failed(unanswered_legs):
    failed = unanswered_legs[5]
    assert (failed.disposition, failed.talk_seconds, failed.ring_seconds, failed.answer) == (FAILED, 0, 4, None)
    assert failed.direction_hint == OUTBOUND  # the Dial target is the carrier trunk


def test_the_phone_that_answered_a_ring_group_keeps_its_talk_time(unanswered_legs):
    answered = unanswered_legs[6]
    assert (answered.disposition, answered.talk_seconds, answered.ring_seconds) == (ANSWERED, 120, 8)
    assert answered.final_called == "203" and answered.answered


def test_without_a_dstchannel_column_the_disposition_is_taken_as_it_is():
    columns = ["start", "src", "dst", "lastapp", "billsec", "duration", "disposition"]
    call = driver(columns=columns).parse(b'"2026-03-02 09:00:00","1001","1002","Dial","10","15","ANSWERED"')
    assert (call.disposition, call.talk_seconds, call.ring_seconds) == (ANSWERED, 10, 5)


def test_a_trunk_channel_is_never_the_phone_a_row_reached():
    lines = [
        b'"""A"" <1001>","1001","0039061234567","from-internal","PJSIP/1001-00000030","DAHDI/1-1","Dial",'
        b'"DAHDI/g0/0039061234567,60","2026-03-02 12:00:00","2026-03-02 12:00:06","2026-03-02 12:01:06","66","60",'
        b'"ANSWERED","DOCUMENTATION","","1772449200.30","",30',
        b'"""B"" <1002>","1002","0223456789","from-internal","PJSIP/1002-00000031","SIP/5550100-00000032","Dial",'
        b'"SIP/5550100/0223456789,60","2026-03-02 12:02:00","2026-03-02 12:02:05","2026-03-02 12:03:05","65","60",'
        b'"ANSWERED","DOCUMENTATION","","1772449320.31","",31',
        b'"""C"" <1003>","1003","0331234567","outrt-main","PJSIP/1003-00000033","PJSIP/7001-00000034","Dial",'
        b'"PJSIP/0331234567@7001,60","2026-03-02 12:04:00","2026-03-02 12:04:04","2026-03-02 12:05:04","64","60",'
        b'"ANSWERED","DOCUMENTATION","","1772449440.33","",33',
    ]
    out = driver(trunk_peers=["5550100"], outbound_contexts=["outrt-main"]).parse_many(lines)
    assert [(o.dest_device, o.direction_hint, o.final_called) for o in out] == [
        ("DAHDI/1", OUTBOUND, ""), ("SIP/5550100", OUTBOUND, ""), ("PJSIP/7001", OUTBOUND, "")]


def test_a_freepbx_did_call_forwarded_out_has_no_final_called_phone():
    header = ",".join(PRESETS["freepbx"]).encode()
    row = (b'"2026-03-02 09:05:00","""0612345678"" <0612345678>","0612345678","0039333111222","from-did-direct",'
           b'"PJSIP/trunk_voip-00000003","DAHDI/4-1","Dial","DAHDI/g0/0039333111222,60","70","60","ANSWERED","3",'
           b'"","1772438700.3","","0699887766","","0612345678","","","","","1772438700.3","","3"')
    _, call = driver(preset="freepbx").parse_many([header, row])
    assert (call.called, call.direction_hint, call.final_called) == ("0699887766", OUTBOUND, "")
