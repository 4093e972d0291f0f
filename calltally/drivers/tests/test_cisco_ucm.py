from __future__ import annotations

import json

import pytest

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
from calltally.drivers.cisco_ucm import CiscoUcmDriver
from calltally.drivers.cisco_ucm.synth import COLUMNS, COLUMNS_10X, header_lines

from .helpers import raw_lines, records, rejects, skips, utc


def driver(**options) -> CiscoUcmDriver:
    return CiscoUcmDriver(DriverOptions(options=options))


@pytest.fixture(scope="module")
def cucm10() -> list:
    return driver().parse_many(raw_lines("cucm10_cdr.csv"))


def row_line(columns: list[str], **values) -> bytes:
    """A CDR row for ``columns``: zeros and empty strings except ``values``."""
    header = dict(zip(columns, header_lines(columns)[1].split(","), strict=True))
    cells = []
    for name in columns:
        value = values.get(name)
        if header[name].startswith("VARCHAR") or header[name] == "UNIQUEIDENTIFIER":
            cells.append(f'"{value if value is not None else ""}"')
        else:
            cells.append(str(value if value is not None else 0))
    return ",".join(cells).encode()


def plain_call(columns: list[str] = COLUMNS_10X, **values) -> bytes:
    base = dict(cdrRecordType=1, globalCallID_callManagerId=1, globalCallID_callId=7,
                dateTimeOrigination=1772438400, dateTimeConnect=1772438405, dateTimeDisconnect=1772438465,
                duration=60, callingPartyNumber="1001", originalCalledPartyNumber="1002",
                finalCalledPartyNumber="1002", origDeviceName="SEP000000001001",
                destDeviceName="SEP000000001002")
    base.update(values)
    return row_line(columns, **base)


def test_it_skips_the_header_and_the_type_line(cucm10):
    assert cucm10[0] == Skip("header line")
    assert cucm10[1] == Skip("column type line")
    assert rejects(cucm10) == []


def test_it_reads_an_outbound_call_with_a_client_matter_code(cucm10):
    call = cucm10[2]
    assert isinstance(call, CdrRecord)
    assert call.start == utc(2026, 3, 2, 8, 0, 0)
    assert call.answer == utc(2026, 3, 2, 8, 0, 8)
    assert (call.talk_seconds, call.ring_seconds) == (125, 8)
    assert call.calling == "1001"
    # the digits that left the system are what the carrier charges for
    assert call.called == "+39061234567"
    assert call.original_called == call.final_called == "0039061234567"
    assert (call.orig_device, call.dest_device) == ("SEP0011AABBCC01", "CUBE-PSTN-01")
    assert call.direction_hint == OUTBOUND
    assert call.account_code == "4711"
    assert call.pbx_call_id == "1-101"
    assert call.disposition == ANSWERED and call.answered


def test_it_reads_an_inbound_call(cucm10):
    call = cucm10[3]
    assert call.direction_hint == INBOUND
    assert (call.calling, call.called) == ("0612345678", "1002")
    assert (call.talk_seconds, call.ring_seconds) == (300, 6)
    assert call.pbx_call_id == "2-102"


def test_it_reads_an_internal_call_whose_fields_have_stray_spaces(cucm10):
    call = cucm10[4]
    assert isinstance(call, CdrRecord)
    assert call.direction_hint == INTERNAL
    assert (call.calling, call.called) == ("1003", "1004")
    assert (call.orig_device, call.dest_device) == ("SEP0011AABBCC03", "CSFJDOE")
    assert (call.talk_seconds, call.ring_seconds) == (42, 4)


def test_it_reads_an_unanswered_call(cucm10):
    call = cucm10[5]
    assert call.answer is None
    assert call.disposition == NO_ANSWER and not call.answered
    assert (call.talk_seconds, call.ring_seconds) == (0, 20)
    assert call.direction_hint == INTERNAL


def test_it_reads_a_busy_call(cucm10):
    call = cucm10[6]
    assert call.disposition == BUSY
    assert call.direction_hint == OUTBOUND
    assert call.called == "0223456789"
    assert call.ring_seconds == 3


def test_it_reads_a_call_forwarded_to_voicemail(cucm10):
    call = cucm10[7]
    assert call.direction_hint == INBOUND  # voicemail ports count as phones
    assert call.called == "1006"
    assert (call.original_called, call.final_called, call.redirecting) == ("1006", "8000", "1006")
    assert call.dest_device == "CiscoUM1-VI2"
    assert call.disposition == ANSWERED


def test_it_skips_call_management_records(cucm10):
    assert cucm10[8] == Skip("call management record (cdrRecordType 2)")


def test_it_reads_a_failed_call(cucm10):
    assert cucm10[9].disposition == FAILED
    assert cucm10[9].answer is None


def test_it_takes_the_account_code_from_a_forced_authorisation_code(cucm10):
    assert cucm10[10].account_code == "Sales FAC"
    assert cucm10[10].direction_hint == OUTBOUND  # from a Jabber client (CSF) to a trunk


def test_a_call_forwarded_back_out_is_outbound_to_the_outside_number(cucm10):
    call = cucm10[11]
    assert call.direction_hint == OUTBOUND
    assert call.called == "0039347000111"
    assert (call.original_called, call.redirecting) == ("1007", "1007")


def test_it_reads_the_12x_column_set_and_a_new_header_mid_stream():
    out = driver().parse_many(raw_lines("cucm12_cdr.csv"))
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 9 + 2
    assert calls[0].pbx_call_id == "1-301" and calls[0].called == "+39061234567"
    assert calls[-2].pbx_call_id == "1-501"  # under the 10.x header that came later
    assert calls[-1].direction_hint == INBOUND
    assert [s.what for s in skips(out)].count("header line") == 2


def test_rows_before_any_header_are_rejected():
    out = driver().parse(plain_call())
    assert isinstance(out, Reject)
    assert out.detail.startswith("no header line seen: ")


def test_a_row_with_the_wrong_number_of_fields_is_rejected():
    d = driver()
    d.parse(header_lines(COLUMNS_10X)[0].encode())
    out = d.parse(plain_call() + b',"extra"')
    assert isinstance(out, Reject)
    width = len(COLUMNS_10X)
    assert out.detail == f"{width + 1} fields where the current header has {width} columns"


def test_a_header_without_required_columns_rejects_its_rows_but_still_skips_cmrs():
    columns = [c for c in COLUMNS_10X if c not in ("duration", "destDeviceName")]
    d = driver()
    assert d.parse(header_lines(columns)[0].encode()) == Skip("header line")
    out = d.parse(row_line(columns, cdrRecordType=1, dateTimeOrigination=1772438400))
    assert isinstance(out, Reject)
    assert "duration" in out.detail and "destDeviceName" in out.detail
    assert d.parse(b'2,1,7,1,"1001"') == Skip("call management record (cdrRecordType 2)")


def test_columns_are_found_by_name_not_by_position():
    columns = list(reversed(COLUMNS_10X))
    columns.remove("cdrRecordType")
    columns.insert(0, "cdrRecordType")  # the header line is recognised by its first name
    d = driver()
    d.parse(header_lines(columns)[0].encode())
    call = d.parse(plain_call(columns, callingPartyNumber="1234", duration=61))
    assert isinstance(call, CdrRecord)
    assert (call.calling, call.talk_seconds, call.pbx_call_id) == ("1234", 61, "1-7")


def test_optional_columns_may_be_missing():
    dropped = ("clientMatterCode", "outpulsedCalledPartyNumber", "lastRedirectDn")
    columns = [c for c in COLUMNS_10X if c not in dropped]
    d = driver()
    d.parse(header_lines(columns)[0].encode())
    call = d.parse(plain_call(columns))
    assert isinstance(call, CdrRecord)
    assert call.account_code == "" and call.redirecting == ""


def test_the_state_round_trip_mid_file_gives_the_same_results():
    lines = raw_lines("cucm12_cdr.csv")
    whole = driver().parse_many(lines)
    for cut in range(len(lines) + 1):
        first = driver()
        head = first.parse_many(lines[:cut])
        state = json.loads(json.dumps(first.get_state()))
        second = driver()
        second.set_state(state)
        assert head + second.parse_many(lines[cut:]) == whole, cut


def test_set_state_none_starts_afresh():
    d = driver()
    d.parse(header_lines()[0].encode())
    assert d.get_state() == COLUMNS
    d.set_state(None)
    assert d.get_state() is None
    assert isinstance(d.parse(plain_call()), Reject)


def test_parse_and_parse_many_agree():
    lines = raw_lines("cucm12_cdr.csv")
    one_by_one = driver()
    assert [one_by_one.parse(line) for line in lines] == driver().parse_many(lines)


def test_a_byte_order_mark_before_the_header_is_ignored():
    lines = raw_lines("cucm10_cdr.csv")
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    assert driver().parse_many(lines) == driver().parse_many(raw_lines("cucm10_cdr.csv"))


def test_carriage_returns_left_by_crlf_files_are_ignored():
    lines = raw_lines("cucm10_cdr.csv")
    assert driver().parse_many([line + b"\r" for line in lines]) == driver().parse_many(lines)


def test_blank_lines_are_skipped():
    lines = raw_lines("cucm10_cdr.csv")
    out = driver().parse_many(lines[:3] + [b"", b"   ", b"\r"] + lines[3:])
    assert out[3:6] == [Skip("blank line")] * 3
    assert len(records(out)) == 9


def test_latin1_bytes_are_read_not_rejected():
    d = driver()
    d.parse(header_lines(COLUMNS_10X)[0].encode())
    call = d.parse(plain_call(destDeviceName="SEP000000001002").replace(b'"1001"', b'"10\xe901"', 1))
    assert isinstance(call, CdrRecord)
    assert call.calling == "10\u00e901"


def test_a_truncated_line_is_rejected_without_swallowing_the_next_one():
    lines = raw_lines("cucm10_cdr.csv")
    truncated = lines[2][:300] + b'"SEP00'  # ends inside a quoted field
    out = driver().parse_many(lines[:2] + [truncated] + lines[3:])
    assert isinstance(out[2], Reject)
    assert out[3:] == driver().parse_many(lines)[3:]


def test_asterisk_lines_are_rejected_not_raised():
    d = driver()
    d.parse_many(raw_lines("cucm10_cdr.csv")[:2])
    out = d.parse_many(raw_lines("asterisk_master18.csv"))
    assert out and all(isinstance(o, Reject) for o in out)
    assert out[0].detail.startswith("not a Cisco CDR row")


@pytest.mark.parametrize(
    ("options", "orig", "dest", "expected"),
    [
        ({}, "SEP000000001001", "GW1", OUTBOUND),
        ({}, "GW1", "SEP000000001001", INBOUND),
        ({}, "CIPCJDOE", "ATA000000001002", INTERNAL),
        ({}, "SEP000000001001", "", None),
        ({}, "", "", None),
        ({"trunk_device_pattern": r"^(CUBE|GW)"}, "CTI_ROUTE_1", "GW1", OUTBOUND),
        ({"trunk_device_pattern": r"^(CUBE|GW)"}, "CTI_ROUTE_1", "SEP000000001001", INTERNAL),
        ({"trunk_devices": ["ANZ-SIP"]}, "ANZ-SIP", "SEP000000001001", INBOUND),
        ({"phone_device_prefixes": ["SEP", "CTI"]}, "CTI_ROUTE_1", "SEP000000001001", INTERNAL),
        ({"phone_device_prefixes": ["SEP"]}, "CSFJDOE", "SEP000000001001", INBOUND),
    ],
)
def test_the_direction_hint_follows_the_device_kinds(options, orig, dest, expected):
    d = driver(**options)
    d.parse(header_lines(COLUMNS_10X)[0].encode())
    call = d.parse(plain_call(origDeviceName=orig, destDeviceName=dest))
    assert call.direction_hint == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trunk_device_pattern": "("}, "not a valid regular expression"),
        ({"trunk_device_pattern": 5}, "regular expression string"),
        ({"phone_device_prefixes": "SEP"}, "must be a list of strings"),
        ({"trunk_devices": ["GW", ""]}, "non-empty strings"),
        ({"trunk_pattern": "x"}, "unknown cisco_ucm option(s) trunk_pattern"),
    ],
)
def test_bad_options_are_refused_with_a_message_saying_what_to_fix(options, message):
    with pytest.raises(DriverConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CiscoUcmDriver.validate_options(options)
    with pytest.raises(DriverConfigError):
        driver(**options)


def test_numbers_that_are_not_numbers_are_rejected():
    d = driver()
    d.parse(header_lines(COLUMNS_10X)[0].encode())
    out = d.parse(plain_call(duration="x1"))
    assert out == Reject("duration is not a whole number: 'x1'")
    out = d.parse(plain_call(dateTimeOrigination=0))
    assert isinstance(out, Reject) and "dateTimeOrigination" in out.detail
