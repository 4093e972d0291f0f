"""`calltally costcenter add|set|list`: a tree of cost centers of any depth."""

from __future__ import annotations

import json

import pytest
from django.core.management.base import CommandError

from calltally.directory.models import CostCenter, Person

pytestmark = pytest.mark.django_db


def test_cost_centers_form_a_tree_of_any_depth_that_reports_roll_up(cli):
    cli("costcenter", "add", "ACME", "--name", "Acme")
    cli("costcenter", "add", "OPS", "--name", "Operations", "--parent", "ACME")
    cli("costcenter", "add", "SALES", "--name", "Sales", "--parent", "ACME")
    out = cli("costcenter", "add", "SALES-IT", "--name", "Sales Italy", "--parent", "SALES")
    assert out.strip() == "cost center SALES-IT added: Sales Italy (ACME / SALES / SALES-IT)"
    cli("costcenter", "add", "MILAN", "--name", "Milan desk", "--parent", "SALES-IT")
    codes = {c.pk: c.code for c in CostCenter.objects.all()}
    sales = CostCenter.objects.get(code="SALES")
    assert {codes[pk] for pk in sales.subtree_ids()} == {"SALES", "SALES-IT", "MILAN"}
    assert [c.code for c in CostCenter.objects.get(code="MILAN").ancestors()] == ["SALES-IT", "SALES", "ACME"]


def test_the_list_shows_the_tree_indented_and_as_json(cli):
    Person.objects.create(username="anna")
    cli("costcenter", "add", "ACME", "--name", "Acme", "--manager", "anna")
    cli("costcenter", "add", "SALES", "--name", "Sales", "--parent", "ACME")
    cli("costcenter", "add", "BOARD", "--name", "Board")
    lines = cli("costcenter", "list").splitlines()
    assert lines[1].split() == ["ACME", "anna", "Acme"]
    assert lines[2].startswith("  SALES")
    assert lines[3].startswith("BOARD")
    data = json.loads(cli("costcenter", "list", "--json"))
    assert data == [
        {"code": "ACME", "name": "Acme", "parent": None, "manager": "anna", "depth": 0},
        {"code": "SALES", "name": "Sales", "parent": "ACME", "manager": None, "depth": 1},
        {"code": "BOARD", "name": "Board", "parent": None, "manager": None, "depth": 0},
    ]


def test_a_cost_center_cannot_be_moved_below_itself(cli):
    cli("costcenter", "add", "A", "--name", "A")
    cli("costcenter", "add", "B", "--name", "B", "--parent", "A")
    with pytest.raises(CommandError, match="A cost center cannot be below itself"):
        cli("costcenter", "set", "A", "--parent", "B")
    out = cli("costcenter", "set", "B", "--parent", "", "--name", "Bee")
    assert out.strip() == "cost center B updated: Bee (B)"


def test_unknown_parents_and_managers_and_duplicate_codes_are_refused(cli):
    with pytest.raises(CommandError, match="there is no cost center with code 'NOPE'"):
        cli("costcenter", "add", "X", "--name", "X", "--parent", "NOPE")
    with pytest.raises(CommandError, match="there is no person with username 'ghost'"):
        cli("costcenter", "add", "X", "--name", "X", "--manager", "ghost")
    with pytest.raises(CommandError, match="code: Use 1 to 32 letters"):
        cli("costcenter", "add", "bad code", "--name", "X")
    cli("costcenter", "add", "X", "--name", "X")
    with pytest.raises(CommandError, match="exists already"):
        cli("costcenter", "add", "X", "--name", "Again")
    with pytest.raises(CommandError, match="no cost center with code 'Y'"):
        cli("costcenter", "set", "Y", "--name", "Y")
