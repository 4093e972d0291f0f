from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from calltally.drivers.threecx import ThreeCxDriver
from calltally.drivers.threecx.driver import DEFAULT_FIELDS, chain_parties, hms_seconds
from calltally.drivers.threecx.synth import synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")
SAMPLE = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "3cx" / "cdr-v18-single.log"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def driver(zone: dt.tzinfo = ROME, **options) -> ThreeCxDriver:
    return ThreeCxDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def v18() -> list:
    return driver().parse_many(raw_lines("threecx_v18.txt"))


def test_it_reads_every_line_of_a_v18_cdr_log(v18):
    assert rejects(v18) == []
    assert len(records(v18)) == 8


def test_it_reads_an_answered_outbound_call_in_the_sites_local_time(v18):
    call = v18[0]
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert call.answer == utc(2026, 3, 2, 8, 0, 7)
    assert (call.talk_seconds, call.ring_seconds) == (120, 7)
    assert (call.calling, call.called, call.original_called) == ("101", "0039061234567", "0039061234567")
    assert (call.orig_device, call.dest_device) == ("101", "10000")
    assert call.direction_hint == OUTBOUND
    assert call.account_code == "**77"
    assert call.pbx_call_id == "a1b2c3d4e5f60001_5001"
    assert call.disposition == ANSWERED


def test_it_reads_an_inbound_call(v18):
    call = v18[1]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.final_called) == ("0612345678", "0699887766", "102")
    assert (call.orig_device, call.dest_device) == ("10000", "102")


def test_it_reads_an_internal_call(v18):
    call = v18[2]
    assert call.direction_hint == INTERNAL
    assert (call.calling, call.called, call.talk_seconds, call.ring_seconds) == ("103", "104", 30, 3)


def test_it_reads_an_unanswered_call_whose_ring_time_runs_to_the_end(v18):
    call = v18[3]
    assert call.answer is None and not call.answered
    assert call.disposition == NO_ANSWER
    assert (call.talk_seconds, call.ring_seconds) == (0, 20)


def test_route_busy_is_busy_and_no_route_is_failed(v18):
    assert v18[4].disposition == BUSY
    assert v18[7].disposition == FAILED
    assert v18[7].direction_hint is None  # no destination type: the Miner decides


def test_a_queue_call_transferred_to_another_agent_names_the_redirecting_party(v18):
    call = v18[5]
    assert call.direction_hint == INBOUND
    assert call.final_called == "106" and call.dest_device == "106"
    assert call.redirecting == "107"


def test_an_internal_call_forwarded_to_a_mobile_is_outbound(v18):
    call = v18[6]
    assert call.direction_hint == OUTBOUND
    assert (call.called, call.final_called, call.redirecting) == ("109", "0039333111222", "109")


def test_v16_lines_with_a_header_and_a_comma_separated_chain():
    out = driver().parse_many(raw_lines("threecx_v16.txt"))
    assert out[0] == Skip("header line")
    assert rejects(out) == []
    first, second = records(out)
    assert first.direction_hint == OUTBOUND and first.talk_seconds == 100
    assert second.direction_hint == INBOUND
    assert second.redirecting == "202" and second.final_called == "203"
    assert second.start == utc(2019, 5, 6, 8, 5, 0)


def test_the_real_v18_capture_parses_without_a_reject():
    if not SAMPLE.is_file():
        pytest.skip(f"the shared 3CX sample {SAMPLE} is not on this machine")
    lines = SAMPLE.read_bytes().split(b"\n")
    out = driver(ZoneInfo("UTC")).parse_many(lines)
    assert rejects(out) == []
    (call,) = records(out)
    assert call.direction_hint == OUTBOUND
    assert call.calling == "10016" and call.called.startswith("+46")
    assert (call.talk_seconds, call.ring_seconds) == (25, 9)
    assert call.start == utc(2024, 6, 17, 5, 59, 49)
    assert call.disposition == ANSWERED and call.pbx_call_id


def test_utc_times_reads_the_times_as_utc():
    call = driver(utc_times=True).parse(raw_lines("threecx_v18.txt")[0])
    assert call.start == utc(2026, 3, 2, 9, 0, 0)


def test_a_site_field_list_in_another_order_with_ignored_columns():
    fields = ["time-start", "time-answered", "time-end", "from-no", "dial-no", "from-type", "to-type", "ignore",
              "bill-code", "callid"]
    raw = b"2026/03/02 09:00:00,2026/03/02 09:00:02,2026/03/02 09:01:02,Ext.101,0612,Extension,Line,x,ACC,id-1"
    call = driver(fields=fields).parse(raw)
    assert isinstance(call, CdrRecord)
    assert (call.ring_seconds, call.talk_seconds) == (2, 60)  # no duration column: end - answer
    assert (call.calling, call.called, call.account_code, call.pbx_call_id) == ("101", "0612", "ACC", "id-1")
    assert call.direction_hint == OUTBOUND


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fields": "historyid,callid"}, "must be a list of strings"),
        ({"fields": ["historyid", "when"]}, "unknown field"),
        ({"fields": ["historyid", "callid"]}, "must include time-start"),
        ({"fields": ["time_start", "time-start"]}, "twice"),
        ({"utc_times": "yes"}, "true or false"),
        ({"template": []}, "unknown threecx option"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        ThreeCxDriver.validate_options(options)


def test_a_truncated_line_is_rejected_and_a_bom_crlf_and_blank_line_are_handled():
    lines = raw_lines("threecx_v18.txt")
    clean = driver().parse_many(lines)
    out = driver().parse_many([b"\xef\xbb\xbf" + lines[0] + b"\r", b"", lines[1][:70], *lines[2:]])
    assert out[0] == clean[0]
    assert out[1] == Skip("blank line")
    assert isinstance(out[2], Reject)
    assert out[3:] == clean[2:]


def test_bad_values_are_rejected_with_the_reason():
    raw = raw_lines("threecx_v18.txt")[0]
    assert driver().parse(raw.replace(b"00:02:00", b"2 min")) == Reject("duration is not hh:mm:ss: '2 min'")
    out = driver().parse(raw.replace(b"2026/03/02 09:00:00", b"2026/13/02 09:00:00"))
    assert out == Reject("unreadable time_start '2026/13/02 09:00:00'")


def test_another_brands_lines_are_rejected_or_skipped():
    for name in ("asterisk_master18.csv", "cucm10_cdr.csv", "generic_calls.csv"):
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
    lines = raw_lines("threecx_v18.txt") + raw_lines("threecx_v16.txt")
    d = driver()
    assert [d.parse(raw) for raw in lines] == driver().parse_many(lines)


def test_helpers():
    assert hms_seconds("01:02:03") == 3723 and hms_seconds("75") == 75 and hms_seconds("") == 0
    assert chain_parties("Chain: Ext.1;+4670;") == ["Ext.1", "+4670"]
    assert chain_parties("Chain: 1,2,3,") == ["1", "2", "3"]


_NUMBER = st.text("0123456789", min_size=2, max_size=15)
_TYPES = {"inbound": ("Line", "Extension"), "outbound": ("Extension", "Line"), "internal": ("Extension", "Extension")}


@FUZZ
@given(
    start=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2037, 12, 31)),
    ring=st.integers(0, 300),
    talk=st.integers(0, 20_000),
    calling=_NUMBER,
    called=_NUMBER,
    direction=st.sampled_from(sorted(_TYPES)),
    version=st.sampled_from([16, 18]),
)
def test_a_generated_record_round_trips(start, ring, talk, calling, called, direction, version):
    start = start.replace(microsecond=0)
    answer = start + dt.timedelta(seconds=ring)
    end = answer + dt.timedelta(seconds=talk)
    from_type, to_type = _TYPES[direction]
    if version == 16:
        from_type = "External" if from_type == "Line" else "Internal"
        to_type = "External" if to_type == "Line" else "Internal"
    sep = "," if version == 16 else ";"
    stamp = "%Y/%m/%d %H:%M:%S"
    values = {
        "historyid": "Call 1", "callid": "x_1", "duration": f"{talk // 3600:02d}:{talk // 60 % 60:02d}:{talk % 60:02d}",
        "time_start": start.strftime(stamp), "time_answered": answer.strftime(stamp), "time_end": end.strftime(stamp),
        "reason_terminated": "TerminatedBySrc", "from_no": calling, "to_no": called, "dial_no": called,
        "chain": f"Chain: {calling}{sep}{called}{sep}", "from_type": from_type,
        "to_type": to_type, "final_type": to_type,
    }
    raw = ",".join(values.get(name, "") for name in DEFAULT_FIELDS).encode()
    call = driver().parse(raw)
    assert isinstance(call, CdrRecord), call
    assert call.start == local_to_utc(start, ROME)
    assert (call.talk_seconds, call.ring_seconds) == (talk, ring)
    assert (call.calling, call.called, call.direction_hint) == (calling, called, direction)


@pytest.mark.parametrize("version", [16, 18])
def test_synthesized_lines_read_back_without_a_reject(version):
    out = driver(ZoneInfo("UTC")).parse_many(list(synthesize(2000, version=version)))
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 2000
    assert {c.direction_hint for c in calls} == {INBOUND, OUTBOUND, INTERNAL}
    assert calls[0].start == utc(2026, 3, 2, 8, 0, 0)
