"""`calltally report`: the list, CSV and JSON output, the scope of --as, clear refusals."""

from __future__ import annotations

import csv
import importlib.util
import io
import json

import pytest
from django.core.management.base import CommandError

from calltally.accounts.models import Account
from calltally.reports import catalogue

MARCH_2 = ("--from", "2026-03-02", "--to", "2026-03-02")


def test_report_list_names_every_report_of_the_catalogue(cli, db):
    listed = cli("report", "list")
    for report in catalogue.catalogue():
        assert f"  {report.name} " in listed and report.title in listed
    as_json = json.loads(cli("report", "list", "--format", "json"))
    assert [r["name"] for r in as_json] == [r.name for r in catalogue.catalogue()]


def test_the_call_list_as_csv_has_a_header_the_calls_in_local_time_and_a_totals_row(world, cli):
    out = cli("report", "call-list", *MARCH_2, "--site", "ROM", "--format", "csv")
    assert out.splitlines() == [
        "start,site,extension,person,direction,remote_number,destination,category,ring_seconds,talk_seconds,cost,"
        "currency,account",
        "2026-03-02T09:00:00+01:00,ROM,101,alice,outbound,+390611111111,Italy,national,5,300,0.2500,EUR,",
        "2026-03-02T09:02:00+01:00,ROM,101,alice,outbound,+393331234567,Italy mobile,mobile,5,600,1.1000,EUR,"
        "Client Acme",
        "2026-03-02T12:00:00+01:00,ROM,101,alice,outbound,+4930123456,Germany,international,5,420,2.0000,EUR,12",
        "Total,,,,,,,,,1320,3.3500,EUR,",
    ]


def test_summary_by_person_as_json_is_one_object_with_numbers_and_decimal_costs(world, cli):
    data = json.loads(cli("report", "summary-by-person", "--from", "2026-03-01", "--to", "2026-03-31",
                          "--site", "ROM", "--format", "json"))
    assert list(data) == ["report", "options", "columns", "rows", "totals"]
    assert data["report"] == "summary-by-person"
    assert data["options"]["sites"] == ["ROM"] and data["options"]["date_from"] == "2026-03-01"
    assert [c["name"] for c in data["columns"]] == ["person", "name", "calls", "talk_seconds", "cost", "currency",
                                                    "share"]
    assert data["rows"][0] == {"person": "alice", "name": "Alice Rossi", "calls": 6, "talk_seconds": 1560,
                               "cost": "3.3500", "currency": "EUR", "share": 90.5}
    assert data["totals"] == {"calls": 11, "talk_seconds": 1665, "cost": "3.7000", "currency": "EUR",
                              "cost_by_currency": {"EUR": "3.7000"}}


def test_summary_by_person_as_csv_ends_with_the_totals(world, cli):
    rows = list(csv.reader(io.StringIO(cli("report", "summary-by-person", "--from", "2026-03-01", "--to",
                                           "2026-03-31", "--format", "csv"))))
    assert rows[0] == ["person", "name", "calls", "talk_seconds", "cost", "currency", "share"]
    assert rows[-1] == ["Total", "", "13", "2865", "EUR 3.7000 / USD 1.0000", "EUR/USD", ""]


def test_as_an_account_the_report_keeps_to_what_that_account_sees(world, cli, django_user_model):
    user = django_user_model.objects.create_user("nora-login", password="s3cret-Pa55")
    Account.objects.filter(user=user).update(role="user", person=world["nora"])
    data = json.loads(cli("report", "call-list", "--from", "2026-03-01", "--to", "2026-03-31", "--as", "nora-login",
                          "--format", "json"))
    assert {row["person"] for row in data["rows"]} == {"nora"} and data["totals"]["calls"] == 4
    with pytest.raises(CommandError, match="no sign-in account named 'ghost'"):
        cli("report", "call-list", "--as", "ghost", "--format", "json")


def test_flags_reach_the_options_answered_top_and_remote(world, cli):
    data = json.loads(cli("report", "top-expensive-calls", "--from", "2026-03-01", "--to", "2026-03-31",
                          "--top", "1", "--format", "json"))
    assert [r["cost"] for r in data["rows"]] == ["2.0000"]
    data = json.loads(cli("report", "call-list", "--from", "2026-03-01", "--to", "2026-03-31", "--unanswered",
                          "--direction", "inbound", "--remote", "!*4444", "--format", "json"))
    assert [r["remote_number"] for r in data["rows"]] == ["+390655555555"]


def test_an_unknown_report_or_a_missing_format_is_refused_in_words(world, cli):
    with pytest.raises(CommandError, match="no report named 'summary-by-planet'"):
        cli("report", "summary-by-planet", "--format", "csv")
    with pytest.raises(CommandError, match="say which format"):
        cli("report", "call-list")


def test_xlsx_and_pdf_are_written_by_the_exporters_or_said_to_be_unavailable(world, cli, tmp_path):
    for fmt in ("xlsx", "pdf"):
        target = tmp_path / f"report.{fmt}"
        if importlib.util.find_spec(f"calltally.reports.export_{fmt}") is None:
            with pytest.raises(CommandError, match=f"--format {fmt} is not available yet"):
                cli("report", "summary-by-person", "--format", fmt, "--output", str(target))
        else:
            cli("report", "summary-by-person", "--format", fmt, "--output", str(target))
            assert target.stat().st_size > 0


@pytest.mark.django_db(transaction=True)
def test_an_invalid_option_ends_the_process_with_a_message_not_a_traceback(cli_process):
    done = cli_process("report", "call-list", "--from", "yesterday", "--format", "json")
    assert done.returncode == 1
    assert "invalid options: From (date): Enter a valid date." in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["call-list", "summary-by-cost-center", "inbound-performance"])
def test_the_streamed_json_is_the_very_object_of_the_report(world, cli, name):
    from calltally.accounts.scope import Scope
    from calltally.reports.options import validate
    from calltally.reports.tests.conftest import NOW

    printed = json.loads(cli("report", name, "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json"))
    expected = catalogue.run(name, validate({"date_from": "2026-03-01", "date_to": "2026-03-31"}),
                             Scope("administrator"), NOW).as_json()
    assert printed == json.loads(json.dumps(expected))
