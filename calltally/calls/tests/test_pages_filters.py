"""The call list's filters narrow it down, on each site's own calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from calltally.calls.choices import Direction, Disposition

from .conftest import make_call

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def admin(role_client):
    return role_client("administrator")


@pytest.fixture
def calls(rome, new_york, tree):
    return {
        # 23:30 UTC on 1 March is already 2 March in Rome (00:30 +01:00).
        "rome_late": make_call(rome, dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC), remote_number="+390611111111",
                               person=tree["alice"], cost_center=tree["sales"], account="Project Apollo"),
        "rome_inbound": make_call(rome, dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC), direction=Direction.INBOUND,
                                  extension_number="102", remote_number="+390622222222", person=tree["nora"],
                                  cost_center=tree["north"]),
        "rome_busy": make_call(rome, dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC), disposition=Disposition.BUSY,
                               answered=False, talk_seconds=0, remote_number="+390633333333"),
        # 03:00 UTC on 2 March is still 1 March in New York (22:00 -05:00).
        "nyc_evening": make_call(new_york, dt.datetime(2026, 3, 2, 3, 0, tzinfo=UTC), remote_number="+12125550100",
                                 person=tree["mark"], cost_center=tree["marketing"]),
    }


def listed(client, query: str) -> set[int]:
    response = client.get(reverse("calls:call_list") + query)
    assert response.status_code == 200
    return {row.record.pk for row in response.context["table"].page.object_list}


def ids(calls, *names) -> set[int]:
    return {calls[name].pk for name in names}


def test_without_filters_every_call_is_listed(admin, calls):
    assert listed(admin, "") == ids(calls, *calls)


def test_the_site_filter_takes_the_site_code(admin, calls):
    assert listed(admin, "?site=NYC") == ids(calls, "nyc_evening")
    assert listed(admin, "?site=ROM") == ids(calls, "rome_late", "rome_inbound", "rome_busy")


def test_direction_and_disposition_filters_narrow_the_list(admin, calls):
    assert listed(admin, "?direction=inbound") == ids(calls, "rome_inbound")
    assert listed(admin, "?disposition=busy") == ids(calls, "rome_busy")
    assert listed(admin, "?direction=outbound&disposition=answered") == ids(calls, "rome_late", "nyc_evening")


def test_the_date_filters_use_each_sites_own_calendar_day(admin, calls):
    assert listed(admin, "?date_from=2026-03-02&date_to=2026-03-02") == ids(calls, "rome_late", "rome_inbound")
    assert listed(admin, "?date_to=2026-03-01") == ids(calls, "nyc_evening")
    assert listed(admin, "?date_from=2026-03-03") == ids(calls, "rome_busy")
    assert listed(admin, "?site=NYC&date_from=2026-03-02") == set()


def test_extension_remote_number_and_person_filters_narrow_the_list(admin, calls):
    assert listed(admin, "?extension=102") == ids(calls, "rome_inbound")
    assert listed(admin, "?remote=0622") == ids(calls, "rome_inbound")
    assert listed(admin, "?remote=%2B39") == ids(calls, "rome_late", "rome_inbound", "rome_busy")
    assert listed(admin, "?person=ALICE") == ids(calls, "rome_late")


def test_the_cost_center_filter_takes_the_cost_centers_below_it_too(admin, calls):
    assert listed(admin, "?cost_center=SALES") == ids(calls, "rome_late", "rome_inbound")
    assert listed(admin, "?cost_center=NORTH") == ids(calls, "rome_inbound")


def test_the_account_filter_searches_the_account_as_shown(admin, calls):
    assert listed(admin, "?account=apollo") == ids(calls, "rome_late")


def test_an_invalid_filter_value_shows_the_error_and_no_calls(admin, calls):
    response = admin.get(reverse("calls:call_list") + "?direction=sideways")
    assert response.status_code == 200
    assert b"invalid-feedback" in response.content
    assert b"No calls match these filters" in response.content


def test_filters_and_pagination_links_keep_each_other(admin, rome):
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for minute in range(55):
        make_call(rome, start + dt.timedelta(minutes=minute), direction=Direction.INBOUND)
    page = admin.get(reverse("calls:call_list") + "?direction=inbound").content.decode()
    assert "direction=inbound&amp;page=2" in page or "page=2&amp;direction=inbound" in page
