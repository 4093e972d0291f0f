"""Real, anonymised captures from ../shared/samples, read in place (skipped where absent)."""

import json

import pytest

from calltally.calls.models import Call
from calltally.conftest import sample

pytestmark = pytest.mark.django_db

CDR_CUSTOM_FIELDS = {
    "calling": 1, "called": 2, "start": 8, "answer": 9, "end": 10, "talk_seconds": 12, "disposition": 13,
    "account_code": 15, "pbx_call_id": 16,
}


def test_an_asterisk_cdr_custom_capture_imports_through_the_generic_driver_without_discards(cli, spool):
    path = sample("asterisk-cdr-custom/Master.csv")
    cli("site", "add", "LAB", "--name", "Asterisk lab", "--driver", "generic_csv", "--country", "US",
        "--timezone", "UTC", "--currency", "USD", "--internal-pattern", r"client\d+|\d{4}",
        "--driver-option", "fields=" + json.dumps(CDR_CUSTOM_FIELDS))
    cli("extension", "add", "--site", "LAB", "client1", "--person", "client1")
    cli("extension", "add", "--site", "LAB", "client2", "--person", "client2")
    summary = json.loads(cli("import", "--site", "LAB", str(path), "--json"))
    assert summary["records"] == 14
    assert summary["discarded"] == 0
    assert summary["calls_by_direction"]["internal"] == 14
    missed = Call.objects.filter(answered=False)
    assert missed.exists() and all(c.talk_seconds == 0 and c.ring_seconds > 0 for c in missed)


def test_the_asterisk_cdr_csv_driver_discards_a_foreign_layout_instead_of_misreading_it(make_site, cli, spool):
    path = sample("asterisk-cdr-custom/Master.csv")
    make_site("LAB", driver="asterisk_csv", internal_pattern=r"client\d+|\d{4}")
    summary = json.loads(cli("import", "--site", "LAB", str(path), "--json"))
    assert summary["calls"] == 0
    assert summary["discarded_by_reason"] == {"Cannot recognise call type": 14}


def test_an_avaya_ip_office_capture_imports_without_discards(cli, spool):
    path = sample("avaya-ipoffice/ipo500-2017-08.smdr")
    cli("site", "add", "MLYN", "--name", "Młyn", "--driver", "avaya_ipo", "--country", "PL",
        "--timezone", "Europe/Warsaw", "--currency", "PLN", "--access-code", "0", "--internal-digits", "3",
        "--auto-acquire")
    summary = json.loads(cli("import", "--site", "MLYN", str(path), "--json"))
    assert summary["records"] == 284
    assert summary["discarded"] == 0
    assert summary["calls_by_direction"] == {"inbound": 7, "outbound": 27, "internal": 250}
    # The access code 0 the users dialled is taken off the remote number.
    mobile = Call.objects.get(pbx_call_id="1000154")
    assert (mobile.extension_number, mobile.dialled_number, mobile.remote_number) == ("222", "0608720811", "608720811")
    assert (mobile.category, mobile.e164, mobile.talk_seconds) == ("mobile", "+48608720811", 95)
    assert mobile.local_start.isoformat() == "2017-08-01T09:15:41+02:00"
    inbound = Call.objects.filter(direction="inbound")
    assert {c.extension_number for c in inbound} == {"212"}
    assert not any(c.answered for c in inbound) and all(c.ring_seconds > 0 for c in inbound)
    assert Call.objects.filter(direction="outbound", extension_number="513").count() == 4
