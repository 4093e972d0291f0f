from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from calltally.drivers.panasonic import PanasonicDriver
from calltally.drivers.panasonic.synth import line, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def driver(zone: dt.tzinfo = dt.UTC, **options) -> PanasonicDriver:
    return PanasonicDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def smdr() -> list:
    return driver().parse_many(raw_lines("panasonic_smdr.txt"))


def test_headings_blank_lines_and_notices_are_skipped(smdr):
    assert all(isinstance(o, Skip) for o in smdr[:3])
    assert all(isinstance(o, Skip) for o in smdr[11:14])
    assert len(records(smdr)) == 8


def test_an_outgoing_call_with_an_account_code_starts_its_duration_before_the_printed_end(smdr):
    call = smdr[3]
    assert call.direction_hint == OUTBOUND
    assert call.start == utc(2026, 3, 2, 9, 2, 55)  # printed 09:05AM is the end; 2'05 of talk
    assert (call.calling, call.called, call.account_code) == ("101", "0612345678", "4711")
    assert (call.orig_device, call.dest_device, call.talk_seconds) == ("101", "CO 1", 125)


def test_an_incoming_call_gives_the_caller_id_and_ring_time(smdr):
    call = smdr[4]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.orig_device) == ("0298765432", "102", "CO 2")
    assert (call.ring_seconds, call.talk_seconds) == (12, 60)
    assert call.answer == utc(2026, 3, 2, 9, 6, 0)


def test_an_intercom_call_is_internal(smdr):
    call = smdr[5]
    assert (call.direction_hint, call.calling, call.called) == (INTERNAL, "103", "105")


def test_an_unanswered_incoming_call(smdr):
    assert smdr[6].disposition == NO_ANSWER and not smdr[6].answered
    assert smdr[10].disposition == NO_ANSWER and smdr[10].calling == ""  # <I> without caller id, CD NA


def test_a_ddi_call_that_was_transferred(smdr):
    call = smdr[7]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.original_called) == ("0298765432", "102", "5551234")
    assert call.redirecting == "102"


def test_a_call_forwarded_to_an_outside_line_is_outbound_with_pauses_dropped(smdr):
    call = smdr[8]
    assert call.direction_hint == OUTBOUND and call.redirecting == "106"
    assert call.called == "0039347123456"
    assert call.start == utc(2026, 3, 2, 21, 56)  # 10:01PM minus five minutes


def test_a_verified_code_stands_in_for_the_account_code(smdr):
    assert smdr[9].account_code == "201"


def test_a_duration_garbled_by_a_clock_change_is_rejected(smdr):
    assert isinstance(smdr[14], Reject) and "clock changed" in smdr[14].detail


def test_pattern_c_with_a_four_digit_co_and_a_cost_is_read():
    out = driver(pattern="C").parse_many(raw_lines("panasonic_pattern_c.txt"))
    assert isinstance(out[0], Skip)
    call = out[1]
    assert (call.called, call.dest_device, call.account_code, call.talk_seconds) == ("00393471234567", "CO 1", "77",
                                                                                      125)


def test_start_time_printing_and_day_first_dates():
    raw = raw_lines("panasonic_smdr.txt")[3].replace(b"03/02/26", b"02/03/26")
    call = driver(time_is="start", date_order="dmy").parse(raw)
    assert call.start == utc(2026, 3, 2, 9, 5)
    assert driver(ROME).parse(raw_lines("panasonic_smdr.txt")[3]).start == utc(2026, 3, 2, 8, 2, 55)


def test_a_truncated_line_is_rejected():
    raw = raw_lines("panasonic_smdr.txt")[3]
    assert isinstance(driver().parse(raw[:40]), Reject)


def test_other_brands_lines_are_rejected_or_skipped():
    for raw in raw_lines("asterisk_master18.csv") + raw_lines("cucm10_cdr.csv") + raw_lines("nec_sv_mat.txt"):
        assert isinstance(driver().parse(raw), Reject | Skip)
    assert isinstance(driver().parse(b"0!KA0020220011140  0302080008"), Reject)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.builds(
    lambda raw, at, junk: raw[:at] + junk + raw[at + len(junk):],
    st.sampled_from(raw_lines("panasonic_smdr.txt")),
    st.integers(min_value=0, max_value=90), st.binary(min_size=1, max_size=6))))
def test_random_bytes_never_raise(raw):
    d = driver()
    out = d.parse(raw)
    assert isinstance(out, CdrRecord | Skip | Reject)
    if isinstance(out, CdrRecord):
        assert out.start.utcoffset() == dt.timedelta(0) and out.talk_seconds >= 0 and out.ring_seconds >= 0
    assert d.parse_many([raw]) == [out]


@FUZZ
@given(end=local_datetimes(min_value=dt.datetime(2001, 1, 2), max_value=dt.datetime(2098, 12, 30)),
       talk=st.integers(min_value=0, max_value=35999), ring=st.integers(min_value=0, max_value=599),
       ext=st.integers(min_value=100, max_value=99999).map(str),
       number=st.integers(min_value=10**6, max_value=10**14).map(lambda n: f"0{n}"),
       kind=st.sampled_from([OUTBOUND, INBOUND, INTERNAL]))
def test_a_generated_line_round_trips(end, talk, ring, ext, number, kind):
    end = end.replace(second=0, microsecond=0)
    if kind == OUTBOUND:
        dial, expected = number, (ext, number)
    elif kind == INBOUND:
        dial, expected = "<I>" + number, (number, ext)
    else:
        dial, expected = f"EXT{number[-4:]}", (ext, number[-4:])
    call = driver().parse(line(end, ext, "01", dial, ring, talk).encode())
    assert isinstance(call, CdrRecord), call
    assert call.start == (end - dt.timedelta(seconds=talk + ring)).replace(tzinfo=dt.UTC)
    assert (call.calling, call.called, call.talk_seconds, call.ring_seconds, call.direction_hint) == (
        *expected, talk, ring, kind)
    assert call.disposition == (ANSWERED if talk else NO_ANSWER)


@pytest.mark.parametrize(("options", "message"), [
    ({"pattern": "D"}, "'pattern' must be one of A, B, C"),
    ({"time_is": "middle"}, "'time_is'"),
    ({"layout": "A"}, "unknown panasonic option"),
])
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        PanasonicDriver.validate_options(options)


def test_the_synthesizer_output_parses_with_zero_rejects():
    lines = list(synthesize(2000, seed=4))
    out = driver().parse_many(lines)
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 2000
    assert 0.15 < sum(not c.answered for c in calls) / 2000 < 0.25
    assert all(c.called.startswith("0") for c in calls if c.direction_hint == OUTBOUND)


def test_the_driver_keeps_no_state():
    assert driver().get_state() is None


def test_throughput_is_reported():
    lines = list(synthesize(20000))
    d = driver(ROME)
    began = time.perf_counter()
    d.parse_many(lines)
    rate = len(lines) / (time.perf_counter() - began)
    print(f"panasonic: {rate:,.0f} records/s")
    assert rate > 10_000
