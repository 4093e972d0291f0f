"""CallTally as real processes: exit codes, kill -9 of the Miner, `calltally up`."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.db import connection

from calltally.calls.models import Call
from calltally.directory.models import Extension
from calltally.spool.models import SpoolSegment
from calltally.spool.storage import Spool

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def asterisk_line(n: int) -> bytes:
    minute = n % 1440
    stamp = f"2026-03-02 {minute // 60:02d}:{minute % 60:02d}:00"
    return (
        f'"","{200 + n % 50}","0039{n:09d}","from-internal","x","PJSIP/a-{n}","PJSIP/trunk-{n}","Dial","",'
        f'"{stamp}","{stamp}","{stamp}",{n % 300},{n % 300},"ANSWERED","DOCUMENTATION","{n}.{n}",""'
    ).encode()


def running(pid: str) -> bool:
    """A process that exists and is no zombie (a container's init may not reap orphans)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def count_calls() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM calls_call")
        return cursor.fetchone()[0]


def test_a_user_mistake_ends_with_a_message_and_no_traceback(cli_process):
    result = cli_process("import", "--site", "NOPE", "/nonexistent.csv")
    assert result.returncode != 0
    assert "no site with code 'NOPE'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_miner_killed_between_batches_loses_and_duplicates_nothing(make_site, cli_process, settings):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=str(200 + n)) for n in range(50)])
    total = 6000
    Spool(settings.SPOOL_DIR).append("HQ", [asterisk_line(n) for n in range(total)], "test")

    miner = cli_process.popen("miner", "--batch", "10", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while count_calls() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    miner.send_signal(signal.SIGKILL)
    miner.wait()
    connection.close()
    partial = count_calls()
    assert 0 < partial < total, "the miner should have been killed part-way"
    segment = SpoolSegment.objects.get(site=site)
    assert segment.calls == partial  # the checkpoint and the calls committed together

    result = cli_process("miner", "--once", "--batch", "500")
    assert result.returncode == 0, result.stderr
    assert count_calls() == total
    offsets = list(Call.objects.values_list("raw_offset", flat=True))
    assert len(offsets) == len(set(offsets)) == total


def test_a_miner_killed_while_its_partner_mines_in_turn_loses_nothing_and_leaves_no_partner(
    make_site, cli_process, settings
):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=str(200 + n)) for n in range(50)])
    total = 60000  # about 10 MB of spool: enough backlog for the partner process
    Spool(settings.SPOOL_DIR).append("HQ", [asterisk_line(n) for n in range(total)], "test")

    env = {**cli_process.env(), "CALLTALLY_PROCESSES": "2"}
    connection.close()
    miner = subprocess.Popen([sys.executable, "-m", "calltally.cli", "miner", "--batch", "500"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while count_calls() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    with open(f"/proc/{miner.pid}/task/{miner.pid}/children") as children:
        helpers = children.read().split()
    miner.send_signal(signal.SIGKILL)
    miner.wait()
    connection.close()
    partial = count_calls()
    assert 0 < partial < total, "the miner should have been killed part-way"
    assert helpers, "the miner should have been using a partner process"
    # The partner notices that its parent has gone, and ends (after the batch it was committing, if any).
    deadline = time.monotonic() + 30
    while any(running(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(running(pid) for pid in helpers), "an orphaned partner is still running"
    connection.close()
    assert SpoolSegment.objects.get(site=site).calls == count_calls() < total

    result = cli_process("miner", "--once")
    assert result.returncode == 0, result.stderr
    offsets = list(Call.objects.values_list("raw_offset", flat=True))
    assert len(offsets) == len(set(offsets)) == total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_up_on_a_fresh_data_dir_creates_the_admin_and_serves_until_stopped(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("`up` on a fresh data dir is the embedded default (SQLite); the SQLite run covers it")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLTALLY_")}
    env["CALLTALLY_DATA_DIR"] = str(tmp_path / "fresh")
    up = subprocess.Popen([sys.executable, "-m", "calltally.cli", "up", "--web-port", str(port)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.3)
        assert body.strip() == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert "/login" in response.url  # every page needs sign-in
    finally:
        up.send_signal(signal.SIGTERM)
        output, _ = up.communicate(timeout=30)
    assert up.returncode == 0, output
    assert "created the account admin" in output
    assert "CallTally stopped" in output


def test_an_import_while_the_miner_service_runs_reports_every_record_whoever_mined_it(
    make_site, cli_process, settings, tmp_path
):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=str(200 + n)) for n in range(50)])
    total = 3000
    path = tmp_path / "Master.csv"
    path.write_bytes(b"\n".join(asterisk_line(n) for n in range(total)) + b"\n")
    os.utime(path, (time.time() - 120, time.time() - 120))
    miner = cli_process.popen("miner", "--batch", "100", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = cli_process("import", "--site", "HQ", str(path), "--json")
    finally:
        miner.send_signal(signal.SIGTERM)
        miner.wait(30)
    assert result.returncode == 0, result.stderr
    import json

    summary = json.loads(result.stdout)
    assert summary["records"] == total
    assert summary["calls"] == total and summary["not_mined_yet"] == 0
    connection.close()
    assert count_calls() == total
