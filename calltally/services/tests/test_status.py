"""`calltally status`, `calltally spool show` and the silent-site alarm, in-process with fixed clocks."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.db.models import Count

from calltally.alerts.models import SiteMonitoring
from calltally.calls.choices import DiscardReason
from calltally.calls.models import Call, DiscardedCall
from calltally.collectors.models import Connection, ConnectionState
from calltally.directory.models import Extension
from calltally.services import control, today
from calltally.services.models import ServiceHeartbeat
from calltally.services.status import silent_sites, site_status
from calltally.spool.models import SpooledFile, SpoolSegment
from calltally.spool.rawview import decode, lines_backwards, offset_received_from

FIXTURE = Path(__file__).resolve().parents[2] / "miner" / "tests" / "fixtures" / "asterisk-hq.csv"
ROME = zoneinfo.ZoneInfo("Europe/Rome")
UTC = dt.UTC


def rome(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ROME)


@pytest.fixture
def hq(make_site, spool, cli):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number="201"), Extension(site=site, number="202")])
    cli("import", "--site", "HQ", str(FIXTURE))
    return site


def test_status_counts_todays_records_calls_discards_and_unknown_extensions(hq, make_site, cli):
    make_site("BR")  # a second site, idle
    payload = json.loads(cli("status", "--json"))
    sites = {item["site"]: item for item in payload["sites"]}
    site = sites["HQ"]
    reasons = dict(DiscardedCall.objects.filter(site=hq).values_list("reason").annotate(n=Count("id")))
    assert site["records_today"] == 7  # received just now
    # The calls took place in March: calls today are those that started today, as on the dashboard.
    assert Call.objects.filter(site=hq).count() > 0 and site["calls_today"] == 0
    assert site["discarded_today"] == reasons and reasons[DiscardReason.EXTENSION_NOT_CONFIGURED] > 0
    assert site["timezone"] == "Europe/Rome"
    unknown = set(DiscardedCall.objects.filter(reason=DiscardReason.EXTENSION_NOT_CONFIGURED)
                  .values_list("extension_number", flat=True))
    assert site["unknown_extensions"] == len(unknown) > 0
    # The source names the file and the start of its content hash (which makes a cut-short
    # import resumable).
    source = SpooledFile.objects.get(site=hq).source
    assert source.startswith("import:asterisk-hq.csv #")
    prefix = f"2026-11-25T21:30:00.123456Z\t{source}\t"
    assert site["spool_bytes"] == FIXTURE.stat().st_size + 7 * len(prefix)
    assert site["last_record_source"] == source
    assert site["backlog_bytes_today"] == 0
    assert sites["BR"]["records_today"] == 0 and sites["BR"]["last_record_received"] is None
    assert {item["name"] for item in payload["services"]} >= {"web", "recorder", "miner"}

    text = cli("status")
    assert "Site HQ" in text and "unknown extensions: " in text
    assert "today since 00:00 Europe/Rome: 7 records received, 0 calls" in text


def test_status_says_when_a_sites_records_are_not_being_read_as_calls(hq, cli):
    from django.utils import timezone

    hq.reading_problem = "site HQ: none of 826 records became a call with the cisco_cme driver."
    hq.reading_problem_at = timezone.now()
    hq.save()
    assert "NOT READ AS CALLS: site HQ: none of 826 records" in cli("status")
    [site] = json.loads(cli("status", "--json"))["sites"]
    assert site["reading_problem"].startswith("site HQ: none of 826")


def test_status_says_first_which_data_dir_and_database_it_reads(db, cli, settings):
    lines = cli("status").splitlines()
    assert lines[0] == f"Data dir: {settings.DATA_DIR}"
    assert lines[1] == f"Database: SQLite {settings.DATABASES['default']['NAME']}" or lines[1].startswith(
        "Database: PostgreSQL ")
    payload = json.loads(cli("status", "--json"))
    assert payload["data_dir"] == str(settings.DATA_DIR)
    assert payload["database"] == lines[1].removeprefix("Database: ")


# --- "today": since midnight in each site's own time zone ---------------------------
# 12:00 in Rome on 10 March 2026: Rome's day began at 23:00 UTC on the 9th; New York's
# (summer time since the 8th) at 04:00 UTC on the 10th.
NOON_IN_ROME = rome(2026, 3, 10, 12, 0)


def at_utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_records_today_are_those_received_since_the_sites_own_midnight_across_utc_day_files(make_site, spool):
    make_site("ROM")
    make_site("NYC", timezone="America/New_York", country="US")
    spool.append("ROM", [b"r"] * 3, "test", received=at_utc(9, 22, 30))  # 23:30 in Rome, the day before
    cut = spool.append("ROM", [b"r"] * 4, "test", received=at_utc(9, 23, 30))  # 00:30 in Rome
    later = spool.append("ROM", [b"r"] * 5, "test", received=at_utc(10, 5))
    spool.append("NYC", [b"n"] * 2, "test", received=at_utc(10, 3))  # 23:00 the day before in New York
    spool.append("NYC", [b"n"] * 6, "test", received=at_utc(10, 6))  # 02:00 in New York

    sites = {item["site"]: item for item in site_status(NOON_IN_ROME)}

    assert sites["ROM"]["records_today"] == 9 and sites["NYC"]["records_today"] == 6
    assert sites["ROM"]["today_since"] == rome(2026, 3, 10, 0, 0)
    # Nothing is mined yet: the backlog is today's part of the spool.
    assert sites["ROM"]["backlog_bytes_today"] == (cut.end_offset - cut.start_offset) + later.end_offset


def test_discards_today_are_those_received_since_the_sites_own_midnight(make_site, spool):
    site = make_site("ROM")
    for day, hour, minute in ((9, 22, 30), (9, 23, 30), (10, 5, 0)):
        segment, _ = SpoolSegment.objects.get_or_create(site=site, day=dt.date(2026, 3, day))
        DiscardedCall.objects.create(site=site, segment=segment, raw_offset=hour * 60 + minute, raw_text="x",
                                     reason=DiscardReason.UNRECOGNISED, received=at_utc(day, hour, minute))
    [item] = site_status(NOON_IN_ROME)
    assert item["discarded_today"] == {DiscardReason.UNRECOGNISED: 2}


def test_the_day_starts_at_local_midnight_and_the_status_line_says_so(make_site):
    site = make_site("NYC", timezone="America/New_York", country="US")
    assert today.day_start(site.zone, NOON_IN_ROME) == at_utc(10, 4)
    assert today.day_start(site.zone, NOON_IN_ROME, days_back=6) == at_utc(4, 5)  # still winter time then
    assert today.label(site) == "since 00:00 America/New_York"


# --- service states: one definition ----------------------------------------------------

def test_a_service_is_degraded_once_its_heartbeat_is_older_than_the_one_threshold(db, cli):
    at = dt.datetime.now(UTC)
    row = ServiceHeartbeat.objects.create(name="miner", host="elsewhere", started=at - dt.timedelta(hours=1),
                                          beat=at - dt.timedelta(seconds=control.STALE_SECONDS))
    assert control.service_state(row, at) == control.RUNNING
    assert control.service_state(row, at + dt.timedelta(seconds=1)) == control.DEGRADED
    row.beat = at - dt.timedelta(seconds=control.STALE_SECONDS + 60)
    row.save()
    status = {item["name"]: item["state"] for item in json.loads(cli("status", "--json"))["services"]}
    listed = {item["name"]: item["state"] for item in json.loads(cli("service", "list", "--json"))}
    assert status == listed and status["miner"] == "degraded" == control.DEGRADED
    assert set(status.values()) <= set(control.STATES)


def test_an_error_from_before_the_last_start_is_shown_as_past_with_its_time(db, cli):
    at = dt.datetime.now(UTC)
    started = at - dt.timedelta(hours=1)
    ServiceHeartbeat.objects.create(name="miner", host="elsewhere", started=started, beat=at,
                                    last_error="OperationalError: database is locked",
                                    last_error_at=dt.datetime(2026, 3, 2, 9, 15, 7, tzinfo=UTC))
    ServiceHeartbeat.objects.create(name="recorder", host="elsewhere", started=started, beat=at,
                                    last_error="OSError: no such device", last_error_at=at - dt.timedelta(minutes=5))
    lines = cli("status").splitlines()
    [miner] = [line for line in lines if line.startswith("miner ")]
    [recorder] = [line for line in lines if line.startswith("recorder ")]
    assert miner.endswith("(before the last start, at 2026-03-02 09:15:07 UTC) OperationalError: database is locked")
    assert recorder.endswith("OSError: no such device") and "before the last start" not in recorder
    listed = {item["name"]: item for item in json.loads(cli("service", "list", "--json"))}
    assert listed["miner"]["last_error_before_start"] is True
    assert listed["recorder"]["last_error_before_start"] is False
    assert listed["miner"]["state"] == listed["recorder"]["state"] == control.RUNNING


def test_status_uses_a_bounded_number_of_queries(hq, make_site, django_assert_max_num_queries):
    for code in ("B1", "B2", "B3"):
        make_site(code)
    with django_assert_max_num_queries(10):
        site_status()


def test_status_shows_connections_with_the_recorders_state(hq, cli):
    conn = Connection.objects.create(site=hq, kind="tcp-listen", parameters={"port": 9000})
    ConnectionState.objects.create(connection=conn, state="listening", detail="0.0.0.0:9000",
                                   last_error="connection reset", last_record_at=dt.datetime.now(UTC))
    site = json.loads(cli("status", "--json"))["sites"][0]
    assert site["connections"][0]["state"] == "listening"
    assert site["connections"][0]["last_error"] == "connection reset"
    assert "connection #" in cli("status") and "listening (0.0.0.0:9000)" in cli("status")


# --- silent sites ---------------------------------------------------------------
FRIDAY_5PM = rome(2026, 3, 6, 17, 0)


@pytest.fixture
def quiet_site(make_site, spool):
    site = make_site("HQ")
    spool.append("HQ", [b"last record"], "test", received=FRIDAY_5PM)
    return site


def test_a_site_is_silent_after_four_business_hours_without_records(quiet_site):
    assert silent_sites(rome(2026, 3, 6, 17, 59)) == []
    # Friday 17-18 and Monday 8-10: three business hours, not yet.
    assert silent_sites(rome(2026, 3, 9, 10, 0)) == []
    silent = silent_sites(rome(2026, 3, 9, 11, 30))
    assert [item["site"] for item in silent] == ["HQ"]
    assert silent[0]["hours"] == 4.5


def test_weekends_and_nights_do_not_count(quiet_site):
    assert silent_sites(rome(2026, 3, 8, 23, 0)) == []  # Sunday night
    assert silent_sites(rome(2026, 3, 9, 7, 59)) == []  # Monday before opening


def test_the_silence_threshold_and_business_hours_are_configurable(quiet_site, cli):
    out = cli("status", "--set-silence", "HQ", "1", "--days", "mon-sun", "--from", "00:00", "--to", "24:00")
    assert "silent after 1 h" in out
    assert SiteMonitoring.objects.get(site=quiet_site).business_days == list(range(7))
    assert silent_sites(rome(2026, 3, 6, 18, 30))[0]["site"] == "HQ"
    cli("status", "--set-silence", "HQ", "0")
    assert silent_sites(rome(2026, 4, 6, 12, 0)) == []  # 0 turns the alarm off
    with pytest.raises(CommandError, match="not a weekday"):
        cli("status", "--set-silence", "HQ", "4", "--days", "mon-xyz")
    with pytest.raises(CommandError, match="end after they start"):
        cli("status", "--set-silence", "HQ", "4", "--from", "18:00", "--to", "08:00")


def test_status_shows_a_silent_site(quiet_site, cli, monkeypatch):
    from calltally.services.status import system_status

    monday_noon = rome(2026, 3, 9, 12, 0)
    monkeypatch.setattr("calltally.services.management.commands.status.system_status",
                        lambda: system_status(monday_noon))
    assert "SILENT for 5 h" in cli("status")
    site = json.loads(cli("status", "--json"))["sites"][0]
    assert site["silent"] is True and site["silent_hours"] == 5.0


def test_a_recent_record_reported_by_the_recorder_keeps_a_site_from_being_silent(quiet_site):
    conn = Connection.objects.create(site=quiet_site, kind="tcp-listen")
    ConnectionState.objects.create(connection=conn, state="connected", last_record_at=rome(2026, 3, 9, 9, 0))
    assert silent_sites(rome(2026, 3, 9, 12, 0)) == []


def test_disabled_sites_are_never_silent(quiet_site):
    quiet_site.enabled = False
    quiet_site.save()
    assert silent_sites(rome(2026, 3, 20, 12, 0)) == []


# --- spool show -------------------------------------------------------------------
@pytest.fixture
def two_days(make_site, spool):
    make_site("HQ")
    day1 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    day2 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    spool.append("HQ", [f"first day {n}".encode() for n in range(5)], "import:a.csv", received=day1)
    spool.append("HQ", [f"record {n}".encode() for n in range(1000)], "tcp:10.0.0.5", received=day2)
    spool.append("HQ", ["città é".encode("latin-1"), b"bell\x07tab\there", "naïve".encode()], "tcp:10.0.0.5",
                 received=day2)
    return spool


def test_spool_show_tails_the_newest_day(two_days, cli):
    lines = cli("spool", "show", "--site", "HQ", "--tail", "3").splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-03-02T10:00:00.000000Z  tcp:10.0.0.5  città é")
    assert lines[1].endswith("bell\\x07tab\\there")
    assert lines[2].endswith("naïve")


def test_spool_show_greps_and_picks_a_date(two_days, cli):
    items = json.loads(cli("spool", "show", "--site", "HQ", "--grep", "RECORD 99", "--tail", "2", "--json"))
    assert [item["text"] for item in items] == ["record 998", "record 999"]
    items = json.loads(cli("spool", "show", "--site", "HQ", "--date", "2026-03-01", "--tail", "0", "--json"))
    assert [item["text"] for item in items] == [f"first day {n}" for n in range(5)]
    assert items[0]["source"] == "import:a.csv" and items[0]["offset"] == 0
    with pytest.raises(CommandError, match="no records received on 2026-02-28"):
        cli("spool", "show", "--site", "HQ", "--date", "2026-02-28")


def test_reading_backwards_skips_a_torn_last_line_and_reads_few_blocks(tmp_path):
    path = tmp_path / "day.cdr"
    path.write_bytes(b"".join(b"line %d\n" % n for n in range(100000)) + b"torn")
    newest = lines_backwards(path, block=4096)
    assert next(newest) == (path.stat().st_size - 4 - len(b"line 99999\n"), b"line 99999")
    assert next(newest)[1] == b"line 99998"


def test_the_first_record_received_since_an_instant_is_found_by_halving_the_file(tmp_path):
    from calltally.spool.storage import Spool

    spool = Spool(tmp_path)
    starts = [spool.append("HQ", [b"x" * (n % 7 + 1)] * (n % 3 + 1), "test", received=at_utc(2, 0, n)).start_offset
              for n in range(0, 60, 2)]
    path = spool.path("HQ", dt.date(2026, 3, 2))
    assert offset_received_from(path, at_utc(1, 23)) == 0
    assert offset_received_from(path, at_utc(2, 0, 10)) == starts[5]
    assert offset_received_from(path, at_utc(2, 0, 11)) == starts[6]
    assert offset_received_from(path, at_utc(2, 1)) == path.stat().st_size
    assert offset_received_from(tmp_path / "absent.cdr", at_utc(2, 1)) == 0


def test_raw_text_is_decoded_and_escaped():
    assert decode("Žlutý".encode()) == "Žlutý"
    assert decode(b"\xe8\x00\x1b") == "è\\x00\\x1b"  # not UTF-8: Latin-1
