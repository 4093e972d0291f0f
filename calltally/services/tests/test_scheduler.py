"""The Scheduler: the silent-site alarm logs transitions, one run of every job with --once."""

import datetime as dt
import logging

import pytest

from calltally.services.management.commands import scheduler
from calltally.services.models import ServiceHeartbeat

pytestmark = pytest.mark.django_db


def test_the_alarm_logs_a_site_once_when_it_falls_silent_and_once_when_it_speaks_again(monkeypatch, caplog):
    answers = [
        [{"site": "HQ", "hours": 5.0, "threshold": 4, "last_received": dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)}],
        [{"site": "HQ", "hours": 6.0, "threshold": 4, "last_received": dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)}],
        [],
    ]
    monkeypatch.setattr(scheduler, "silent_sites", lambda now: answers.pop(0))
    alarm = scheduler.SilentSiteAlarm()
    with caplog.at_level(logging.INFO, logger="calltally.scheduler"):
        alarm()
        alarm()
        alarm()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("HQ is silent" in m for m in messages) == 1
    assert sum("HQ receives records again" in m for m in messages) == 1


def test_ldap_sync_is_scheduled_only_when_ldap_is_configured(monkeypatch):
    monkeypatch.delenv("CALLTALLY_LDAP_URL", raising=False)
    assert [job.name for job in scheduler.build_jobs()] == ["silent-sites"]
    monkeypatch.setenv("CALLTALLY_LDAP_URL", "ldap://127.0.0.1:1")
    monkeypatch.setenv("CALLTALLY_LDAP_SYNC_HOURS", "6")
    jobs = {job.name: job for job in scheduler.build_jobs()}
    assert jobs["ldap-sync"].every == 6 * 3600
    monkeypatch.setenv("CALLTALLY_LDAP_SYNC_HOURS", "0")
    assert "ldap-sync" not in {job.name for job in scheduler.build_jobs()}


def test_once_runs_every_job_and_records_a_heartbeat(cli, make_site, spool):
    make_site("HQ")
    assert "scheduler stopped" in cli("scheduler", "--once")
    beat = ServiceHeartbeat.objects.get(name="scheduler")
    assert beat.started and beat.stopped
