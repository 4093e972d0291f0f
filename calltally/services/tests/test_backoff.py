"""The supervisor's back-off, in-process: a child that keeps failing is retried ever more slowly."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import pytest

from calltally.services.management.commands.up import Child, Command
from calltally.services.models import ServiceHeartbeat


@pytest.fixture
def failing_child(monkeypatch):
    def start(self):
        self.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        self.started_at = time.monotonic()
        self.next_start = 0.0
        self.kill_at = 0.0

    monkeypatch.setattr(Child, "start", start)
    return Child("recorder", ["no-such-command"])


def test_a_missing_service_is_reported_once_per_back_off_step_and_retried_later(db, failing_child, caplog):
    supervisor = Command()
    caplog.set_level(logging.ERROR, logger="calltally.services")
    delays = []
    supervisor.start(failing_child)
    for _ in range(4):
        failing_child.process.wait(timeout=10)
        now = time.monotonic()
        for _ in range(5):  # polling again while in back-off logs nothing more
            supervisor.watch(failing_child, now)
        delays.append(round(failing_child.next_start - now))
        supervisor.watch(failing_child, failing_child.next_start)  # the back-off has elapsed: start again
    assert delays == [1, 2, 4, 8]
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 4
    assert "recorder exited with status 3 — `calltally no-such-command` does not exist" in messages[0]
    row = ServiceHeartbeat.objects.get(name="recorder")
    assert row.supervisor_state == "running" and "does not exist" in row.last_error
    failing_child.process.wait(timeout=10)
