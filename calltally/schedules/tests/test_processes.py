"""Real processes on one database: two Schedulers at once, and one killed mid-run then restarted,
deliver each mail exactly once.

A second ``calltally scheduler`` on the same data dir is refused by the service lock, so each
"Scheduler" here is ``calltally schedule due`` — the very ``run_due()`` the Scheduler's thread
calls — as its own OS process on the test database.
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

from calltally.schedules.models import Delivery, Schedule, ScheduleRun
from calltally.schedules.services import PAUSE_VARIABLE

from .test_services import add_schedule

pytestmark = pytest.mark.django_db(transaction=True)
ADDRESSES = [f"person{n}@example.org" for n in range(6)]


def env(**extra) -> dict:
    values = dict(os.environ)
    values["CALLTALLY_DATABASE_URL"] = "sqlite:///" + str(connection.settings_dict["NAME"])
    values.update(extra)
    return values


def scheduler(**extra) -> subprocess.Popen:
    connection.close()  # SQLite: let the children take the write lock
    return subprocess.Popen([sys.executable, "-m", "calltally.cli", "schedule", "due"], env=env(**extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def due_now() -> None:
    """Make the schedule due a minute ago (its occurrence is today's, in real time)."""
    Schedule.objects.update(next_due=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))


@pytest.fixture
def many(office, mail_server):
    if connection.vendor != "sqlite":
        pytest.skip("the children are pointed at the SQLite test database")
    add_schedule(name="many", to=", ".join(ADDRESSES), format="csv", every="daily", period="yesterday")
    due_now()
    return mail_server


def test_two_schedulers_at_once_deliver_each_mail_exactly_once(many):
    first, second = scheduler(**{PAUSE_VARIABLE: "0.2"}), scheduler(**{PAUSE_VARIABLE: "0.2"})
    outputs = [process.communicate(timeout=180) for process in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    assert Counter(m["To"] for m in many.messages) == Counter(ADDRESSES)
    run = ScheduleRun.objects.get()
    assert run.state == "succeeded" and run.sent_count == len(ADDRESSES)


def test_a_scheduler_killed_mid_run_is_finished_by_the_next_without_sending_twice(many):
    slow = scheduler(**{PAUSE_VARIABLE: "2"})
    deadline = time.monotonic() + 120
    while len(many.messages) < 2 and time.monotonic() < deadline and slow.poll() is None:
        time.sleep(0.05)
    assert len(many.messages) >= 2, slow.communicate()
    time.sleep(0.5)  # within the pause after the second mail
    slow.send_signal(signal.SIGKILL)
    slow.wait(timeout=30)
    sent_before = len(many.messages)
    assert sent_before < len(ADDRESSES)
    assert ScheduleRun.objects.get().claimed_by.endswith(f":{slow.pid}")  # the dead one's claim is left behind
    restarted = scheduler()
    out, err = restarted.communicate(timeout=180)
    assert restarted.returncode == 0, err
    assert Counter(m["To"] for m in many.messages) == Counter(ADDRESSES)
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    assert ScheduleRun.objects.get().state == "succeeded"
