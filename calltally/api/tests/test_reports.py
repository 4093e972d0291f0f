"""/api/reports/: the catalogue, and each report as `calltally report NAME --format json` gives it."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from .conftest import rebuild_rollups

pytestmark = pytest.mark.django_db

QUERY = {"period": "custom", "date_from": "2026-03-01", "date_to": "2026-03-31"}


def test_the_catalogue_lists_every_report_with_its_address(token_client, cli, world):
    given = token_client("administrator").get("/api/reports/").json()
    listed = json.loads(cli("report", "list", "--format", "json"))
    assert [r["name"] for r in given] == [r["name"] for r in listed]
    assert "summary-by-person" in {r["name"] for r in given}
    assert all(r["url"].endswith(f"/api/reports/{r['name']}/") for r in given)


@pytest.mark.parametrize("name", ["summary-by-person", "summary-by-cost-center", "call-list"])
def test_a_report_is_the_object_the_command_prints(token_client, cli, world, name):
    rebuild_rollups(world)
    client = token_client("manager", cost_center=world["sales"])
    response = client.get(f"/api/reports/{name}/", QUERY)
    assert response.status_code == 200
    given = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)
    assert response.streaming == (name == "call-list")  # call-shaped reports are written as they are read
    printed = json.loads(cli("report", name, "--format", "json", "--from", "2026-03-01", "--to", "2026-03-31",
                             "--as", client.user.username))
    assert given == printed
    assert given["totals"]["calls"] == 1  # only the manager's subtree: alice's call


def test_a_user_reports_on_their_own_calls_only(token_client, world):
    rebuild_rollups(world)
    client = token_client("user", person=world["bob"])
    rows = client.get("/api/reports/summary-by-person/", QUERY).json()["rows"]
    assert [row["calls"] for row in rows] == [1]


def test_an_unknown_report_is_404_and_bad_options_are_400_by_field(token_client, world):
    client = token_client("administrator")
    assert client.get("/api/reports/no-such-report/").status_code == 404
    response = client.get("/api/reports/summary-by-site/", {"min_duration": "-5"})
    assert response.status_code == 400 and "min_duration" in response.json()


def test_reports_need_an_account(client, world):
    assert client.get("/api/reports/summary-by-site/").status_code == 401
    assert get_user_model().objects.count() == 0


def test_a_streamed_call_list_is_the_same_object_whatever_the_batches(world):
    from calltally.accounts.scope import Scope
    from calltally.reports.api.views import streamed_json
    from calltally.reports.options import validate

    options = validate(QUERY)
    whole = catalogue_run("call-list", options, Scope("administrator")).as_json()
    pieces = list(streamed_json(catalogue_run("call-list", options, Scope("administrator")), batch=1))
    assert len(whole["rows"]) == 3 and len(pieces) == 5  # the head, a piece per row, the tail
    assert json.loads("".join(pieces)) == whole


def catalogue_run(name, options, scope):
    from calltally.reports import catalogue

    return catalogue.run(name, options, scope)
