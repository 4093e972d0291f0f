"""`calltally import` of Avaya IP Office SMDR, end to end."""

import json
from pathlib import Path

import pytest

from calltally.calls.models import Call

SMDR = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "avaya_ipo_smdr.txt"
pytestmark = pytest.mark.django_db


def test_an_ip_office_stream_gives_the_right_directions_and_charges(ipo, cli):
    summary = json.loads(cli("import", "--site", "WAW", str(SMDR), "--json"))
    assert summary["records"] == 13
    assert summary["discarded"] == 0
    # Every record is stored (legs included); the two calls with several segments are merged.
    assert summary["calls_by_direction"] == {"inbound": 4, "outbound": 6, "internal": 3}
    assert (summary["merged_calls"], summary["merged_legs"]) == (2, 4)
    first = Call.objects.get(pbx_call_id="1000101")
    assert (first.direction, first.extension_number, first.remote_number, first.e164) == (
        "outbound", "4001", "612345678", "+48612345678")
    assert (first.talk_seconds, first.account_code) == (125, "4711")
    # An outside call forwarded back out is charged to the extension whose number was called.
    forwarded = Call.objects.get(pbx_call_id="1000106")
    assert (forwarded.direction, forwarded.extension_number, forwarded.remote_number) == (
        "outbound", "4004", "601234567")
    # Each segment of a transferred call is kept as a leg, charged to the extension that had it …
    segments = Call.rows.filter(pbx_call_id="1000107", kind="leg").order_by("talk_seconds")
    assert [(c.extension_number, c.talk_seconds) for c in segments] == [("4001", 50), ("4002", 175)]
    # … and reports see one call: the originator (the site's default rule) pays for the whole talk.
    transferred = Call.objects.get(pbx_call_id="1000107")
    assert (transferred.kind, transferred.direction, transferred.extension_number, transferred.talk_seconds) == (
        "merged", "outbound", "4001", 225)
    # The voicemail segment of an inbound call stays with the extension that was called.
    voicemail = Call.rows.filter(pbx_call_id="1000104", kind="leg").order_by("talk_seconds")
    assert [c.extension_number for c in voicemail] == ["4002", "4002"]
    merged = Call.objects.get(pbx_call_id="1000104")
    assert (merged.direction, merged.extension_number, merged.answered, merged.talk_seconds) == (
        "inbound", "4002", True, 45)
    assert Call.objects.count() == 11
    international = Call.objects.get(pbx_call_id="1000110")
    assert (international.category, international.e164, international.account_code) == (
        "international", "+442012345678", "99123")
    # A dial that got no line: the Miner decides from the numbers.
    assert Call.objects.get(pbx_call_id="1000109").direction == "outbound"


def test_an_import_says_how_long_reading_making_and_writing_its_batches_took(ipo, cli):
    summary = json.loads(cli("import", "--site", "WAW", str(SMDR), "--json"))
    phases = summary["seconds_by_phase"]
    assert list(phases) == ["reading", "making", "writing"]
    assert all(seconds > 0 for seconds in phases.values())
    assert sum(phases.values()) <= summary["seconds"] + 0.01
