from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.drivers.base import (
    ANSWERED,
    INBOUND,
    NO_ANSWER,
    OUTBOUND,
    CdrRecord,
    DriverConfigError,
    DriverOptions,
    Reject,
    Skip,
)
from calltally.drivers.hipath import HiPathDriver
from calltally.drivers.hipath.driver import COMPRESSED_FIELDS, NO_NODE_FIELDS
from calltally.drivers.hipath.synth import format_record, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")


def driver(zone: dt.tzinfo = ROME, **options) -> HiPathDriver:
    return HiPathDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def printout() -> list:
    return driver().parse_many(raw_lines("hipath_compressed.txt"))


def test_the_default_layout_is_the_109_character_compressed_record():
    assert sum(w for _, w in COMPRESSED_FIELDS) == 109
    assert all(len(raw) == 110 for raw in raw_lines("hipath_compressed.txt")[3:])  # with the CR


def test_headings_and_blank_lines_are_skipped_and_every_record_read(printout):
    assert printout[:3] == [Skip("heading or other non-call line")] * 2 + [Skip("blank line")]
    assert rejects(printout) == [] and len(records(printout)) == 6


def test_an_outgoing_call_ends_at_the_printed_time(printout):
    call = printout[3]
    assert call.start == utc(2026, 3, 2, 8, 0, 7) and call.talk_seconds == 120
    assert (call.direction_hint, call.calling, call.called) == (OUTBOUND, "101", "00390612345678")
    assert (call.orig_device, call.dest_device, call.disposition) == ("101", "trunk 1", ANSWERED)


def test_an_incoming_call_has_its_ring_time(printout):
    call = printout[4]
    assert (call.direction_hint, call.calling, call.called) == (INBOUND, "3331234567", "102")
    assert (call.ring_seconds, call.talk_seconds) == (5, 60)
    assert call.start == utc(2026, 3, 2, 8, 1, 0) and call.answer == utc(2026, 3, 2, 8, 1, 5)


def test_an_unanswered_incoming_call(printout):
    call = printout[5]
    assert (call.disposition, call.answer, call.ring_seconds) == (NO_ANSWER, None, 25)


def test_the_account_code_and_forwarded_calls(printout):
    assert printout[6].account_code == "4711"
    assert (printout[7].direction_hint, printout[7].redirecting) == (OUTBOUND, "108")
    assert (printout[9].direction_hint, printout[9].redirecting) == (INBOUND, "110")


def test_the_call_information_notice_is_skipped(printout):
    assert printout[8] == Skip("call information notice (call type 0)")


def test_a_site_layout_and_date_order_can_be_given():
    fields = [["date", 10], ["filler", 1], ["time", 8], ["filler", 1], ["extension", 6], ["filler", 1],
              ["duration", 8], ["filler", 1], ["number", 20], ["filler", 1], ["call_type", 1]]
    line = b"2026-03-02 09:02:00    101 00:01:00 0612345678           2"
    call = driver(fields=fields, date_order="YMD").parse(line)
    assert (call.start, call.talk_seconds, call.called) == (utc(2026, 3, 2, 8, 1, 0), 60, "0612345678")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fields": [["date", 8]]}, "lacks the field"),
        ({"fields": [["date", "8"]]}, "positive whole width"),
        ({"date_order": "DDMMYY"}, "date_order"),
        ({"format": "long"}, "unknown hipath option"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        HiPathDriver.validate_options(options)


def test_truncated_damaged_and_foreign_lines_are_rejected_or_skipped():
    line = raw_lines("hipath_compressed.txt")[3]
    d = driver()
    assert isinstance(d.parse(line[:60]), Reject)
    assert isinstance(d.parse(line.replace(b"02.03.26", b"31.02.26")), Reject)
    assert isinstance(d.parse(line[:77] + b"x" + line[78:]), Reject)
    assert all(isinstance(o, Reject | Skip) for o in d.parse_many(raw_lines("asterisk_master18.csv")))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_random_bytes_never_raise(chunks):
    d = driver()
    chunks = chunks + [b"02.03.2609:00:00" + c for c in chunks]
    assert len(d.parse_many(chunks)) == len(chunks)
    assert all(isinstance(d.parse(c), CdrRecord | Skip | Reject) for c in chunks)


@settings(max_examples=200, deadline=None)
@given(
    end=local_datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2099, 12, 31)),
    ring=st.integers(0, 300),
    talk=st.integers(1, 99 * 3600),
    extension=st.from_regex(r"[1-9][0-9]{1,5}", fullmatch=True),
    number=st.from_regex(r"[0-9]{3,25}", fullmatch=True),
    call_type=st.sampled_from(("1", "2")),
)
def test_a_generated_record_reads_back(end, ring, talk, extension, number, call_type):
    end = end.replace(microsecond=0)
    line = format_record({"date": f"{end:%d.%m.%y}", "time": f"{end:%H:%M:%S}", "extension": extension,
                          "ring": str(ring), "number": number, "call_type": call_type,
                          "duration": f"{talk // 3600:02d}:{talk // 60 % 60:02d}:{talk % 60:02d}"})
    call = driver(dt.UTC).parse(line.encode())
    inbound = call_type == "1"
    used_ring = ring if inbound else 0
    assert call.start == (end - dt.timedelta(seconds=talk + used_ring)).replace(tzinfo=dt.UTC)
    assert (call.talk_seconds, call.ring_seconds) == (talk, used_ring)
    assert (call.calling, call.called) == ((number, extension) if inbound else (extension, number))
    assert call.direction_hint == (INBOUND if inbound else OUTBOUND)


def test_two_thousand_synthetic_records_read_without_a_reject():
    out = driver(dt.UTC).parse_many(list(synthesize(2000)))
    assert rejects(out) == [] and len(records(out)) == 2000


@pytest.fixture(scope="module")
def no_node() -> list:
    return driver().parse_many(raw_lines("hipath_no_node.txt"))


def test_the_no_node_layout_is_107_characters_with_a_two_character_call_type():
    assert sum(w for _, w in NO_NODE_FIELDS) == 107
    assert dict(NO_NODE_FIELDS)["call_type"] == 2 and "node" not in dict(NO_NODE_FIELDS)


def test_every_record_printed_without_the_node_field_is_read_without_options(no_node):
    assert rejects(no_node) == []
    assert len(records(no_node)) == 56
    assert no_node.count(Skip("call information notice (call type 0)")) == 1
    assert no_node.count(Skip("heading or other non-call line")) == 4
    assert no_node.count(Skip("blank line")) == 2


def test_each_no_node_records_duration_and_number_are_those_printed_after_the_time(no_node):
    texts = [raw.decode().rstrip("\r") for raw in raw_lines("hipath_no_node.txt")]
    read = 0
    for text, call in zip(texts, no_node, strict=True):
        if not isinstance(call, CdrRecord):
            continue
        hours, minutes, seconds, number = re.search(r"(\d\d):(\d\d):(\d\d)(\d+)", text[16:]).groups()
        assert call.talk_seconds == int(hours) * 3600 + int(minutes) * 60 + int(seconds), text
        assert number == (call.calling if call.direction_hint == INBOUND else call.called), text
        read += 1
    assert read == 56


def test_no_node_records_give_directions_ring_times_and_unanswered_calls(no_node):
    calls = records(no_node)
    assert sum(c.direction_hint == INBOUND for c in calls) == 28
    assert sum(c.direction_hint == OUTBOUND for c in calls) == 28
    outgoing = no_node[3]
    assert (outgoing.calling, outgoing.called, outgoing.talk_seconds) == ("111", "0612345678", 1338)
    assert outgoing.start == utc(2026, 3, 2, 6, 43, 43) and outgoing.dest_device == "trunk 3"
    incoming = no_node[6]
    assert (incoming.calling, incoming.called, incoming.ring_seconds, incoming.talk_seconds) == (
        "171987654", "102", 2, 1133)
    assert incoming.answer == utc(2026, 3, 2, 7, 18, 35) - dt.timedelta(seconds=1133)
    missed = no_node[8]
    assert (missed.disposition, missed.answer, missed.ring_seconds, missed.talk_seconds) == (NO_ANSWER, None, 18, 0)


def test_no_node_call_types_two_characters_wide_and_account_codes(no_node):
    assert [no_node[i].account_code for i in (5, 13, 46)] == ["99", "123456", "815"]
    assert (no_node[9].direction_hint, no_node[9].redirecting) == (OUTBOUND, "111")  # 6 outgoing forwarded
    assert (no_node[10].direction_hint, no_node[10].redirecting) == (INBOUND, "201")  # 5 incoming forwarded
    assert (no_node[17].direction_hint, no_node[17].redirecting) == (OUTBOUND, "103")  # 9 forwarded outside
    disa = no_node[18]  # 51: an incoming call through DISA
    assert (disa.direction_hint, disa.redirecting, disa.ring_seconds, disa.called) == (INBOUND, "", 11, "102")


def test_compressed_and_no_node_records_are_read_from_one_stream():
    mixed = raw_lines("hipath_compressed.txt")[3:5] + raw_lines("hipath_no_node.txt")[3:5]
    calls = driver().parse_many(mixed)
    assert [(c.calling, c.called) for c in calls] == [
        ("101", "00390612345678"), ("3331234567", "102"), ("111", "0612345678"), ("110", "0612345678")]


def test_a_record_without_an_hh_mm_ss_duration_is_read_by_the_call_type_column_that_holds_a_number():
    line = format_record({"date": "02.03.26", "time": "09:00:00", "extension": "101", "duration": "60",
                          "number": "0612345678", "call_type": "2"}, NO_NODE_FIELDS)
    call = driver().parse(line.encode())
    assert (call.calling, call.called, call.talk_seconds, call.direction_hint) == ("101", "0612345678", 60, OUTBOUND)


def test_a_site_layout_replaces_both_known_layouts():
    line = raw_lines("hipath_no_node.txt")[3]
    assert isinstance(driver(fields=[list(f) for f in COMPRESSED_FIELDS]).parse(line), Reject)
    assert driver(fields=[list(f) for f in NO_NODE_FIELDS]).parse(line) == driver().parse(line)
