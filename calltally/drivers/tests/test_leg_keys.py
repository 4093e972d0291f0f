"""Which drivers give records the PBX's call id that groups the legs of one call (leg_key)."""

from __future__ import annotations

import pytest

from calltally.drivers import make_driver
from calltally.drivers.base import DriverOptions

from .helpers import raw_lines, records

# driver, fixture, options, how the key relates to the record
GROUPING = [
    ("asterisk_csv", "asterisk_master21.csv", {}, "pbx_call_id"),  # linkedid
    ("asterisk_custom", "asterisk_custom_freepbx.csv", {"preset": "freepbx"}, "pbx_call_id"),
    ("cisco_ucm", "cucm12_cdr.csv", {}, "pbx_call_id"),  # manager id - global call id
    ("avaya_ipo", "avaya_ipo_smdr.txt", {}, "pbx_call_id"),  # Call ID
    ("cisco_cme", "cisco_cme_syslog.txt", {}, "pbx_call_id"),  # ConnectionId
    ("threecx", "threecx_v18.txt", {}, "historyid"),
]


@pytest.mark.parametrize(("name", "fixture", "options", "source"), GROUPING)
def test_drivers_whose_pbx_shares_an_id_between_legs_give_it_as_the_leg_key(name, fixture, options, source):
    calls = records(make_driver(name, DriverOptions(options=options)).parse_many(raw_lines(fixture)))
    assert calls
    for call in calls:
        assert call.leg_key, call
        if source == "pbx_call_id":
            assert call.leg_key == call.pbx_call_id


def test_an_ip_office_continuation_shares_its_call_id_and_declares_its_segments_in_sequence():
    driver = make_driver("avaya_ipo")
    calls = records(driver.parse_many(raw_lines("avaya_ipo_smdr.txt")))
    transfer = [c for c in calls if c.leg_key == "1000107"]
    assert len(transfer) == 2 and type(driver).legs_in_sequence


def test_a_ring_group_row_belongs_to_the_phone_it_reached():
    line = (b'"","0612345678","600","from-pstn","""B"" <0612345678>","PJSIP/trunk-00000010","PJSIP/202-00000012",'
            b'"Dial","PJSIP/201&PJSIP/202,30","2026-03-02 11:00:00","2026-03-02 11:00:09","2026-03-02 11:04:09",'
            b'249,240,"ANSWERED","DOCUMENTATION","1772445600.10","","","1772445600.10",12')
    (call,) = make_driver("asterisk_csv").parse_many([line])
    assert (call.called, call.final_called, call.leg_key) == ("600", "202", "1772445600.10")


@pytest.mark.parametrize(
    ("dest_device", "dst", "reached"),
    [("PJSIP/202", "600", "202"), ("Local/203@from-queue", "600", "203"), ("PJSIP/202", "202", ""),
     ("PJSIP/carrier", "00223456789", ""), ("", "600", "")],
)
def test_the_phone_a_row_reached_is_read_from_its_destination_channel(dest_device, dst, reached):
    from calltally.drivers.asterisk_csv.driver import reached_phone

    assert reached_phone(dest_device, dst) == reached
