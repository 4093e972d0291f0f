from __future__ import annotations

import datetime as dt
import time
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
)
from calltally.drivers.mitel import MitelDriver
from calltally.drivers.mitel.driver import EXTENDED
from calltally.drivers.mitel.synth import record, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def driver(zone: dt.tzinfo = dt.UTC, **options) -> MitelDriver:
    options.setdefault("year", 2026)
    return MitelDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def smdr() -> list:
    return driver().parse_many(raw_lines("mitel_smdr.txt"))


def test_every_record_is_read_and_blank_and_notice_lines_are_skipped(smdr):
    assert rejects(smdr) == []
    assert len(records(smdr)) == 8
    assert isinstance(smdr[0], Skip) and isinstance(smdr[-1], Skip)


def test_an_outgoing_call_has_the_trunk_as_called_party_and_an_account_code(smdr):
    call = smdr[1]
    assert call.direction_hint == OUTBOUND
    assert call.start == utc(2026, 3, 2, 9, 0)
    assert (call.calling, call.called, call.dest_device, call.account_code) == ("2001", "0612345678", "T101", "4711")
    assert call.talk_seconds == 125 and call.disposition == ANSWERED


def test_an_incoming_call_has_the_trunk_as_calling_party_and_a_time_to_answer(smdr):
    call = smdr[2]
    assert call.direction_hint == INBOUND
    assert (call.orig_device, call.called, call.original_called) == ("T102", "2002", "2002")
    assert (call.ring_seconds, call.talk_seconds) == (12, 60)


def test_an_internal_call(smdr):
    assert (smdr[3].direction_hint, smdr[3].calling, smdr[3].called) == (INTERNAL, "2001", "2003")


def test_unanswered_busy_and_invalid_calls(smdr):
    assert smdr[4].disposition == NO_ANSWER and not smdr[4].answered
    assert smdr[5].disposition == BUSY and smdr[5].direction_hint == OUTBOUND
    assert smdr[8].disposition == FAILED


def test_a_transferred_and_a_conferenced_call(smdr):
    transferred, conference = smdr[6], smdr[7]
    assert (transferred.final_called, transferred.redirecting, transferred.talk_seconds) == ("2007", "2006", 430)
    assert conference.direction_hint == OUTBOUND and conference.dest_device == "X201"
    assert conference.final_called == "2009"
    assert conference.start == utc(2026, 3, 2, 14, 30)  # 02:30P


def test_times_are_local_to_the_site():
    assert driver(ROME).parse(raw_lines("mitel_smdr.txt")[1]).start == utc(2026, 3, 2, 8, 0)


def test_the_year_is_inferred_from_today_when_not_given():
    class Pinned(MitelDriver):
        @staticmethod
        def _today() -> dt.date:
            return dt.date(2027, 1, 10)

    call = Pinned().parse(raw_lines("mitel_smdr.txt")[1].replace(b"03/02", b"12/30"))
    assert call.start == utc(2026, 12, 30, 9, 0)
    call = Pinned().parse(raw_lines("mitel_smdr.txt")[1].replace(b"03/02", b"02/05"))
    assert call.start == utc(2027, 2, 5, 9, 0)


def test_the_extended_layout_and_site_columns():
    fields = dict(date="03/02", time="09:00", duration="00:01:00", calling="2001234", digits="0612345678",
                  status="A", called="T101", account="55")
    call = driver(layout="extended").parse(record(fields, EXTENDED).encode())
    assert (call.calling, call.called, call.account_code, call.direction_hint) == ("2001234", "0612345678", "55",
                                                                                   OUTBOUND)
    moved = raw_lines("mitel_smdr.txt")[1].replace(b"      4711", b"  4711")
    assert driver(columns={"account": [74, 85]}).parse(moved).account_code == "4711"


def test_a_truncated_record_is_rejected():
    assert isinstance(driver().parse(raw_lines("mitel_smdr.txt")[1][:40]), Reject)
    assert isinstance(driver().parse(raw_lines("mitel_smdr.txt")[1].replace(b"00:02:05", b"00:0x:05")), Reject)


def test_other_brands_lines_are_rejected_or_skipped():
    for raw in raw_lines("asterisk_master18.csv") + raw_lines("cucm10_cdr.csv") + raw_lines("nec_sv_mat.txt"):
        assert isinstance(driver().parse(raw), Reject | Skip)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), st.builds(
    lambda raw, at, junk: raw[:at] + junk + raw[at + len(junk):],
    st.sampled_from(raw_lines("mitel_smdr.txt")),
    st.integers(min_value=0, max_value=90), st.binary(min_size=1, max_size=6))))
def test_random_bytes_never_raise(raw):
    for d in (driver(), MitelDriver()):
        out = d.parse(raw)
        assert isinstance(out, CdrRecord | Skip | Reject)
        if isinstance(out, CdrRecord):
            assert out.start.utcoffset() == dt.timedelta(0) and out.talk_seconds >= 0 and out.ring_seconds >= 0
        assert d.parse_many([raw]) == [out]


@FUZZ
@given(begin=local_datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 31, 23, 59)),
       talk=st.integers(min_value=1, max_value=359999), ext=st.integers(min_value=1000, max_value=9999).map(str),
       trunk=st.integers(min_value=1, max_value=999).map(lambda n: f"T{n}"),
       number=st.integers(min_value=10**6, max_value=10**20).map(lambda n: f"0{n}"),
       kind=st.sampled_from([OUTBOUND, INBOUND, INTERNAL]), pm=st.booleans())
def test_a_generated_record_round_trips(begin, talk, ext, trunk, number, kind, pm):
    begin = begin.replace(second=0, microsecond=0)
    stamp = f"{begin:%H:%M}"
    if pm and begin.hour >= 12:
        stamp = f"{begin.hour % 12:02d}:{begin:%M}P"
    fields = dict(date=f"{begin:%m/%d}", time=stamp, status="A",
                  duration=f"{talk // 3600:02d}:{talk // 60 % 60:02d}:{talk % 60:02d}")
    if kind == OUTBOUND:
        fields.update(calling=ext, digits=number, called=trunk)
        expected = (ext, number)
    elif kind == INBOUND:
        fields.update(calling=trunk, answer_time="005", digits=ext, called=ext)
        expected = ("", ext)
    else:
        fields.update(calling=ext, digits=number[-4:], called=number[-4:])
        expected = (ext, number[-4:])
    call = driver().parse(record(fields).encode())
    assert isinstance(call, CdrRecord), call
    assert call.start == begin.replace(tzinfo=dt.UTC)
    assert (call.calling, call.called, call.talk_seconds, call.direction_hint) == (*expected, talk, kind)


@pytest.mark.parametrize(("options", "message"), [
    ({"layout": "wide"}, "'standard'"),
    ({"columns": {"acct": [1, 2]}}, "unknown field 'acct'"),
    ({"columns": {"account": [9, 2]}}, "first ≤ last"),
    ({"columns": "account=78"}, "must map field names"),
    ({"year": "2026"}, "'year'"),
    ({"format": "x"}, "unknown mitel option"),
])
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        MitelDriver.validate_options(options)


def test_the_synthesizer_output_parses_with_zero_rejects():
    calls_out = driver().parse_many(list(synthesize(2000, seed=4)))
    assert rejects(calls_out) == []
    calls = records(calls_out)
    assert len(calls) == 2000
    assert 0.15 < sum(not c.answered for c in calls) / 2000 < 0.25
    assert all(c.called.startswith("0") for c in calls if c.direction_hint == OUTBOUND)


def test_throughput_is_reported():
    lines = list(synthesize(20000))
    d = driver(ROME)
    began = time.perf_counter()
    d.parse_many(lines)
    rate = len(lines) / (time.perf_counter() - began)
    print(f"mitel: {rate:,.0f} records/s")
    assert rate > 10_000


def test_an_extended_record_is_rejected_by_the_standard_layout_instead_of_misread():
    fields = dict(date="03/02", time="09:00", duration="00:01:00", calling="2001234", digits="0612345678",
                  status="A", called="T101", account="55")
    out = driver().parse(record(fields, EXTENDED).encode())
    assert isinstance(out, Reject) and "layout: extended" in out.detail
    assert MitelDriver.detection_options() == [{}, {"layout": "extended"}]
