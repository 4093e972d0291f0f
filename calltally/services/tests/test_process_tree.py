"""One `calltally up` per data dir, and no service outliving it: real processes, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from calltally.collectors.models import Connection
from calltally.collectors.tests.helpers import can_connect, free_port
from calltally.directory.models import Extension
from calltally.spool.storage import Spool

from .test_supervisor import calltally_up, running, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def alive(pid: int) -> bool:
    """A process that exists and is no zombie (a container's init may not reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid``, from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def asterisk_line(n: int) -> bytes:
    minute = n % 1440
    stamp = f"2026-03-02 {minute // 60:02d}:{minute % 60:02d}:00"
    return (
        f'"","{200 + n % 50}","0039{n:09d}","from-internal","x","PJSIP/a-{n}","PJSIP/trunk-{n}","Dial","",'
        f'"{stamp}","{stamp}","{stamp}",{n % 300},{n % 300},"ANSWERED","DOCUMENTATION","{n}.{n}",""'
    ).encode()


def services_running() -> bool:
    return all(running(name) for name in ("supervisor", "web", "recorder", "miner", "scheduler"))


def test_kill_9_of_up_ends_every_service_and_the_miners_helper_and_a_new_up_starts_cleanly(
        cli_process, make_site, tmp_path, settings, monkeypatch):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=str(200 + n)) for n in range(50)])
    # About 10 MB of backlog, mined in small batches: the Miner is busy, with its helper, when `up` dies.
    Spool(settings.SPOOL_DIR).append("HQ", [asterisk_line(n) for n in range(60000)], "test")
    monkeypatch.setenv("CALLTALLY_PROCESSES", "2")
    monkeypatch.setenv("CALLTALLY_MINER_BATCH", "200")
    listen_port, web_port = free_port(), free_port()
    Connection.objects.create(site=site, kind="tcp-listen", parameters={"port": listen_port})

    with calltally_up(cli_process, tmp_path, web_port) as first:
        wait_for(services_running, what="every service")
        wait_for(lambda: can_connect(listen_port), what="the recorder listening")
        miner = running("miner").pid
        wait_for(lambda: descendants(miner), what="the Miner's helper process")
        tree = descendants(first.pid)
        assert len(tree) >= 5, tree  # four services and the helper
        first.kill()
        first.wait(timeout=10)
        try:
            wait_for(lambda: not any(alive(pid) for pid in tree), timeout=30,
                     what="every process of the killed `up` to end")
        finally:
            for pid in tree:  # a failed test must not leave them behind
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)

    with calltally_up(cli_process, tmp_path, web_port) as second:
        wait_for(services_running, what="every service of the new `up`")
        wait_for(lambda: can_connect(listen_port), what="the new recorder listening")
        result = cli_process("status", "--json")
        services = {item["name"]: item for item in json.loads(result.stdout)["services"]}
        new_tree = descendants(second.pid)
        for name in ("web", "recorder", "miner", "scheduler"):
            assert services[name]["state"] == "running", services[name]
            assert services[name]["pid"] in new_tree, (name, services[name]["pid"], new_tree)
    assert second.returncode == 0, second.output
    assert "address already in use" not in second.output.lower()
    assert "exited with status" not in second.output, second.output


def test_a_second_up_is_refused_naming_the_first_and_leaves_it_running(cli_process, tmp_path):
    with calltally_up(cli_process, tmp_path) as first:
        wait_for(services_running, what="every service")
        before = {name: running(name).pid for name in ("web", "recorder", "miner", "scheduler")}

        second = cli_process("up", "--web-port", str(free_port()), timeout=60)
        assert second.returncode == 1
        assert "`calltally up` is already running" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr

        assert {name: running(name).pid for name in before} == before
        assert running("supervisor").pid == first.pid
    assert first.returncode == 0, first.output


def test_a_service_started_by_hand_while_up_runs_it_is_refused_naming_up(cli_process, tmp_path):
    with calltally_up(cli_process, tmp_path) as up:
        wait_for(services_running, what="every service")
        miner = running("miner").pid
        result = cli_process("miner", "--once", timeout=60)
        assert result.returncode == 1
        assert "the miner is already running for the data dir" in result.stderr
        assert f"under `calltally up` (pid {up.pid}): pid {miner}" in result.stderr
        assert "calltally service stop|start|restart miner" in result.stderr
        assert running("miner").pid == miner
    assert up.returncode == 0, up.output


def test_up_is_refused_while_a_service_runs_on_its_own(cli_process, tmp_path):
    log = open(tmp_path / "miner.log", "w")  # noqa: SIM115 - closed below
    miner = cli_process.popen("miner", stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: running("miner") and running("miner").pid == miner.pid, what="the lone miner")
        result = cli_process("up", "--web-port", str(free_port()), timeout=60)
        assert result.returncode == 1
        assert "not starting: the miner is already running" in result.stderr
        assert f"pid {miner.pid}" in result.stderr and "started on its own" in result.stderr
        connection.close()
        assert running("miner").pid == miner.pid
        assert not running("web") and not running("supervisor")
    finally:
        miner.send_signal(signal.SIGTERM)
        miner.wait(timeout=30)
        log.close()
    assert miner.returncode == 0
