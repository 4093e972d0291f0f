"""The command line as users and automation call it."""

import csv
import io
import json
from pathlib import Path

import pytest

from calltally.sites.models import Site

ASTERISK = Path(__file__).parent / "fixtures" / "asterisk-hq.csv"
pytestmark = pytest.mark.django_db


def test_site_add_stores_every_option_and_site_list_shows_it(cli, spool):
    out = cli("site", "add", "MI", "--name", "Milan", "--driver", "asterisk_csv", "--country", "it",
              "--area-code", "02", "--timezone", "Europe/Rome", "--currency", "eur", "--access-code", "0",
              "--internal-digits", "3-4", "--no-import-internal", "--auto-acquire")
    assert "site MI added" in out
    site = Site.objects.get(code="MI")
    assert (site.country, site.currency, site.area_code, site.access_codes) == ("IT", "EUR", "02", ["0"])
    assert (site.internal_digits_min, site.internal_digits_max) == (3, 4)
    assert site.import_internal is False and site.auto_acquire is True
    assert "MI" in cli("site", "list")
    assert json.loads(cli("site", "list", "--json"))[0]["extension_plan"] == "3-4 digits"


def test_site_add_accepts_a_pattern_for_the_extension_plan(cli):
    cli("site", "add", "NY", "--name", "New York", "--driver", "asterisk_csv", "--country", "US",
        "--timezone", "America/New_York", "--currency", "USD", "--access-code", "9",
        "--internal-pattern", r"[2-4]\d{3}")
    assert Site.objects.get(code="NY").internal_pattern == r"[2-4]\d{3}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--driver", "nonsense"], "unknown driver"),
        (["--timezone", "Mars/Olympus"], "not a time zone"),
        (["--country", "Italy"], "two-letter"),
        (["--internal-digits", "four"], "N or N-M"),
        (["--internal-pattern", "(["], "regular expression"),
    ],
)
def test_site_add_refuses_wrong_values_with_a_message_that_says_how_to_fix_them(cli, args, message):
    from django.core.management.base import CommandError

    base = {"--name": "X", "--driver": "asterisk_csv", "--country": "IT"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = ["site", "add", "BAD"] + [item for pair in base.items() for item in pair]
    with pytest.raises(CommandError, match=message):
        cli(*argv)
    assert not Site.objects.filter(code="BAD").exists()


def test_extension_add_creates_the_person_and_cost_center_on_demand(cli, make_site):
    make_site("HQ")
    out = cli("extension", "add", "--site", "HQ", "201", "--person", "alice", "--cost-center", "SALES")
    assert "created person alice" in out and "created cost center SALES" in out
    listed = json.loads(cli("extension", "list", "--json"))
    assert listed == [{"site": "HQ", "number": "201", "person": "alice", "cost_center": "SALES",
                       "billing_enabled": True, "auto_acquired": False}]


def test_the_same_number_may_exist_on_two_sites(cli, make_site):
    make_site("HQ")
    make_site("BR")
    cli("extension", "add", "--site", "HQ", "201")
    cli("extension", "add", "--site", "BR", "201")
    assert len(json.loads(cli("extension", "list", "--json"))) == 2


def _import(cli, make_site, spool):
    make_site("HQ")
    cli("extension", "add", "--site", "HQ", "201", "--person", "alice", "--cost-center", "SALES")
    cli("extension", "add", "--site", "HQ", "202")
    cli("import", "--site", "HQ", str(ASTERISK))


def test_import_prints_a_readable_summary(cli, make_site, spool):
    make_site("HQ")
    cli("extension", "add", "--site", "HQ", "201")
    out = cli("import", "--site", "HQ", str(ASTERISK))
    assert "7 records spooled" in out
    assert "records read              7" in out
    assert "Extension not configured" in out
    assert "seconds" in out


def test_calls_export_writes_csv_with_local_times_and_every_column(cli, make_site, spool, tmp_path):
    _import(cli, make_site, spool)
    target = tmp_path / "calls.csv"
    cli("calls", "export", "--site", "HQ", "--format", "csv", "--output", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 4
    first = rows[0]
    for column in ("id", "site", "start", "direction", "extension", "person", "cost_center", "remote_number",
                   "dialled_number", "talk_seconds", "ring_seconds", "answered", "account_code", "cost",
                   "currency", "pbx_call_id"):
        assert column in first
    assert first["start"] == "2026-03-02T10:00:00+01:00"
    assert (first["direction"], first["person"], first["cost_center"]) == ("outbound", "alice", "SALES")
    assert first["cost"] == "0.0000" and first["currency"] == "EUR"


def test_calls_export_writes_a_json_array_to_standard_output(cli, make_site, spool):
    _import(cli, make_site, spool)
    calls = json.loads(cli("calls", "export", "--format", "json"))
    assert isinstance(calls, list) and len(calls) == 4
    assert {c["direction"] for c in calls} == {"inbound", "outbound", "internal"}


def test_calls_export_selects_days_in_the_sites_time_zone(cli, make_site, spool):
    _import(cli, make_site, spool)
    assert len(json.loads(cli("calls", "export", "--format", "json", "--from", "2026-03-02",
                              "--to", "2026-03-02"))) == 4
    assert json.loads(cli("calls", "export", "--format", "json", "--from", "2026-03-03"))[:1] == []
    assert json.loads(cli("calls", "export", "--format", "json", "--to", "2026-03-01")) == []


def test_discarded_list_shows_reason_and_raw_text(cli, make_site, spool):
    _import(cli, make_site, spool)
    rows = json.loads(cli("discarded", "list", "--site", "HQ", "--json"))
    assert {r["reason"] for r in rows} == {"Extension not configured", "Cannot recognise call type"}
    assert any(r["raw"] == "this is not a call detail record at all" for r in rows)
    assert "discarded calls" in cli("discarded", "list")


def test_drivers_lists_one_driver_per_line_name_first(cli):
    lines = cli("drivers").strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert {"cisco_ucm", "asterisk_csv", "generic_csv"} <= set(names)


def test_drivers_detect_names_the_driver_of_a_sample_first(cli):
    fixture = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "cucm10_cdr.csv"
    out = cli("drivers", "detect", str(fixture))
    assert out.splitlines()[1].split()[0] == "cisco_ucm"
    assert json.loads(cli("drivers", "detect", str(fixture), "--json"))[0]["driver"] == "cisco_ucm"


def test_bench_parse_prints_a_rate_for_every_driver(cli):
    results = json.loads(cli("bench", "parse", "--records", "300", "--json"))
    from calltally.drivers import names

    assert [r["driver"] for r in results] == names()
    assert all(r["records"] >= 300 and r["rate"] > 0 for r in results)


def test_bench_ingest_refuses_a_database_that_holds_data(make_site):
    from django.core.management.base import CommandError

    from calltally.reports.management.commands.bench import measure_in_empty_database

    make_site("HQ")
    with pytest.raises(CommandError, match="must be empty"):
        measure_in_empty_database("asterisk_csv", 10, None, 0)
    assert Site.objects.filter(code="HQ").exists()  # nothing was flushed


def test_bench_ingest_measures_end_to_end_and_recalculates(cli_process):
    result = cli_process("bench", "ingest", "--calls", "3000", "--ring-groups", "0.2", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["records"] == 3000 and figures["calls"] + figures["discarded"] == 3000
    assert figures["recalc_calls"] == figures["calls"] and figures["merged_calls"] > 0
    assert figures["total_rate"] > 0 and figures["database"] == "sqlite3"
    # Each ratio is to the csv passes beside its own run: the first, one after each of the three
    # runs, and one just before end to end (the driver's bare parse runs between it and the import).
    assert len(figures["csv_passes"]) == 5
    assert figures["total_ratio"] > 1 and figures["total_cpu_seconds"] > 0
