"""Avaya CM records through the Miner: the receive instant dates the layouts that have no date."""

import datetime as dt
import json
from pathlib import Path

import pytest

from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension
from calltally.drivers.tests.test_avaya_cm import FIELDS
from calltally.miner.pipeline import SiteMiner

FIXTURES = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures"
UTC = dt.UTC
pytestmark = pytest.mark.django_db


def test_unformatted_records_get_the_day_they_were_received_also_when_reprocessed(make_site, spool):
    site = make_site("CM", driver="avaya_cm", driver_options={"layout": "unformatted"}, internal_digits_min=4,
                     internal_digits_max=4, access_codes=["9"])
    Extension.objects.bulk_create([Extension(site=site, number=n) for n in ("4001", "4003")])
    lines = (FIXTURES / "avaya_cm_unformatted.txt").read_bytes().splitlines()
    # the outbound call arrives at 09:02:05 in Rome; the inbound one, which ended at 23:58,
    # at 01:01 the next day (the link was down)
    spool.append("CM", lines[:1], "tcp:cm", received=dt.datetime(2026, 3, 2, 8, 2, 5, tzinfo=UTC))
    spool.append("CM", lines[1:2], "tcp:cm", received=dt.datetime(2026, 3, 3, 0, 1, tzinfo=UTC))
    summary = SiteMiner(site, spool).mine()
    assert summary.total_calls == 1 and summary.total_discarded == 1  # 4002 is not an extension yet
    outbound = Call.objects.get()
    assert (outbound.direction, outbound.extension_number, outbound.remote_number, outbound.e164) == (
        "outbound", "4001", "0612345678", "+390612345678")
    assert outbound.start == dt.datetime(2026, 3, 2, 7, 59, 54, tzinfo=UTC)

    Extension.objects.create(site=site, number="4002")
    SiteMiner(site, spool).reprocess()
    assert not DiscardedCall.objects.exists()
    inbound = Call.objects.get(direction="inbound")
    assert inbound.extension_number == "4002"
    assert inbound.start == dt.datetime(2026, 3, 2, 22, 47, 30, tzinfo=UTC)  # 23:58 in Rome − 10.5 min


def test_a_customized_file_imports_with_its_own_dates(make_site, spool, cli):
    site = make_site("CMX", driver="avaya_cm", driver_options={"fields": FIELDS, "date_format": "day/month"},
                     internal_digits_min=4, internal_digits_max=4, access_codes=["9"])
    Extension.objects.bulk_create([Extension(site=site, number=str(n)) for n in range(4001, 4005)])
    summary = json.loads(cli("import", "--site", "CMX", str(FIXTURES / "avaya_cm_customized.txt"), "--json"))
    assert summary["records"] == 12
    assert summary["skipped_not_calls"] == 1  # the ring interval record
    assert summary["discarded"] == 1  # the 9999 duration
    assert summary["calls_by_direction"] == {"inbound": 3, "outbound": 6, "internal": 1}
    international = Call.objects.get(account_code="998877")
    assert (international.category, international.e164) == ("international", "+442012345678")
