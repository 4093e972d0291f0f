"""The call list's first page and the billing home read no more than they show."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calltally.calls.models import Call, CallRollup, Grain
from calltally.calls.tests.conftest import make_call
from calltally.directory.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(make_site):
    site = make_site("ROM")
    anna = Person.objects.create(username="anna")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for minutes in range(30):
        make_call(site, now - dt.timedelta(minutes=minutes), person=anna if minutes % 3 == 0 else None)
    return site, anna


@pytest.mark.parametrize("query", ["", "?direction=outbound", "?person=ANNA", "?site=ROM&sort=cost"])
def test_the_call_lists_first_page_never_counts_the_matching_calls(admin_client, calls, query):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(reverse("calls:call_list") + query)
    assert response.status_code == 200
    assert not [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


def test_the_person_filter_finds_the_persons_calls_whatever_the_case_of_the_username(admin_client, calls):
    site, anna = calls
    response = admin_client.get(reverse("calls:call_list") + "?person=ANNA&per_page=100")
    shown = [row.record.pk for row in response.context["table"].page.object_list]
    assert sorted(shown) == sorted(Call.objects.filter(person=anna).values_list("pk", flat=True))
    assert not admin_client.get(reverse("calls:call_list") + "?person=nobody").context["has_rows"]


def test_the_csv_export_still_has_every_matching_call_in_the_order_asked(admin_client, calls):
    response = admin_client.get(reverse("calls:call_list") + "?export=csv&sort=start")
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    header, *rows = csv.reader(io.StringIO(text))
    assert len(rows) == Call.objects.count()
    at = header.index("Start (site time)")
    starts = [row[at] for row in rows]
    assert starts == sorted(starts) and starts != sorted(starts, reverse=True)


def test_the_billing_home_reads_its_figures_from_the_rollups_not_the_calls(admin_client, calls):
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(reverse("home"))
    assert response.status_code == 200
    summing = [q["sql"] for q in captured.captured_queries if "SUM(" in q["sql"].upper()]
    assert summing and all("calls_callrollup" in sql and "calls_call\"" not in sql.replace(
        "calls_callrollup", "") for sql in summing)
    assert CallRollup.objects.filter(grain=Grain.MONTH_PEOPLE).exists()
