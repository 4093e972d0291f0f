"""The Miner service through a long backlog: it beats while it works, and a stop ends it after its batch."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess

import pytest
from django.db import connection

from calltally.directory.models import Extension
from calltally.services import control
from calltally.services.models import ServiceHeartbeat
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool

from .test_process_tree import asterisk_line
from .test_supervisor import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def beat_while_mining(size: int):
    """The Miner's heartbeat row once it has beaten well after its start with records still to mine."""
    connection.close()  # a fresh view of what the Miner wrote
    row = ServiceHeartbeat.objects.filter(name="miner").first()
    segment = SpoolSegment.objects.first()
    if row is None or segment is None or row.beat - row.started < dt.timedelta(seconds=1.5):
        return None
    return row if 0 < segment.mined_offset < size else None


def test_a_miner_deep_in_a_backlog_keeps_beating_and_stops_after_its_current_batch(
        cli_process, make_site, settings, tmp_path):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=str(200 + n)) for n in range(50)])
    spool = Spool(settings.SPOOL_DIR)
    spool.append("HQ", [asterisk_line(n) for n in range(40000)], "test")
    [day] = spool.days("HQ")
    size = spool.size("HQ", day)
    log = open(tmp_path / "miner.log", "w+")  # noqa: SIM115 - closed below
    # Batches of ten records: one pass over this backlog is thousands of transactions.
    miner = cli_process.popen("miner", "--batch", "10", stdout=log, stderr=subprocess.STDOUT)
    try:
        row = wait_for(lambda: beat_while_mining(size), what="a beat in the middle of the first pass")
        assert control.service_state(row) == control.RUNNING
        miner.send_signal(signal.SIGTERM)
        miner.wait(timeout=30)
    finally:
        if miner.poll() is None:
            miner.kill()
        log.seek(0)
        output = log.read()
        log.close()
    assert miner.returncode == 0, output
    assert "CallTally miner stopped" in output
    connection.close()
    mined = SpoolSegment.objects.get(site=site).mined_offset
    assert 0 < mined < size, "the stop should have come after the current batch, not after the whole pass"
    assert ServiceHeartbeat.objects.get(name="miner").stopped is not None
