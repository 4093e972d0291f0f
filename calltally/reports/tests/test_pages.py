"""The report pages: catalogue, options, results, drill-down, exports, saved reports, scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.reports import catalogue
from calltally.reports.models import SavedReport

from .conftest import make_call

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def url(name: str, **query) -> str:
    return reverse("reports:report", args=[name]) + "?" + urlencode({**MARCH, **query}, doseq=True)


def cli_json(cli, name: str, *flags) -> dict:
    out = cli("report", name, "--from", "2026-03-01", "--to", "2026-03-31", *flags, "--format", "json")
    return json.loads(out if isinstance(out, str) else out[0])


@pytest.mark.django_db
def test_every_report_page_renders_for_an_administrator_with_data(world, admin_client):
    for report in catalogue.catalogue():
        response = admin_client.get(url(report.name))
        assert response.status_code == 200, report.name
        page = response.content.decode()
        assert report.title in page
        assert "Ran with" in page


@pytest.mark.django_db
def test_the_catalogue_lists_every_report_by_group_with_its_description(world, admin_client):
    page = admin_client.get(reverse("reports:catalogue")).content.decode()
    for group in catalogue.GROUPS:
        assert f">{group}</h2>" in page
    for report in catalogue.catalogue():
        assert reverse("reports:report", args=[report.name]) in page
    assert "No saved reports yet" in page


def totals_of(response) -> str:
    """The page's totals row, as text."""
    page = response.content.decode()
    found = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


@pytest.mark.django_db
def test_a_summary_page_shows_rows_totals_money_with_currency_and_drill_down_links(world, admin_client):
    response = admin_client.get(url("summary-by-person", site="ROM"))
    page = response.content.decode()
    assert "Alice Rossi" in page
    assert "€" in page
    assert "Total" in totals_of(response)
    drills = re.findall(r'href="([^"]*)" *>Calls</a>|class="btn btn-link btn-sm p-0 drill" href="([^"]+)"', page)
    links = [b for _, b in drills if b]
    assert links and all(link.startswith(reverse("reports:report", args=["call-list"])) for link in links)
    alice = next(link for link in links if "person=alice" in link)
    listed = admin_client.get(alice.replace("&amp;", "&"))
    assert listed.status_code == 200
    body = listed.content.decode()
    # Alice's rated outbound Rome calls in March and no one else's.
    assert "+390611111111" in body and "+12125550100" not in body
    assert "Nora" not in body


@pytest.mark.django_db
def test_the_call_list_shows_times_in_the_sites_zone_with_the_offset(world, admin_client):
    page = admin_client.get(url("call-list", site="ROM")).content.decode()
    # 08:00 UTC on 2 March is 09:00 in Rome (CET, +01:00).
    assert "2026-03-02 09:00:00 +01:00" in page
    assert "unrated" in page


@pytest.mark.django_db
def test_the_call_list_is_paginated_and_never_reads_every_call_for_a_page(world, admin_client):
    rome = world["rome"]
    start = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)
    for i in range(120):
        make_call(rome, start + dt.timedelta(minutes=i), remote_number=f"+3906{i:08d}")
    first = admin_client.get(url("call-list", site="ROM"))
    assert first.context["pager"]["next"] is not None
    assert len(first.context["body"]) == 100
    second = admin_client.get(reverse("reports:report", args=["call-list"]) + first.context["pager"]["next"])
    assert second.context["pager"]["next"] is None
    assert second.context["pager"]["previous"] is not None
    assert 0 < len(second.context["body"]) < 100
    # Totals of the whole list, not the page.
    assert "Totals of every page" in second.content.decode()


@pytest.mark.django_db
def test_a_summary_sorts_server_side_by_the_column_asked(world, admin_client):
    ascending = admin_client.get(url("summary-by-person", sort="calls")).context["body"]
    descending = admin_client.get(url("summary-by-person", sort="-calls")).context["body"]
    counts = [int(row["cells"][2]["text"].replace(",", "")) for row in ascending]
    assert counts == sorted(counts)
    assert [int(row["cells"][2]["text"].replace(",", "")) for row in descending] == sorted(counts, reverse=True)


@pytest.mark.django_db
def test_a_call_list_sorts_by_cost_in_the_database(world, admin_client):
    body = admin_client.get(url("call-list", site="ROM", direction="outbound", sort="-cost")).context["body"]
    assert "2.00" in str(body[0]["cells"][10]["text"])


@pytest.mark.django_db
def test_the_options_a_report_ran_with_are_remembered_for_the_next_page(world, admin_client):
    admin_client.get(url("summary-by-site", site="ROM", direction="outbound"))
    response = admin_client.get(reverse("reports:report", args=["summary-by-category"]))
    options = response.context["result"].options
    assert options.sites == ["ROM"] and options.direction == "outbound"
    assert options.date_from == dt.date(2026, 3, 1)
    assert ("Direction", "outbound") in response.context["described"]


@pytest.mark.django_db
def test_invalid_options_are_refused_with_the_forms_words_and_nothing_is_run(world, admin_client):
    response = admin_client.get(url("summary-by-person", date_from="2026-13-01"))
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert "result" not in response.context


@pytest.mark.django_db
def test_a_report_saved_under_a_name_opens_with_its_options_and_can_be_deleted(world, admin_client):
    response = admin_client.post(reverse("reports:report", args=["summary-by-destination"]),
                                 {**MARCH, "site": ["ROM"], "category": "mobile", "save_name": "Rome mobiles"})
    saved = SavedReport.objects.get(name="Rome mobiles")
    assert saved.report == "summary-by-destination"
    assert response.status_code == 302
    opened = admin_client.get(reverse("reports:saved", args=[saved.pk]), follow=True)
    options = opened.context["result"].options
    assert opened.context["report"].name == "summary-by-destination"
    assert options.category == "mobile" and options.sites == ["ROM"]
    assert "Rome mobiles" in admin_client.get(reverse("reports:catalogue")).content.decode()
    admin_client.post(reverse("reports:saved_delete", args=[saved.pk]))
    assert not SavedReport.objects.filter(pk=saved.pk).exists()
    assert AuditEvent.objects.filter(action="delete").exists()


@pytest.mark.django_db
def test_a_saved_report_of_another_account_is_not_found(world, admin_client, role_client):
    other = role_client("user", person=world["alice"])
    saved = SavedReport.objects.create(user=other.user, name="Mine", report="call-list", options={})
    assert admin_client.get(reverse("reports:saved", args=[saved.pk])).status_code == 404
    assert admin_client.post(reverse("reports:saved_delete", args=[saved.pk])).status_code == 404
    assert SavedReport.objects.filter(pk=saved.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["summary-by-person", "summary-by-cost-center", "call-list"])
def test_csv_and_json_exports_have_the_clis_totals_and_are_audited(world, admin_client, cli, name):
    expected = cli_json(cli, name, "--site", "ROM")
    answer = admin_client.get(url(name, site="ROM", format="json"))
    assert answer["Content-Type"] == "application/json"
    data = json.loads(b"".join(answer.streaming_content))
    assert data["totals"] == expected["totals"]
    assert data["rows"] == expected["rows"]
    answer = admin_client.get(url(name, site="ROM", format="csv"))
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    total = rows[-1]
    assert next(iter(total.values())) == "Total"
    calls = int(total["calls"]) if "calls" in total else len(rows) - 1  # the call list: a row per call
    assert calls == expected["totals"]["calls"]
    assert total["cost"] == expected["totals"]["cost"]
    assert AuditEvent.objects.filter(action="export").count() == 2


@pytest.mark.django_db
def test_xlsx_and_pdf_exports_answer_with_their_content_types_and_the_clis_totals(world, admin_client, cli):
    import openpyxl
    import pypdf

    from calltally.reports import views

    expected = cli_json(cli, "summary-by-person", "--site", "ROM")
    offered = [label for label, _ in admin_client.get(url("summary-by-person")).context["exports"]]
    assert offered == ["CSV", "XLSX", "PDF", "JSON"]

    answer = admin_client.get(url("summary-by-person", site="ROM", format="xlsx"))
    assert answer["Content-Type"] == views.CONTENT_TYPES["xlsx"]
    assert 'filename="summary-by-person.xlsx"' in answer["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(answer.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, total = rows[0], next(row for row in rows if row[0] == "Total")
    assert total[header.index("Calls")] == expected["totals"]["calls"]
    assert Decimal(str(total[header.index("Cost")])) == Decimal(expected["totals"]["cost"])

    answer = admin_client.get(url("summary-by-person", site="ROM", format="pdf"))
    assert answer["Content-Type"] == "application/pdf"
    document = pypdf.PdfReader(io.BytesIO(b"".join(answer.streaming_content)))
    text = " ".join(page.extract_text() for page in document.pages)
    assert "Summary by person" in text and "Alice Rossi" in text
    assert f"{Decimal(expected['totals']['cost']):.2f}" in text
    assert AuditEvent.objects.filter(action="export").count() == 2


@pytest.mark.django_db
def test_a_user_sees_only_their_calls_whatever_the_options_or_drill_down_url(world, role_client):
    client = role_client("user", person=world["nora"])
    page = client.get(url("summary-by-person"))
    assert page.status_code == 200
    people = {row["cells"][0]["text"] for row in page.context["body"]}
    assert people == {"nora"}
    # No person nor cost center to choose on the form.
    assert "person" not in page.context["form"].fields
    assert "cost_center" not in page.context["form"].fields
    # Asking for Alice's calls by URL finds nothing of hers.
    body = client.get(url("call-list", person="alice")).content.decode()
    assert "+393331234567" not in body
    exported = json.loads(b"".join(client.get(url("call-list", person="alice", format="json")).streaming_content))
    assert exported["rows"] == []
    mine = json.loads(b"".join(client.get(url("call-list", format="json")).streaming_content))
    assert mine["rows"] and {row["person"] for row in mine["rows"]} == {"nora"}


@pytest.mark.django_db
def test_a_manager_sees_only_their_subtree_and_cannot_name_another_cost_center(world, role_client):
    client = role_client("manager", cost_center=world["north"])
    page = client.get(url("summary-by-cost-center"))
    centers = {row["cells"][0]["text"] for row in page.context["body"]}
    assert centers == {"NORTH"}
    refused = client.get(url("summary-by-person", cost_center="MARKETING"))
    assert refused.status_code == 400
    assert "among those you see" in refused.content.decode()
    # A drill-down URL naming someone outside the subtree lists nothing of theirs.
    listed = json.loads(b"".join(client.get(url("call-list", person="mark", format="json")).streaming_content))
    assert listed["rows"] == []
    csv_text = b"".join(client.get(url("summary-by-site", format="csv")).streaming_content).decode()
    assert "NYC" not in csv_text


@pytest.mark.django_db
@pytest.mark.parametrize("source", [{}, {"min_duration": "1"}], ids=["from the rollups", "from the calls"])
def test_a_summary_page_asks_the_database_as_often_for_fifty_calls_as_for_five(world, admin_client, source,
                                                                                django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rome = world["rome"]
    query = url("summary-by-person", site="ROM", **source)
    admin_client.get(query)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(query)
    start = dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)
    for i in range(45):
        make_call(rome, start + dt.timedelta(minutes=i), person=world["alice"], cost_center=world["sales"],
                  cost=Decimal("0.0100"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(query)
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_menu_offers_the_report_catalogue_to_every_role(world, role_client):
    for client in (role_client("user", person=world["alice"]), role_client("manager", cost_center=world["sales"])):
        page = client.get(reverse("reports:catalogue")).content.decode()
        assert f'href="{reverse("reports:catalogue")}"' in page
        assert "Undefined extensions" not in page


@pytest.mark.django_db
def test_a_report_with_nothing_to_show_says_what_to_do_next(world, admin_client):
    page = admin_client.get(url("summary-by-person", remote="+999*")).content.decode()
    assert "Nothing in this report for these options." in page
    page = admin_client.get(url("tariff-comparison")).content.decode()
    assert "Name the plans to compare with" in page
    assert "see the note above" in page


@pytest.mark.django_db
def test_a_site_administrator_cannot_name_a_site_they_do_not_run(world, role_client):
    client = role_client("site-admin", sites=[world["rome"]])
    refused = client.get(url("summary-by-site", site="NYC"))
    assert refused.status_code == 400
    assert "among the sites you see" in refused.content.decode()
    sites = {row["cells"][0]["text"] for row in client.get(url("summary-by-site")).context["body"]}
    assert sites == {"ROM"}


@pytest.mark.django_db
def test_the_forms_empty_fields_are_dropped_from_the_address_of_a_report(world, admin_client):
    response = admin_client.get(url("summary-by-person", run="1", person="", remote="", site="ROM"))
    assert response.status_code == 302
    assert response["Location"].startswith("?") and "person=" not in response["Location"]
    assert "site=ROM" in response["Location"] and "date_from=2026-03-01" in response["Location"]
