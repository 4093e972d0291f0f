"""The real Scheduler service, as systemd or ``calltally up`` runs it (``calltally scheduler``, its
threads and its claims), against a real SMTP server: two Schedulers on one database send each
scheduled mail exactly once, and so does a Scheduler killed mid-run and started again.

Two Schedulers on one data dir are refused by the service lock; two hosts sharing one database
are what the claims are for. Here each Scheduler has a data dir of its own and both are pointed at
the test database (``CALLTALLY_DATABASE_URL``), as two hosts would be.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.db import connection

from calltally.reports.tests.conftest import world  # noqa: F401  (fixtures)
from calltally.schedules.models import Delivery, Schedule, ScheduleRun
from calltally.schedules.services import PAUSE_VARIABLE
from calltally.schedules.tests.conftest import mail_server, office  # noqa: F401  (fixtures)
from calltally.schedules.tests.test_services import add_schedule

pytestmark = pytest.mark.django_db(transaction=True)
ADDRESSES = [f"finance{n}@example.org" for n in range(5)]


def start_scheduler(data_dir, **extra) -> subprocess.Popen:
    connection.close()  # SQLite: let the children take the write lock
    env = dict(os.environ, CALLTALLY_DATA_DIR=str(data_dir),
               CALLTALLY_DATABASE_URL="sqlite:///" + str(connection.settings_dict["NAME"]),
               CALLTALLY_SCHEDULE_CHECK_SECONDS="1", **extra)
    return subprocess.Popen([sys.executable, "-m", "calltally.cli", "scheduler"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return out


def wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def due(office, mail_server):  # noqa: F811
    if connection.vendor != "sqlite":
        pytest.skip("the Schedulers are pointed at the SQLite test database")
    add_schedule(name="daily-calls", to=", ".join(ADDRESSES), format="csv", every="daily", period="yesterday")
    Schedule.objects.update(next_due=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    return mail_server


def test_two_scheduler_services_on_one_database_send_each_mail_once(due, tmp_path):
    schedulers = [start_scheduler(tmp_path / name, **{PAUSE_VARIABLE: "0.3"}) for name in ("host-a", "host-b")]
    try:
        wait_for(lambda: len(due.messages) >= len(ADDRESSES), "the scheduled mails")
        time.sleep(3)  # three more checks by each: nothing more may arrive
    finally:
        outputs = [stop(process) for process in schedulers]
    assert all("CallTally scheduler started" in out for out in outputs), outputs
    assert Counter(message["To"] for message in due.messages) == Counter(ADDRESSES)
    run = ScheduleRun.objects.get()
    assert run.state == "succeeded" and run.sent_count == len(ADDRESSES)


def test_a_scheduler_service_killed_mid_run_is_finished_by_its_restart_without_a_second_mail(due, tmp_path):
    first = start_scheduler(tmp_path / "host", **{PAUSE_VARIABLE: "2"})
    try:
        wait_for(lambda: len(due.messages) >= 2 or first.poll() is not None, "the first two mails")
        time.sleep(0.5)  # within the pause after the second mail
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    sent_before = len(due.messages)
    assert 2 <= sent_before < len(ADDRESSES)
    restarted = start_scheduler(tmp_path / "host")
    try:
        wait_for(lambda: len(due.messages) >= len(ADDRESSES), "the rest of the mails")
        time.sleep(3)
    finally:
        stop(restarted)
    assert Counter(message["To"] for message in due.messages) == Counter(ADDRESSES)
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    assert ScheduleRun.objects.get().state == "succeeded"
