from __future__ import annotations

import datetime as dt
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
from calltally.drivers.freeswitch_csv import FreeswitchCsvDriver
from calltally.drivers.freeswitch_csv.driver import TEMPLATES, template_variables
from calltally.drivers.freeswitch_csv.synth import SYNTH_OPTIONS, synthesize

from .helpers import local_datetimes, raw_lines, records, rejects, utc

ROME = ZoneInfo("Europe/Rome")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CUSTOM_TEMPLATE = (
    '"${caller_id_number}","${destination_number}","${context}","${start_epoch}","${answer_epoch}",'
    '"${end_epoch}","${hangup_cause}","${uuid}","${call_uuid}","${accountcode}","${channel_name}",'
    '"${sip_gateway_name}","${callee_id_number}","${call_direction}","${direction}"'
)


def driver(zone: dt.tzinfo = ROME, **options) -> FreeswitchCsvDriver:
    return FreeswitchCsvDriver(DriverOptions(timezone=zone, options=options))


@pytest.fixture(scope="module")
def example() -> list:
    return driver(extension_digits=4).parse_many(raw_lines("freeswitch_example.csv"))


@pytest.fixture(scope="module")
def custom() -> list:
    return driver(template=CUSTOM_TEMPLATE).parse_many(raw_lines("freeswitch_custom.csv"))


def test_it_reads_every_line_of_the_stock_example_template(example):
    assert rejects(example) == []
    assert len(records(example)) == 7


def test_it_reads_an_answered_outbound_call_with_an_account_code(example):
    call = example[0]
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert call.answer == utc(2026, 3, 2, 8, 0, 7)
    assert (call.talk_seconds, call.ring_seconds) == (120, 7)
    assert (call.calling, call.called, call.original_called) == ("1001", "0039061234567", "0039061234567")
    assert call.direction_hint == OUTBOUND  # context default, more digits than an extension
    assert call.account_code == "CC42"
    assert call.pbx_call_id == "0f1e2d3c-0000-4000-8000-000000000001"
    assert call.disposition == ANSWERED


def test_the_public_context_is_inbound_and_default_to_an_extension_internal(example):
    assert example[1].direction_hint == INBOUND
    assert (example[1].calling, example[1].called) == ("0612345678", "1002")
    assert example[2].direction_hint == INTERNAL


def test_without_extension_digits_the_default_context_gives_no_hint():
    out = driver().parse_many(raw_lines("freeswitch_example.csv"))
    assert out[0].direction_hint is None and out[2].direction_hint is None
    assert out[1].direction_hint == INBOUND


def test_unanswered_busy_and_failed_calls(example):
    assert example[3].disposition == NO_ANSWER and example[3].answer is None
    assert (example[3].talk_seconds, example[3].ring_seconds) == (0, 20)
    assert example[4].disposition == BUSY
    assert example[5].disposition == FAILED


def test_a_latin1_caller_name_does_not_matter(example):
    assert example[6].calling == "0612555444" and example[6].talk_seconds == 60


def test_the_stock_sql_template():
    out = driver(template="sql").parse_many(raw_lines("freeswitch_sql.csv"))
    assert rejects(out) == []
    first, second = records(out)
    assert first.account_code == "CC42" and first.talk_seconds == 120
    assert second.disposition == NO_ANSWER and second.direction_hint == INBOUND


def test_a_site_template_with_epochs_gateway_and_call_direction(custom):
    assert rejects(custom) == []
    out = custom[0]
    assert out.start == utc(2026, 3, 2, 9, 0, 0)
    assert (out.ring_seconds, out.talk_seconds) == (6, 100)
    assert out.direction_hint == OUTBOUND
    assert (out.orig_device, out.dest_device) == ("sofia/internal", "gateway/carrier1")


def test_a_forwarded_inbound_call_and_its_legs_share_the_call_uuid(custom):
    forwarded, leg = custom[1], custom[2]
    assert forwarded.direction_hint == INBOUND
    assert (forwarded.called, forwarded.final_called, forwarded.redirecting) == ("1002", "1003", "1002")
    assert forwarded.orig_device == "sofia/external"
    assert leg.answer is None and leg.disposition == NO_ANSWER
    assert leg.pbx_call_id == forwarded.pbx_call_id == "1f000000-0000-4000-8000-000000000003"


def test_call_direction_local_is_internal_and_the_account_code_is_read(custom):
    assert custom[3].direction_hint == INTERNAL and custom[3].account_code == "P77"


def test_freeswitchs_own_inbound_direction_on_an_a_leg_says_nothing(custom):
    assert custom[4].direction_hint is None
    again = driver(template=CUSTOM_TEMPLATE, extension_digits=4).parse(raw_lines("freeswitch_custom.csv")[4])
    assert again.direction_hint == OUTBOUND


def test_templates_given_as_text_as_names_or_by_name():
    assert template_variables("example") == TEMPLATES["example"]
    assert template_variables(None) == TEMPLATES["example"]
    assert template_variables(["${start_stamp}", "caller_id_number"]) == ("start_stamp", "caller_id_number")
    assert template_variables(CUSTOM_TEMPLATE)[:3] == ("caller_id_number", "destination_number", "context")


def test_utc_times_reads_the_stamps_as_utc():
    call = driver(utc_times=True).parse(raw_lines("freeswitch_example.csv")[0])
    assert call.start == utc(2026, 3, 2, 9, 0, 0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"template": "snom2"}, "must be example, sql"),
        ({"template": ["caller_id_number"]}, "must include a start time"),
        ({"template": 5}, "must be a list of strings"),
        ({"extension_digits": "4"}, "extension_digits"),
        ({"utc_times": "no"}, "true or false"),
        ({"inbound_contexts": "public"}, "must be a list of strings"),
        ({"columns": []}, "unknown freeswitch_csv option"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message):
        FreeswitchCsvDriver.validate_options(options)


def test_a_truncated_line_is_rejected_and_a_bom_crlf_and_blank_line_are_handled():
    lines = raw_lines("freeswitch_example.csv")
    clean = driver().parse_many(lines)
    out = driver().parse_many([b"\xef\xbb\xbf" + lines[0] + b"\r", b"", lines[1][:90], *lines[2:]])
    assert out[0] == clean[0]
    assert out[1] == Skip("blank line")
    assert isinstance(out[2], Reject)
    assert out[3:] == clean[2:]


def test_bad_values_are_rejected_with_the_reason():
    raw = raw_lines("freeswitch_example.csv")[0]
    assert driver().parse(raw.replace(b'"127"', b'"12x"')) == Reject("duration is not a whole number of seconds: '12x'")
    out = driver().parse(raw.replace(b"2026-03-02 09:00:00", b"2026-13-02 09:00:00"))
    assert out == Reject("unreadable start time '2026-13-02 09:00:00'")


def test_another_brands_lines_are_rejected_or_skipped():
    for name in ("asterisk_master18.csv", "cucm10_cdr.csv", "threecx_v18.txt", "asterisk_custom_freepbx.csv"):
        out = driver().parse_many(raw_lines(name))
        assert all(isinstance(o, Reject | Skip) for o in out), name


def test_a_header_line_is_skipped():
    header = b"caller_id_name,caller_id_number,destination_number,context,start_stamp,answer_stamp,end_stamp,duration"
    assert driver().parse(header) == Skip("header line")
    assert driver().parse(b",".join(n.encode() for n in TEMPLATES["example"])) == Skip("header line")


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_random_bytes_never_raise(raws):
    out = driver().parse_many(raws)
    assert len(out) == len(raws)
    assert all(isinstance(o, CdrRecord | Skip | Reject) for o in out)
    assert all(isinstance(driver(template="sql").parse(b"INSERT INTO cdr VALUES (" + raw), CdrRecord | Skip | Reject)
               for raw in raws)


def test_parse_and_parse_many_agree():
    lines = raw_lines("freeswitch_example.csv")
    d = driver()
    assert [d.parse(raw) for raw in lines] == driver().parse_many(lines)
    lines = raw_lines("freeswitch_sql.csv")
    assert [driver(template="sql").parse(raw) for raw in lines] == driver(template="sql").parse_many(lines)


_NUMBER = st.text("0123456789", min_size=2, max_size=15)
_CONTEXTS = {"inbound": ("public", "1001"), "outbound": ("default", "0612345678"), "internal": ("default", "1002")}


@FUZZ
@given(
    start=local_datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2037, 12, 31)),
    ring=st.integers(0, 300),
    talk=st.integers(0, 20_000),
    calling=_NUMBER,
    direction=st.sampled_from(sorted(_CONTEXTS)),
    template=st.sampled_from(sorted(TEMPLATES)),
)
def test_a_generated_record_round_trips(start, ring, talk, calling, direction, template):
    start = start.replace(microsecond=0)
    answer = start + dt.timedelta(seconds=ring)
    end = answer + dt.timedelta(seconds=talk)
    context, called = _CONTEXTS[direction]
    values = {
        "caller_id_name": "X", "caller_id_number": calling, "destination_number": called, "context": context,
        "start_stamp": str(start), "answer_stamp": str(answer), "end_stamp": str(end),
        "duration": str(ring + talk), "billsec": str(talk), "hangup_cause": "NORMAL_CLEARING", "uuid": "u-1",
    }
    text = ",".join(f'"{values.get(v, "")}"' for v in TEMPLATES[template])
    raw = (f"INSERT INTO cdr VALUES ({text});" if template == "sql" else text).encode()
    call = driver(template=template, extension_digits=4).parse(raw)
    assert isinstance(call, CdrRecord), call
    assert call.start == local_to_utc(start, ROME)
    assert (call.talk_seconds, call.ring_seconds) == (talk, ring)
    assert (call.calling, call.called, call.direction_hint) == (calling, called, direction)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_synthesized_lines_read_back_without_a_reject(template):
    out = driver(ZoneInfo("UTC"), template=template, **SYNTH_OPTIONS).parse_many(
        list(synthesize(2000, template=template)))
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 2000
    assert {c.direction_hint for c in calls} == {INBOUND, OUTBOUND, INTERNAL}
    assert {c.disposition for c in calls} == {ANSWERED, NO_ANSWER, BUSY, FAILED}
    assert utc(2026, 3, 2, 8, 0, 0) <= calls[0].start < utc(2026, 3, 2, 8, 0, 7)


def test_detection_tries_both_stock_templates():
    assert FreeswitchCsvDriver.detection_options() == [{}, {"template": "sql"}]
    for options in FreeswitchCsvDriver.detection_options():
        FreeswitchCsvDriver.validate_options(options)


def spreadsheet(name: str) -> list[bytes]:
    return raw_lines(f"freeswitch_spreadsheet_{name}.csv")


def test_a_master_csv_a_spreadsheet_saved_again_with_year_first_dates_is_read_without_options():
    out = driver().parse_many(spreadsheet("ymd"))
    assert rejects(out) == [] and len(records(out)) == 24
    first = out[0]
    assert first.start == local_to_utc(dt.datetime(2020, 2, 10, 12, 56), ROME)
    assert first.answer == local_to_utc(dt.datetime(2020, 2, 10, 12, 56), ROME)
    assert (first.talk_seconds, first.ring_seconds, first.account_code) == (887, 19, "CC42")
    assert (first.calling, first.called) == ("1001", "612345678")  # the spreadsheet dropped the leading 0
    assert out[-1].start == local_to_utc(dt.datetime(2020, 2, 14, 3, 29), ROME)


def test_a_spreadsheet_saved_master_csv_keeps_quoted_names_and_unanswered_calls():
    out = driver().parse_many(spreadsheet("ymd"))
    assert out[9].calling == "223456789" and out[9].direction_hint == INBOUND
    missed = [c for c in records(out) if c.disposition == NO_ANSWER]
    assert len(missed) == 4 and all(c.answer is None and c.talk_seconds == 0 for c in missed)


@pytest.mark.parametrize(("form", "order"), [("dmy", "DMY"), ("mdy", "MDY"), ("dmy", "dmy")])
def test_dates_with_the_year_last_read_as_the_date_order_says(form, order):
    expected = driver().parse_many(spreadsheet("ymd"))
    assert driver(date_order=order).parse_many(spreadsheet(form)) == expected


def test_dates_with_the_year_last_are_rejected_without_a_date_order_with_a_message_saying_what_to_set():
    out = driver().parse_many(spreadsheet("dmy"))
    assert len(rejects(out)) == 24 and records(out) == []
    assert "set option date_order to DMY (day first) or MDY (month first)" in out[0].detail


def test_a_two_digit_year_last_is_never_taken_for_a_year_first_date():
    raw = raw_lines("freeswitch_example.csv")[0].replace(b"2026-03-02 09:00:00", b"2/10/20 22:41")
    out = driver().parse(raw)
    assert isinstance(out, Reject) and "set option date_order" in out.detail
    assert driver(date_order="MDY").parse(raw).start == local_to_utc(dt.datetime(2020, 2, 10, 22, 41), ROME)


def test_the_wrong_date_order_rejects_the_dates_it_cannot_be():
    out = driver(date_order="MDY").parse_many(spreadsheet("dmy"))
    assert rejects(out) and all("unreadable start time '1" in r.detail for r in rejects(out))


@pytest.mark.parametrize(
    ("stamp", "order", "local"),
    [
        ("2020/2/10 22:41", "YMD", dt.datetime(2020, 2, 10, 22, 41)),
        ("2020-2-10 22:41:07", "YMD", dt.datetime(2020, 2, 10, 22, 41, 7)),
        ("10.02.2020 22:41:07", "DMY", dt.datetime(2020, 2, 10, 22, 41, 7)),
        ("2/10/20 10:41 PM", "MDY", dt.datetime(2020, 2, 10, 22, 41)),
        ("2/10/2020 12:05 am", "MDY", dt.datetime(2020, 2, 10, 0, 5)),
        ("2020/02/10 22:41", "DMY", dt.datetime(2020, 2, 10, 22, 41)),  # year first is year first
        ("2020-02-10 22:41:07", "MDY", dt.datetime(2020, 2, 10, 22, 41, 7)),
    ],
)
def test_the_stamp_forms_a_spreadsheet_writes(stamp, order, local):
    raw = raw_lines("freeswitch_example.csv")[0].replace(b"2026-03-02 09:00:00", stamp.encode())
    call = driver(date_order=order).parse(raw)
    assert isinstance(call, CdrRecord), call
    assert call.start == local_to_utc(local, ROME)


@pytest.mark.parametrize("stamp", ["2020/13/10 22:41", "10/02/2020", "2/10/2020 13:05 PM", "yesterday 22:41"])
def test_stamps_that_are_no_instant_are_rejected(stamp):
    raw = raw_lines("freeswitch_example.csv")[0].replace(b"2026-03-02 09:00:00", stamp.encode())
    assert isinstance(driver(date_order="MDY").parse(raw), Reject)


def test_a_date_order_that_is_no_known_order_is_refused():
    for value in ("DDMMYY", 1, None):
        with pytest.raises(DriverConfigError, match="date_order"):
            FreeswitchCsvDriver.validate_options({"date_order": value})


def test_detection_also_tries_the_day_first_and_month_first_date_orders():
    key, orders = FreeswitchCsvDriver.detection_date_forms
    assert (key, orders) == ("date_order", ("DMY", "MDY"))
    for order in orders:
        FreeswitchCsvDriver.validate_options({key: order})
