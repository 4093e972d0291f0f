"""The service locks in one process: a name is held once, and a refused start touches nothing."""

from __future__ import annotations

import os

import pytest

from calltally.services.heartbeat import Heartbeat
from calltally.services.locks import AlreadyRunning, holder_of
from calltally.services.models import ServiceHeartbeat


def test_a_service_cannot_start_twice_and_a_refused_start_leaves_the_running_one_alone(db):
    running = Heartbeat("scheduler")
    running.start()
    assert holder_of("scheduler").pid == os.getpid()
    second = Heartbeat("scheduler")
    with pytest.raises(AlreadyRunning, match=rf"the scheduler is already running .*pid {os.getpid()}"):
        second.start()
    second.stop()  # as a command's `finally` does after the refusal
    row = ServiceHeartbeat.objects.get(name="scheduler")
    assert row.stopped is None and holder_of("scheduler") is not None

    running.stop()
    assert holder_of("scheduler") is None
    assert ServiceHeartbeat.objects.get(name="scheduler").stopped is not None
    second.start()  # the name is free again
    second.stop()
