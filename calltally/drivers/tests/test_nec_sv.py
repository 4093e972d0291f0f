from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
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
from calltally.drivers.nec_sv import NecSvDriver
from calltally.drivers.nec_sv.synth import flexible, normal, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, skips, utc

ROME = ZoneInfo("Europe/Rome")
SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "nec-sv9500"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class PageDriver(NecSvDriver):
    @staticmethod
    def _today() -> dt.date:
        return dt.date(2026, 3, 10)


def driver(zone: dt.tzinfo = dt.UTC, **options) -> NecSvDriver:
    return NecSvDriver(DriverOptions(timezone=zone, options=options))


def page_driver(zone: dt.tzinfo = dt.UTC) -> NecSvDriver:
    return PageDriver(DriverOptions(timezone=zone, options={"layout": "page"}))


@pytest.fixture(scope="module")
def mat() -> list:
    return driver().parse_many(raw_lines("nec_sv_mat.txt"))


@pytest.fixture(scope="module")
def page() -> list:
    return page_driver().parse_many(raw_lines("nec_sv_page.txt"))


# --- SV8500/SV9500 MAT records -------------------------------------------------------

def test_every_mat_record_of_the_fixture_is_read(mat):
    assert rejects(mat) == []
    assert len(records(mat)) == 9
    assert mat[9] == Skip("blank line")


def test_an_outgoing_flexible_record_gives_the_dialled_number_trunk_and_account_code(mat):
    call = mat[0]
    assert call.direction_hint == OUTBOUND
    assert call.start == utc(2026, 3, 2, 9, 0, 0)
    assert call.talk_seconds == 125 and call.disposition == ANSWERED
    assert (call.calling, call.called) == ("2001", "0612345678")
    assert (call.orig_device, call.dest_device) == ("2001", "route 005 trunk 012")
    assert call.account_code == "4711"


def test_an_incoming_flexible_record_gives_the_caller_id_and_the_station(mat):
    call = mat[1]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called, call.orig_device) == ("0298765432", "2002", "route 001 trunk 003")
    assert call.talk_seconds == 60


def test_a_station_to_station_flexible_record_is_internal(mat):
    call = mat[2]
    assert call.direction_hint == INTERNAL
    assert (call.calling, call.called, call.talk_seconds) == ("2001", "2003", 30)


def test_a_record_that_ends_when_it_starts_is_unanswered(mat):
    call = mat[3]
    assert call.disposition == NO_ANSWER and not call.answered


def test_a_call_forwarded_outside_is_an_outgoing_call(mat):
    assert mat[4].direction_hint == OUTBOUND and mat[4].called == "00393471234567"


def test_the_normal_fixed_column_formats_are_read(mat):
    ka, ke, kb = mat[5:8]
    assert (ka.direction_hint, ka.calling, ka.called, ka.account_code) == (OUTBOUND, "2005", "0551234567", "99")
    assert ka.dest_device == "route 002 trunk 007" and ka.talk_seconds == 100
    assert (ke.direction_hint, ke.calling, ke.called, ke.talk_seconds) == (INBOUND, "0445556666", "2006", 240)
    assert (kb.direction_hint, kb.calling, kb.called, kb.talk_seconds) == (INTERNAL, "2007", "2008", 45)


def test_stx_etx_framing_is_optional(mat):
    framed = raw_lines("nec_sv_mat.txt")[8]
    assert framed.startswith(b"\x02") and framed.endswith(b"\x03")
    assert driver().parse(framed[1:-1]) == mat[8]
    for raw in raw_lines("nec_sv_mat.txt")[:8]:
        assert driver().parse(b"\x02" + raw + b"\x03") == driver().parse(raw)


def test_times_are_local_to_the_site():
    call = driver(ROME).parse(raw_lines("nec_sv_mat.txt")[0])
    assert call.start == utc(2026, 3, 2, 8, 0, 0)


@pytest.mark.parametrize("name", ["KKrecord.smdr", "KLrecord.smdr", "KMrecord.smdr"])
def test_the_shared_sv9500_samples_are_read_without_a_reject(name):
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"the shared sample {path} is not on this machine")
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    assert len(lines) == 1
    for raw in (lines[0], b"\x02" + lines[0] + b"\x03"):
        call = driver().parse(raw)
        assert isinstance(call, CdrRecord), call
        assert call.start.year in (2018, 2019)
    expected = {
        "KKrecord.smdr": (OUTBOUND, "20001", "17325551212", 3661),
        "KLrecord.smdr": (INBOUND, "17325551212", "20000", 7),
        "KMrecord.smdr": (INTERNAL, "20000", "20001", 7),
    }[name]
    call = driver().parse(lines[0])
    assert (call.direction_hint, call.calling, call.called, call.talk_seconds) == expected


def test_a_truncated_record_is_rejected():
    raw = raw_lines("nec_sv_mat.txt")[0]
    assert isinstance(driver().parse(raw[:40]), Reject)
    assert isinstance(driver().parse(raw_lines("nec_sv_mat.txt")[5][:80]), Reject)


def test_a_damaged_time_is_rejected():
    raw = raw_lines("nec_sv_mat.txt")[0].replace(b"20260302090000000", b"20261302090000000")
    assert isinstance(driver().parse(raw), Reject)


def test_other_brands_lines_are_rejected_or_skipped():
    for raw in raw_lines("asterisk_master18.csv") + raw_lines("nec_sv_page.txt"):
        assert isinstance(driver().parse(raw), Reject | Skip)
    assert isinstance(driver().parse(b"03/02/26 09:00AM  101 01 0612345678"), Reject)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), st.builds(
    lambda raw, at, junk: raw[:at] + junk + raw[at + len(junk):],
    st.sampled_from(raw_lines("nec_sv_mat.txt") + raw_lines("nec_sv_page.txt")),
    st.integers(min_value=0, max_value=140), st.binary(min_size=1, max_size=6))))
def test_random_bytes_never_raise(raw):
    for d in (driver(), page_driver()):
        out = d.parse(raw)
        assert isinstance(out, CdrRecord | Skip | Reject)
        if isinstance(out, CdrRecord):
            assert out.start.utcoffset() == dt.timedelta(0) and out.talk_seconds >= 0
        assert d.parse_many([raw, raw]) == [out, out]


STATION = st.integers(min_value=100, max_value=999999).map(str)
NUMBER = st.integers(min_value=10**8, max_value=10**13).map(lambda n: f"0{n}")
MOMENT = local_datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2098, 12, 30))


@FUZZ
@given(kind=st.sampled_from(["KK", "KL", "KM", "KA", "KE", "KB"]), begin=MOMENT,
       talk=st.integers(min_value=0, max_value=20000), station=STATION, other=STATION, number=NUMBER,
       framed=st.booleans())
def test_a_generated_record_round_trips(kind, begin, talk, station, other, number, framed):
    begin = begin.replace(microsecond=0)
    end = begin + dt.timedelta(seconds=talk)
    if kind == "KK":
        text, expected = flexible(kind, begin=begin, end=end, station=station, dialled=number), (station, number)
    elif kind == "KL":
        text, expected = flexible(kind, begin=begin, end=end, station=station, ani=number), (number, station)
    elif kind == "KM":
        text, expected = flexible(kind, begin=begin, end=end, station=station, other=other), (station, other)
    else:
        text = normal(kind, begin=begin, end=end, station=station, other=number if kind != "KB" else other)
        expected = (station, number) if kind == "KA" else (number, station) if kind == "KE" else (station, other)
    if framed:
        text = "\x02" + text + "\x03"
    call = driver().parse(text.encode())
    assert isinstance(call, CdrRecord), call
    direction = {"K": OUTBOUND, "A": OUTBOUND, "L": INBOUND, "E": INBOUND, "M": INTERNAL, "B": INTERNAL}[kind[1]]
    assert call.start == begin.replace(tzinfo=dt.UTC)
    assert (call.calling, call.called, call.talk_seconds, call.direction_hint) == (*expected, talk, direction)


# --- SV8100/SV9100/SL page report -----------------------------------------------------

def test_the_page_report_skips_headings_and_continuation_lines(page):
    assert rejects(page) == []
    assert len(records(page)) == 8
    assert len(skips(page)) == 6


def test_the_page_report_classes_give_the_direction(page):
    pot, pin, icm, unanswered, ptrs, ivin, ivot, itrs = records(page)
    assert (pot.direction_hint, pot.calling, pot.called, pot.account_code) == (OUTBOUND, "201", "0612345678", "4711")
    assert pot.start == utc(2026, 3, 2, 9, 0) and pot.talk_seconds == 125 and pot.dest_device == "line 001"
    assert (pin.direction_hint, pin.calling, pin.called, pin.orig_device) == (INBOUND, "0298765432", "202",
                                                                              "line 002")
    assert (icm.direction_hint, icm.calling, icm.called) == (INTERNAL, "201", "203")
    assert unanswered.disposition == NO_ANSWER and unanswered.account_code == ""
    assert ptrs.direction_hint == OUTBOUND and ptrs.redirecting == "202"
    assert ivin.direction_hint == INBOUND and ivot.direction_hint == OUTBOUND and ivot.talk_seconds == 3601
    assert itrs.direction_hint == INBOUND and itrs.redirecting == "207"


def test_the_page_report_year_is_the_one_closest_before_today():
    line = raw_lines("nec_sv_page.txt")[4].replace(b"03/02", b"12/30")
    assert page_driver().parse(line).start == utc(2025, 12, 30, 9, 0)
    line = raw_lines("nec_sv_page.txt")[4].replace(b"03/02", b"04/05")
    assert page_driver().parse(line).start == utc(2026, 4, 5, 9, 0)  # within 31 days ahead: this year


def test_a_truncated_page_line_is_rejected():
    assert isinstance(page_driver().parse(raw_lines("nec_sv_page.txt")[4][:30]), Reject)
    assert isinstance(page_driver().parse(b"POT  09:00 03/02 001  00:0x:05 201"), Reject)


# --- options, synthesizer, throughput ----------------------------------------------------

@pytest.mark.parametrize(("options", "message"), [
    ({"layout": "report"}, "'mat'"),
    ({"pattern": "A"}, "unknown nec_sv option"),
])
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        NecSvDriver.validate_options(options)


def test_the_driver_keeps_no_state():
    d = driver()
    assert d.get_state() is None
    d.set_state(None)


def test_the_synthesizer_output_parses_with_zero_rejects():
    out = driver().parse_many(list(synthesize(2000, seed=5)))
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 2000
    assert 0.15 < sum(not c.answered for c in calls) / 2000 < 0.25
    assert all(c.called.startswith("0") for c in calls if c.direction_hint == OUTBOUND)


def test_throughput_is_reported():
    lines = list(synthesize(20000))
    d = driver(ROME)
    began = time.perf_counter()
    d.parse_many(lines)
    rate = len(lines) / (time.perf_counter() - began)
    print(f"nec_sv: {rate:,.0f} records/s")
    assert rate > 10_000
