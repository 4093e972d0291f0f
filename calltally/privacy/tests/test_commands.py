"""`calltally retention show|set|run` and `calltally privacy export|erase`."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.management.base import CommandError

from calltally.audit.models import AuditEvent
from calltally.calls.models import Call
from calltally.system.models import RetentionSettings

from .conftest import ALICE_FRIEND
from .helpers import spool_text

pytestmark = pytest.mark.django_db


def test_retention_set_changes_only_the_limits_given_through_the_settings_form(db, cli):
    out = cli("retention", "set", "--calls-days", "365", "--raw-days", "400")
    assert "calls kept:        365 days" in out
    cli("retention", "set", "--mask-after-days", "90", "--mask-digits", "3")
    row = RetentionSettings.load()
    assert (row.calls_days, row.raw_days, row.mask_after_days, row.mask_digits) == (365, 400, 90, 3)
    assert AuditEvent.objects.filter(action="configuration", object_type="system.retentionsettings").count() == 2


def test_retention_set_refuses_in_words_what_the_settings_page_refuses(db, cli):
    cli("retention", "set", "--calls-days", "365", "--raw-days", "400")
    with pytest.raises(CommandError, match="Raw records are what calls are recalculated from"):
        cli("retention", "set", "--raw-days", "30")
    with pytest.raises(CommandError, match="mask_digits"):
        cli("retention", "set", "--mask-digits", "0")
    with pytest.raises(CommandError, match="give at least one"):
        cli("retention", "set")
    assert RetentionSettings.load().raw_days == 400


def test_retention_show_lists_the_limits_and_the_last_runs(db, cli):
    assert "calls kept:        0 (for ever)" in cli("retention", "show")
    cli("retention", "set", "--calls-days", "30")
    cli("retention", "run")
    shown = json.loads(cli("retention", "show", "--json"))
    assert shown["calls_days"] == 30 and len(shown["runs"]) == 1 and shown["runs"][0]["calls_deleted"] == 0


def test_retention_run_dry_says_what_it_would_delete_and_deletes_nothing(three_days, cli):
    # The calls of the world are from 2026; "now" is the real clock, later: everything is older than a day.
    cli("retention", "set", "--calls-days", "1")
    out = cli("retention", "run", "--dry-run")
    assert out.startswith("retention: would delete 15 call rows")
    assert Call.rows.count() == 15
    assert json.loads(cli("retention", "run", "--json"))["calls_deleted"] == 15
    assert not Call.rows.exists()


def test_privacy_export_writes_the_json_file(three_days, cli, tmp_path):
    target = tmp_path / "alice.json"
    out = cli("privacy", "export", "--person", "alice", "--output", str(target))
    assert "exported person alice: 6 calls" in out
    data = json.loads(target.read_text())
    assert len(data["calls"]) == 6 and len(data["raw_records"]) == 6


def test_privacy_export_to_a_zip_holds_the_json_and_a_csv_per_list(three_days, cli, tmp_path):
    target = tmp_path / "number.zip"
    cli("privacy", "export", "--number", ALICE_FRIEND, "--output", str(target))
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["calls.csv", "discarded_calls.csv", "export.json", "raw_records.csv"]
        calls = list(csv.DictReader(io.StringIO(archive.read("calls.csv").decode())))
        assert len(calls) == 6 and {row["remote_number"] for row in calls} == {ALICE_FRIEND}
        assert len(json.loads(archive.read("export.json"))["raw_records"]) == 7


def test_privacy_erase_without_yes_says_what_it_would_erase_and_fails(three_days, cli):
    with pytest.raises(CommandError, match="add --yes"):
        cli("privacy", "erase", "--number", ALICE_FRIEND)
    assert Call.rows.count() == 15


def test_privacy_erase_with_yes_erases_the_number(three_days, cli):
    out = cli("privacy", "erase", "--number", ALICE_FRIEND, "--yes")
    assert "6 calls" in out and "7 raw records blanked" in out
    assert ALICE_FRIEND[1:].encode() not in spool_text(three_days)


def test_privacy_names_an_unknown_person_in_words(db, cli):
    with pytest.raises(CommandError, match="no person with username 'nobody'"):
        cli("privacy", "erase", "--person", "nobody", "--yes")


def test_the_commands_run_from_the_real_command_line(cli_process):
    done = cli_process("retention", "show")
    assert done.returncode == 0, done.stderr
    refused = cli_process("privacy", "erase", "--number", "0612345678")
    assert refused.returncode == 1
    assert "would erase number 0612345678: 0 calls" in refused.stdout
    assert "add --yes" in refused.stderr
