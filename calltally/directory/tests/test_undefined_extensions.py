"""`calltally extensions undefined [--create]`: the extensions calls were discarded for."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from calltally.calls.choices import DiscardReason
from calltally.calls.models import Call, DiscardedCall
from calltally.calls.services import undefined_extensions
from calltally.directory.models import Extension, Person

ASTERISK = Path(__file__).resolve().parents[2] / "miner" / "tests" / "fixtures" / "asterisk-hq.csv"
pytestmark = pytest.mark.django_db


@pytest.fixture
def mined(hq, spool, cli):
    """The Asterisk sample mined on HQ, which knows 201 and 202 but not 203."""
    alice = Person.objects.create(username="alice", site=hq)
    Extension.objects.create(site=hq, number="201", person=alice)
    Extension.objects.create(site=hq, number="202")
    cli("import", "--site", "HQ", str(ASTERISK))
    assert DiscardedCall.objects.filter(reason=DiscardReason.EXTENSION_NOT_CONFIGURED).count() == 1
    return hq


def test_the_list_gives_each_unknown_extension_with_its_site_calls_and_first_and_last_call(mined, cli):
    data = json.loads(cli("extensions", "undefined", "--json"))
    assert data == [{"site": "HQ", "number": "203", "calls": 1, "first_seen": "2026-03-02T13:00:00+00:00",
                     "last_seen": "2026-03-02T13:00:00+00:00", "configured": False}]
    text = cli("extensions", "undefined", "--site", "HQ")
    assert "HQ           203                1  2026-03-02 14:00  2026-03-02 14:00" in text  # Rome time
    assert "1 undefined extensions, 1 discarded calls" in text


def test_the_list_counts_calls_per_site_and_number_in_one_aggregate(mined, make_site, django_assert_max_num_queries):
    other = make_site("BR")
    segment = DiscardedCall.objects.first().segment
    for offset, number in enumerate(["203", "203", "555"]):
        DiscardedCall.objects.create(site=other, segment=segment, raw_offset=10_000 + offset,
                                     reason=DiscardReason.EXTENSION_NOT_CONFIGURED, raw_text="x",
                                     extension_number=number, start=dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC))
    with django_assert_max_num_queries(2):
        rows = undefined_extensions()
    assert [(r.site, r.number, r.calls) for r in rows] == [("BR", "203", 2), ("BR", "555", 1), ("HQ", "203", 1)]
    assert [r.number for r in undefined_extensions(other)] == ["203", "555"]


def test_creating_them_adds_unassigned_extensions_and_reprocesses_their_calls(mined, cli):
    out = cli("extensions", "undefined", "--create")
    assert out.splitlines()[0] == "created 1 extensions: 203@HQ"
    assert "reprocessed 3 discarded calls" in out  # every discarded call of the site: 203 and two unreadable lines
    assert "calls stored              1  (inbound 0, outbound 1, internal 0)" in out
    extension = Extension.objects.get(site=mined, number="203")
    assert extension.person is None and extension.auto_acquired is False
    call = Call.objects.get(extension_number="203")
    assert call.extension == extension and call.direction == "outbound"
    assert not DiscardedCall.objects.filter(reason=DiscardReason.EXTENSION_NOT_CONFIGURED).exists()
    assert json.loads(cli("extensions", "undefined", "--json")) == []


def test_creating_them_with_a_virtual_person_per_extension(mined, cli):
    data = json.loads(cli("extensions", "undefined", "--create", "--person-from-number", "--json"))
    assert data["created_extensions"] == ["203@HQ"]
    assert data["created_people"] == ["hq-203"]
    assert data["reprocess"]["reprocessed"] == 3 and data["reprocess"]["calls"] == 1
    person = Person.objects.get(username="hq-203")
    assert (person.virtual, person.site, person.last_name) == (True, mined, "Extension 203")
    assert Call.objects.get(extension_number="203").person == person


def test_an_extension_added_since_is_flagged_and_not_created_twice(mined, cli):
    Extension.objects.create(site=mined, number="203")
    assert json.loads(cli("extensions", "undefined", "--json"))[0]["configured"] is True
    assert "(configured; reprocess to make its calls)" in cli("extensions", "undefined")
    out = cli("extensions", "undefined", "--create")
    assert out.startswith("created 0 extensions")
    assert Extension.objects.filter(number="203").count() == 1
    assert Call.objects.filter(extension_number="203").count() == 1


def test_nothing_to_list_says_so(hq, cli):
    assert cli("extensions", "undefined").startswith("no undefined extensions")
    assert cli("extensions", "undefined", "--create").splitlines() == ["created 0 extensions", "nothing to reprocess"]
