"""What the call pages show: site time with its offset, money with its currency, the account as
configured, merged calls and their legs, the raw record, the discarded records — in a number of
queries that does not grow with the calls."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calltally.calls.choices import Direction, DiscardReason, Disposition
from calltally.directory.models import AccountCode
from calltally.spool.storage import Spool

from .conftest import make_call, make_discarded, segment_of

pytestmark = pytest.mark.django_db
UTC = dt.UTC
CALL_LINK = re.compile(r'href="/calls/\d+/"')


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def admin(role_client):
    return role_client("administrator")


def test_the_call_list_shows_each_call_in_its_sites_time_zone_with_the_offset(admin, rome, new_york, tree):
    make_call(rome, dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC), person=tree["alice"], cost_center=tree["sales"])
    make_call(new_york, dt.datetime(2026, 7, 1, 16, 0, 30, tzinfo=UTC), direction=Direction.INBOUND,
              disposition=Disposition.NO_ANSWER, answered=False, talk_seconds=0, remote_number="+12125550100",
              cost=0)
    page = text(admin.get(reverse("calls:call_list")))
    assert "2026-03-02 09:15:00 +01:00" in page  # Rome, winter time
    assert "2026-07-01 12:00:30 -04:00" in page  # New York, summer time
    assert "0:02:05" in page  # talk time as h:mm:ss
    assert "€0.13" in page and "$0.00" in page
    assert "Alice Rossi" in page and "SALES" in page
    assert 'class="badge badge-outbound"' in page and 'class="badge badge-no_answer"' in page


def test_the_cost_column_is_right_aligned_and_never_wraps(admin, rome):
    make_call(rome, dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC), cost="1234.5")
    page = text(admin.get(reverse("calls:call_list")))
    # django-tables2 sorts the classes: "num" right-aligns, "nowrap" (calltally.css) keeps one line.
    assert '<td class="cost nowrap num">€1,234.50</td>' in page
    assert re.search(r'<th class="cost nowrap num[^"]*"', page)


def test_the_call_list_pages_fifty_at_a_time_without_counting_every_call(admin, rome):
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for minute in range(51):
        make_call(rome, start + dt.timedelta(minutes=minute))
    first = text(admin.get(reverse("calls:call_list")))
    assert len(CALL_LINK.findall(first)) == 50
    second = text(admin.get(reverse("calls:call_list") + "?page=2"))
    assert len(CALL_LINK.findall(second)) == 1
    assert "2026-03-02 09:00:00 +01:00" in second  # the oldest call comes last


def queries(client, url: str) -> int:
    client.get(url)  # the session's first request writes what later ones only read
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured.captured_queries)


def add_calls(site, tree, count: int, first: dt.datetime) -> None:
    AccountCode.objects.get_or_create(site=site, code="4711", defaults={"description": "Project X",
                                                                        "replace_with_description": True})
    for n in range(count):
        make_call(site, first + dt.timedelta(minutes=n), person=tree["alice"], cost_center=tree["sales"],
                  account_code="4711", account="Project X")


@pytest.mark.parametrize("role", ["administrator", "manager", "user"])
def test_the_call_list_and_its_export_issue_as_many_queries_for_fifty_calls_as_for_five(role_client, rome, tree,
                                                                                         role):
    client = role_client(role, cost_center=tree["sales"] if role == "manager" else None,
                         person=tree["alice"] if role == "user" else None)
    first = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    add_calls(rome, tree, 5, first)
    url = reverse("calls:call_list") + "?date_from=2026-03-01"
    few, few_export = queries(client, url), queries(client, url + "&export=csv")
    add_calls(rome, tree, 45, first + dt.timedelta(hours=1))
    assert queries(client, url) == few
    assert queries(client, url + "&export=csv") == few_export


# --- the account as configured -----------------------------------------------------------------

@pytest.fixture
def coded_calls(rome, tree):
    AccountCode.objects.create(site=rome, code="4711", description="Project Apollo", replace_with_description=True)
    AccountCode.objects.create(code="9999", description="Shown as is", replace_with_description=False)
    at = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    return {
        # As the Miner stores an outbound call with a replaced code.
        "outbound": make_call(rome, at, account_code="4711", account="Project Apollo", person=tree["alice"]),
        # An inbound call carries the code but is not charged to it: the Miner stored the code.
        "inbound": make_call(rome, at + dt.timedelta(minutes=1), direction=Direction.INBOUND, account_code="4711",
                             account="4711", person=tree["alice"]),
        "plain": make_call(rome, at + dt.timedelta(minutes=2), account_code="9999", account="9999",
                           person=tree["alice"]),
    }


def test_a_replaced_account_code_shows_its_description_in_the_list_never_the_code(admin, coded_calls):
    page = text(admin.get(reverse("calls:call_list")))
    assert page.count("Project Apollo") == 2
    assert "4711" not in page
    assert "9999" in page  # a code not replaced is shown as it is


def test_a_replaced_account_code_shows_its_description_on_the_calls_page(admin, coded_calls):
    for name in ("outbound", "inbound"):
        page = text(admin.get(reverse("calls:call_detail", args=[coded_calls[name].pk])))
        assert "Project Apollo" in page, name
        assert "4711" not in page, name


def test_a_replaced_account_code_shows_its_description_in_the_csv_export(admin, coded_calls):
    rows = csv_rows(admin.get(reverse("calls:call_list") + "?export=csv"))
    assert sorted(row["Account"] for row in rows) == ["9999", "Project Apollo", "Project Apollo"]
    assert not any("4711" in value for row in rows for value in row.values())


def test_a_users_own_call_shows_the_description_too(role_client, coded_calls, tree):
    client = role_client("user", person=tree["alice"])
    assert "4711" not in text(client.get(reverse("calls:call_list")))
    assert "4711" not in str(csv_rows(client.get(reverse("calls:call_list") + "?export=csv")))


def test_a_sites_own_code_shown_as_is_wins_over_a_multisite_code_replaced(admin, rome):
    AccountCode.objects.create(code="1234", description="Shared project", replace_with_description=True)
    AccountCode.objects.create(site=rome, code="1234", description="Rome's own")
    make_call(rome, dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC), account_code="1234", account="1234")
    page = text(admin.get(reverse("calls:call_list")))
    assert "Shared project" not in page and "1234" in page


def test_a_masked_remote_number_is_shown_as_the_engine_stored_it(admin, rome):
    call = make_call(rome, dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC), remote_number="+39061234****")
    assert "+39061234****" in text(admin.get(reverse("calls:call_list")))
    assert "+39061234****" in text(admin.get(reverse("calls:call_detail", args=[call.pk])))


# --- a call's page -------------------------------------------------------------------------------

def test_the_calls_page_shows_every_field_in_site_time_and_where_its_record_is(admin, rome, tree):
    call = make_call(rome, dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC), person=tree["alice"])
    page = text(admin.get(reverse("calls:call_detail", args=[call.pk])))
    assert "2026-03-02 09:15:00 +01:00" in page and "Europe/Rome" in page
    for label in ("Remote number", "Dialled number", "Pbx call id", "Billing enabled", "Currency", "Account"):
        assert label in page, label
    assert "ROM/2026-03-02.cdr" in page and str(call.raw_offset) in page
    assert reverse("calls:raw_record", args=[call.pk]) in page
    assert "<title>Call" in page


def _ring_group(site):
    start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    legs = [
        make_call(site, start, kind="leg", leg_key="1772445600.10", direction=Direction.INBOUND,
                  extension_number=number, answered=number == "202", talk_seconds=240 if number == "202" else 0,
                  disposition=Disposition.ANSWERED if number == "202" else Disposition.NO_ANSWER)
        for number in ("201", "202", "203")
    ]
    merged = make_call(site, start, kind="merged", leg_key="1772445600.10", segment=None, raw_offset=None,
                       direction=Direction.INBOUND, extension_number="202", talk_seconds=240)
    return merged, legs


def test_the_call_list_shows_a_merged_call_once_and_none_of_its_legs(admin, rome):
    merged, legs = _ring_group(rome)
    page = text(admin.get(reverse("calls:call_list")))
    assert len(CALL_LINK.findall(page)) == 1
    assert f'href="/calls/{merged.pk}/"' in page and "merged" in page


def test_a_merged_calls_page_lists_its_legs_and_a_leg_links_back(admin, rome):
    merged, legs = _ring_group(rome)
    page = text(admin.get(reverse("calls:call_detail", args=[merged.pk])))
    assert "The PBX wrote 3 records for this call" in page and "Originator pays" in page
    for leg in legs:
        assert f'href="/calls/{leg.pk}/"' in page
    assert reverse("calls:raw_record", args=[merged.pk]) not in page
    assert admin.get(reverse("calls:raw_record", args=[merged.pk])).status_code == 404
    leg_page = text(admin.get(reverse("calls:call_detail", args=[legs[0].pk])))
    assert f'one leg of <a href="/calls/{merged.pk}/">call {merged.pk}</a>' in leg_page
    assert reverse("calls:raw_record", args=[legs[0].pk]) in leg_page


def test_an_unknown_call_is_a_404(admin, db):
    assert admin.get(reverse("calls:call_detail", args=[999999])).status_code == 404


# --- the raw record ----------------------------------------------------------------------------------

def test_the_raw_record_page_reads_the_line_back_from_the_spool(admin, rome, settings, tmp_path):
    settings.SPOOL_DIR = tmp_path
    spool = Spool(tmp_path)
    received = dt.datetime(2026, 3, 2, 8, 16, tzinfo=UTC)
    first = spool.append("ROM", [b'"first","101"'], "import:Master.csv", received)
    spool.append("ROM", [b'"second","102","caf\xc3\xa9"'], "import:Master.csv", received)
    call = make_call(rome, dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC), segment=segment_of(rome, received.date()),
                     raw_offset=first.end_offset)
    page = text(admin.get(reverse("calls:raw_record", args=[call.pk])))
    assert '"second","102","café"' in page and '"first"' not in page
    assert "import:Master.csv" in page
    assert "2026-03-02 09:16:00 +01:00" in page  # received, in Rome's time


def test_the_raw_record_page_says_so_when_the_spool_file_is_missing(admin, rome, settings, tmp_path):
    settings.SPOOL_DIR = tmp_path
    call = make_call(rome, dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC))
    assert "The spool file is missing" in text(admin.get(reverse("calls:raw_record", args=[call.pk])))


# --- discarded records ---------------------------------------------------------------------------------

def test_the_discarded_list_shows_the_reason_the_time_in_site_time_and_the_raw_text(admin, rome, new_york):
    long_text = "x" * 200
    make_discarded(rome)
    make_discarded(new_york, reason=DiscardReason.UNRECOGNISED, detail="no end time", raw_text=long_text,
                   extension_number="")
    page = text(admin.get(reverse("calls:discarded_list")))
    assert "Extension not configured" in page and "Cannot recognise call type" in page
    assert "extension 555 is not configured" in page
    assert "2026-03-02 09:00:05 +01:00" in page  # received, in Rome's time
    assert f'title="{long_text}"' in page  # the full text on hover…
    assert "x" * 79 + "…" in page  # …and a shortened one in the cell
    export = csv_rows(admin.get(reverse("calls:discarded_list") + "?export=csv"))
    assert long_text in [row["Raw record"] for row in export]  # the export has it whole


def test_the_discarded_list_filters_by_site_reason_and_received_day(admin, rome, new_york):
    make_discarded(rome, detail="rome record")
    make_discarded(new_york, detail="new york record")
    make_discarded(new_york, reason=DiscardReason.UNRECOGNISED, detail="new york garbage",
                   received=dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    page = text(admin.get(reverse("calls:discarded_list") + "?site=NYC"))
    assert "new york record" in page and "new york garbage" in page and "rome record" not in page
    page = text(admin.get(reverse("calls:discarded_list") + "?site=NYC&reason=unrecognised"))
    assert "new york garbage" in page and "new york record" not in page
    page = text(admin.get(reverse("calls:discarded_list") + "?date_from=2026-03-03"))
    assert "new york garbage" in page and "rome record" not in page


def test_the_discarded_list_says_what_an_empty_list_means(admin, rome):
    assert "Every record received so far became a call" in text(admin.get(reverse("calls:discarded_list")))


def test_the_discarded_list_needs_as_many_queries_for_fifty_records_as_for_five(admin, rome):
    for _ in range(5):
        make_discarded(rome)
    few = queries(admin, reverse("calls:discarded_list"))
    for _ in range(45):
        make_discarded(rome)
    assert queries(admin, reverse("calls:discarded_list")) == few


def test_the_discarded_list_offers_to_reprocess_the_site_and_reason_it_shows(role_client, rome, new_york):
    from calltally.jobs.models import Job

    make_discarded(rome)
    client = role_client("site-admin", sites=[rome])
    page = text(client.get(reverse("calls:discarded_list") + "?site=ROM&reason=extension_not_configured"))
    assert f'action="{reverse("jobs:reprocess")}"' in page and "data-confirm" in page
    form = client.get(reverse("calls:discarded_list") + "?site=ROM&reason=extension_not_configured"
                      ).context["reprocess_form"]
    assert [site.code for site in form.fields["site"].queryset] == ["ROM"]  # only the sites it runs
    assert form["site"].value() == "ROM" and form["reason"].value() == "extension_not_configured"
    response = client.post(reverse("jobs:reprocess"), {"site": "ROM", "reason": "extension_not_configured"})
    assert response.status_code == 302
    job = Job.objects.get()
    assert (job.kind, job.site.code, job.reason) == ("reprocess", "ROM", "extension_not_configured")


def test_calls_export_on_the_command_line_writes_the_description_never_a_replaced_code(coded_calls, cli, tmp_path):
    out = tmp_path / "calls.csv"
    cli("calls", "export", "--site", "ROM", "--format", "csv", "--output", str(out))
    exported = out.read_text()
    assert "4711" not in exported
    assert exported.count("Project Apollo") == 2
    assert "9999" in exported


def test_an_unrated_call_says_unrated_where_its_cost_would_be_never_a_zero_price(admin, rome):
    call = make_call(rome, dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC), cost=Decimal("0"), unrated=True)
    for url in (reverse("calls:call_list"), reverse("calls:call_detail", args=[call.pk])):
        page = text(admin.get(url))
        assert 'badge-unrated">unrated<' in page, url
        assert "€0.00" not in page, url
    # The home's latest calls too (its site totals are sums, where a zero is a zero).
    assert 'badge-unrated">unrated<' in text(admin.get(reverse("home")))


def test_the_page_rounds_a_cost_to_the_cent_and_the_csv_export_keeps_every_stored_decimal(admin, rome):
    make_call(rome, dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC), cost=Decimal("0.1250"))
    assert "€0.13" in text(admin.get(reverse("calls:call_list")))
    response = admin.get(reverse("calls:call_list") + "?export=csv")
    exported = b"".join(response.streaming_content).decode()
    assert "0.125 EUR" in exported and "€0.13" not in exported
