"""The verbs of scheduled reports: start the occurrences that fell due, plan each run's
deliveries, render and send each one, exactly once, whatever number of Schedulers run and
whichever of them is killed.

How "exactly once" holds (calltally/claims.py):

* an occurrence is the row (schedule, due instant), unique: two Schedulers that see a schedule
  due at once make one run (``get_or_create``), and the schedule's ``next_due`` moves on with a
  conditional UPDATE only after the run exists — a Scheduler killed in between leaves the
  schedule due, and the next one finds the run already there;
* a run is claimed before it is planned or worked; its deliveries are planned in one
  transaction with the ``planned`` flag, so they exist once;
* each delivery is claimed, rendered (the report runs with ``now`` = the occurrence's due
  instant, so "yesterday" is the same day on a retry or after a restart), sent with its fixed
  Message-ID, and marked sent in the same statement that releases it. A worker killed
  mid-delivery leaves a claim that lapses (at once when it names a dead process of this host);
  a sent delivery is never picked again.

A Scheduler that was down while occurrences fell due runs the *latest* missed occurrence once,
not each of them (a week of stale "yesterday" reports helps nobody); the run says how many
were missed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.html import escape

from calltally import claims
from calltally.accounts.models import Account, Role
from calltally.accounts.scope import Scope, cost_center_children, scope_of, subtree
from calltally.directory.models import CostCenter, Person
from calltally.reports import catalogue
from calltally.reports.options import PERIODS, ReportOptions, calls_for, period_dates
from calltally.reports.output import cell, totals_row, write_csv
from calltally.system.mail import MailError, deliver

from .models import (
    MAX_ATTEMPTS,
    OPEN_RUN_STATES,
    Burst,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Format,
    RunState,
    Schedule,
    ScheduleRun,
)
from .recurrence import RecurrenceError

log = logging.getLogger("calltally.scheduler")
UTC = dt.UTC
# A failed mail is tried again after these delays (then after the last one, up to MAX_ATTEMPTS).
BACKOFF = (dt.timedelta(minutes=2), dt.timedelta(minutes=10), dt.timedelta(minutes=30), dt.timedelta(hours=2))
# The lease is renewed this often while a report renders or a mail is sent.
RENEW_EVERY = claims.LEASE / 3
# Tests only: seconds to wait after each delivery, so a test can kill a Scheduler between two.
PAUSE_VARIABLE = "CALLTALLY_SCHEDULE_TEST_PAUSE"
MIME = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv", "html": "text/html"}
# An HTML table in a mail body stops here: a longer report belongs in an attachment.
HTML_MAX_ROWS = 2000
# How many missed occurrences are counted when a Scheduler catches up (only to say so).
MISSED_COUNT_LIMIT = 1000


class Lost(Exception):
    """The claim was taken over (the lease lapsed): stop, another worker goes on."""


# --- when ---------------------------------------------------------------------------------------

def next_due(schedule: Schedule, after: dt.datetime) -> dt.datetime | None:
    """The schedule's first occurrence after ``after`` (None for a rule that never falls due)."""
    try:
        return schedule.recurrence().next_after(after)
    except RecurrenceError:
        return None


def missed_between(schedule: Schedule, first: dt.datetime, due: dt.datetime) -> int:
    """How many occurrences from ``first`` fell before ``due`` (capped: it is only said)."""
    rule, count, at = schedule.recurrence(), 0, first
    while at < due and count < MISSED_COUNT_LIMIT:
        count += 1
        at = rule.next_after(at)
    return count


def start_due(now: dt.datetime) -> list[ScheduleRun]:
    """Make the run of every enabled schedule whose next occurrence came (the latest one when
    several were missed), then move the schedule's ``next_due`` on."""
    made = []
    for schedule in Schedule.objects.filter(enabled=True, next_due__lte=now):
        rule = schedule.recurrence()
        try:
            due = rule.latest_at_or_before(now)
            following = rule.next_after(now)
        except RecurrenceError as exc:
            log.warning("schedule %s never falls due: %s", schedule.name, exc)
            Schedule.objects.filter(pk=schedule.pk).update(next_due=None)
            continue
        if due is None or due < schedule.next_due:
            due = schedule.next_due
        missed = missed_between(schedule, schedule.next_due, due)
        try:
            run, created = ScheduleRun.objects.get_or_create(schedule=schedule, due=due,
                                                             defaults={"missed_count": missed})
        except IntegrityError:  # another Scheduler made it in the same instant
            run, created = ScheduleRun.objects.get(schedule=schedule, due=due), False
        # Only after the run exists, and only from the value this Scheduler read.
        Schedule.objects.filter(pk=schedule.pk, next_due=schedule.next_due).update(next_due=following)
        if created:
            made.append(run)
    return made


# --- who ----------------------------------------------------------------------------------------

@dataclass
class Recipient:
    """One delivery to plan: where it goes and whose view of the calls it carries."""

    address: str
    scope: dict
    scope_text: str
    kind: str = DeliveryKind.MAIL


@dataclass
class Plan:
    recipients: list[Recipient] = field(default_factory=list)
    skipped: int = 0


def options_of(schedule: Schedule) -> ReportOptions:
    return ReportOptions.from_dict(schedule.options)


def owner_text(schedule: Schedule) -> str:
    return f"as {schedule.owner.get_username()}" if schedule.owner_id else "every call"


def account_address(account: Account) -> str:
    return account.user.email or (account.person.email if account.person_id else "")


def plan_recipients(schedule: Schedule, run: ScheduleRun) -> Plan:
    """The deliveries of one run (see :class:`.models.Schedule` for the kinds)."""
    plan = Plan()
    owner = {"role": "owner"}
    if schedule.folder:
        first, last = run.first_day, run.last_day
        path = Path(schedule.folder) / file_name(schedule, first, last)
        plan.recipients.append(Recipient(str(path), owner, owner_text(schedule), DeliveryKind.FILE))
        return plan
    if schedule.burst == Burst.MANAGERS:
        roots: dict[int, list[CostCenter]] = {}
        for center in CostCenter.objects.filter(manager__isnull=False).select_related("manager").order_by("code"):
            roots.setdefault(center.manager_id, []).append(center)
        children = cost_center_children()
        for centers in roots.values():
            person = centers[0].manager
            if not person.email or not person.active:
                plan.skipped += 1
                continue
            ids = sorted(subtree([c.pk for c in centers], children))
            codes = ", ".join(c.code for c in centers)
            plan.recipients.append(Recipient(person.email, {"role": Role.MANAGER, "cost_centers": ids},
                                             f"{person.full_name}: {codes} and below"))
        return merge(plan)
    if schedule.burst == Burst.PEOPLE:
        # Only the people who called in the period: nobody wants a mail saying "no calls".
        callers = set(calls_for(options_of(schedule), Scope(Role.ADMINISTRATOR), now=run.due)
                      .filter(person__isnull=False).values_list("person_id", flat=True).distinct())
        for person in Person.objects.filter(active=True).exclude(email="").order_by("username"):
            if person.pk not in callers:
                plan.skipped += 1
                continue
            plan.recipients.append(Recipient(person.email, {"role": Role.USER, "person": person.pk},
                                             f"{person.full_name}: own calls"))
        return merge(plan)
    text = owner_text(schedule)
    for address in schedule.addresses or []:
        plan.recipients.append(Recipient(address, owner, text))
    for person in schedule.people.all():
        if person.email:
            plan.recipients.append(Recipient(person.email, owner, text))
        else:
            plan.skipped += 1
    if schedule.roles:
        accounts = Account.objects.filter(role__in=schedule.roles, user__is_active=True).select_related(
            "user", "person")
        for account in accounts:
            address = account_address(account)
            if address:
                plan.recipients.append(Recipient(address, owner, text))
    return merge(plan)


def merge(plan: Plan) -> Plan:
    """One delivery per address: the same address named twice (a person and their role) gets
    one mail; two people sharing an address in a burst get the first one's."""
    seen: dict[str, Recipient] = {}
    for recipient in plan.recipients:
        key = recipient.address.strip().lower()
        if key in seen:
            continue
        seen[key] = recipient
    plan.recipients = list(seen.values())
    return plan


def plan(run: ScheduleRun, worker: str) -> None:
    """Make the run's deliveries (once: in one transaction with ``planned``)."""
    schedule = run.schedule
    first, last = period_dates(options_of(schedule), schedule.recurrence().tz, now=run.due)
    run.first_day, run.last_day = first, last
    found = plan_recipients(schedule, run)
    with transaction.atomic():
        Delivery.objects.bulk_create(
            [Delivery(run=run, kind=r.kind, address=r.address, scope=r.scope, scope_text=r.scope_text[:300],
                      message_id=message_id(run, r.address)) for r in found.recipients],
            ignore_conflicts=True)
        changed = ScheduleRun.objects.filter(pk=run.pk, claimed_by=worker).update(
            planned=True, state=RunState.RUNNING, first_day=first, last_day=last, started=claims.now(),
            deliveries_count=len(found.recipients), skipped_count=found.skipped)
        if not changed:
            raise Lost()


def message_id(run: ScheduleRun, address: str) -> str:
    """The same Message-ID every time this run's mail to this address is sent."""
    digest = hashlib.sha256(f"{run.schedule_id}:{run.due.isoformat()}:{address.lower()}".encode()).hexdigest()[:20]
    return f"<calltally.schedule.{run.schedule_id}.{run.pk}.{digest}@calltally.invalid>"


# --- what ---------------------------------------------------------------------------------------

@dataclass
class Rendered:
    subject: str
    body: str
    html: str = ""
    attachment: tuple[str, bytes, str] | None = None
    rows: int = 0


def file_name(schedule: Schedule, first: dt.date | None, last: dt.date | None) -> str:
    """``NAME-PERIOD.EXT``: one file per occurrence (the same name again on a retry)."""
    if first and last and first != last:
        period = f"{first:%Y-%m-%d}_{last:%Y-%m-%d}"
    else:
        period = f"{first:%Y-%m-%d}" if first else "all"
    return f"{schedule.name}-{period}.{schedule.format}"


def delivery_scope(delivery: Delivery, schedule: Schedule) -> Scope:
    """The scope the report of one delivery runs with."""
    scope = delivery.scope or {}
    if scope.get("role") == Role.MANAGER:
        return Scope(Role.MANAGER, cost_center_ids=frozenset(scope.get("cost_centers") or ()))
    if scope.get("role") == Role.USER:
        return Scope(Role.USER, person_id=scope.get("person"))
    if schedule.owner_id:
        user = get_user_model().objects.filter(pk=schedule.owner_id).first()
        if user is not None:
            return scope_of(user)
    return Scope(Role.ADMINISTRATOR)


def html_table(result) -> tuple[str, int]:
    """The report as an HTML table (for the mail body), and its row count."""
    columns = list(result.columns)
    head = "".join(f"<th>{escape(c.label)}</th>" for c in columns)
    body, count = [], 0
    for row in result.rows:
        count += 1
        if count <= HTML_MAX_ROWS:
            body.append("<tr>" + "".join(f"<td>{escape(cell(row.get(c.name), c.type))}</td>" for c in columns)
                        + "</tr>")
    total = totals_row(result)
    if total:
        body.append("<tr>" + "".join(f"<th>{escape(cell(total.get(c.name), c.type))}</th>" for c in columns)
                    + "</tr>")
    more = (f"<p>{count - HTML_MAX_ROWS} more rows are not shown: choose PDF, XLSX or CSV for the whole "
            "report.</p>") if count > HTML_MAX_ROWS else ""
    lines = "".join(f"<li>{escape(label)}: {escape(value)}</li>" for label, value in result.options.describe())
    html = (f"<html><body><h2>{escape(result.report.title)}</h2><ul>{lines}</ul>"
            f"<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{more}</body></html>")
    return html, count


def render(run: ScheduleRun, delivery: Delivery) -> Rendered:
    """Run the report for one delivery (``now`` = the occurrence's due instant) in its format."""
    schedule = run.schedule
    options = options_of(schedule)
    result = catalogue.run(schedule.report, options, delivery_scope(delivery, schedule), now=run.due)
    title = result.report.title
    period = PERIODS.get(options.period, options.period)
    days = (f"{run.first_day:%Y-%m-%d}" if run.first_day == run.last_day
            else f"{run.first_day:%Y-%m-%d} to {run.last_day:%Y-%m-%d}") if run.first_day else ""
    subject = f"{title}: {period.lower()}{f' ({days})' if days else ''}"
    if delivery.scope.get("role") in (Role.MANAGER, Role.USER):
        subject += f" — {delivery.scope_text}"
    body = (f"Scheduled report {schedule.name}: {title}, {period.lower()}{f' ({days})' if days else ''}.\n"
            f"Calls: {delivery.scope_text}.\n")
    account = f"scheduled report {schedule.name} ({delivery.scope_text})"
    name = file_name(schedule, run.first_day, run.last_day)
    if schedule.format == Format.HTML:
        html, rows = html_table(result)
        return Rendered(subject, body + f"{rows} rows; the table is in the HTML part of this mail.\n", html=html,
                        attachment=(name, html.encode(), MIME["html"]), rows=rows)
    if schedule.format == Format.CSV:
        text = io.StringIO()
        rows = write_csv(result, text)
        content = text.getvalue().encode("utf-8")
    else:
        from calltally.reports import export_pdf, export_xlsx

        module = export_pdf if schedule.format == Format.PDF else export_xlsx
        stream = io.BytesIO()
        rows = module.write(result, stream, account=account, now=run.due)
        content = stream.getvalue()
    return Rendered(subject, body + f"{rows} rows, attached as {name}.\n", attachment=(name, content,
                                                                                      MIME[schedule.format]),
                    rows=rows)


# --- doing it -----------------------------------------------------------------------------------

@contextlib.contextmanager
def leases(worker: str, *rows: tuple[type, int]):
    """Keep renewing the claims on ``rows`` ((model, pk) pairs) while the block runs (a large
    report may render for longer than a lease)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(RENEW_EVERY.total_seconds()):
                for model, pk in rows:
                    claims.renew(model.objects.all(), pk, worker)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name="schedule-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def workable(now: dt.datetime) -> Q:
    """Deliveries still to do: pending, or failed and due for another try."""
    return Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.FAILED, retry_at__isnull=False,
                                               retry_at__lte=now)


def write_file(path: Path, content: bytes) -> None:
    """Write the whole file or nothing (a reader never sees half a report)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def work_delivery(run: ScheduleRun, delivery_pk: int, worker: str, now: dt.datetime,
                  rendered_by_scope: dict[str, Rendered] | None = None) -> bool | None:
    """Claim, render, send and record one delivery: None if another worker has it, else whether
    it was sent. ``rendered_by_scope`` keeps what was rendered for a scope during this pass: the
    recipients of a non-burst report share one rendering."""
    todo = Delivery.objects.filter(workable(now), run_id=run.pk)
    if not claims.claim(todo, delivery_pk, worker):
        return None
    delivery = Delivery.objects.get(pk=delivery_pk)
    try:
        with leases(worker, (Delivery, delivery.pk), (ScheduleRun, run.pk)):
            key = json.dumps(delivery.scope, sort_keys=True)
            cache = rendered_by_scope if rendered_by_scope is not None else {}
            rendered = cache.get(key) or render(run, delivery)
            cache[key] = rendered
            if delivery.kind == DeliveryKind.FILE:
                write_file(Path(delivery.address), rendered.attachment[1])
            else:
                deliver([delivery.address], rendered.subject, rendered.body,
                        [rendered.attachment] if rendered.attachment and not rendered.html else [],
                        html=rendered.html, message_id=delivery.message_id,
                        headers={"X-CallTally-Schedule": run.schedule.name})
    except Exception as exc:  # a refused mail, an unwritable folder, or a report that fails: not the others
        reason = str(exc) if isinstance(exc, (MailError, OSError)) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, (MailError, OSError)):
            log.exception("scheduled report %s failed to render for %s", run.schedule.name, delivery.address)
        attempts = delivery.attempts + 1
        retry = now + BACKOFF[min(attempts, len(BACKOFF)) - 1] if attempts < MAX_ATTEMPTS else None
        claims.release(Delivery.objects.all(), delivery.pk, worker, state=DeliveryState.FAILED, attempts=attempts,
                       last_error=reason[:2000], retry_at=retry)
        return False
    # Recorded as sent in the statement that lets go of it: never sent twice.
    if not claims.release(Delivery.objects.all(), delivery.pk, worker, state=DeliveryState.SENT,
                          attempts=delivery.attempts + 1, sent_at=claims.now(), retry_at=None, last_error="",
                          rows=rendered.rows):
        log.warning("delivery %s of %s was taken over while it was sent", delivery.address, run)
    return True


def finish(run: ScheduleRun, worker: str, now: dt.datetime) -> None:
    """Give the run back with its counts; its final state once nothing is left to try."""
    deliveries = Delivery.objects.filter(run_id=run.pk)
    sent = deliveries.filter(state=DeliveryState.SENT).count()
    failed = deliveries.filter(state=DeliveryState.FAILED, retry_at__isnull=True).count()
    waiting = deliveries.filter(Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.FAILED,
                                                                   retry_at__isnull=False))
    changes = {"sent_count": sent, "failed_count": failed}
    if waiting.exists():
        retry = waiting.exclude(retry_at__isnull=True).order_by("retry_at").values_list("retry_at", flat=True).first()
        changes["state"] = RunState.RUNNING
        changes["message"] = (f"{waiting.count()} to send; next try at {retry:%Y-%m-%d %H:%M} UTC" if retry
                              else f"{waiting.count()} to send")
    else:
        changes["state"] = (RunState.SUCCEEDED if not failed else RunState.FAILED if not sent
                            else RunState.PARTLY_FAILED)
        changes["finished"] = claims.now()
        parts = [f"{sent} sent" if run.schedule.folder == "" else f"{sent} written"]
        if failed:
            parts.append(f"{failed} failed")
        if run.skipped_count:
            parts.append(f"{run.skipped_count} skipped (no calls in the period, or no e-mail address)")
        if run.missed_count:
            parts.append(f"{run.missed_count} earlier occurrence{'s' if run.missed_count != 1 else ''} missed "
                         "while no Scheduler ran (only the latest is sent)")
        changes["message"] = "; ".join(parts)
    claims.release(ScheduleRun.objects.all(), run.pk, worker, **changes)


def work_run(run_pk: int, worker: str, now: dt.datetime) -> ScheduleRun | None:
    """Claim a run, plan it if it is not yet, then work its deliveries; None if another worker
    has it."""
    if not claims.claim(ScheduleRun.objects.filter(state__in=OPEN_RUN_STATES), run_pk, worker):
        return None
    run = ScheduleRun.objects.select_related("schedule", "schedule__owner").get(pk=run_pk)
    pause = float(os.environ.get(PAUSE_VARIABLE) or 0)
    try:
        if not run.planned:
            plan(run, worker)
            run.refresh_from_db()
        rendered: dict[str, Rendered] = {}
        for pk in run.deliveries.filter(workable(now)).order_by("pk").values_list("pk", flat=True):
            if work_delivery(run, pk, worker, now, rendered) is not None and pause:
                time.sleep(pause)
            if not claims.renew(ScheduleRun.objects.all(), run.pk, worker):
                raise Lost()
        finish(run, worker, now)
    except Lost:
        log.warning("run %s was taken over by another Scheduler", run)
        return None
    except Exception as exc:  # a bug in planning: the run says so instead of stopping the Scheduler
        log.exception("scheduled report run %s failed", run)
        claims.release(ScheduleRun.objects.all(), run.pk, worker, state=RunState.FAILED,
                       message=f"{type(exc).__name__}: {exc}"[:2000], finished=claims.now())
    run.refresh_from_db()
    return run


def run_open(now: dt.datetime, worker: str) -> list[ScheduleRun]:
    """Work every run not finished that has something to do now."""
    worked = []
    pending = ScheduleRun.objects.filter(state__in=OPEN_RUN_STATES).filter(
        Q(planned=False) | Q(deliveries__in=Delivery.objects.filter(workable(now)))).distinct()
    for pk in pending.order_by("due", "pk").values_list("pk", flat=True):
        run = work_run(pk, worker, now)
        if run is not None:
            worked.append(run)
    return worked


def run_due(now: dt.datetime | None = None, *, worker: str | None = None) -> str:
    """What the Scheduler calls: start the occurrences that fell due, then work every run that
    has something to send (see the module's doc). Returns a line saying what it did."""
    now = now or claims.now()
    worker = worker or claims.worker_name()
    started = start_due(now)
    worked = run_open(now, worker)
    sent = sum(run.sent_count for run in worked)
    return f"{len(started)} runs started, {len(worked)} worked, {sent} delivered"


def run_now(schedule: Schedule, *, user=None, now: dt.datetime | None = None, work: bool = True,
            worker: str | None = None) -> ScheduleRun:
    """A run of ``schedule`` now, outside its recurrence (its own row, due now). ``work``: send
    it in this process (the CLI); else the Scheduler sends it within seconds (the web)."""
    now = now or claims.now()
    run = ScheduleRun.objects.create(schedule=schedule, due=now, manual=True, requested_by=user)
    if work:
        return work_run(run.pk, worker or claims.worker_name(), now) or run
    return run


def refresh_next_due(schedule: Schedule, now: dt.datetime | None = None) -> None:
    """Set ``next_due`` from the rule, from now (after an edit: no catch-up of what was before)."""
    schedule.next_due = next_due(schedule, now or claims.now())
    Schedule.objects.filter(pk=schedule.pk).update(next_due=schedule.next_due)
