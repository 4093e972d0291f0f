"""Budget checks: the thresholds mail once each per period, a new period starts afresh, carry-over,
failed sends tried again, two workers mail once, and spending read in a few queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calltally import claims
from calltally.budgets import services
from calltally.budgets.choices import NoticeState
from calltally.budgets.forms import BudgetForm
from calltally.budgets.models import Budget, BudgetNotice

from .conftest import NOW, UTC, configure_mail

pytestmark = pytest.mark.django_db


def add_budget(**data) -> Budget:
    values = {"name": "alice-month", "person": "alice", "amount": "10.00", "period": "month",
              "thresholds": "80,100", "notify": ["person", "manager"], "emails": "finance@example.org",
              "enabled": True}
    values.update(data)
    form = BudgetForm(values)
    assert form.is_valid(), form.errors
    return form.save()


def subjects(server) -> list[str]:
    return [message["Subject"] for message in server.messages]


def test_a_budget_mail_fires_once_at_80_percent_and_once_at_100_percent_as_calls_arrive(world, smtp_server):
    server = smtp_server()
    configure_mail(server.port)
    add_budget()
    world["call"]("101", "5.00")
    assert services.run_due(NOW).startswith("1 budget checked, 0 thresholds reached, 0 notices sent")
    assert server.messages == []

    world["call"]("101", "3.50")  # 85%
    services.run_due(NOW)
    services.run_due(NOW)
    assert subjects(server) == ["Budget alice-month: 80% reached for March 2026"]
    [first] = server.messages
    assert first["To"] == "alice@example.org, boss@example.org, finance@example.org"
    assert first["Message-ID"] == f"<budget-{Budget.objects.get().pk}-20260301-80@calltally>"
    assert "EUR 8.50 (85.0%)" in first.get_payload()

    world["call"]("101", "2.00")  # 105%
    services.run_due(NOW)
    services.run_due(NOW)
    assert subjects(server) == ["Budget alice-month: 80% reached for March 2026",
                                "Budget alice-month: spent for March 2026"]
    assert list(BudgetNotice.objects.values_list("threshold", "state")) == [(100, "sent"), (80, "sent")]


def test_thresholds_passed_in_one_step_mail_only_the_highest(world, smtp_server):
    server = smtp_server()
    configure_mail(server.port)
    add_budget()
    world["call"]("101", "12.00")
    services.run_due(NOW)
    assert subjects(server) == ["Budget alice-month: spent for March 2026"]
    assert dict(BudgetNotice.objects.values_list("threshold", "state")) == {80: "passed", 100: "sent"}


def test_a_new_period_starts_afresh_and_mails_again(world, smtp_server):
    server = smtp_server()
    configure_mail(server.port)
    add_budget(period="week")
    world["call"]("102", "1.00")  # nora's calls do not count
    world["call"]("101", "9.00")
    services.run_due(NOW)
    assert subjects(server) == ["Budget alice-month: 80% reached for week of 2026-03-16"]
    # The next Monday: nothing spent yet, nothing sent.
    monday = dt.datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    assert services.statuses(Budget.objects.all(), monday)[Budget.objects.get().pk].spent == 0
    services.run_due(monday)
    assert len(server.messages) == 1
    world["call"]("101", "8.00", start=monday)
    services.run_due(monday)
    assert subjects(server)[1] == "Budget alice-month: 80% reached for week of 2026-03-23"


def test_a_week_is_a_calendar_week_in_the_budgets_zone(world):
    budget = add_budget(period="week")
    # Sunday 22 March 23:30 in Rome is Sunday's call, though it is 22:30 UTC.
    world["call"]("101", "4.00", start=dt.datetime(2026, 3, 22, 22, 30, tzinfo=UTC))
    # Monday 00:30 in Rome (Sunday 23:30 UTC) is the next week's.
    world["call"]("101", "3.00", start=dt.datetime(2026, 3, 22, 23, 30, tzinfo=UTC))
    status = services.statuses([budget], dt.datetime(2026, 3, 22, 22, 45, tzinfo=UTC))[budget.pk]
    assert (status.first, status.last, status.spent) == (dt.date(2026, 3, 16), dt.date(2026, 3, 22),
                                                         Decimal("4.0000"))


def test_carry_over_adds_what_the_last_period_left_unspent(world):
    budget = add_budget(carry_over=True)
    world["call"]("101", "4.00", start=dt.datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    world["call"]("101", "2.00")
    status = services.statuses([budget], NOW)[budget.pk]
    assert (status.carried, status.amount, status.spent) == (Decimal("6.00"), Decimal("16.00"), Decimal("2.0000"))
    assert status.percent == 12.5
    # An overspent month carries nothing (never a negative amount).
    world["call"]("101", "20.00", start=dt.datetime(2026, 2, 11, 9, 0, tzinfo=UTC))
    assert services.statuses([budget], NOW)[budget.pk].carried == 0


def test_a_cost_center_budget_counts_its_subtree_in_its_currency_only(world):
    budget = add_budget(name="sales", person="", cost_center="SALES", notify=["manager"])
    world["call"]("101", "1.00")
    world["call"]("102", "2.00")  # NORTH is below SALES
    world["call"]("103", "4.00")  # MARKETING is not
    world["call"]("101", "8.00", currency="USD")  # another currency never adds
    assert services.statuses([budget], NOW)[budget.pk].spent == Decimal("3.0000")
    assert services.recipients(budget) == ["boss@example.org", "finance@example.org"]


def test_spending_of_many_budgets_is_read_in_a_few_queries(world):
    for n in range(30):
        add_budget(name=f"b{n}", period=("day", "week", "month")[n % 3], carry_over=bool(n % 2),
                   **({"person": "", "cost_center": "SALES", "notify": []} if n % 5 == 0 else {}))
    for _ in range(20):
        world["call"]("101", "0.10")
    budgets = list(Budget.objects.all())
    with CaptureQueriesContext(connection) as queries:
        services.statuses(budgets, NOW)
    # The tree once, then one summary per distinct period (three periods and the three before them),
    # each one or a few grouped queries: never one per budget.
    assert len(queries) <= 1 + 6 * 3


def test_a_failed_send_stays_pending_and_is_sent_at_a_later_check(world, smtp_server):
    configure_mail(1)  # nothing listens on port 1
    add_budget()
    world["call"]("101", "9.00")
    assert "1 not sent" in services.run_due(NOW)
    notice = BudgetNotice.objects.get()
    assert notice.state == NoticeState.PENDING and notice.attempts == 1 and "refused the connection" in notice.error
    server = smtp_server()
    configure_mail(server.port)
    services.run_due(NOW)
    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT and notice.claimed_by == "" and len(server.messages) == 1


def test_a_notice_claimed_by_another_worker_is_not_sent_twice(world, smtp_server):
    server = smtp_server()
    configure_mail(server.port)
    add_budget()
    world["call"]("101", "9.00")
    services.record_notices(services.statuses(Budget.objects.all(), NOW).values())
    notice = BudgetNotice.objects.get()
    # Another Scheduler (another host) holds it, sending: this one leaves it alone.
    assert claims.claim(BudgetNotice.objects.filter(state="pending"), notice.pk, "elsewhere:1")
    assert services.send_pending("here:2") == (0, 0)
    assert server.messages == []
    # Its lease ran out (it was killed): the next check sends it, with the same Message-ID.
    BudgetNotice.objects.filter(pk=notice.pk).update(lease_until=claims.now() - dt.timedelta(seconds=1))
    assert services.send_pending("here:2") == (1, 0)
    assert services.send_pending("elsewhere:1") == (0, 0)
    assert len(server.messages) == 1


def test_a_disabled_budget_is_not_checked(world, smtp_server):
    server = smtp_server()
    configure_mail(server.port)
    add_budget(enabled=False)
    world["call"]("101", "11.00")
    assert services.run_due(NOW).startswith("0 budgets checked")
    assert server.messages == [] and not BudgetNotice.objects.exists()


def test_a_budget_with_nobody_to_tell_records_the_threshold_without_mail(world):
    add_budget(notify=[], emails="")
    world["call"]("101", "9.00")
    services.run_due(NOW)
    assert BudgetNotice.objects.get().state == NoticeState.NOBODY


def test_the_schedulers_budget_task_checks_and_mails(world, smtp_server):
    from calltally.services.management.commands import scheduler

    server = smtp_server()
    configure_mail(server.port)
    add_budget(period="day")
    world["call"]("101", "9.00", start=claims.now())
    scheduler.budgets()
    scheduler.budgets()
    assert len(server.messages) == 1 and server.messages[0]["Subject"].startswith("Budget alice-month: 80%")
