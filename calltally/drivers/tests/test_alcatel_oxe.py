from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.drivers.alcatel_oxe import AlcatelOxeDriver
from calltally.drivers.alcatel_oxe.driver import ED52_FIELDS, read_seconds, read_stamp
from calltally.drivers.alcatel_oxe.synth import format_ticket, synthesize
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

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")


def driver(zone: dt.tzinfo = ROME, **options) -> AlcatelOxeDriver:
    return AlcatelOxeDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def tickets() -> list:
    return driver().parse_many(raw_lines("alcatel_oxe_ed52.txt"))


def test_the_default_layout_is_48_fields_and_525_characters():
    assert len(ED52_FIELDS) == 48 and sum(w for _, w in ED52_FIELDS) == 525
    assert all(len(raw) == 525 for raw in raw_lines("alcatel_oxe_ed52.txt")[1:])


def test_it_reads_every_ticket(tickets):
    assert tickets[0] == Skip("blank line")
    assert rejects(tickets) == [] and len(records(tickets)) == 7


def test_an_outgoing_public_call(tickets):
    call = tickets[1]
    assert call.start == utc(2026, 3, 2, 8, 0, 0) and call.answer == utc(2026, 3, 2, 8, 0, 7)
    assert (call.talk_seconds, call.ring_seconds, call.direction_hint) == (120, 7, OUTBOUND)
    assert (call.calling, call.called) == ("1001", "00390612345678")
    assert (call.orig_device, call.dest_device, call.pbx_call_id) == ("1001", "TG1/3", "50001")


def test_incoming_local_local_and_unanswered_calls(tickets):
    assert tickets[2].direction_hint == INBOUND and tickets[2].orig_device == "TG2/12"
    assert (tickets[2].calling, tickets[2].called) == ("3331234567", "1002")
    assert tickets[3].direction_hint == INTERNAL
    assert (tickets[4].disposition, tickets[4].ring_seconds, tickets[4].answer) == (NO_ANSWER, 25, None)


def test_the_access_code_is_the_account_code(tickets):
    assert tickets[5].account_code == "4321" and tickets[5].disposition == ANSWERED


def test_a_redirected_call_names_the_acting_extension_and_the_initial_number(tickets):
    call = tickets[6]
    assert (call.redirecting, call.original_called, call.final_called) == ("1008", "1008", "1009")
    assert call.talk_seconds == 120  # Duration written as HH:MM:SS


def test_without_start_time_the_start_is_end_minus_duration_and_private_calls_have_no_hint(tickets):
    call = tickets[7]
    assert call.start == utc(2026, 3, 2, 8, 9, 0) and call.direction_hint is None


def test_a_site_layout_can_be_given():
    fields = [["TicketVersion", 5], ["CallType", 2], ["CalledNumber", 20], ["CallingNumber", 10],
              ["StartDateTime", 17], ["Duration", 6]]
    line = format_ticket({"TicketVersion": "ED4.0", "CallType": "0", "CalledNumber": "0612", "CallingNumber": "1001",
                          "StartDateTime": "02/03/2026 09:00", "Duration": "65"}, [tuple(f) for f in fields])
    call = driver(fields=fields).parse(line.encode())
    assert (call.start, call.talk_seconds, call.calling, call.direction_hint) == (
        utc(2026, 3, 2, 8, 0, 0), 65, "1001", OUTBOUND)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fields": "ED5.2"}, "list of \\[name, width\\] pairs"),
        ({"fields": [["CalledNumber", 0]]}, "positive whole width"),
        ({"fields": [["CalledNumber", 30]]}, "lacks the field"),
        ({"ticket_versions": "ED"}, "list of strings"),
        ({"layout": []}, "unknown alcatel_oxe option"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        AlcatelOxeDriver.validate_options(options)


def test_truncated_damaged_and_foreign_lines_are_rejected():
    line = raw_lines("alcatel_oxe_ed52.txt")[1]
    d = driver()
    assert isinstance(d.parse(line[:150]), Reject)
    assert isinstance(d.parse(line.replace(b"20260302 09:00:00", b"20261302 09:00:00")), Reject)
    assert isinstance(d.parse(line[:166] + b"99" + line[168:]), Reject)
    assert all(isinstance(o, Reject | Skip) for o in d.parse_many(raw_lines("asterisk_master18.csv")))
    assert d.parse(line + b"\r") == d.parse(line)


def test_dates_and_durations_are_read_from_their_digits():
    assert read_stamp("20260302 09:00:00") == dt.datetime(2026, 3, 2, 9, 0, 0)
    assert read_stamp("02/03/2026 09:00") == dt.datetime(2026, 3, 2, 9, 0, 0)
    assert read_seconds("01:00:05") == 3605 and read_seconds("42") == 42


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=600), max_size=20))
def test_random_bytes_never_raise(chunks):
    d = driver()
    chunks = chunks + [b"ED5.2" + c for c in chunks]
    assert len(d.parse_many(chunks)) == len(chunks)
    assert all(isinstance(d.parse(c), CdrRecord | Skip | Reject) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(
    start=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    ring=st.integers(0, 9999),
    talk=st.integers(1, 10**8),
    calling=st.from_regex(r"[0-9]{3,30}", fullmatch=True),
    called=st.from_regex(r"[0-9]{3,30}", fullmatch=True),
    call_type=st.sampled_from(("0", "4", "14")),
)
def test_a_generated_ticket_reads_back(start, ring, talk, calling, called, call_type):
    start = start.replace(microsecond=0)
    line = format_ticket({"TicketVersion": "ED5.2", "CallType": call_type, "CallingNumber": calling,
                          "CalledNumber": called, "StartDateTime": f"{start:%Y%m%d %H:%M:%S}",
                          "Duration": str(talk), "WaitingDuration": str(ring)})
    call = driver(dt.UTC).parse(line.encode())
    assert call.start == start.replace(tzinfo=dt.UTC)
    assert (call.talk_seconds, call.ring_seconds, call.calling, call.called) == (talk, ring, calling, called)
    assert call.direction_hint == {"0": OUTBOUND, "4": INBOUND, "14": INTERNAL}[call_type]


def test_two_thousand_synthetic_tickets_read_without_a_reject():
    out = driver(dt.UTC).parse_many(list(synthesize(2000)))
    assert rejects(out) == [] and len(records(out)) == 2000
