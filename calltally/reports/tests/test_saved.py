"""Options remembered per account and reports saved by name."""

from __future__ import annotations

import pytest

from calltally.accounts.scope import Scope
from calltally.directory.models import CostCenter
from calltally.reports import services
from calltally.reports.options import OptionsError, validate

ADMIN = Scope("administrator")


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("finance", password="s3cret-Pa55")


def test_the_last_options_are_remembered_per_account_and_replaced_by_the_next(world, user):
    assert services.remembered(user, ADMIN) is None
    services.remember(user, validate({"cost_center": "SALES", "period": "last-month"}))
    services.remember(user, validate({"cost_center": "NORTH", "direction": "outbound"}))
    options = services.remembered(user, ADMIN)
    assert (options.cost_center, options.direction, options.period) == ("NORTH", "outbound", "this-month")


def test_remembered_options_that_no_longer_hold_are_forgotten_not_used(world, user):
    services.remember(user, validate({"cost_center": "NORTH"}))
    CostCenter.objects.filter(code="NORTH").delete()
    assert services.remembered(user, ADMIN) is None


def test_a_report_saved_by_name_keeps_its_report_and_options_and_a_name_saved_again_is_replaced(world, user):
    form = services.SaveReportForm({"name": " Sales mobiles ", "report": "summary-by-person"}, user=user)
    assert form.is_valid(), form.errors
    form.save(validate({"cost_center": "SALES", "category": "mobile"}))
    again = services.SaveReportForm({"name": "Sales mobiles", "report": "summary-by-category"}, user=user)
    assert again.is_valid()
    again.save(validate({"cost_center": "SALES"}))
    [saved] = services.saved_reports(user)
    assert (saved.name, saved.report) == ("Sales mobiles", "summary-by-category")
    assert services.load(saved, ADMIN).cost_center == "SALES"
    # A manager of another subtree cannot run it as theirs: the options are validated again.
    other = Scope("manager", cost_center_ids=frozenset({world["marketing"].pk}))
    with pytest.raises(OptionsError, match="No cost center with code SALES"):
        services.load(saved, other)


def test_a_saved_report_needs_a_name_and_a_report_of_the_catalogue(world, user):
    form = services.SaveReportForm({"name": "  ", "report": "summary-by-planet"}, user=user)
    assert not form.is_valid()
    assert set(form.errors) == {"name", "report"}
