"""`calltally import` of a Cisco Unified CM flat file, end to end."""

import json
from pathlib import Path

import pytest

from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import Extension

CUCM = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "cucm10_cdr.csv"
pytestmark = pytest.mark.django_db


@pytest.fixture
def cisco(make_site, spool):
    site = make_site("ROME", driver="cisco_ucm", internal_digits_min=4, internal_digits_max=4, timezone="Europe/Rome")
    Extension.objects.bulk_create([Extension(site=site, number=str(n)) for n in range(1001, 1007)])
    return site


def test_a_cisco_file_gives_the_right_directions_durations_and_discards(cisco, cli):
    summary = json.loads(cli("import", "--site", "ROME", str(CUCM), "--json"))
    assert summary["records"] == 12
    assert summary["skipped_not_calls"] == 3  # header, type line, CMR
    assert summary["calls_by_direction"] == {"inbound": 2, "outbound": 4, "internal": 2}
    # The call forwarded back out is charged to the extension that forwarded it, 1007,
    # which the site does not have.
    assert summary["discarded_by_reason"] == {"Extension not configured": 1}
    assert DiscardedCall.objects.get().extension_number == "1007"
    outbound = Call.objects.get(pbx_call_id="1-101")
    assert (outbound.direction, outbound.extension_number, outbound.talk_seconds, outbound.ring_seconds) == (
        "outbound", "1001", 125, 8)
    assert outbound.account_code == "4711"
    assert outbound.local_start.isoformat() == "2026-03-02T09:00:00+01:00"
    inbound = Call.objects.get(pbx_call_id="2-102")
    assert (inbound.direction, inbound.extension_number, inbound.remote_number) == ("inbound", "1002", "0612345678")
    # Forwarded to the voicemail pilot 8000: the call belongs to the person who was called.
    voicemail = Call.objects.get(pbx_call_id="1-106")
    assert (voicemail.direction, voicemail.extension_number, voicemail.final_called) == ("inbound", "1006", "8000")
    busy = Call.objects.get(pbx_call_id="1-105")
    assert (busy.answered, busy.disposition) == (False, "busy")
    assert DiscardedCall.objects.filter(site=cisco).count() == summary["discarded"]


def test_a_second_import_of_the_cisco_file_adds_nothing(cisco, cli):
    cli("import", "--site", "ROME", str(CUCM))
    before = Call.objects.count()
    again = json.loads(cli("import", "--site", "ROME", str(CUCM), "--json"))
    assert again["records"] == 0 and Call.objects.count() == before


def test_a_stream_that_runs_past_midnight_keeps_its_header_in_the_next_day_file(cisco, spool, cli):
    import datetime as dt

    from calltally.miner.pipeline import SiteMiner

    lines = CUCM.read_bytes().splitlines()
    # Header and type line, then the first rows received before midnight UTC, the rest after:
    # the second day file has no header line of its own.
    before = dt.datetime(2026, 3, 2, 23, 59, tzinfo=dt.UTC)
    spool.append("ROME", lines[:6], "tcp", received=before)
    spool.append("ROME", lines[6:], "tcp", received=before + dt.timedelta(minutes=2))
    summary = SiteMiner(cisco).mine()
    assert summary.records == 12 and summary.rejected == 0
    assert summary.total_calls == 8
    # Recalculated, the second day file is read from the same header again.
    recalculated = json.loads(cli("recalc", "--site", "ROME", "--json"))
    assert recalculated["calls"] == summary.total_calls
