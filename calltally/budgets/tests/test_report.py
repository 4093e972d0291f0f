"""The budgets report: the catalogue's, equal to the call list's totals, scoped by role, and the
same on the command line, the web and the API."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from calltally.accounts.models import Role
from calltally.accounts.scope import Scope, subtree
from calltally.api import tokens
from calltally.reports import catalogue
from calltally.reports.options import validate

from .conftest import NOW, UTC
from .test_services import add_budget

pytestmark = pytest.mark.django_db
ADMIN = Scope(Role.ADMINISTRATOR)


def rows(scope=ADMIN, **data):
    return {row["budget"]: row for row in catalogue.run("budgets", validate(data, None), scope, NOW).rows}


@pytest.fixture
def spent(world):
    add_budget(carry_over=True)
    add_budget(name="sales", person="", cost_center="SALES", amount="20.00", notify=["manager"])
    add_budget(name="mark-day", person="mark", period="day", amount="0.90")
    call = world["call"]
    call("101", "3.2500", start=dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    call("101", "1.1000")
    call("102", "2.0000", start=dt.datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    call("103", "0.7500")
    call("103", "0.5000", start=dt.datetime(2026, 3, 19, 9, 0, tzinfo=UTC))  # yesterday: not today's
    call("101", "9.0000", currency="USD")  # another currency: counted by no EUR budget
    call("101", "4.0000", start=dt.datetime(2026, 2, 27, 9, 0, tzinfo=UTC))  # February: carried 6.00
    return world


def test_the_budget_report_equals_the_call_list_totals_of_the_same_calls(spent):
    found = rows()

    def listed(**data):
        totals = catalogue.run("call-list", validate({**data, "currency": "EUR"}, None), ADMIN, NOW).totals
        return totals["cost_by_currency"]["EUR"]

    assert found["alice-month"]["spent"] == listed(person="alice") == Decimal("4.3500")
    assert found["sales"]["spent"] == listed(cost_center="SALES") == Decimal("6.3500")
    assert found["mark-day"]["spent"] == listed(person="mark", period="today") == Decimal("0.7500")
    alice = found["alice-month"]
    assert (alice["amount"], alice["carried"], alice["remaining"], alice["percent"], alice["state"]) == (
        Decimal("16.00"), Decimal("6.00"), Decimal("11.65"), 27.2, "ok")
    assert found["mark-day"]["state"] == "warning" and found["mark-day"]["first"] == "2026-03-20"


def test_last_month_shows_each_budgets_period_that_ended_then(spent):
    found = rows(period="last-month")
    assert found["alice-month"]["first"] == "2026-02-01" and found["alice-month"]["spent"] == Decimal("4.0000")
    assert found["mark-day"]["first"] == "2026-02-28"


def test_the_report_shows_each_role_the_budgets_of_its_scope(spent):
    north = spent["north"].pk
    manager = Scope(role=Role.MANAGER, cost_center_ids=subtree([spent["sales"].pk]))
    assert set(rows(manager)) == {"alice-month", "sales"}
    assert set(rows(Scope(role=Role.MANAGER, cost_center_ids=subtree([north])))) == set()
    assert set(rows(Scope(role=Role.USER, person_id=spent["mark"].pk))) == {"mark-day"}
    assert rows(Scope(role=Role.USER, nothing=True)) == {}


def test_the_command_the_api_and_the_web_give_the_same_budgets_report(spent, cli, role_client):
    # The whole of March: each budget's period holding March 31st (now is December 2026).
    march = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    printed = json.loads(cli("report", "budgets", "--format", "json", "--from", "2026-03-01", "--to", "2026-03-31"))
    assert [row["budget"] for row in printed["rows"]] == ["alice-month", "mark-day", "sales"]
    assert printed["rows"][0]["spent"] == "4.3500" and printed["totals"]["currency"] == "EUR"

    client = role_client("manager", cost_center=spent["sales"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.create(client.user, 'tests')[1]}")
    given = api.get("/api/reports/budgets/", march).json()
    assert [row["budget"] for row in given["rows"]] == ["alice-month", "sales"]
    assert given["rows"] == [row for row in printed["rows"] if row["budget"] != "mark-day"]

    page = client.get(reverse("reports:report", args=["budgets"]), march).content.decode()
    assert "alice-month" in page and "mark-day" not in page and "€4.35" in page


def test_the_budgets_report_exports_as_csv_xlsx_and_pdf_with_budgets_in_two_currencies(spent):
    import io

    from calltally.reports import export_pdf, export_xlsx
    from calltally.reports.output import write_csv

    add_budget(name="alice-usd", currency="USD", amount="5.00")
    result = catalogue.run("budgets", validate({}, None), ADMIN, NOW)
    result.rows = list(result.rows)
    assert result.totals == {"currency": "EUR/USD", "spent_by_currency": {"EUR": Decimal("11.4500"),
                                                                           "USD": Decimal("9.0000")}}
    text = io.StringIO()
    write_csv(result, text)
    assert text.getvalue().splitlines()[0].startswith("budget,who,period,first,last,amount")
    for writer, magic in ((export_xlsx, b"PK"), (export_pdf, b"%PDF")):
        stream = io.BytesIO()
        writer.write(result, stream, account="admin", now=NOW)
        assert stream.getvalue().startswith(magic)
