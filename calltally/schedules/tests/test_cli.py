"""`calltally schedule add|list|show|run|history|due|remove`: the web form's rules, errors in words."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management.base import CommandError

from calltally.schedules.models import Schedule

pytestmark = pytest.mark.django_db


def test_add_takes_the_contract_flags_and_list_shows_the_schedule(office, cli):
    said = cli("schedule", "add", "monthly-managers", "--report", "call-list", "--period", "last-month",
               "--format", "xlsx", "--burst", "managers", "--every", "monthly", "--day", "1", "--at", "06:30",
               "--time-zone", "Europe/Rome", "--site", "ROM", "--direction", "outbound")
    assert said.startswith("scheduled report monthly-managers added: call-list, last-month, xlsx, to each "
                           "cost-center manager, on day 1 of every month at 06:30 (Europe/Rome); next run 20")
    schedule = Schedule.objects.get()
    assert schedule.options["sites"] == ["ROM"] and schedule.options["direction"] == "outbound"
    listing = cli("schedule", "list")
    assert "monthly-managers" in listing and "call-list" in listing and "+0" in listing
    [row] = json.loads(cli("schedule", "list", "--json"))
    assert row["burst"] == "managers" and row["when"].startswith("on day 1") and row["last_run"] is None


def test_to_may_repeat_or_be_a_comma_list_and_every_may_be_a_cron_expression(office, cli):
    cli("schedule", "add", "daily", "--report", "summary-by-person", "--period", "yesterday", "--format", "html",
        "--to", "a@example.org,b@example.org", "--to", "c@example.org", "--every", "30 6 * * mon-fri",
        "--person-recipient", "alice", "--role", "administrator")
    shown = json.loads(cli("schedule", "show", "daily", "--json"))
    assert shown["addresses"] == ["a@example.org", "b@example.org", "c@example.org"]
    assert shown["every"] == "cron" and shown["cron"] == "30 6 * * mon-fri"
    assert shown["people"] == ["alice"] and shown["roles"] == ["administrator"]


@pytest.mark.parametrize(("flags", "words"), [
    (["--to", "x@example.org", "--every", "fortnightly"], "not daily, weekly, monthly or a cron expression"),
    (["--to", "x@example.org", "--every", "61 * * * *"], "minute 61 is out of range"),
    (["--every", "daily"], "Say where the report goes"),
    (["--to", "x@example.org", "--burst", "people", "--every", "daily"], "Choose one of recipients, a burst"),
    (["--to", "x@example.org", "--every", "daily", "--time-zone", "Europe/Atlantis"], "not an IANA time zone"),
    (["--to", "x@example.org", "--every", "daily", "--cost-center", "NOPE"], "No cost center with code NOPE"),
    (["--to", "x@example.org", "--every", "daily", "--period", "custom"], "custom is not one of the available"),
    (["--person-recipient", "ghost", "--every", "daily"], "No person with username ghost"),
    (["--folder", "relative/dir", "--every", "daily"], "absolute path"),
])
def test_a_wrong_flag_is_refused_in_words_and_nothing_is_added(office, cli, flags, words):
    with pytest.raises(CommandError, match="the schedule was not added") as refused:
        cli("schedule", "add", "bad", "--report", "call-list", *flags)
    assert words in str(refused.value)
    assert not Schedule.objects.exists()


def test_an_unknown_report_is_refused(office, cli):
    with pytest.raises(CommandError, match="Report: Select a valid choice"):
        cli("schedule", "add", "bad", "--report", "no-such-report", "--to", "x@example.org", "--every", "daily")


def test_run_sends_now_and_prints_what_was_delivered_then_history_shows_it(office, cli, mail_server):
    from .conftest import make_call

    # A minute ago, but never before this month began in Rome (the schedule's period is this month).
    now = dt.datetime.now(dt.UTC)
    month_began = now.astimezone(ZoneInfo("Europe/Rome")).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    recently = max(now - dt.timedelta(minutes=1), month_began.astimezone(dt.UTC) + dt.timedelta(seconds=1))
    for name in ("alice", "nora"):
        make_call(office["rome"], recently, person=office[name], cost_center=office[name].cost_center)
    cli("schedule", "add", "people", "--report", "call-list", "--period", "this-month", "--format", "csv",
        "--burst", "people", "--every", "daily")
    said = cli("schedule", "run", "people")
    assert ": succeeded — " in said
    for name in ("alice", "nora"):
        assert f"sent     {name}@example.org" in said
    assert "mark@example.org" not in said and "1 skipped" in said  # no call this month
    assert sorted(m["To"] for m in mail_server.messages) == ["alice@example.org", "nora@example.org"]
    history = json.loads(cli("schedule", "history", "people", "--json"))
    assert history[0]["manual"] is True and history[0]["state"] == "succeeded"
    assert "people run #" in cli("schedule", "history")


def test_run_of_a_failing_delivery_exits_non_zero_with_the_reason(office, cli):
    from calltally.conftest import free_port

    from .conftest import configure_mail

    configure_mail(free_port())
    cli("schedule", "add", "down", "--report", "call-list", "--to", "x@example.org", "--every", "daily",
        "--format", "csv")
    with pytest.raises(CommandError, match="run of down"):
        cli("schedule", "run", "down")
    assert "refused the connection" in cli("schedule", "history", "down")


def test_remove_and_an_unknown_name(office, cli):
    cli("schedule", "add", "gone", "--report", "call-list", "--to", "x@example.org", "--every", "weekly",
        "--weekday", "friday", "--disabled")
    assert "disabled" in cli("schedule", "list")
    assert cli("schedule", "remove", "gone") == "scheduled report gone removed\n"
    with pytest.raises(CommandError, match="no scheduled report named 'gone'"):
        cli("schedule", "show", "gone")


def test_due_runs_what_is_due_once(office, cli, mail_server):
    cli("schedule", "add", "nothing-due", "--report", "call-list", "--to", "x@example.org", "--every", "daily")
    assert cli("schedule", "due").startswith("0 runs started")
