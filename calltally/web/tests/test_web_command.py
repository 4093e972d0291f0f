"""``calltally web``: serving, stopping on SIGTERM, and a clear error for a busy port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from calltally.web.management.commands import web


@pytest.fixture
def busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.django_db
def test_a_port_in_use_is_a_clear_error(busy_port, monkeypatch):
    monkeypatch.setattr(web.Command, "collect_static", lambda self: None)
    with pytest.raises(CommandError, match=rf"cannot listen on 127\.0\.0\.1:{busy_port}: .*--port"):
        call_command("web", port=busy_port)


@pytest.mark.parametrize("arguments", [["--port", "0"], ["--port", "70000"], ["--threads", "0"]])
def test_impossible_ports_and_thread_counts_are_refused(arguments):
    with pytest.raises(CommandError):
        call_command("web", *arguments)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_it_serves_pages_and_stops_cleanly_on_sigterm(tmp_path: Path):
    port = free_port()
    # A fresh embedded default, whatever database the suite itself runs on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLTALLY_")}
    env.update({"CALLTALLY_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "calltally.cli", "web", "--port", str(port), "--threads", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == f"CallTally web listening on http://127.0.0.1:{port}/", process.stderr.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.read() == b"ok"
        css_url = f"http://127.0.0.1:{port}/static/calltally/calltally.css"
        with urllib.request.urlopen(css_url, timeout=10) as css:
            assert b"CallTally" in css.read()
        assert (tmp_path / "static" / "calltally" / "calltally.css").exists()  # collectstatic ran
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped" in out

    import sqlite3

    with sqlite3.connect(tmp_path / "calltally.sqlite3") as db:
        started, stopped = db.execute(
            "SELECT started, stopped FROM services_serviceheartbeat WHERE name = 'web'"
        ).fetchone()
    assert started and stopped
