from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.drivers.base import (
    ANSWERED,
    BUSY,
    INBOUND,
    NO_ANSWER,
    OUTBOUND,
    CdrRecord,
    DriverConfigError,
    DriverOptions,
    Reject,
    Skip,
)
from calltally.drivers.cisco_cme import CiscoCmeDriver
from calltally.drivers.cisco_cme.synth import cisco_time, leg_line, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")
CID = "6C4B1C0A 2D1211D6 8006E7D2 8F1B0A71"


def driver(**options) -> CiscoCmeDriver:
    return CiscoCmeDriver(DriverOptions(timezone=ROME, options=options))


@pytest.fixture(scope="module")
def syslog() -> list:
    return driver().parse_many(raw_lines("cisco_cme_syslog.txt"))


def test_each_call_history_message_is_one_leg_and_other_messages_are_skipped(syslog):
    assert rejects(syslog) == []
    assert len(records(syslog)) == 7
    assert syslog[0] == Skip("not a VOIP_CALL_HISTORY message")
    assert isinstance(syslog[7], Skip) and "FEAT_HISTORY" in syslog[7].what
    assert syslog[9] == Skip("blank line")


def test_the_answer_leg_gives_the_calling_number_and_the_originate_leg_the_called(syslog):
    answer_leg, originate_leg = syslog[1], syslog[2]
    assert answer_leg.pbx_call_id == originate_leg.pbx_call_id == answer_leg.leg_key == CID
    # Paired as they are read: each leg takes from its partner what it lacks.
    for leg in (answer_leg, originate_leg):
        assert (leg.calling, leg.called, leg.orig_device, leg.dest_device) == (
            "1001", "00390612345678", "telephony", "voip"
        )
    assert answer_leg.start == dt.datetime(2026, 3, 2, 8, 0, 0, 123000, tzinfo=dt.UTC)
    assert answer_leg.answer == dt.datetime(2026, 3, 2, 8, 0, 7, 123000, tzinfo=dt.UTC)
    assert (answer_leg.talk_seconds, answer_leg.ring_seconds, answer_leg.disposition) == (120, 7, ANSWERED)
    assert answer_leg.direction_hint is None and originate_leg.direction_hint is None


def test_a_leg_read_alone_keeps_its_half_and_the_partner_finds_it_in_the_state_after_a_restart():
    lines = raw_lines("cisco_cme_syslog.txt")
    first = driver()
    (alone,) = first.parse_many([lines[1]])
    assert (alone.calling, alone.called) == ("1001", "")
    resumed = driver()
    resumed.set_state(first.get_state())
    (partner,) = resumed.parse_many([lines[2]])
    assert (partner.calling, partner.called, partner.orig_device) == ("1001", "00390612345678", "telephony")
    assert resumed.get_state() is None


def test_the_remembered_unpaired_legs_are_bounded_and_bad_state_is_ignored():
    from calltally.drivers.cisco_cme.driver import UNPAIRED_LIMIT

    reader = driver()
    line = raw_lines("cisco_cme_syslog.txt")[1].decode()
    lines = [line.replace(CID, f"{n:08X} 00000000 00000000 00000000").encode() for n in range(UNPAIRED_LIMIT + 50)]
    reader.parse_many(lines)
    assert len(reader.get_state()) == UNPAIRED_LIMIT
    reader.set_state("garbage")
    assert reader.get_state() is None
    reader.set_state([[1, 2, 3]])
    assert reader.get_state() is None


def test_times_of_an_unsynchronised_clock_are_read_as_they_are(syslog):
    call = syslog[3]
    assert call.start == utc(2026, 3, 2, 8, 10, 0) and call.talk_seconds == 55


def test_a_local_zone_abbreviation_is_read_in_the_sites_time_zone_and_no_answer_is_decoded(syslog):
    call = syslog[5]
    assert call.start == utc(2026, 3, 2, 8, 20, 0)
    assert (call.disposition, call.answer, call.ring_seconds, call.talk_seconds) == (NO_ANSWER, None, 25, 0)


def test_a_busy_cause_in_hex(syslog):
    assert syslog[6].disposition == BUSY and syslog[6].called == "0697979797"


def test_a_comma_inside_the_disconnect_text_does_not_break_the_line(syslog):
    call = syslog[8]
    assert call.talk_seconds == 50 and call.calling == "3471112222" and call.disposition == ANSWERED


def test_telephony_legs_can_be_declared_trunks():
    out = driver(telephony_legs_are_trunks=True).parse_many(raw_lines("cisco_cme_syslog.txt"))
    assert out[3].direction_hint == INBOUND and out[4].direction_hint == OUTBOUND
    assert out[2].direction_hint == out[1].direction_hint == INBOUND  # a voip leg takes its partner's


@pytest.mark.parametrize(
    ("options", "message"),
    [({"telephony_legs_are_trunks": "yes"}, "true or false"), ({"trunks": 1}, "unknown cisco_cme option")],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        CiscoCmeDriver.validate_options(options)


def test_truncated_and_damaged_messages_are_rejected():
    line = raw_lines("cisco_cme_syslog.txt")[1]
    d = driver()
    assert isinstance(d.parse(line[:300]), Reject)
    assert isinstance(d.parse(line.replace(b"Mon Mar 2 2026", b"Mon Foo 2 2026")), Reject)
    assert isinstance(d.parse(line.replace(b"Mon Mar 2 2026", b"Mon Feb 30 2026")), Reject)
    assert isinstance(d.parse(line.replace(b"CallOrigin 2", b"CallOrigin 7")), Reject)
    assert isinstance(d.parse(line.replace(b"CallLegType 1", b"Garbage 1")), Reject)
    assert all(isinstance(o, Skip) for o in d.parse_many(raw_lines("asterisk_master18.csv")))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_random_bytes_never_raise(chunks):
    d = driver()
    marker = b"%VOIPAAA-5-VOIP_CALL_HISTORY: "
    chunks = chunks + [marker + c for c in chunks]
    assert len(d.parse_many(chunks)) == len(chunks)
    assert all(isinstance(d.parse(c), CdrRecord | Skip | Reject) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(
    setup=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    ring=st.integers(0, 300),
    talk=st.integers(1, 50_000),
    peer=st.from_regex(r"[0-9]{3,15}", fullmatch=True),
    origin=st.sampled_from((1, 2)),
    mark=st.sampled_from(("", "*", ".")),
)
def test_a_generated_leg_reads_back(setup, ring, talk, peer, origin, mark):
    setup = setup.replace(microsecond=setup.microsecond // 1000 * 1000)
    connect = setup + dt.timedelta(seconds=ring)
    end = connect + dt.timedelta(seconds=talk)
    line = leg_line(end, 1, 1, CID, cisco_time(setup, mark), peer, "10", "normal call clearing (16)",
                    cisco_time(connect, mark), cisco_time(end, mark), origin)
    call = driver().parse(line.encode())
    assert call.start == setup.replace(tzinfo=dt.UTC)
    assert (call.talk_seconds, call.ring_seconds) == (talk, ring)
    assert (call.calling, call.called) == ((peer, "") if origin == 2 else ("", peer))
    assert call.direction_hint is None


def test_two_thousand_synthetic_lines_read_without_a_reject():
    lines = list(synthesize(2000))
    out = driver().parse_many(lines)
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 2000 and len(out) > 2000  # plus a few unrelated syslog messages
    assert {c.pbx_call_id for c in calls[:2]} == {calls[0].pbx_call_id}
