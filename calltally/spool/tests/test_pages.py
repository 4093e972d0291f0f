"""The recorder file viewer (/spool/): a site's raw records by local day, paged, searched, highlighted, downloaded."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.spool import rawview, views

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def texts(page) -> list[str]:
    return [entry.text for entry in page.context["window"].entries]


def hq_path(site, day):
    from calltally.spool.storage import default_spool

    return default_spool().path(site.code, dt.date(2026, 3, day))


def entry_line(site, day, offset) -> bytes:
    with open(hq_path(site, day), "rb") as handle:
        handle.seek(offset)
        return handle.readline().rstrip(b"\n")


@pytest.fixture
def hq(make_site, spool):
    """HQ in Rome (UTC+1 in March): its day 2 March runs from 1 March 23:00 UTC to 2 March 23:00 UTC."""
    site = make_site("HQ")
    spool.append("HQ", [b"late on the 1st, Rome time"], "tcp:10.0.0.5", received=at(1, 22, 30))
    spool.append("HQ", [b"just after midnight in Rome"], "tcp:10.0.0.5", received=at(1, 23, 30))
    spool.append("HQ", [f"record {n}".encode() for n in range(250)], "import:Master.csv", received=at(2, 10))
    spool.append("HQ", [b"last of the 2nd, Rome time"], "tcp:10.0.0.5", received=at(2, 22, 59))
    spool.append("HQ", [b"first of the 3rd, Rome time"], "tcp:10.0.0.5", received=at(2, 23, 1))
    return site


def test_the_viewer_shows_the_newest_records_of_the_newest_day_first_with_their_offsets(hq, admin_client):
    page = admin_client.get("/spool/")
    assert page.status_code == 200
    assert page.context["site"] == hq and page.context["day"] == dt.date(2026, 3, 3)
    assert texts(page) == ["first of the 3rd, Rome time"]
    entry = page.context["window"].entries[0]
    text = page.content.decode()
    # Shown in the site's time, with its offset; the record's file and byte offset beside it.
    assert "2026-03-03 00:01:00 +01:00" in text
    assert f"2026-03-02 : {entry.position.offset}" in text
    assert entry_line(hq, 2, entry.position.offset).endswith(b"\tfirst of the 3rd, Rome time")


def test_a_day_is_the_sites_own_day_across_two_utc_files(hq, admin_client):
    page = admin_client.get("/spool/", {"site": "HQ", "day": "2026-03-02", "n": 500})
    shown = texts(page)
    assert shown[0] == "last of the 2nd, Rome time" and shown[-1] == "just after midnight in Rome"
    assert len(shown) == 252 and shown[1] == "record 249" and shown[250] == "record 0"
    assert "late on the 1st, Rome time" not in shown and "first of the 3rd, Rome time" not in shown
    # Both UTC day files the local day takes records from are offered for download.
    assert [item["file"] for item in page.context["files"]] == [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]
    assert page.context["previous_day"] == dt.date(2026, 3, 1) and page.context["next_day"] == dt.date(2026, 3, 3)
    assert page.context["recent_days"] == [dt.date(2026, 3, 3), dt.date(2026, 3, 2), dt.date(2026, 3, 1)]
    assert texts(admin_client.get("/spool/", {"site": "HQ", "day": "2026-03-01"})) == ["late on the 1st, Rome time"]


def test_a_day_without_records_says_so_and_names_the_newest_day(hq, admin_client):
    page = admin_client.get("/spool/", {"site": "HQ", "day": "2026-02-10"})
    text = page.content.decode()
    assert texts(page) == [] and "HQ received no record on this day." in text
    assert "Its newest records are on" in text and "day=2026-03-03" in text


def test_pages_go_older_and_back_newer_by_position_not_by_counting_lines(hq, admin_client):
    first = admin_client.get("/spool/", {"site": "HQ", "day": "2026-03-02", "n": 100})
    assert texts(first)[:2] == ["last of the 2nd, Rome time", "record 249"] and len(texts(first)) == 100
    assert first.context["newer_url"] is None
    second = admin_client.get("/spool/" + first.context["older_url"])
    assert texts(second)[0] == "record 150" and texts(second)[-1] == "record 51"
    third = admin_client.get("/spool/" + second.context["older_url"])
    assert texts(third) == [f"record {n}" for n in range(50, -1, -1)] + ["just after midnight in Rome"]
    assert third.context["older_url"] is None
    back = admin_client.get("/spool/" + third.context["newer_url"])
    assert texts(back) == texts(second)


def test_a_search_keeps_the_records_holding_the_text_in_any_case(hq, admin_client):
    page = admin_client.get("/spool/", {"site": "HQ", "day": "2026-03-02", "q": "RECORD 24"})
    assert texts(page) == ["record 249", "record 248", "record 247", "record 246", "record 245", "record 244",
                           "record 243", "record 242", "record 241", "record 240", "record 24"]
    assert 'value="RECORD 24"' in page.content.decode()
    assert "No record holds" in admin_client.get("/spool/", {"site": "HQ", "q": "nowhere"}).content.decode()


def test_a_search_looks_at_a_bounded_number_of_records_and_offers_to_go_on(hq, admin_client, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_SCAN", 100)
    page = admin_client.get("/spool/", {"site": "HQ", "day": "2026-03-02", "q": "record 1"})
    window = page.context["window"]
    assert window.cut_short and window.scanned == 100
    # The newest record and records 249 to 151 looked at: those from 199 down hold the text.
    assert texts(page) == [f"record {n}" for n in range(199, 150, -1)]
    assert "Search further back" in page.content.decode()
    further = admin_client.get("/spool/" + page.context["older_url"])
    assert texts(further) == [f"record {n}" for n in range(150, 99, -1)]  # 150 to 51 looked at
    assert further.context["window"].cut_short


def test_a_calls_raw_record_link_highlights_that_record_on_its_local_day(hq, admin_client):
    # A call knows its spool segment's day file and the offset of its record in it.
    offset = next(o for o, line in rawview.lines_forward(hq_path(hq, 1)) if line.endswith(b"midnight in Rome"))
    page = admin_client.get("/spool/", {"site": "HQ", "day": "2026-03-01", "offset": offset})
    assert page.context["day"] == dt.date(2026, 3, 2)  # received at 00:30 in Rome
    targets = [entry for entry in page.context["window"].entries if entry.target]
    assert [entry.text for entry in targets] == ["just after midnight in Rome"]
    text = page.content.decode()
    assert re.search(rf'<tr id="r-2026-03-01-{offset}" class="spool-target"', text)
    # Half a page of the newer records above it; nothing older on that day below it.
    assert texts(page)[-2:] == ["record 0", "just after midnight in Rome"] and len(texts(page)) == 51
    assert page.context["newer_url"] and page.context["older_url"] is None


def test_a_day_that_is_no_date_is_said_and_the_newest_day_shown(hq, admin_client):
    for text in ("2026-02-30", "9999-12-31", "yesterday"):
        page = admin_client.get("/spool/", {"site": "HQ", "day": text})
        assert page.status_code == 200 and page.context["day"] == dt.date(2026, 3, 3)
        assert "is not a date (YYYY-MM-DD): showing the newest day." in page.content.decode()


def test_an_offset_that_starts_no_record_says_so_and_shows_the_day(hq, admin_client):
    page = admin_client.get("/spool/", {"site": "HQ", "day": "2026-03-02", "offset": 3}, follow=True)
    assert "No record starts at offset 3 of the day file 2026-03-02.cdr of HQ." in page.content.decode()
    assert not any(entry.target for entry in page.context["window"].entries)


def test_another_sites_administrator_gets_404_and_managers_and_users_403(hq, make_site, role_client):
    rome = make_site("ROME")
    client = role_client("site-admin", sites=[rome])
    page = client.get("/spool/")
    assert page.status_code == 200 and [site.code for site in page.context["sites"]] == ["ROME"]
    assert "HQ" not in [option for option in re.findall(r'<option value="([^"]+)"', page.content.decode())]
    assert client.get("/spool/", {"site": "HQ"}).status_code == 404
    assert client.get("/spool/HQ/2026-03-02.cdr").status_code == 404
    for role in ("manager", "user"):
        other = role_client(role)
        assert other.get("/spool/", {"site": "HQ"}).status_code == 403
        assert other.get("/spool/HQ/2026-03-02.cdr").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.DOWNLOAD).exists()


def test_the_sites_administrator_reads_and_downloads_their_sites_file_and_the_download_is_audited(hq, role_client):
    client = role_client("site-admin", sites=[hq])
    assert texts(client.get("/spool/", {"site": "HQ"})) == ["first of the 3rd, Rome time"]
    answer = client.get("/spool/HQ/2026-03-02.cdr")
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="HQ-2026-03-02.cdr"'
    assert b"".join(answer.streaming_content) == hq_path(hq, 2).read_bytes()
    event = AuditEvent.objects.get(action=Action.DOWNLOAD)
    assert event.username == client.user.username and event.object_text == "HQ"
    assert event.details == {"what": "recorder file", "file": "HQ/2026-03-02.cdr",
                             "bytes": hq_path(hq, 2).stat().st_size}
    assert client.get("/spool/HQ/2026-02-01.cdr").status_code == 404


def test_without_a_site_the_viewer_says_what_to_do(db, admin_client):
    text = admin_client.get("/spool/").content.decode()
    assert "No sites to show yet." in text and "Create a site first" in text


def test_reading_forward_cuts_a_runaway_line_and_leaves_out_an_unterminated_tail(tmp_path):
    path = tmp_path / "day.cdr"
    path.write_bytes(b"one\n" + b"x" * 100 + b"\ntwo\nhalf")
    lines = list(rawview.lines_forward(path, limit=16))
    assert lines == [(0, b"one"), (4, b"x" * 16), (105, b"two")]
    assert list(rawview.lines_forward(path, start=105)) == [(105, b"two")]
    assert list(rawview.lines_forward(path, start=0, end=4)) == [(0, b"one")]


def test_reading_backwards_can_start_before_a_given_line(tmp_path):
    path = tmp_path / "day.cdr"
    path.write_bytes(b"".join(b"line %d\n" % n for n in range(1000)))
    start_of_500 = len(b"".join(b"line %d\n" % n for n in range(500)))
    lines = rawview.lines_backwards(path, block=64, end=start_of_500)
    assert next(lines)[1] == b"line 499" and next(lines)[1] == b"line 498"
    assert list(rawview.lines_backwards(path, end=0)) == []


def test_the_viewer_issues_as_many_queries_for_five_sites_as_for_one(hq, make_site, admin_client):
    admin_client.get("/spool/")
    with CaptureQueriesContext(connection) as one:
        admin_client.get("/spool/", {"site": "HQ"})
    for code in ("B1", "B2", "B3", "B4"):
        make_site(code)
    with CaptureQueriesContext(connection) as five:
        page = admin_client.get("/spool/", {"site": "HQ"})
    assert len(page.context["sites"]) == 5 and len(five.captured_queries) == len(one.captured_queries)
