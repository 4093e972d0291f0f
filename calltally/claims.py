"""Claim by update: how the Scheduler's periodic work is done by one worker only, and never lost.

Any number of Schedulers may run at once (two hosts on one PostgreSQL, or a second one started by
mistake), and any of them may be killed mid-run. Each piece of periodic work — one occurrence of a
scheduled report, one delivery of it, one check of the alert rules, one retention run — is a row
that carries :class:`Claimable`'s two columns, and a worker works on a row only after it took it
with one statement::

    UPDATE … SET claimed_by = 'host:pid', lease_until = now + lease
     WHERE id = … AND <still due> AND (claimed_by = '' OR lease_until < now)

The database lets exactly one such statement change the row, so exactly one worker does the work.
The worker renews its lease while it works (:func:`renew`) and gives the row back with its result
(:func:`release`, which changes nothing if the row is no longer the worker's). A worker that was
killed leaves its claim behind: the row is free again when the lease runs out, or at once when the
claim names a process of this host that is gone.

Work done by a row's holder must be recorded *before* it is released (a delivery marked sent, the
next due instant moved on) so that a restart picks up exactly what was left: nothing twice, nothing
skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from django.db import models
from django.db.models import Q

from calltally.forking import pid_alive

UTC = dt.UTC
# How long a claim holds without being renewed: long enough for one slow step (rendering a large
# report, an SMTP server that takes its time), short enough that a killed worker's work resumes soon.
LEASE = dt.timedelta(minutes=5)


class Claimable(models.Model):
    """The two columns of a row that one worker at a time may work on (see the module's doc)."""

    claimed_by = models.CharField(max_length=300, blank=True, editable=False,
                                  help_text="The worker (host:pid) working on this row; empty: nobody.")
    lease_until = models.DateTimeField(null=True, blank=True, editable=False,
                                       help_text="The claim lapses at this instant unless renewed (UTC).")

    class Meta:
        abstract = True


def worker_name() -> str:
    """This process as a worker: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def holder_gone(claimed_by: str) -> bool:
    """Whether a claim names a process of this host that no longer runs (killed: no need to wait
    for its lease to run out)."""
    host, _, pid = claimed_by.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid))


def free_q(at: dt.datetime) -> Q:
    """The rows nobody holds at ``at``: never claimed, given back, or whose lease ran out."""
    return Q(claimed_by="") | Q(lease_until__isnull=True) | Q(lease_until__lt=at)


def claim(queryset: models.QuerySet, pk, worker: str | None = None, lease: dt.timedelta = LEASE,
          at: dt.datetime | None = None) -> bool:
    """Take row ``pk`` of ``queryset`` (whose filters say the row is still due) for ``worker``:
    true for exactly one of any number of workers trying at once.

    The filters must name the row's own columns only. Django writes an UPDATE through a join as
    ``WHERE id IN (SELECT …)``, and PostgreSQL, when two claims race, rechecks the row it waited
    for against the outer WHERE but not against that subquery's old snapshot: both would win (two
    `budget check` processes mailed one notice twice)."""
    if sum(1 for count in queryset.query.alias_refcount.values() if count) > 1:  # a table joined
        raise ValueError("claim(): filter on the row's own columns only; a filter through a relation "
                         "lets two workers racing on PostgreSQL both win")
    at = at or now()
    worker = worker or worker_name()
    values = {"claimed_by": worker, "lease_until": at + lease}
    if queryset.filter(free_q(at), pk=pk).update(**values):
        return True
    # Held by a process of this host that was killed: take it over, only from that very holder.
    holder = queryset.filter(pk=pk).values_list("claimed_by", flat=True).first()
    if holder and holder != worker and holder_gone(holder):
        return bool(queryset.filter(pk=pk, claimed_by=holder).update(**values))
    return False


def renew(queryset: models.QuerySet, pk, worker: str | None = None, lease: dt.timedelta = LEASE) -> bool:
    """Extend the worker's claim on row ``pk``; false if the row is no longer the worker's."""
    worker = worker or worker_name()
    return bool(queryset.filter(pk=pk, claimed_by=worker).update(lease_until=now() + lease))


def release(queryset: models.QuerySet, pk, worker: str | None = None, **changes) -> bool:
    """Give row ``pk`` back, writing ``changes`` (the work's result) in the same statement; false,
    and nothing written, if the row is no longer the worker's."""
    worker = worker or worker_name()
    return bool(queryset.filter(pk=pk, claimed_by=worker).update(claimed_by="", lease_until=None, **changes))
