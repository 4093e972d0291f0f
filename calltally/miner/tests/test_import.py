"""Mining through `calltally import`: directions, durations, discards, exactly-once."""

import datetime as dt
import json
from pathlib import Path

import pytest

from calltally.calls.choices import DiscardReason
from calltally.calls.models import Call, DiscardedCall
from calltally.directory.models import CostCenter, Extension, Person
from calltally.miner.pipeline import SiteMiner
from calltally.spool.models import SpoolSegment

FIXTURES = Path(__file__).parent / "fixtures"
ASTERISK = FIXTURES / "asterisk-hq.csv"
pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(make_site, spool):
    site = make_site("HQ")
    sales = CostCenter.objects.create(code="SALES", name="Sales")
    alice = Person.objects.create(username="alice", first_name="Alice", cost_center=sales, site=site)
    Extension.objects.create(site=site, number="201", person=alice)
    Extension.objects.create(site=site, number="202")
    return site


def imported(cli, *files, site="HQ"):
    return json.loads(cli("import", "--site", site, *map(str, files), "--json"))


def test_it_stores_each_call_with_its_direction_and_durations(hq, cli):
    summary = imported(cli, ASTERISK)
    assert summary["records"] == 7
    assert summary["calls_by_direction"] == {"inbound": 2, "outbound": 1, "internal": 1}
    outbound = Call.objects.get(direction="outbound")
    assert outbound.extension_number == "201"
    assert outbound.dialled_number == "00223456789"
    assert outbound.remote_number == "0223456789"  # the outside-line access code 0 is not part of the number
    assert (outbound.talk_seconds, outbound.ring_seconds) == (120, 5)
    assert outbound.start == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # 10:00 in Rome
    inbound = Call.objects.get(pbx_call_id="1772445600.3")
    assert (inbound.direction, inbound.extension_number, inbound.remote_number) == ("inbound", "201", "0612345678")
    missed = Call.objects.get(pbx_call_id="1772452800.7")
    assert (missed.answered, missed.disposition, missed.ring_seconds) == (False, "no_answer", 20)


def test_it_attributes_calls_to_the_person_and_cost_center_of_the_extension(hq, cli):
    imported(cli, ASTERISK)
    outbound = Call.objects.get(direction="outbound")
    assert outbound.person.username == "alice"
    assert outbound.cost_center.code == "SALES"
    assert outbound.currency == "EUR"


def test_it_discards_unknown_extensions_and_unreadable_lines_with_their_reason_and_raw_text(hq, cli):
    summary = imported(cli, ASTERISK)
    assert summary["discarded_by_reason"] == {"Cannot recognise call type": 2, "Extension not configured": 1}
    unknown = DiscardedCall.objects.get(reason=DiscardReason.EXTENSION_NOT_CONFIGURED)
    assert unknown.extension_number == "203"
    assert "00331234567" in unknown.raw_text
    garbage = DiscardedCall.objects.get(raw_text="this is not a call detail record at all")
    assert garbage.reason == DiscardReason.UNRECOGNISED
    assert garbage.detail


def test_a_second_import_of_the_same_file_adds_no_call(hq, cli):
    imported(cli, ASTERISK)
    again = imported(cli, ASTERISK)
    assert again["files"][0]["already_imported"] is True
    assert again["calls"] == 0
    assert Call.objects.count() == 4
    assert DiscardedCall.objects.count() == 3


def test_internal_calls_are_counted_but_not_stored_when_the_site_does_not_import_them(hq, cli):
    hq.import_internal = False
    hq.save()
    summary = imported(cli, ASTERISK)
    assert summary["skipped_internal"] == 1
    assert not Call.objects.filter(direction="internal").exists()


def test_automatic_acquisition_creates_the_unknown_extension_and_keeps_the_call(hq, cli):
    hq.auto_acquire = True
    hq.save()
    summary = imported(cli, ASTERISK)
    assert summary["auto_acquired_extensions"] == 1
    extension = Extension.objects.get(site=hq, number="203")
    assert extension.auto_acquired and extension.person is None
    assert Call.objects.filter(extension=extension).count() == 1
    assert not DiscardedCall.objects.filter(reason=DiscardReason.EXTENSION_NOT_CONFIGURED).exists()


def test_reprocessing_turns_discarded_calls_into_calls_once_the_extension_exists(hq, cli):
    imported(cli, ASTERISK)
    cli("extension", "add", "--site", "HQ", "203", "--person", "carlo")
    result = json.loads(cli("reprocess", "--site", "HQ", "--json"))
    assert result["reprocessed"] == 3
    assert result["calls"] == 1
    call = Call.objects.get(extension_number="203")
    assert call.person.username == "carlo"
    # The unreadable lines stay discarded; the one with the unknown extension is gone.
    assert set(DiscardedCall.objects.values_list("reason", flat=True)) == {DiscardReason.UNRECOGNISED}
    segment = SpoolSegment.objects.get(site=hq)
    assert (segment.calls, segment.discarded) == (5, 2)
    # Reprocessing again changes nothing.
    assert json.loads(cli("reprocess", "--site", "HQ", "--json"))["calls"] == 0
    assert Call.objects.count() == 5


def test_a_failure_inside_a_batch_commits_neither_calls_nor_checkpoint(hq, spool, monkeypatch):
    from calltally.miner.store import Store
    from calltally.spool.services import spool_file

    spool_file(hq, ASTERISK)
    real_write = Store.write

    def write_then_crash(self, *args):
        real_write(self, *args)
        raise RuntimeError("power cut")

    monkeypatch.setattr(Store, "write", write_then_crash)
    with pytest.raises(RuntimeError):
        SiteMiner(hq).mine()
    assert Call.objects.count() == 0
    assert SpoolSegment.objects.get(site=hq).mined_offset == 0
    monkeypatch.setattr(Store, "write", real_write)
    SiteMiner(hq).mine()
    assert Call.objects.count() == 4


def test_on_sqlite_a_batch_reaches_the_database_from_the_stage_made_outside_the_writers_turn(hq, spool,
                                                                                              monkeypatch):
    from django.db import connection

    from calltally import db
    from calltally.calls.tests.test_rollups import assert_rollups_match_calls
    from calltally.spool.services import spool_file

    copied = []
    real_copy = db.Stage.copy_into
    monkeypatch.setattr(db.Stage, "copy_into", lambda self, *args: copied.append(self.name) or real_copy(self, *args))
    spool_file(hq, ASTERISK)
    SiteMiner(hq).mine()
    assert Call.objects.count() == 4
    assert_rollups_match_calls()
    staged = {"calltally_staged_calls", "calltally_staged_rollups"} if connection.vendor == "sqlite" else set()
    assert set(copied) == staged


def test_mining_in_small_batches_gives_the_same_calls_as_one_batch(hq, spool):
    from calltally.spool.services import spool_file

    spool_file(hq, ASTERISK)
    summary = SiteMiner(hq).mine(batch_size=2)
    assert summary.records == 7
    assert Call.objects.count() == 4
    assert SiteMiner(hq).mine().records == 0


def test_records_appended_later_are_mined_from_the_checkpoint(hq, spool):
    lines = ASTERISK.read_bytes().splitlines()
    spool.append("HQ", lines[:3], "test")
    assert SiteMiner(hq).mine().total_calls == 3
    spool.append("HQ", lines[3:], "test")
    later = SiteMiner(hq).mine()
    assert later.records == 4
    assert Call.objects.count() == 4


def test_binary_garbage_and_a_wrong_driver_end_as_discarded_records(make_site, spool, cli, tmp_path):
    make_site("WRONG", driver="cisco_ucm")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4 + b"\n\xff\xfe\x00junk\n")
    summary = imported(cli, ASTERISK, garbage, site="WRONG")
    assert summary["calls"] == 0
    # Every record is accounted for: discarded, or skipped when it is only white space.
    assert summary["records"] > 7
    assert summary["discarded"] + summary["skipped_not_calls"] == summary["records"]
    assert summary["discarded"] >= 9
    assert DiscardedCall.objects.filter(site__code="WRONG").count() == summary["discarded"]


def test_recalculation_makes_the_periods_calls_again_with_the_current_directory(hq, cli):
    imported(cli, ASTERISK)
    marketing = CostCenter.objects.create(code="MKT", name="Marketing")
    Person.objects.filter(username="alice").update(cost_center=marketing)
    result = json.loads(cli("recalc", "--site", "HQ", "--from", "2026-03-02", "--to", "2026-03-02", "--json"))
    assert result["recalculated"] == 4
    assert set(Call.objects.filter(person__username="alice").values_list("cost_center__code", flat=True)) == {"MKT"}
    assert Call.objects.count() == 4
    segment = SpoolSegment.objects.get(site=hq)
    assert (segment.calls, segment.discarded) == (4, 3)


def test_recalculation_leaves_calls_outside_the_period_alone(hq, cli):
    imported(cli, ASTERISK)
    before = {c.raw_offset: c.pk for c in Call.objects.all()}
    result = json.loads(cli("recalc", "--site", "HQ", "--from", "2026-03-03", "--json"))
    assert result["recalculated"] == 0
    assert {c.raw_offset: c.pk for c in Call.objects.all()} == before


def test_an_import_whose_records_the_miner_service_mined_first_still_reports_each_of_them(hq, cli, monkeypatch):
    import importlib

    command = importlib.import_module("calltally.miner.management.commands.import")
    real_spool_file = command.spool_file

    def spooled_then_mined_by_the_service(site, path, **kwargs):
        result = real_spool_file(site, path, **kwargs)
        SiteMiner(site).mine()  # the Miner service of `calltally up` got there first
        return result

    monkeypatch.setattr(command, "spool_file", spooled_then_mined_by_the_service)
    summary = json.loads(cli("import", "--site", "HQ", str(ASTERISK), "--json"))
    assert summary["records"] == 7
    assert summary["calls"] == Call.objects.count() > 0
    assert summary["discarded"] == DiscardedCall.objects.count()
    assert summary["calls_by_direction"] == {"inbound": 2, "outbound": 1, "internal": 1}
    assert (summary["mined_by_the_miner_service"], summary["not_mined_yet"]) == (7, 0)
    out = cli("import", "--site", "HQ", str(ASTERISK))
    assert "already" in out  # the same file again: nothing new, nothing to wait for


def test_an_import_left_to_a_busy_miner_service_says_what_it_handed_over(hq, cli, monkeypatch):
    from calltally.miner.report import MineSummary

    # The service holds every batch (its claim comes first): this import mines nothing itself.
    monkeypatch.setattr(SiteMiner, "mine", lambda self, **kwargs: MineSummary())
    summary = json.loads(cli("import", "--site", "HQ", str(ASTERISK), "--json", "--wait", "0"))
    assert (summary["records"], summary["not_mined_yet"], summary["calls"]) == (7, 7, 0)
    out = cli("import", "--site", "HQ", str(ASTERISK.with_name("asterisk-accounts.csv")), "--wait", "0")
    assert "not mined yet" in out and "calltally status" in out
