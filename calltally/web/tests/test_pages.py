"""What a staff user sees on each page."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from calltally.calls.choices import Direction, DiscardReason, Disposition
from calltally.services import today
from calltally.services.models import ServiceHeartbeat
from calltally.spool.storage import Spool

from .conftest import make_call, make_discarded, make_segment

pytestmark = pytest.mark.django_db
UTC = dt.UTC
CALL_LINK = re.compile(r'href="/calls/\d+/"')


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_call_list_shows_calls_in_their_sites_time_zone(staff_client, rome_call, new_york):
    make_call(new_york, dt.datetime(2026, 7, 1, 16, 0, 30, tzinfo=UTC), direction=Direction.INBOUND,
              disposition=Disposition.NO_ANSWER, answered=False, talk_seconds=0, remote_number="+12125550100")
    page = text(staff_client.get(reverse("call_list")))
    assert "2026-03-02 09:15:00 +01:00" in page  # Rome, winter time
    assert "2026-07-01 12:00:30 -04:00" in page  # New York, summer time
    assert "0:02:05" in page  # talk time as h:mm:ss
    assert "€0.125" in page
    assert "4711" in page
    assert "alice" in page and "SALES" in page
    assert 'class="badge badge-outbound"' in page and 'class="badge badge-no_answer"' in page
    assert "2 calls" in page


def test_the_call_list_is_paginated_fifty_to_a_page(staff_client, rome):
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for minute in range(51):
        make_call(rome, start + dt.timedelta(minutes=minute))
    first = text(staff_client.get(reverse("call_list")))
    assert len(CALL_LINK.findall(first)) == 50
    assert "51 calls" in first
    second = text(staff_client.get(reverse("call_list") + "?page=2"))
    assert len(CALL_LINK.findall(second)) == 1
    assert "2026-03-02 09:00:00 +01:00" in second  # the oldest call comes last


def test_the_call_list_needs_a_fixed_number_of_queries(staff_client, rome, people,
                                                       django_assert_max_num_queries):
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for minute in range(30):
        make_call(rome, start + dt.timedelta(minutes=minute), person=people["alice"],
                  cost_center=people["sales"])
    with django_assert_max_num_queries(10):
        staff_client.get(reverse("call_list"))


def test_the_call_detail_shows_every_field_and_where_the_raw_record_is(staff_client, rome_call):
    page = text(staff_client.get(reverse("call_detail", args=[rome_call.pk])))
    assert "2026-03-02 09:15:00 +01:00" in page
    assert "Europe/Rome" in page
    labels = ("Remote number", "Dialled number", "Account code", "Pbx call id", "Billing enabled", "Currency")
    for label in labels:
        assert label in page, label
    assert "ROM/2026-03-02.cdr" in page
    assert str(rome_call.raw_offset) in page
    assert reverse("raw_record", args=[rome_call.pk]) in page
    assert f"{reverse('site_detail', args=['ROM'])}#segment-2026-03-02" in page


def test_the_call_detail_links_to_the_page_of_the_site_table_that_holds_its_segment(staff_client, rome):
    first_day = dt.date(2026, 1, 1)
    for days in range(40):
        make_segment(rome, first_day + dt.timedelta(days=days))
    call = make_call(rome, dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC))  # the oldest of 40: on page 2
    page = text(staff_client.get(reverse("call_detail", args=[call.pk])))
    link = f"{reverse('site_detail', args=['ROM'])}?page=2#segment-2026-01-01"
    assert link in page
    assert 'id="segment-2026-01-01"' in text(staff_client.get(link.split("#")[0]))


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
    merged.segment = None
    merged.save()
    return merged, legs


def test_the_call_list_shows_a_merged_call_once_and_none_of_its_legs(staff_client, rome):
    merged, legs = _ring_group(rome)
    page = text(staff_client.get(reverse("call_list")))
    assert len(CALL_LINK.findall(page)) == 1
    assert f'href="/calls/{merged.pk}/"' in page and "merged" in page


def test_a_merged_calls_detail_lists_its_legs_and_a_leg_links_back(staff_client, rome):
    merged, legs = _ring_group(rome)
    page = text(staff_client.get(reverse("call_detail", args=[merged.pk])))
    assert "The PBX wrote 3 records for this call" in page and "Originator pays" in page
    for leg in legs:
        assert f'href="/calls/{leg.pk}/"' in page
    assert reverse("raw_record", args=[merged.pk]) not in page
    assert staff_client.get(reverse("raw_record", args=[merged.pk])).status_code == 404
    leg_page = text(staff_client.get(reverse("call_detail", args=[legs[0].pk])))
    assert f'one leg of <a href="/calls/{merged.pk}/">call {merged.pk}</a>' in leg_page
    assert reverse("raw_record", args=[legs[0].pk]) in leg_page


def test_an_unknown_call_is_a_404(staff_client, db):
    response = staff_client.get(reverse("call_detail", args=[999999]))
    assert response.status_code == 404
    assert b"Not found" in response.content


def test_the_raw_record_page_reads_the_line_back_from_the_spool(staff_client, rome, settings, tmp_path):
    settings.SPOOL_DIR = tmp_path
    spool = Spool(tmp_path)
    received = dt.datetime(2026, 3, 2, 8, 16, tzinfo=UTC)
    first = spool.append("ROM", [b'"first","101"'], "import:Master.csv", received)
    spool.append("ROM", [b'"second","102","caf\xc3\xa9"'], "import:Master.csv", received)
    call = make_call(rome, dt.datetime(2026, 3, 2, 8, 15, tzinfo=UTC), segment=make_segment(rome),
                     raw_offset=first.end_offset)
    page = text(staff_client.get(reverse("raw_record", args=[call.pk])))
    assert '"second","102","café"' in page
    assert "import:Master.csv" in page
    assert '"first"' not in page


def test_the_raw_record_page_says_so_when_the_spool_file_is_missing(staff_client, rome_call, settings,
                                                                     tmp_path):
    settings.SPOOL_DIR = tmp_path
    page = text(staff_client.get(reverse("raw_record", args=[rome_call.pk])))
    assert "The spool file is missing" in page


def test_the_discarded_list_shows_the_reason_label_and_the_raw_text(staff_client, rome, new_york):
    long_text = "x" * 200
    make_discarded(rome)
    make_discarded(new_york, reason=DiscardReason.UNRECOGNISED, detail="no end time", raw_text=long_text,
                   extension_number="")
    page = text(staff_client.get(reverse("discarded_list")))
    assert "Extension not configured" in page
    assert "Cannot recognise call type" in page
    assert "extension 555 is not configured" in page
    assert "2026-03-02 09:00:05 +01:00" in page  # received, in Rome's time
    assert f'title="{long_text}"' in page  # the full text on hover…
    assert "x" * 79 + "…" in page  # …and a shortened one in the cell
    assert 'class="raw"' in page


def test_the_discarded_list_filters_by_site_and_reason(staff_client, rome, new_york):
    make_discarded(rome, detail="rome record")
    make_discarded(new_york, detail="new york record")
    make_discarded(new_york, reason=DiscardReason.UNRECOGNISED, detail="new york garbage")
    page = text(staff_client.get(reverse("discarded_list") + "?site=NYC"))
    assert "new york record" in page and "new york garbage" in page and "rome record" not in page
    page = text(staff_client.get(reverse("discarded_list") + "?site=NYC&reason=unrecognised"))
    assert "new york garbage" in page and "new york record" not in page


def test_the_site_list_shows_each_site(staff_client, rome, new_york):
    page = text(staff_client.get(reverse("site_list")))
    assert "Rome office" in page and "New York office" in page
    assert "America/New_York" in page
    assert "2-5 digits" in page


def test_the_site_detail_shows_its_settings_and_spool_segments(staff_client, rome):
    rome.internal_digits_min = rome.internal_digits_max = 3
    rome.save()
    make_segment(rome, dt.date(2026, 3, 1), mined_offset=123456, records=1500, calls=1400, discarded=60,
                 skipped_internal=25, skipped_other=15)
    page = text(staff_client.get(reverse("site_detail", args=["ROM"])))
    assert "Rome office" in page
    assert "3 digits" in page
    assert '<code class="chip">0</code>' in page
    assert '"delimiter": ","' in page  # driver options as pretty JSON
    assert 'id="segment-2026-03-01"' in page
    for number in ("123456", "1500", "1400", "60", "25", "15"):
        assert f">{number}<" in page.replace(" ", "").replace("\n", ""), number


def test_the_site_detail_says_when_records_are_not_being_read_as_calls(staff_client, rome):
    from django.utils import timezone

    rome.reading_problem = "site ROM: none of 826 records became a call with the cisco_cme driver."
    rome.reading_problem_at = timezone.now()
    rome.save()
    page = text(staff_client.get(reverse("site_detail", args=["ROM"])))
    assert "Records are not being read as calls" in page and "none of 826 records" in page


def test_an_unknown_site_is_a_404(staff_client, db):
    assert staff_client.get(reverse("site_detail", args=["NOPE"])).status_code == 404


def test_the_extension_list_shows_owner_billing_and_origin_and_filters(staff_client, people, new_york):
    page = text(staff_client.get(reverse("extension_list")))
    assert "Alice Rossi" in page and "bob" in page
    assert 'badge-no">off<' in page  # billing disabled on 102
    filtered = text(staff_client.get(reverse("extension_list") + "?number=10&site=ROM"))
    assert "2 extensions" in filtered
    assert "0 extensions" in text(staff_client.get(reverse("extension_list") + "?site=NYC"))


def test_the_dashboard_counts_calls_and_discards_per_site_and_shows_services(staff_client, rome, new_york):
    now = timezone.now()
    midnight = dt.datetime.combine(now.astimezone(rome.zone).date(), dt.time.min, tzinfo=rome.zone)
    make_call(rome, midnight + (now - midnight) / 2)  # today in Rome, whatever the hour
    make_call(rome, midnight + (now - midnight) / 3)
    make_call(rome, midnight - dt.timedelta(days=3))
    make_call(rome, midnight - dt.timedelta(days=6, seconds=-1))  # first second of the 7-day window
    make_call(rome, midnight - dt.timedelta(days=6, seconds=1))  # just before it
    make_call(rome, midnight - dt.timedelta(days=30))
    make_discarded(rome)
    make_discarded(rome)
    make_discarded(rome, reason=DiscardReason.UNRECOGNISED)
    ServiceHeartbeat.objects.create(name="miner", started=now, beat=now - dt.timedelta(seconds=3))
    ServiceHeartbeat.objects.create(name="web", started=now - dt.timedelta(hours=1),
                                    beat=now - dt.timedelta(minutes=5), last_error="OperationalError: locked")
    ServiceHeartbeat.objects.create(name="collector", started=now - dt.timedelta(hours=2),
                                    beat=now - dt.timedelta(hours=1), stopped=now - dt.timedelta(hours=1))

    response = staff_client.get(reverse("home"))
    page = text(response)
    rows = {row["site"].code: row for row in response.context["site_rows"]}
    assert rows["ROM"]["today"] == 2
    assert rows["ROM"]["week"] == 4
    assert rows["ROM"]["discarded_total"] == 3
    assert {item["label"]: item["count"] for item in rows["ROM"]["discarded"]} == {
        "Extension not configured": 2, "Cannot recognise call type": 1,
    }
    assert rows["NYC"]["today"] == rows["NYC"]["week"] == 0
    assert rows["NYC"]["last_call"] is None
    assert "Extension not configured <b>2</b>" in page
    states = {item["name"]: item["state"] for item in response.context["services"]}
    # The states and names of `calltally status` and `service list`.
    assert states == {"miner": "running", "web": "degraded", "collector": "stopped", "recorder": "stopped",
                      "scheduler": "stopped"}
    assert "OperationalError: locked" in page
    assert 'badge-degraded">degraded<' in page


def test_the_dashboard_and_status_agree_on_todays_calls_and_on_every_services_state(
        staff_client, rome, new_york, spool, cli):
    now = timezone.now()
    for site in (rome, new_york):
        midnight = today.day_start(site.zone, now)
        make_call(site, midnight + (now - midnight) / 2)
        make_call(site, midnight - dt.timedelta(seconds=1))  # yesterday, in the site's own time zone
    ServiceHeartbeat.objects.create(name="miner", started=now, beat=now)
    ServiceHeartbeat.objects.create(name="web", started=now - dt.timedelta(hours=1),
                                    beat=now - dt.timedelta(seconds=45))

    response = staff_client.get(reverse("home"))
    status = json.loads(cli("status", "--json"))

    dashboard_today = {row["site"].code: row["today"] for row in response.context["site_rows"]}
    assert dashboard_today == {item["site"]: item["calls_today"] for item in status["sites"]} == {
        "ROM": 1, "NYC": 1}
    dashboard_states = {item["name"]: item["state"] for item in response.context["services"]}
    assert dashboard_states == {item["name"]: item["state"] for item in status["services"]}
    assert dashboard_states["web"] == "degraded" and dashboard_states["miner"] == "running"


def test_the_dashboard_shows_the_last_call_in_site_time(staff_client, rome_call):
    page = text(staff_client.get(reverse("home")))
    assert "2026-03-02 09:15:00 +01:00" in page


def test_the_dashboard_uses_a_fixed_number_of_queries(staff_client, rome, new_york,
                                                      django_assert_max_num_queries):
    now = timezone.now()
    for minutes in range(20):
        make_call(rome, now - dt.timedelta(minutes=minutes))
        make_call(new_york, now - dt.timedelta(minutes=minutes))
        make_discarded(new_york)
    with django_assert_max_num_queries(10):
        staff_client.get(reverse("home"))


