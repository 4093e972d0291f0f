"""The Scheduler: its tasks, one run of every task with --once (the silent-site alarm is an alert
rule now: calltally/alerts/tests)."""

import pytest

from calltally.services.management.commands import scheduler
from calltally.services.models import ServiceHeartbeat

pytestmark = pytest.mark.django_db


def test_ldap_sync_is_scheduled_only_when_ldap_is_configured(monkeypatch):
    monkeypatch.delenv("CALLTALLY_LDAP_URL", raising=False)
    assert [task.name for task in scheduler.build_tasks()] == ["scheduled-reports", "alerts", "budgets", "retention"]
    monkeypatch.setenv("CALLTALLY_LDAP_URL", "ldap://127.0.0.1:1")
    monkeypatch.setenv("CALLTALLY_LDAP_SYNC_HOURS", "6")
    assert "ldap-sync" in {task.name for task in scheduler.build_tasks()}
    monkeypatch.setenv("CALLTALLY_LDAP_SYNC_HOURS", "0")
    assert "ldap-sync" not in {task.name for task in scheduler.build_tasks()}


def test_once_runs_every_job_and_records_a_heartbeat(cli, make_site, spool):
    make_site("HQ")
    assert "scheduler stopped" in cli("scheduler", "--once")
    beat = ServiceHeartbeat.objects.get(name="scheduler")
    assert beat.started and beat.stopped
