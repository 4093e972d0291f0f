"""`calltally up`: every CallTally service in one supervised process tree.

The supervisor starts each service as a child process (`calltally web`,
`calltally recorder`, `calltally miner`, `calltally scheduler`), restarts a child that exits with a
growing back-off (1 s, 2 s, 4 s… up to a minute), and stops them all on SIGTERM
or Ctrl-C. Once a second it reads the services' ``ServiceHeartbeat`` rows,
where `calltally service stop|start|restart NAME` leaves its requests (see
``calltally.services.control``).

The children never outlive it: on Linux each one asks the kernel for a SIGTERM
when the supervisor dies (``PR_SET_PDEATHSIG``), so even a ``kill -9`` of `up`
stops them. One `up` per data dir, and none while a service of it runs on its
own: the service locks of ``calltally.services.locks`` refuse the second.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from calltally.accounts.services import ensure_first_admin
from calltally.services import control, locks
from calltally.services.heartbeat import BEAT_SECONDS, Heartbeat
from calltally.services.models import ServiceHeartbeat

log = logging.getLogger("calltally.services")
MAX_BACKOFF = 60
STOP_TIMEOUT = 15
POLL_SECONDS = 1.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def ensure_admin(stdout) -> None:
    """First start: an `admin` account with password `admin`, to be changed at first sign-in."""
    if ensure_first_admin():
        stdout.write("created the account admin with password admin; you will be asked to change it at first "
                     "sign-in")


def service_argv(bind: str, web_port: int) -> list[tuple[str, list[str]]]:
    """The supervised services and their command lines, in start order."""
    return [
        ("web", ["web", "--bind", bind, "--port", str(web_port)]),
        ("recorder", ["recorder"]),
        ("miner", ["miner"]),
        ("scheduler", ["scheduler"]),
    ]


def _prctl():
    """libc's prctl, or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


PRCTL = _prctl()


def end_with_supervisor():
    """A ``preexec_fn`` that makes the child get SIGTERM when the supervisor dies; None where impossible.

    It runs in the child between fork and exec, and the setting survives the exec, so
    it holds for the service the child becomes. The kernel sends the signal when the
    *thread* that forked the child ends, not the process: the supervisor starts every
    child from its main thread, which lives as long as the process (and has no other
    thread, which is what makes code between fork and exec safe). SIGTERM, not
    SIGKILL, so that each service stops as it does on `calltally service stop` (the
    Miner after its current batch, ending its partner process).
    """
    if PRCTL is None:
        return None
    supervisor = os.getpid()

    def in_child() -> None:
        PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The supervisor may have died between the fork and the line above: no signal
        # would ever come then, and the child already has another parent.
        if os.getppid() != supervisor:
            os._exit(1)

    return in_child


class Child:
    """One supervised service process and what the supervisor knows of it."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.argv = argv
        self.process: subprocess.Popen | None = None
        self.failures = 0
        self.next_start = 0.0  # monotonic time of the next start after a crash; 0 when none is due
        self.started_at = 0.0
        self.wanted = True  # False after `calltally service stop NAME`
        self.restart_after_exit = False  # a requested restart: start again at once, not a failure
        self.kill_at = 0.0  # SIGTERM sent: SIGKILL if still alive then
        self.handled_restart = None  # the restart_requested value already acted on

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        # The children use the supervisor's data dir, however it was chosen (set, or the default).
        env = {**os.environ, "CALLTALLY_DATA_DIR": str(settings.DATA_DIR)}
        self.process = subprocess.Popen([sys.executable, "-m", "calltally.cli", *self.argv], env=env,
                                        preexec_fn=end_with_supervisor())
        self.started_at = time.monotonic()
        self.next_start = 0.0
        self.kill_at = 0.0

    def terminate(self) -> None:
        if self.running and not self.kill_at:
            self.process.send_signal(signal.SIGTERM)
            self.kill_at = time.monotonic() + STOP_TIMEOUT

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()


class Command(BaseCommand):
    help = ("Start every CallTally service (web, recorder, miner, scheduler) and keep them running; Ctrl-C stops "
            "all. One `up` per data dir: a second one, or one while a service runs alone, is refused.")

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1", help="web address (default 127.0.0.1)")
        parser.add_argument("--web-port", type=int, default=8000, help="web port (default 8000)")

    def handle(self, *args, **options):
        if not 0 < options["web_port"] < 65536:
            raise CommandError("--web-port must be between 1 and 65535")
        heartbeat = Heartbeat(control.SUPERVISOR)
        heartbeat.claim()  # a second `up` on this data dir stops here, naming the first
        try:
            self.supervise(heartbeat, options)
        finally:
            self.safely(heartbeat.stop)
        self.stdout.write("CallTally stopped")
        sys.stdout.flush()

    def supervise(self, heartbeat: Heartbeat, options) -> None:
        children = [Child(name, argv) for name, argv in service_argv(options["bind"], options["web_port"])]
        for child in children:
            holder = locks.holder_of(child.name)
            if holder is not None:  # its own child would only crash-loop against it
                raise CommandError(f"not starting: {locks.refusal(child.name, holder)}")
        if PRCTL is None:
            log.warning("on this system the services do not end with `calltally up` if it is killed (kill -9); "
                        "a new `up` then names those left running, to be stopped by hand")
        ensure_admin(self.stdout)
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        heartbeat.start()
        for child in children:
            # A new `up` starts everything: requests left from an earlier run are forgotten.
            ServiceHeartbeat.objects.update_or_create(name=child.name, defaults={
                "desired": ServiceHeartbeat.DESIRED_RUNNING, "restart_requested": None,
                "supervisor_state": "starting", "supervisor_pid": os.getpid()})
        for child in children:
            self.start(child)
        self.stdout.write(f"CallTally is up: http://{options['bind']}:{options['web_port']}/  (Ctrl-C stops it)")
        self.stdout.flush()
        last_poll = last_beat = time.monotonic()
        try:
            while not stopping:
                time.sleep(0.25)
                now = time.monotonic()
                for child in children:
                    self.watch(child, now)
                if now - last_poll >= POLL_SECONDS:
                    last_poll = now
                    self.poll_requests(children)
                if now - last_beat >= BEAT_SECONDS:
                    last_beat = now
                    self.safely(heartbeat.beat)
        finally:
            self.shutdown(children)

    # --- one child --------------------------------------------------------
    def start(self, child: Child) -> None:
        try:
            child.start()
        except OSError as exc:  # cannot even fork: treat like a crash
            self.failed(child, f"could not start: {exc}", time.monotonic())
            return
        self.mark(child, supervisor_state="running")

    def watch(self, child: Child, now: float) -> None:
        if child.running:
            if child.kill_at and now >= child.kill_at:
                log.warning("%s did not stop within %ss; killing it", child.name, STOP_TIMEOUT)
                child.process.kill()
            elif child.failures and now - child.started_at > MAX_BACKOFF:
                child.failures = 0  # it has been healthy for a while
            return
        if child.process is not None and child.kill_at:
            # It stopped because we asked it to.
            child.kill_at = 0.0
            child.process = None
            if child.restart_after_exit and child.wanted:
                child.restart_after_exit = False
                log.info("%s restarting on request", child.name)
                self.start(child)
            else:
                log.info("%s stopped on request", child.name)
                self.mark(child, supervisor_state="stopped")
            return
        if not child.wanted:
            return
        if child.process is not None:
            code = child.process.returncode
            child.process = None
            reason = f"exited with status {code}"
            if child.argv[0] not in get_commands():
                reason += f" — `calltally {child.argv[0]}` does not exist in this installation"
            self.failed(child, reason, now)
        elif child.next_start and now >= child.next_start:
            self.start(child)

    def failed(self, child: Child, reason: str, now: float) -> None:
        child.failures += 1
        delay = min(MAX_BACKOFF, 2 ** (child.failures - 1))
        child.next_start = now + delay
        log.error("%s %s; restarting in %ss", child.name, reason, delay)
        self.mark(child, supervisor_state="restarting", last_error=f"{reason} (supervisor)",
                  last_error_at=control.now())

    # --- requests from `calltally service` ----------------------------------
    def poll_requests(self, children: list[Child]) -> None:
        try:
            close_old_connections()
            rows = {row.name: row for row in ServiceHeartbeat.objects.filter(name__in=[c.name for c in children])}
        except Exception as exc:  # the database may be briefly busy; ask again next second
            log.warning("supervisor: cannot read service requests: %s", exc)
            return
        for child in children:
            row = rows.get(child.name)
            if row is None:
                continue
            wanted = row.desired != ServiceHeartbeat.DESIRED_STOPPED
            if not wanted and child.wanted:
                child.wanted = False
                child.restart_after_exit = False
                child.next_start = 0.0
                child.failures = 0
                if child.running:
                    log.info("%s: stop requested", child.name)
                    child.terminate()
                else:
                    self.mark(child, supervisor_state="stopped")
            elif wanted and not child.wanted:
                child.wanted = True
                if not child.running:
                    log.info("%s: start requested", child.name)
                    self.start(child)
                else:
                    child.restart_after_exit = True  # still stopping: start it again once it is gone
            if row.restart_requested and row.restart_requested != child.handled_restart:
                child.handled_restart = row.restart_requested
                self.safely(lambda r=row: ServiceHeartbeat.objects.filter(
                    pk=r.pk, restart_requested=r.restart_requested).update(restart_requested=None))
                if not child.wanted:
                    continue
                log.info("%s: restart requested", child.name)
                child.failures = 0
                if child.running:
                    child.restart_after_exit = True
                    self.mark(child, supervisor_state="restarting")
                    child.terminate()
                elif not child.kill_at:
                    self.start(child)

    # --- helpers ------------------------------------------------------------
    def mark(self, child: Child, **fields) -> None:
        self.safely(lambda: ServiceHeartbeat.objects.update_or_create(name=child.name, defaults=fields))

    @staticmethod
    def safely(action) -> None:
        try:
            action()
        except Exception as exc:  # bookkeeping only: never let it stop the supervisor
            log.warning("supervisor: could not record the services' state: %s", exc)

    def shutdown(self, children: list[Child]) -> None:
        for child in children:
            if child.running:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        for child in children:
            self.mark(child, supervisor_state="", supervisor_pid=None)
