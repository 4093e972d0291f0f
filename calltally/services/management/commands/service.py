"""`calltally service list|start|stop|restart NAME`: the services of `calltally up`, from any shell."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.services import control
from calltally.services.models import ServiceHeartbeat

WAIT_SECONDS = 20


def error_text(item: dict) -> str:
    """The last line of a service's last error; one from before its last start says so, with its time."""
    error = ((item["last_error"] or "").splitlines()[-1:] or [""])[0][:80]
    if error and item.get("last_error_before_start"):
        return f"(before the last start, at {item['last_error_at'].astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC) {error}"
    return error


def table(services: list[dict]) -> list[str]:
    lines = [f"{'SERVICE':<11}{'STATE':<12}{'PID':>8}  {'UPTIME':<9}{'HEARTBEAT':<11}LAST ERROR"]
    for item in services:
        lines.append(
            f"{item['name']:<11}{item['state']:<12}{item['pid'] or '-':>8}  "
            f"{control.format_seconds(item['uptime_seconds']):<9}"
            f"{control.format_seconds(item['heartbeat_age_seconds']) + ' ago' if item['heartbeat_age_seconds'] is not None else '-':<11}"  # noqa: E501
            f"{error_text(item)}"
        )
    return lines


class Command(BaseCommand):
    help = "List the CallTally services, or stop, start or restart one run by `calltally up`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="list|start|stop|restart")
        listing = sub.add_parser(
            "list", help="every service: state, pid, uptime, heartbeat age, last error",
            epilog="States: " + "; ".join(f"{name}: {meaning}" for name, meaning in control.STATES.items()))
        listing.add_argument("--json", action="store_true")
        for action in ("start", "stop", "restart"):
            command = sub.add_parser(action, help=f"{action} a service of `calltally up`")
            command.add_argument("name", metavar="NAME", help=", ".join(control.SERVICES))
            command.add_argument("--no-wait", action="store_true",
                                 help="return at once instead of waiting until the supervisor has acted")

    def handle(self, *args, action: str, **options):
        if action == "list":
            services = control.services()
            if options["json"]:
                print_json(services, self.stdout)
            else:
                for line in table(services):
                    self.stdout.write(line)
                if not control.supervisor_running():
                    self.stdout.write("(no `calltally up` is running: services run alone, e.g. under systemd)")
            return
        name = options["name"]
        try:
            before = control.ask(name, action)  # the web's service manager asks the same way
        except control.Refused as exc:
            raise CommandError(str(exc)) from None
        old_pid = before.pid if before else None
        if options["no_wait"]:
            self.stdout.write(f"{action} of {name} requested")
            return
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.5)
            row = ServiceHeartbeat.objects.filter(name=name).first()
            state = control.service_state(row, supervisor_alive=True)
            if action == "stop" and row.supervisor_state == "stopped":  # the supervisor has reaped it
                self.stdout.write(f"{name} stopped")
                return
            if action in {"start", "restart"} and state == control.RUNNING and (
                action == "start" or (row.pid != old_pid and row.restart_requested is None)
            ):
                self.stdout.write(f"{name} running (pid {row.pid})")
                return
        raise CommandError(f"{action} of {name} requested, but it has not happened within {WAIT_SECONDS}s; "
                           "see `calltally service list` and the log")
