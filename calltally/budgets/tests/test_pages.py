"""The budget pages as their users see them: the list with its bars, the detail with its notices,
add, edit and delete by an administrator, read only and scoped for the other roles."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.budgets import services
from calltally.budgets.models import Budget

from .test_services import add_budget

pytestmark = pytest.mark.django_db

FORM = {"name": "nora-week", "person": "nora", "cost_center": "", "period": "week", "amount": "25.00",
        "currency": "", "thresholds": "50, 90 ,100", "notify": ["person", "administrators"],
        "emails": "a@example.org; b@example.org", "carry_over": "on", "timezone": "", "enabled": "on"}


def test_an_administrator_adds_a_budget_on_the_web_and_it_is_audited(world, admin_client):
    response = admin_client.post(reverse("budgets:budget_add"), FORM)
    budget = Budget.objects.get(name="nora-week")
    assert response.status_code == 302 and response["Location"] == reverse("budgets:budget_detail",
                                                                            args=[budget.pk])
    assert (budget.person, budget.currency, budget.timezone, budget.thresholds, budget.emails, budget.carry_over) == (
        world["nora"], "EUR", "Europe/Rome", "50,90,100", ["a@example.org", "b@example.org"], True)
    assert AuditEvent.objects.filter(action="create", object_id=str(budget.pk)).exists()


def test_the_web_form_refuses_what_the_command_refuses_in_the_same_words(world, admin_client, cli):
    bad = {**FORM, "person": "", "thresholds": "80,abc"}
    response = admin_client.post(reverse("budgets:budget_add"), bad)
    assert response.status_code == 400
    text = response.content.decode()
    assert "&#x27;abc&#x27; is not a percentage from 1 to 1000" in text
    response = admin_client.post(reverse("budgets:budget_add"), {**FORM, "cost_center": "SALES"})
    assert "Choose either a person or a cost center (one of them)." in response.content.decode()
    assert not Budget.objects.exists()


def test_the_list_shows_each_budgets_spending_with_a_meter_and_no_inline_style(world, admin_client):
    add_budget()
    world["call"]("101", "8.50")
    page = admin_client.get(reverse("budgets:budget_list")).content.decode()
    assert "alice-month" in page and "person alice" in page
    assert re.search(r'<meter class="budget-meter"[^>]* value="\d', page)
    assert 'style="' not in page.split("<main", 1)[-1]


def test_the_detail_lists_the_notices_sent(world, admin_client, smtp_server):
    from .conftest import configure_mail

    server = smtp_server()
    configure_mail(server.port)
    budget = add_budget()
    world["call"]("101", "9.00", start=services.claims.now())
    services.run_due()
    page = admin_client.get(reverse("budgets:budget_detail", args=[budget.pk])).content.decode()
    assert "Budget alice-month" in page and "80%" in page and "Sent" in page
    assert "alice@example.org, boss@example.org, finance@example.org" in page


def test_an_administrator_edits_and_deletes_a_budget(world, admin_client):
    budget = add_budget()
    edit = reverse("budgets:budget_edit", args=[budget.pk])
    assert 'value="alice"' in admin_client.get(edit).content.decode()
    response = admin_client.post(edit, {**FORM, "name": "alice-month", "person": "alice", "amount": "12.00"})
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.amount == 12 and budget.period == "week"
    admin_client.post(reverse("budgets:budget_delete", args=[budget.pk]))
    assert not Budget.objects.exists()


def test_each_role_sees_only_the_budgets_of_its_scope_and_changes_none(world, role_client):
    add_budget()
    add_budget(name="nora-month", person="nora")
    add_budget(name="mark-month", person="mark")
    add_budget(name="sales", person="", cost_center="SALES", notify=["manager"])
    listed = {
        "manager": role_client("manager", cost_center=world["north"]),
        "user": role_client("user", person=world["mark"]),
        "site-admin": role_client("site-admin", sites=[world["rome"]]),
    }
    seen = {}
    for role, client in listed.items():
        page = client.get(reverse("budgets:budget_list")).content.decode()
        seen[role] = {b.name for b in Budget.objects.all() if f">{b.name}<" in page}
        assert "Add budget" not in page
    assert seen == {"manager": {"nora-month"}, "user": {"mark-month"},
                    "site-admin": {"alice-month", "nora-month", "mark-month"}}
    user = listed["user"]
    alice = Budget.objects.get(name="alice-month")
    assert user.get(reverse("budgets:budget_detail", args=[alice.pk])).status_code == 404
    mine = Budget.objects.get(name="mark-month")
    assert user.get(reverse("budgets:budget_detail", args=[mine.pk])).status_code == 200
    assert user.get(reverse("budgets:budget_edit", args=[mine.pk])).status_code == 403
    assert user.post(reverse("budgets:budget_add"), FORM).status_code == 403
    assert user.post(reverse("budgets:budget_delete", args=[mine.pk])).status_code == 403
    assert Budget.objects.count() == 4


def test_the_menu_offers_budgets_to_a_user(world, role_client):
    client = role_client("user", person=world["mark"])
    assert reverse("budgets:budget_list") in client.get(reverse("home")).content.decode()
