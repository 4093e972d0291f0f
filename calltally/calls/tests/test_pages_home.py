"""The billing home: each account's own scope, today and this month from each site's midnight,
the cost centers that cost most, the latest calls, each site's health — in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from calltally.services import today
from calltally.services.models import ServiceHeartbeat
from calltally.webkit.display import local_time

from .conftest import make_call, make_discarded

pytestmark = pytest.mark.django_db


def page_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def figures(response) -> dict[str, tuple[int, int]]:
    return {item.site.code: (item.today_calls, item.month_calls) for item in response.context["figures"]}


def earlier_today(site, now):
    """An instant of the site's today, whatever the hour the test runs."""
    midnight = today.day_start(site.zone, now)
    return midnight + (now - midnight) / 2


@pytest.fixture
def now():
    return timezone.now()


def test_an_administrator_sees_today_and_this_month_per_site_from_each_sites_midnight(role_client, rome,
                                                                                   new_york, now):
    for site in (rome, new_york):
        make_call(site, earlier_today(site, now), cost=Decimal("1.50"))
        make_call(site, today.day_start(site.zone, now) - dt.timedelta(seconds=1), cost=Decimal("2"))  # yesterday
    month_start = today.day_start(rome.zone, now, days_back=now.astimezone(rome.zone).day - 1)
    make_call(rome, month_start - dt.timedelta(seconds=1), cost=Decimal("100"))  # last month, in Rome
    response = role_client("administrator").get(reverse("home"))
    counted = figures(response)
    # Yesterday is still this month, unless today is the 1st.
    assert counted["ROM"] == (1, 1 if now.astimezone(rome.zone).day == 1 else 2)
    assert counted["NYC"] == (1, 1 if now.astimezone(new_york.zone).day == 1 else 2)
    rome_figures = next(item for item in response.context["figures"] if item.site.code == "ROM")
    assert rome_figures.today_cost == {"EUR": Decimal("1.50")}
    assert rome_figures.month_cost == {"EUR": Decimal("1.50") if counted["ROM"][1] == 1 else Decimal("3.50")}
    page = page_of(response)
    assert "€1.50" in page and "$1.50" in page


def test_the_home_shows_the_latest_calls_in_site_time_and_the_top_cost_centers(role_client, rome, tree, now):
    at = earlier_today(rome, now)
    make_call(rome, at, cost_center=tree["sales"], cost=Decimal("3"))
    make_call(rome, at, cost_center=tree["marketing"], cost=Decimal("7"))
    response = role_client("administrator").get(reverse("home"))
    page = page_of(response)
    codes = [row["code"] for row in response.context["top_cost_centers"]]
    assert codes == ["MARKETING", "SALES"]
    assert len(response.context["latest"]) == 2
    assert local_time(at, rome.zone) in page


def test_a_user_sees_only_their_own_calls_and_cost_and_no_site_health(role_client, calls, tree):
    client = role_client("user", person=tree["alice"])
    now = timezone.now()
    make_call(calls["alice"].site, earlier_today(calls["alice"].site, now), person=tree["alice"],
              cost=Decimal("4.25"))
    make_call(calls["alice"].site, earlier_today(calls["alice"].site, now), person=tree["nora"],
              cost=Decimal("9.75"))
    response = client.get(reverse("home"))
    page = page_of(response)
    assert [call.person_id for call in response.context["latest"]] == [tree["alice"].pk, tree["alice"].pk]
    assert response.context["health"] == [] and response.context["services"] == []
    assert response.context["top_cost_centers"] == []
    assert "€4.25" in page and "€9.75" not in page and "€14" not in page
    assert "Sites at a glance" not in page


def test_a_manager_sees_their_subtree_on_the_home(role_client, calls, tree):
    response = role_client("manager", cost_center=tree["sales"]).get(reverse("home"))
    assert {call.pk for call in response.context["latest"]} == {calls["alice"].pk, calls["nora"].pk}
    assert response.context["health"] == []


def test_a_site_administrator_sees_their_sites_health_and_not_the_others(role_client, rome, new_york, now):
    make_discarded(rome, received=earlier_today(rome, now))
    make_discarded(rome, received=today.day_start(rome.zone, now) - dt.timedelta(seconds=1))  # yesterday
    make_call(new_york, earlier_today(new_york, now))
    response = role_client("site-admin", sites=[rome]).get(reverse("home"))
    health = {item.site.code: item for item in response.context["health"]}
    assert set(health) == {"ROM"}
    assert health["ROM"].discarded_today == 1
    assert set(figures(response)) == {"ROM"}
    assert response.context["latest"] == []
    page = page_of(response)
    assert reverse("calls:discarded_list") + "?site=ROM" in page
    assert "nothing received yet" in page


def test_the_home_says_what_to_do_when_there_is_no_site(role_client, db):
    page = page_of(role_client("administrator").get(reverse("home")))
    assert "No site yet" in page
    try:
        assert reverse("setup:wizard") in page
    except NoReverseMatch:
        assert "calltally site add" in page


def test_the_home_says_what_to_do_when_no_call_has_arrived(role_client, rome):
    page = page_of(role_client("administrator").get(reverse("home")))
    assert "No calls yet." in page
    assert "nothing received yet" in page


def test_an_administrator_sees_the_services_states_at_a_glance(role_client, rome, now):
    ServiceHeartbeat.objects.create(name="miner", started=now, beat=now)
    page = page_of(role_client("administrator").get(reverse("home")))
    assert 'badge-running">running<' in page


def count_queries(client) -> int:
    client.get(reverse("home"))  # the session's first request writes what later ones only read
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("home")).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("role", ["administrator", "site-admin", "manager", "user"])
def test_the_home_issues_as_many_queries_for_fifty_calls_as_for_five(role_client, rome, new_york, tree, role):
    client = role_client(role, sites=[rome] if role == "site-admin" else (),
                         cost_center=tree["sales"] if role == "manager" else None,
                         person=tree["alice"] if role == "user" else None)
    now = timezone.now()

    def add(count):
        for n in range(count):
            site, center = (rome, tree["sales"]) if n % 2 else (new_york, tree["marketing"])
            make_call(site, earlier_today(site, now) - dt.timedelta(seconds=n), person=tree["alice"],
                      cost_center=center)
            make_discarded(site, received=earlier_today(site, now))

    add(5)  # fewer than the latest calls shown: a query per row would show
    few = count_queries(client)
    add(45)
    assert count_queries(client) == few
