"""Service states as people see them, and the database control channel.

``calltally up`` supervises its children and polls their ``ServiceHeartbeat``
rows every second; ``calltally service stop|start|restart NAME`` (from any
shell, any host sharing the database) writes ``desired`` or
``restart_requested`` on the row and the supervisor acts on it. A service run
alone (``calltally miner`` under systemd, say) has no supervisor: it is
controlled by systemd, and ``calltally service list`` still shows it.
"""

from __future__ import annotations

import datetime as dt
import socket

from calltally.forking import pid_alive

from .models import ServiceHeartbeat

UTC = dt.UTC
# A started service whose last heartbeat is older than this is degraded. Services beat
# every 5 s (heartbeat.BEAT_SECONDS): 30 s is several missed beats, not one slow one.
STALE_SECONDS = 30
# The states of a service, the one definition that `calltally status`, `service list`,
# the dashboard and the diagnostics bundle all show (computed by service_state below).
RUNNING, DEGRADED, RESTARTING, STOPPED = "running", "degraded", "restarting", "stopped"
STATES = {
    RUNNING: f"started, heartbeat younger than {STALE_SECONDS} s",
    DEGRADED: f"started, but no heartbeat for more than {STALE_SECONDS} s (stuck, or a long batch)",
    RESTARTING: "`calltally up` is restarting it (after a crash, in back-off, or asked to)",
    STOPPED: "never started, stopped, or its process is gone (checked on this host)",
}
SUPERVISOR = "supervisor"
# The services `calltally up` runs, in start order. The Scheduler joins here when it exists.
SERVICES = ("web", "recorder", "miner", "scheduler")


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def service_state(row: ServiceHeartbeat | None, at: dt.datetime | None = None,
                  supervisor_alive: bool = False) -> str:
    """One of :data:`STATES` for a service's heartbeat row (None: never started)."""
    at = at or now()
    if row is None:
        return STOPPED
    if supervisor_alive and row.supervisor_state in {"restarting", "starting"}:
        return RESTARTING
    if supervisor_alive and row.supervisor_state == "stopped":
        return STOPPED
    if row.started is None or (row.stopped is not None and row.stopped >= row.started):
        return STOPPED
    if row.host == socket.gethostname() and not pid_alive(row.pid):
        return STOPPED  # died without recording its stop (kill -9, power loss)
    if row.beat is None or (at - row.beat).total_seconds() > STALE_SECONDS:
        return DEGRADED
    return RUNNING


def supervisor_row() -> ServiceHeartbeat | None:
    return ServiceHeartbeat.objects.filter(name=SUPERVISOR).first()


def supervisor_running(row: ServiceHeartbeat | None = None, at: dt.datetime | None = None) -> bool:
    row = row if row is not None else supervisor_row()
    return service_state(row, at) == RUNNING


def error_before_start(row: ServiceHeartbeat | None) -> bool:
    """Whether the row's last error happened before the service's last start: a past
    error, kept because it may say why the service was restarted, never shown as current."""
    return bool(row and row.last_error and row.last_error_at and row.started and row.last_error_at < row.started)


def describe(row: ServiceHeartbeat | None, name: str, at: dt.datetime, supervisor_alive: bool) -> dict:
    state = service_state(row, at, supervisor_alive)
    running = state in {RUNNING, DEGRADED}
    return {
        "name": name,
        "state": state,
        "pid": row.pid if row and running else None,
        "host": row.host if row else "",
        "started": row.started if row else None,
        "uptime_seconds": round((at - row.started).total_seconds()) if row and running and row.started else None,
        "heartbeat_age_seconds": round((at - row.beat).total_seconds()) if row and row.beat else None,
        "last_error": row.last_error if row else "",
        "last_error_at": row.last_error_at if row else None,
        "last_error_before_start": error_before_start(row),
        "supervised": bool(row and supervisor_alive and row.supervisor_state),
        "desired": row.desired if row else ServiceHeartbeat.DESIRED_RUNNING,
    }


def services(at: dt.datetime | None = None) -> list[dict]:
    """Every known service (the usual ones even if never started), then any other row; supervisor last."""
    at = at or now()
    rows = {row.name: row for row in ServiceHeartbeat.objects.all()}
    supervisor = rows.pop(SUPERVISOR, None)
    alive = supervisor_running(supervisor, at) if supervisor else False
    names = list(SERVICES) + sorted(set(rows) - set(SERVICES))
    result = [describe(rows.get(name), name, at, alive) for name in names]
    if supervisor is not None:
        result.append(describe(supervisor, SUPERVISOR, at, False))
    return result


ACTIONS = ("start", "stop", "restart")


class Refused(ValueError):
    """Why a start, stop or restart cannot be asked for: said alike by `calltally service` and the web."""


def not_supervised(name: str, action: str) -> str:
    """What to do when no `calltally up` runs to act on a request."""
    return (f"no `calltally up` is running, so nothing can {action} {name}. Start everything with "
            f"`calltally up`, or, when the services run under systemd, use `systemctl {action} calltally-{name}`.")


def ask(name: str, action: str) -> ServiceHeartbeat | None:
    """Check and record a start, stop or restart of a service of `calltally up`: the one path of
    `calltally service` and the web's service manager, so both accept and refuse the same.

    Raises :class:`Refused` for an unknown service or action, or when no supervisor runs (a
    request nobody reads would look accepted and do nothing). Returns the service's row as it
    was before (its pid tells a waiting caller when a restart has happened), or None.
    """
    if action not in ACTIONS:
        raise Refused(f"no action {action!r}; the actions are {', '.join(ACTIONS)}")
    if name not in SERVICES:
        raise Refused(f"no service {name!r}; the services are {', '.join(SERVICES)}")
    if not supervisor_running():
        raise Refused(not_supervised(name, action))
    before = ServiceHeartbeat.objects.filter(name=name).first()
    request(name, action)
    return before


def request(name: str, action: str) -> None:
    """Record a `service start|stop|restart` request for the supervisor."""
    defaults = {}
    if action == "stop":
        defaults["desired"] = ServiceHeartbeat.DESIRED_STOPPED
    elif action == "start":
        defaults["desired"] = ServiceHeartbeat.DESIRED_RUNNING
    elif action == "restart":
        defaults["desired"] = ServiceHeartbeat.DESIRED_RUNNING
        defaults["restart_requested"] = now()
    else:
        raise ValueError(action)
    ServiceHeartbeat.objects.update_or_create(name=name, defaults=defaults)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
