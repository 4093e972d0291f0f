from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from calltally.drivers.base import (
    ANSWERED,
    BUSY,
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
from calltally.drivers.generic_csv import GenericCsvDriver
from calltally.drivers.generic_csv.driver import _fixed_width_parser

from .helpers import raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")

FIXTURE_OPTIONS = {
    "header": True,
    "fields": {
        "start": ["Date", "Time"],
        "calling": "From",
        "called": "To",
        "direction": "Dir",
        "talk_seconds": "Talk",
        "disposition": "Result",
        "orig_device": "Ext Line",
        "pbx_call_id": "Call Ref",
        "account_code": "Account",
    },
    "datetime_format": "%d/%m/%Y %H:%M:%S",
    "duration_format": "hh:mm:ss",
    "direction_values": {"O": "outbound", "I": "inbound", "X": "internal"},
    "disposition_values": {"No answer": "no_answer"},
    "skip_prefixes": ["Total"],
}

ISO_OPTIONS = {
    "header": True,
    "fields": {"start": "start", "answer": "answer", "end": "end", "calling": "src", "called": "dst"},
}


def driver(options: dict, zone: dt.tzinfo = ROME) -> GenericCsvDriver:
    return GenericCsvDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def fixture_calls() -> list:
    return driver(FIXTURE_OPTIONS).parse_many(raw_lines("generic_calls.csv"))


def test_it_reads_a_configured_csv_file(fixture_calls):
    assert fixture_calls[0] == Skip("header line")
    assert fixture_calls[-1] == Skip("skipped line")
    assert rejects(fixture_calls) == []
    assert len(records(fixture_calls)) == 6


def test_it_joins_a_date_and_a_time_column_and_reads_them_as_local_time(fixture_calls):
    call = fixture_calls[1]
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert (call.calling, call.called, call.orig_device) == ("1001", "0039061234567", "SEP1001")
    assert (call.pbx_call_id, call.account_code) == ("A-1", "4711")
    assert call.talk_seconds == 120
    assert call.direction_hint == OUTBOUND
    assert call.disposition == ANSWERED
    assert call.answer == call.start  # no answer or ring column: start + 0


def test_it_maps_direction_and_disposition_values(fixture_calls):
    hints = [c.direction_hint for c in records(fixture_calls)]
    assert hints == [OUTBOUND, INBOUND, INTERNAL, INTERNAL, OUTBOUND, INBOUND]
    results = [c.disposition for c in records(fixture_calls)]
    assert results == [ANSWERED, ANSWERED, ANSWERED, NO_ANSWER, BUSY, ANSWERED]


def test_it_reads_an_unanswered_call(fixture_calls):
    call = fixture_calls[4]
    assert call.answer is None and not call.answered
    assert call.talk_seconds == 0


def test_it_reads_quoted_fields_and_long_durations(fixture_calls):
    assert fixture_calls[6].talk_seconds == 3630
    assert fixture_calls[6].orig_device == "TRUNK2"


def test_talk_and_ring_are_derived_from_the_instants():
    d = driver(ISO_OPTIONS)
    out = d.parse_many([
        b"start,answer,end,src,dst",
        b"2026-03-02 09:00:00,2026-03-02 09:00:12,2026-03-02 09:01:12,1001,1002",
        b"2026-03-02 09:05:00,,2026-03-02 09:05:25,1001,1003",
        b"2026-03-02T08:10:00Z,2026-03-02T08:10:02Z,2026-03-02T08:10:05Z,1001,1003",
    ])
    answered, unanswered, explicit = out[1:]
    assert (answered.talk_seconds, answered.ring_seconds) == (60, 12)
    assert answered.answer == utc(2026, 3, 2, 8, 0, 12)
    assert answered.disposition == ANSWERED
    assert (unanswered.talk_seconds, unanswered.ring_seconds) == (0, 25)
    assert unanswered.disposition == NO_ANSWER
    assert explicit.start == utc(2026, 3, 2, 8, 10, 0)  # an explicit offset wins over the site zone
    assert (explicit.talk_seconds, explicit.ring_seconds) == (3, 2)


def test_without_an_answer_column_the_answer_is_end_minus_talk():
    d = driver({"fields": {"start": 0, "end": 1, "talk_seconds": 2}, "utc": True})
    call = d.parse(b"2026-03-02 09:00:00,2026-03-02 09:01:10,60")
    assert call.answer == utc(2026, 3, 2, 9, 0, 10)
    assert call.ring_seconds == 0  # no ring column, and no answer column to derive it from


def test_indexes_work_without_header_or_columns_with_tabs_and_epoch_times():
    fields = {"start": 0, "talk_seconds": 1, "called": 3}
    d = driver({"delimiter": "tab", "datetime_format": "epoch", "fields": fields})
    call = d.parse(b"1772438400\t65\tignored\t0039061234567")
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert (call.talk_seconds, call.called, call.disposition) == (65, "0039061234567", ANSWERED)
    assert d.parse(b"1772438400\t65") == Reject("2 fields where fields uses column index 3")


@pytest.mark.parametrize(
    ("fmt", "text", "seconds"),
    [("seconds", "61", 61), ("seconds", "61.6", 62), ("minutes", "1.5", 90), ("minutes", "2,25", 135),
     ("milliseconds", "61500", 62), ("hh:mm:ss", "1:02:03", 3723), ("hh:mm:ss", "02:03", 123),
     ("hh:mm:ss", "7", 7), ("hh:mm:ss", "00:00:01.6", 2), ("seconds", "", 0)],
)
def test_durations_are_read_in_the_configured_format(fmt, text, seconds):
    d = driver({"fields": {"start": 0, "talk_seconds": 1}, "datetime_format": "epoch_ms",
                "duration_format": fmt, "delimiter": ";"})
    call = d.parse(f"1772438400000;{text}".encode())
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert call.talk_seconds == seconds


def test_unreadable_values_are_rejected():
    d = driver({"fields": {"start": 0, "talk_seconds": 1}, "duration_format": "hh:mm:ss"})
    expected = Reject("unreadable duration '1:x:3' (duration_format hh:mm:ss)")
    assert d.parse(b"2026-03-02 09:00:00,1:x:3") == expected
    assert d.parse(b"2026-03-02 09:00:00,-1:00") == Reject("negative duration: talk -60, ring None")
    assert d.parse(b"yesterday,1:00") == Reject("unreadable start time 'yesterday'")
    assert d.parse(b",1:00") == Reject("the start column is empty")


def test_a_header_seen_again_is_skipped_and_a_reordered_one_is_followed():
    d = driver(ISO_OPTIONS)
    out = d.parse_many([
        b"start,answer,end,src,dst",
        b"2026-03-02 09:00:00,,2026-03-02 09:00:20,1001,1002",
        b"start,answer,end,src,dst",
        b"dst,src,end,answer,start,extra",
        b"1002,1001,2026-03-02 09:00:20,,2026-03-02 09:00:00,x",
    ])
    assert out[0] == out[2] == out[3] == Skip("header line")
    assert out[1] == out[4]
    assert d.get_state() == ["dst", "src", "end", "answer", "start", "extra"]


def test_the_state_round_trip_mid_file_gives_the_same_results():
    lines = raw_lines("generic_calls.csv")
    whole = driver(FIXTURE_OPTIONS).parse_many(lines)
    for cut in range(len(lines) + 1):
        first = driver(FIXTURE_OPTIONS)
        head = first.parse_many(lines[:cut])
        second = driver(FIXTURE_OPTIONS)
        second.set_state(json.loads(json.dumps(first.get_state())))
        assert head + second.parse_many(lines[cut:]) == whole, cut


def test_a_header_that_lacks_a_mapped_column_rejects_the_rows():
    d = driver(ISO_OPTIONS)
    out = d.parse_many([
        b"start,answer,finish,src,dst",
        b"2026-03-02 09:00:00,,2026-03-02 09:00:20,1001,1002",
    ])
    assert out[0] == Skip("header line")
    assert out[1] == Reject("the header line lacks the column(s) 'end' (fields.end)")


def test_columns_name_a_file_without_header_and_a_line_equal_to_them_is_skipped():
    fields = {"start": "when", "calling": "from", "called": "to"}
    d = driver({"columns": ["when", "from", "to"], "fields": fields})
    out = d.parse_many([b"when,from,to", b"2026-03-02 09:00:00,1001,1002", b"2026-03-02 09:00:00,1001"])
    assert out[0] == Skip("header line")
    assert isinstance(out[1], CdrRecord) and out[1].called == "1002"
    assert out[2] == Reject("2 fields where the header or columns list has 3")


def test_unknown_direction_and_disposition_values_give_no_hint_and_a_derived_disposition():
    d = driver({"fields": {"start": 0, "talk_seconds": 1, "direction": 2, "disposition": 3}})
    call = d.parse(b"2026-03-02 09:00:00,10,sideways,weird")
    assert call.direction_hint is None
    assert call.disposition == ANSWERED
    call = d.parse(b"2026-03-02 09:00:00,0,OUT,congestion")
    assert (call.direction_hint, call.disposition) == (OUTBOUND, BUSY)


@pytest.mark.parametrize("fmt", ["%d/%m/%Y %H:%M:%S", "%Y%m%d%H%M%S", "%m-%d-%Y %H:%M", "%d.%m.%Y"])
def test_the_fast_reader_of_strptime_patterns_agrees_with_strptime(fmt):
    fast = _fixed_width_parser(fmt)
    assert fast is not None
    moment = dt.datetime(2026, 3, 2, 0, 0, 0)
    for step in range(0, 400 * 86400, 7919 * 13):
        value = moment + dt.timedelta(seconds=step)
        text = value.strftime(fmt)
        assert dt.datetime.fromisoformat(fast(text)) == dt.datetime.strptime(text, fmt)
    assert fast("garbage") is None


def test_values_the_fast_reader_cannot_read_go_to_strptime():
    d = driver({"fields": {"start": 0}, "datetime_format": "%d/%m/%Y %H:%M:%S", "utc": True})
    assert d.parse(b" 2/03/2026 09:05:00").start == utc(2026, 3, 2, 9, 5)  # space-padded day
    assert d.parse(b"31/02/2026 09:05:00") == Reject("unreadable start time '31/02/2026 09:05:00'")


def test_strptime_patterns_the_fast_reader_cannot_do_still_work():
    assert _fixed_width_parser("%d %b %Y %I:%M %p") is None
    d = driver({"fields": {"start": 0}, "datetime_format": "%d %b %Y %I:%M %p", "utc": True})
    assert d.parse(b"02 Mar 2026 09:15 PM").start == utc(2026, 3, 2, 21, 15)
    d = driver({"fields": {"start": 0}, "datetime_format": "%d/%m/%Y %H:%M:%S", "utc": True})
    assert d.parse(b"2/3/2026 9:05:00").start == utc(2026, 3, 2, 9, 5)  # not zero-padded: strptime


def test_a_bom_blank_lines_and_crlf_are_handled():
    lines = raw_lines("generic_calls.csv")
    clean = driver(FIXTURE_OPTIONS).parse_many(lines)
    damaged = [b"\xef\xbb\xbf" + lines[0] + b"\r", b"", *(raw + b"\r" for raw in lines[1:])]
    out = driver(FIXTURE_OPTIONS).parse_many(damaged)
    assert out[1] == Skip("blank line")
    assert [out[0], *out[2:]] == clean


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "option fields is required"),
        ({"fields": {"begin": 0}}, "fields names unknown call field(s) begin"),
        ({"fields": {"calling": 0}}, "fields must map start"),
        ({"fields": {"start": "date"}}, "no header line and no columns list"),
        ({"fields": {"start": "date"}, "columns": ["when"]}, "the column 'date', which is not in columns"),
        ({"fields": {"start": 3}, "columns": ["a", "b"]}, "has index 3, but columns lists only 2 columns"),
        ({"fields": {"start": -1}}, "negative index"),
        ({"fields": {"start": True}}, "must be a column name"),
        ({"fields": {"start": 0}, "delimiter": ";;"}, "delimiter must be a single character"),
        ({"fields": {"start": 0}, "delimiter": '"'}, "delimiter and quotechar are both"),
        ({"fields": {"start": 0}, "header": True, "columns": ["a"]}, "give either header: true"),
        ({"fields": {"start": 0}, "header": "yes"}, "header must be true or false"),
        ({"fields": {"start": 0}, "datetime_format": "dd/mm/yyyy"}, "has no % directive"),
        ({"fields": {"start": 0}, "datetime_format": "%Q"}, "is not a usable strptime pattern"),
        ({"fields": {"start": 0}, "duration_format": "hours"}, "duration_format 'hours' is not one of"),
        ({"fields": {"start": 0}, "direction_values": {"I": "incoming"}}, "must be one of inbound, outbound"),
        ({"fields": {"start": 0}, "disposition_values": {"X": "lost"}}, "must be one of answered"),
        ({"fields": {"start": 0}, "skip_prefixes": "#"}, "skip_prefixes must be a list"),
        ({"fields": {"start": 0}, "colums": ["a"]}, "unknown option(s) colums"),
        ({"fields": {"start": 0}, "columns": ["a", "A"]}, "names 'A' twice"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError) as caught:
        GenericCsvDriver.validate_options(options)
    assert message in str(caught.value)
    assert str(caught.value).startswith("generic_csv: ")


def test_cisco_lines_are_rejected_not_raised():
    out = driver(FIXTURE_OPTIONS).parse_many(raw_lines("cucm10_cdr.csv"))
    assert all(isinstance(o, Reject | Skip) for o in out)
