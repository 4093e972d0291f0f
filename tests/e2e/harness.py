"""The browser tests' harness: CallTally running for real, and Chromium looking at it.

:class:`Service` starts the real service host — ``calltally up``: the web server, the
Recorder, the Miner and the Scheduler as child processes — on a fresh data dir and free
ports, exactly as an administrator would after installing. When the suite runs on
PostgreSQL (``CALLTALLY_DATABASE_URL`` set, as in the second pass of ``scripts/test``), it
gets a database of its own on that server, so the pages are looked at on both databases.

:class:`Watch` listens to every page a test opens and keeps what must fail it: a
Content-Security-Policy violation reported by the browser, a server error (any 5xx
answer), an uncaught script error. :class:`Shots` keeps a numbered screenshot of each
step under ``test-output/e2e/<test>/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "test-output" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that reaches out to the network or waits for a first-run dialog.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 768, "height": 1024}
START_TIMEOUT = 90  # seconds for `calltally up` to answer /healthz on a busy two-core machine
STOP_TIMEOUT = 30


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """``calltally up`` on a data dir of its own, started and stopped by the tests."""

    def __init__(self, root: Path):
        self.root = root
        self.data_dir = root / "data"
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        # For the connections the setup wizard makes: the first site's FTP server, the second's TCP listener.
        self.ftp_port = free_port()
        self.second_port = free_port()
        self.log_path = root / "up.log"
        self.process: subprocess.Popen | None = None
        self._log = None
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("CALLTALLY_")}
        self.env.update({
            "CALLTALLY_DATA_DIR": str(self.data_dir),
            # Two cores are shared with the browser: one Miner process is plenty for a few records.
            "CALLTALLY_PROCESSES": "1",
            "CALLTALLY_MINER_IDLE": "1",
            "PYTHONUNBUFFERED": "1",
        })
        self.postgres = PostgresDatabase.for_suite()
        if self.postgres:
            self.env["CALLTALLY_DATABASE_URL"] = self.postgres.url

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``calltally ARGS`` against this service's data, as an administrator at a shell would."""
        result = subprocess.run([sys.executable, "-m", "calltally.cli", *args], env=self.env, input=stdin,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode:
            raise AssertionError(f"calltally {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.postgres:
            self.postgres.create()
        self.cli("migrate", "-v", "0")
        self._log = open(self.log_path, "w")  # noqa: SIM115 - open for the service's whole life
        # A session of its own, so that stopping it reaches every child even if `up` is stuck.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "calltally.cli", "up", "--bind", "127.0.0.1", "--web-port", str(self.web_port)],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_healthy()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`calltally up` exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"`calltally up` did not answer {self.base_url}/healthz in {START_TIMEOUT}s:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGTERM to the whole group: `up` stops its children as `calltally service stop` would.
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        # Children that outlived `up` (they should not) are ended with it.
        if self.process is not None:
            self._signal(signal.SIGKILL)
        if self._log:
            self._log.close()
        if self.postgres:
            self.postgres.drop()

    def _signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # the whole group has already ended
            os.killpg(self.process.pid, number)

    def log_tail(self, lines: int = 60) -> str:
        """The last lines `up` printed and the last of CallTally's own log, for a failure message."""
        parts = []
        for path in (self.log_path, self.data_dir / "logs" / "calltally.log"):
            if path.exists():
                parts.append(f"--- {path.name} ---\n" + "\n".join(path.read_text(errors="replace")
                                                                 .splitlines()[-lines:]))
        return "\n".join(parts)


class PostgresDatabase:
    """A database of the browser tests' own on the suite's PostgreSQL server, dropped at the end."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.name = f"calltally_e2e_{os.getpid()}"
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    @classmethod
    def for_suite(cls) -> PostgresDatabase | None:
        url = os.environ.get("CALLTALLY_DATABASE_URL", "")
        return cls(url) if urlsplit(url).scheme in {"postgres", "postgresql"} else None

    def _run(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(statement)

    def create(self) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.name}"')
        self._run(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Watch:
    """What the pages of one test said that must fail it."""

    CSP = re.compile(r"content[- ]security[- ]policy", re.IGNORECASE)

    def __init__(self):
        self.csp_violations: list[str] = []
        self.server_errors: list[str] = []
        self.script_errors: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))

    def _console(self, message) -> None:
        if self.CSP.search(message.text):
            self.csp_violations.append(f"{message.location.get('url', '')}: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.request.method} {response.url} answered {response.status}")

    def problems(self) -> list[str]:
        return ([f"CSP violated — {text}" for text in self.csp_violations]
                + [f"server error — {text}" for text in self.server_errors]
                + [f"script error — {text}" for text in self.script_errors])


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "step"


class Shots:
    """Numbered screenshots of one test's steps: ``test-output/e2e/<test>/<NN-step>.png``."""

    taken = 0  # screenshots of this run, every test's

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{slug(step)}.png"
        page.screenshot(path=str(path), full_page=True)
        Shots.taken += 1
        return path
