"""The Scheduler's periodic tasks, each run by one Scheduler per period (see :class:`.models.Periodic`).

``run_if_due(name, every, task)`` is what the Scheduler's loop calls for each task: it runs
``task()`` when the task is due and this worker claimed it, then writes when it is next due. A task
that raises is logged with its message and tried again at its next period (not at once: a failing
LDAP server must not be hammered every few seconds).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import IntegrityError
from django.db.models import F

from calltally import claims

from .models import Periodic

log = logging.getLogger("calltally.scheduler")


def task_row(name: str, first_due: dt.datetime) -> Periodic:
    """The task's row, made (due at ``first_due``) the first time any Scheduler sees the task."""
    try:
        row, _ = Periodic.objects.get_or_create(name=name, defaults={"next_due": first_due})
    except IntegrityError:  # another Scheduler made it in the same instant
        row = Periodic.objects.get(name=name)
    return row


def run_if_due(name: str, every: dt.timedelta, task: Callable[[], str | None], *, worker: str | None = None,
               at: dt.datetime | None = None, lease: dt.timedelta = claims.LEASE) -> bool | None:
    """Run ``task`` if it is due and this worker claims it: None when it did not run, else whether
    it succeeded. ``task`` may return a line saying what it did (kept as the last message)."""
    at = at or claims.now()
    worker = worker or claims.worker_name()
    row = task_row(name, at)
    if row.next_due > at:
        return None
    if not claims.claim(Periodic.objects.filter(next_due__lte=at), row.pk, worker, lease=lease, at=at):
        return None
    Periodic.objects.filter(pk=row.pk, claimed_by=worker).update(last_started=at)
    try:
        message = task() or ""
        ok = True
    except Exception as exc:  # one failing task must not stop the Scheduler
        log.exception("scheduler task %s failed", name)
        ok, message = False, f"{type(exc).__name__}: {exc}"
    finished = claims.now()
    claims.release(Periodic.objects.all(), row.pk, worker, next_due=max(at, row.next_due) + every,
                   last_finished=finished, last_ok=ok, last_message=message[:2000], runs=F("runs") + 1)
    return ok
