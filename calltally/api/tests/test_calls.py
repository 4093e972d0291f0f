"""/api/calls/: the export's fields, the account's scope on list, detail and filters, stable cursor
pages, and a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calltally.calls.services import EXPORT_COLUMNS, export_rows
from calltally.directory.models import AccountCode

from .conftest import make_call, rebuild_rollups

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {call["id"] for call in response.json()["results"]}


def test_a_call_has_the_fields_and_values_of_calls_export(token_client, world):
    AccountCode.objects.create(code="4711", description="Project Apollo", replace_with_description=True,
                               site=world["rome"])
    call = world["calls"]["alice"]
    call.account_code, call.account = "4711", "4711"
    call.save()
    given = token_client("administrator").get(f"/api/calls/{call.pk}/").json()
    assert list(given) == EXPORT_COLUMNS
    exported = next(row for row in export_rows([world["rome"]], None, None) if row["id"] == call.pk)
    assert given == exported
    assert given["start"] == "2026-03-02T10:00:00+01:00" and given["cost"] == "0.1250"
    assert given["account"] == "Project Apollo" and given["account_code"] == ""


def test_a_user_sees_only_their_calls_in_the_list_the_detail_and_the_filters(token_client, world):
    client = token_client("user", person=world["alice"])
    calls = world["calls"]
    assert ids(client.get("/api/calls/")) == {calls["alice"].pk}
    assert client.get(f"/api/calls/{calls['bob'].pk}/").status_code == 404
    assert client.get(f"/api/calls/{calls['alice'].pk}/").status_code == 200
    # A user has no person filter (they see one person's calls): naming another finds only their own.
    assert ids(client.get("/api/calls/", {"person": "bob"})) == {calls["alice"].pk}
    assert ids(client.get("/api/calls/", {"site": "NYC"})) == set()
    assert ids(client.get("/api/calls/", {"extension": "101"})) == {calls["alice"].pk}


def test_a_manager_sees_their_cost_center_subtree(token_client, world):
    client = token_client("manager", cost_center=world["sales"])
    assert ids(client.get("/api/calls/")) == {world["calls"]["alice"].pk}
    assert client.get(f"/api/calls/{world['calls']['bob'].pk}/").status_code == 404
    assert ids(token_client("manager", cost_center=world["hq"]).get("/api/calls/")) == {
        world["calls"]["alice"].pk, world["calls"]["bob"].pk}


def test_a_site_administrator_sees_the_calls_of_their_sites(token_client, world):
    client = token_client("site-admin", sites=[world["rome"]])
    assert ids(client.get("/api/calls/")) == {world["calls"]["alice"].pk, world["calls"]["rome_nobody"].pk}
    assert client.get(f"/api/calls/{world['calls']['bob'].pk}/").status_code == 404


def test_the_call_list_filters_narrow_the_list(token_client, world):
    client = token_client("administrator")
    assert ids(client.get("/api/calls/", {"site": "NYC"})) == {world["calls"]["bob"].pk}
    assert ids(client.get("/api/calls/", {"cost_center": "SALES"})) == {world["calls"]["alice"].pk}
    response = client.get("/api/calls/", {"date_from": "not a date"})
    assert response.status_code == 400 and "date_from" in response.json()


def test_report_options_find_the_calls_a_report_counts(token_client, world):
    rebuild_rollups(world)
    client = token_client("administrator")
    query = {"period": "custom", "date_from": "2026-03-02", "date_to": "2026-03-02", "cost_center": "HQ"}
    found = ids(client.get("/api/calls/", query))
    assert found == {world["calls"]["alice"].pk, world["calls"]["bob"].pk}
    report = client.get("/api/reports/summary-by-site/", query).json()
    assert report["totals"]["calls"] == len(found)
    refused = client.get("/api/calls/", {"period": "someday"})
    assert refused.status_code == 400 and "period" in refused.json()


def test_cursor_pages_give_every_call_once_in_start_order_even_with_equal_starts(token_client, world):
    start = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
    for n in range(7):  # seven calls in the same second: the id breaks the tie
        make_call(world["rome"], start, extension_number=f"1{n:02d}")
    client = token_client("administrator")
    seen, url = [], "/api/calls/?page_size=2"
    while url:
        page = client.get(url).json()
        seen.extend((call["start"], call["id"]) for call in page["results"])
        url = page["next"]
    assert len(seen) == len({call_id for _, call_id in seen}) == 10
    ordered = sorted(seen, key=lambda item: (dt.datetime.fromisoformat(item[0]), item[1]))
    assert seen == ordered
    # A call added while paging lands after the cursor, never shifting the pages already read.
    first = client.get("/api/calls/?page_size=2").json()
    make_call(world["rome"], start - dt.timedelta(days=30))
    second = client.get(first["next"]).json()
    assert [c["id"] for c in second["results"]] == [call_id for _, call_id in seen[2:4]]


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/calls/?page_size=100")
    assert response.status_code == 200
    return len(queries)


def test_the_call_list_makes_as_many_queries_for_50_calls_as_for_5(token_client, world):
    client = token_client("manager", cost_center=world["hq"])
    client.get("/api/calls/")  # the token's first use writes its last_used once: not part of the count
    start = dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)
    for n in range(2):
        make_call(world["rome"], start + dt.timedelta(minutes=n), person=world["alice"], cost_center=world["emea"])
    few = count_queries(client)
    for n in range(45):
        make_call(world["nyc"], start + dt.timedelta(minutes=n), person=world["bob"], cost_center=world["ops"])
    assert len(client.get("/api/calls/?page_size=100").json()["results"]) == 49
    assert count_queries(client) == few
