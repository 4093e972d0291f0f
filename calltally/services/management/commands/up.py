"""`calltally up`: every CallTally service in one supervised process tree."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from calltally.web.models import AccountFlags

MAX_BACKOFF = 60


def ensure_admin(stdout) -> None:
    """First start: an `admin` account with password `admin`, to be changed at first sign-in."""
    users = get_user_model()
    with transaction.atomic():
        if users.objects.exists():
            return
        admin = users.objects.create_superuser("admin", "", "admin")
        AccountFlags.objects.create(user=admin, must_change_password=True)
    stdout.write("created the account admin with password admin; you will be asked to change it at first sign-in")


class Child:
    """One supervised service process."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.failures = 0
        self.next_start = 0.0
        self.started_at = 0.0

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "calltally.cli", *self.argv])
        self.started_at = time.monotonic()

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()


class Command(BaseCommand):
    help = "Start every CallTally service (web, miner) and keep them running; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1", help="web address (default 127.0.0.1)")
        parser.add_argument("--web-port", type=int, default=8000, help="web port (default 8000)")

    def handle(self, *args, **options):
        if not 0 < options["web_port"] < 65536:
            raise CommandError("--web-port must be between 1 and 65535")
        ensure_admin(self.stdout)
        children = [
            Child("web", ["web", "--bind", options["bind"], "--port", str(options["web_port"])]),
            Child("miner", ["miner"]),
        ]
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        for child in children:
            child.start()
        self.stdout.write(f"CallTally is up: http://{options['bind']}:{options['web_port']}/  (Ctrl-C stops it)")
        try:
            while not stopping:
                time.sleep(0.5)
                now = time.monotonic()
                for child in children:
                    code = child.poll()
                    if code is None:
                        if child.failures and now - child.started_at > MAX_BACKOFF:
                            child.failures = 0  # it has been healthy for a while
                        continue
                    if child.next_start == 0.0:
                        child.failures += 1
                        delay = min(MAX_BACKOFF, 2 ** (child.failures - 1))
                        child.next_start = now + delay
                        self.stderr.write(f"{child.name} exited with status {code}; restarting in {delay}s")
                    elif now >= child.next_start:
                        child.next_start = 0.0
                        child.start()
        finally:
            self.shutdown(children)

    def shutdown(self, children: list[Child]) -> None:
        for child in children:
            if child.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        self.stdout.write("CallTally stopped")
        sys.stdout.flush()
