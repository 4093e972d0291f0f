"""`calltally budget add|list|show|remove|check`: the web form's validation in words, JSON for
scripts, and two checks at once (two processes) mailing a threshold once."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from calltally import claims
from calltally.audit.models import AuditEvent
from calltally.budgets.models import Budget, BudgetNotice

from .conftest import configure_mail


@pytest.mark.django_db
def test_budget_add_then_list_and_show_give_this_periods_spending(world, cli):
    out = cli("budget", "add", "alice-month", "--person", "alice", "--amount", "10.00", "--period", "month",
              "--thresholds", "80,100", "--notify", "person,manager", "--email", "finance@example.org",
              "--email", "ceo@example.org", "--carry-over")
    assert out.strip() == "budget alice-month added: EUR 10.00 per month for person alice, thresholds 80,100%"
    budget = Budget.objects.get()
    assert (budget.notify, budget.emails, budget.carry_over, budget.enabled, budget.timezone) == (
        ["person", "manager"], ["finance@example.org", "ceo@example.org"], True, True, "Europe/Rome")
    assert AuditEvent.objects.filter(action="create", object_id=str(budget.pk)).exists()
    world["call"]("101", "2.50", start=claims.now())
    [listed] = json.loads(cli("budget", "list", "--json"))
    assert (listed["name"], listed["spent"], listed["percent"], listed["currency"], listed["state"]) == (
        "alice-month", "2.50", 12.5, "EUR", "ok")  # of 10.00 and 10.00 carried from an empty last month
    assert Decimal(listed["period_amount"]) == Decimal("20.00")
    table = cli("budget", "list")
    assert "alice-month" in table and "person alice" in table and "EUR 2.50" in table
    shown = cli("budget", "show", "alice-month")
    assert "sends to   alice@example.org, boss@example.org, ceo@example.org, finance@example.org" in shown
    assert "notices    none yet" in shown


@pytest.mark.django_db
def test_budget_add_refuses_in_the_forms_words(world, cli):
    with pytest.raises(CommandError, match="person: No person with username 'zoe'|person: .*zoe"):
        cli("budget", "add", "x", "--person", "zoe", "--amount", "10", "--period", "day")
    with pytest.raises(CommandError, match="thresholds: '80%' is not a percentage from 1 to 1000"):
        cli("budget", "add", "x", "--person", "alice", "--amount", "10", "--period", "day", "--thresholds", "80%")
    with pytest.raises(CommandError, match="amount: The amount must be more than zero"):
        cli("budget", "add", "x", "--person", "alice", "--amount", "0", "--period", "day")
    with pytest.raises(CommandError, match="notify: Only a person's budget can tell its person"):
        cli("budget", "add", "x", "--cost-center", "SALES", "--amount", "5", "--period", "week",
            "--notify", "person")
    with pytest.raises(CommandError, match="emails: 'not-an-address' is not an e-mail address"):
        cli("budget", "add", "x", "--person", "alice", "--amount", "5", "--period", "week", "--email",
            "not-an-address")
    with pytest.raises(CommandError, match="no budget named 'nope'"):
        cli("budget", "show", "nope")
    assert not Budget.objects.exists()


@pytest.mark.django_db
def test_budget_remove_deletes_it_with_its_notices(world, cli):
    cli("budget", "add", "sales", "--cost-center", "SALES", "--amount", "5", "--period", "week", "--currency",
        "eur")
    assert Budget.objects.get().currency == "EUR"
    assert cli("budget", "remove", "sales").strip() == "budget sales removed"
    assert not Budget.objects.exists() and AuditEvent.objects.filter(action="delete").exists()


@pytest.mark.django_db(transaction=True)
def test_two_checks_running_at_once_mail_each_threshold_once(world, cli_process, smtp_server):
    server = smtp_server()
    configure_mail(server.port)
    for n in range(5):
        Budget.objects.create(name=f"alice-{n}", person=world["alice"], amount=Decimal("10.00"), currency="EUR",
                              period="day", thresholds="80,100", notify=["person"], timezone="Europe/Rome")
    world["call"]("101", "9.00", start=claims.now())
    checks = [cli_process.popen("budget", "check", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    outputs = [check.communicate(timeout=120) for check in checks]
    assert [check.returncode for check in checks] == [0, 0], outputs
    assert sorted(m["X-CallTally-Budget"] for m in server.messages) == [f"alice-{n}" for n in range(5)]
    assert set(BudgetNotice.objects.values_list("state", flat=True)) == {"sent"}
    # Once more: nothing new to send.
    assert cli_process("budget", "check").stdout.startswith("5 budgets checked, 0 thresholds reached, 0 notices")
    assert len(server.messages) == 5


@pytest.mark.django_db
def test_budget_set_changes_only_the_options_given_through_the_same_form(world, cli):
    cli("budget", "add", "team", "--person", "alice", "--amount", "10", "--period", "month", "--notify", "person",
        "--email", "finance@example.org")
    # A cost center's budget has no person to tell: the form says so rather than drop it silently.
    with pytest.raises(CommandError, match="notify: Only a person's budget can tell its person"):
        cli("budget", "set", "team", "--cost-center", "NORTH")
    out = cli("budget", "set", "team", "--cost-center", "NORTH", "--notify", "", "--amount", "30.50",
              "--no-enabled")
    assert out.strip() == ("budget team changed: EUR 30.50 per month for cost center NORTH, thresholds 80,100%, "
                           "disabled")
    with pytest.raises(CommandError, match="notify: Only a person's budget can tell its person"):
        cli("budget", "set", "team", "--notify", "person,manager")
    cli("budget", "set", "team", "--notify", "manager", "--rename", "north", "--carry-over")
    budget = Budget.objects.get()
    assert (budget.name, budget.person, budget.cost_center, budget.notify, budget.emails, budget.carry_over,
            budget.enabled) == ("north", None, world["north"], ["manager"], ["finance@example.org"], True, False)
    assert AuditEvent.objects.filter(action="update", object_id=str(budget.pk)).count() == 2
