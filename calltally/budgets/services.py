"""The budgets' verbs: each budget's current period and what was spent in it, the notices of the
thresholds reached, and mailing them once (:func:`run_due`, which the Scheduler calls).

What was spent is read from the call rollups (:func:`calltally.calls.rollups.summary`): one grouped
query per distinct period among the budgets (a day, a week, a month, and the period before each
for carry-over), whatever the number of budgets or calls.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from calltally import claims
from calltally.accounts.models import Role
from calltally.accounts.scope import NOTHING, Scope, cost_center_children, subtree
from calltally.calls import rollups
from calltally.reports.options import preset_dates
from calltally.system.mail import MailError, deliver

from .choices import NoticeState, Notify, Period
from .models import Budget, BudgetNotice

log = logging.getLogger("calltally.scheduler")

ZERO = Decimal(0)
CENT = Decimal("0.01")
# How many times a notice that could not be sent is tried (once per check: every five minutes by
# default, CALLTALLY_BUDGET_CHECK_SECONDS) before it is left as failed: an SMTP server down for a
# while is waited for, a wrong address is not retried for ever.
ATTEMPTS = 20


# --- periods -------------------------------------------------------------------------------------

# A budget's period as the report presets name the one containing a day.
PRESET_OF = {Period.DAY: "today", Period.WEEK: "this-week", Period.MONTH: "this-month"}


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the calendar ``period`` containing ``day``."""
    return preset_dates(PRESET_OF[period], day)


def previous_bounds(period: str, first: dt.date) -> tuple[dt.date, dt.date]:
    """The period just before the one starting on ``first``."""
    return period_bounds(period, first - dt.timedelta(days=1))


def period_text(period: str, first: dt.date, last: dt.date) -> str:
    """A period in words: ``2026-03-20``, ``week of 2026-03-16``, ``March 2026``."""
    if period == Period.DAY:
        return f"{first:%Y-%m-%d}"
    if period == Period.WEEK:
        return f"week of {first:%Y-%m-%d}"
    return f"{first:%B %Y}"


@dataclass
class Status:
    """A budget in one period: its amount (carry included), what was spent, what is left."""

    budget: Budget
    first: dt.date
    last: dt.date
    base: Decimal
    carried: Decimal
    spent: Decimal

    @property
    def amount(self) -> Decimal:
        return self.base + self.carried

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.spent

    @property
    def percent(self) -> float:
        return round(float(self.spent * 100 / self.amount), 1) if self.amount > 0 else 0.0

    @property
    def state(self) -> str:
        """``over`` (100% or more), ``warning`` (past the lowest threshold), ``ok``, or ``disabled``."""
        if not self.budget.enabled:
            return "disabled"
        if self.percent >= 100:
            return "over"
        lowest = (self.budget.threshold_list or [100])[0]
        return "warning" if self.percent >= lowest else "ok"

    @property
    def reached(self) -> list[int]:
        """The thresholds the spending has reached in this period."""
        return [t for t in self.budget.threshold_list if self.percent >= t]

    @property
    def text(self) -> str:
        return period_text(self.budget.period, self.first, self.last)


def spending(ranges: Iterable[tuple[dt.date, dt.date]], people: set[int], centers: set[int]
             ) -> dict[tuple[dt.date, dt.date], list[dict]]:
    """Per period, the rollup sums grouped by person, cost center and currency of the given people
    and cost centers: one summary (one or three grouped queries) per distinct period."""
    # Only the rollups' own columns (summary() picks its grain from the fields a filter names).
    where = Q(person_id__in=sorted(people)) | Q(cost_center_id__in=sorted(centers))
    found = {}
    for first, last in set(ranges):
        rows = rollups.summary(["person", "cost_center"], first, last, where=where)
        if rows is None:  # cannot happen: the day and month people grains keep both
            raise RuntimeError("the rollups cannot answer a budget's spending")
        found[(first, last)] = rows
    return found


def spent_in(rows: list[dict], budget: Budget, centers: set[int] | None) -> Decimal:
    total = ZERO
    for row in rows:
        if row["currency"] != budget.currency:
            continue
        if (budget.person_id and row["person"] == budget.person_id) or (
                centers is not None and row["cost_center"] in centers):
            total += row["cost"]
    return total


def statuses(budgets: Iterable[Budget], now: dt.datetime | None = None,
             day_of: Callable[[Budget], dt.date] | None = None) -> dict[int, Status]:
    """Each budget's status in its current period (the one containing ``now`` in its zone, or the
    day ``day_of(budget)`` gives), by budget id: a few grouped queries for all of them."""
    now = now or claims.now()
    budgets = list(budgets)
    children = cost_center_children() if any(b.cost_center_id for b in budgets) else {}
    centers = {b.pk: set(subtree([b.cost_center_id], children)) for b in budgets if b.cost_center_id}
    periods, ranges = {}, []
    for budget in budgets:
        day = day_of(budget) if day_of else now.astimezone(budget.zone).date()
        current = period_bounds(budget.period, day)
        before = previous_bounds(budget.period, current[0]) if budget.carry_over else None
        periods[budget.pk] = (current, before)
        ranges.extend(r for r in (current, before) if r)
    sums = spending(ranges, {b.person_id for b in budgets if b.person_id},
                    set().union(*centers.values()) if centers else set())
    found = {}
    for budget in budgets:
        current, before = periods[budget.pk]
        carried = ZERO
        if before is not None:
            left = budget.amount - spent_in(sums[before], budget, centers.get(budget.pk))
            carried = max(ZERO, left).quantize(CENT)
        found[budget.pk] = Status(budget, *current, budget.amount, carried,
                                  spent_in(sums[current], budget, centers.get(budget.pk)))
    return found


# --- who sees which budget -------------------------------------------------------------------------

def visible(scope: Scope) -> Q:
    """The budgets an account sees: an administrator all; a site administrator those of the people
    of their sites; a manager those of their cost centers and of the people in them; a user their
    own. Only administrators change budgets."""
    if scope.nothing:
        return NOTHING
    if scope.role == Role.ADMINISTRATOR:
        return Q()
    if scope.role == Role.SITE_ADMIN:
        return Q(person__site_id__in=scope.site_ids or ())
    if scope.role == Role.MANAGER:
        found = Q(cost_center_id__in=scope.cost_center_ids or ()) | Q(
            person__cost_center_id__in=scope.cost_center_ids or ())
        return found | Q(person_id=scope.person_id) if scope.person_id else found
    return Q(person_id=scope.person_id) if scope.person_id else NOTHING


# --- notices ----------------------------------------------------------------------------------------

def managers_of(budget: Budget) -> list:
    """The people who manage a budget's person (their own manager, else their cost center's nearest
    manager) or its cost center (its own manager, else the nearest one above)."""
    if budget.person_id and budget.person.manager_id:
        return [budget.person.manager]
    center = budget.person.cost_center if budget.person_id else budget.cost_center
    while center is not None:
        if center.manager_id:
            return [center.manager]
        center = center.parent
    return []


def administrator_addresses() -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="").filter(
        Q(is_superuser=True) | Q(account__role=Role.ADMINISTRATOR))
    return list(users.values_list("email", flat=True))


def recipients(budget: Budget) -> list[str]:
    """The addresses a budget's notices go to (see :class:`Budget`), each once."""
    found: list[str] = []
    if Notify.PERSON in budget.notify and budget.person_id and budget.person.email:
        found.append(budget.person.email)
    if Notify.MANAGER in budget.notify:
        found.extend(p.email for p in managers_of(budget) if p.email)
    if Notify.ADMINISTRATORS in budget.notify:
        found.extend(administrator_addresses())
    found.extend(budget.emails or [])
    return sorted({address.strip().lower(): address.strip() for address in found if address.strip()}.values())


def money(value: Decimal, currency: str) -> str:
    return f"{currency} {Decimal(value).quantize(CENT):,}"


def mail_of(notice: BudgetNotice) -> tuple[str, str]:
    """The subject and body of a notice."""
    budget = notice.budget
    first, last = period_bounds(budget.period, notice.period_start)
    period = period_text(budget.period, first, last)
    percent = round(float(notice.spent * 100 / notice.amount), 1) if notice.amount else 0.0
    over = notice.threshold >= 100
    subject = (f"Budget {budget.name}: {'spent' if over else f'{notice.threshold}% reached'} for {period}")
    body = "\n".join([
        f"The call budget {budget.name} ({budget.who}) has reached {notice.threshold}% of its amount for {period}.",
        "",
        f"Amount:    {money(notice.amount, budget.currency)}",
        f"Spent:     {money(notice.spent, budget.currency)} ({percent}%) when this was noticed",
        f"Remaining: {money(notice.amount - notice.spent, budget.currency)}",
        f"Period:    {first:%Y-%m-%d} to {last:%Y-%m-%d} ({budget.timezone})",
        "",
        "Only calls charged in " + budget.currency + " count. This notice is sent once per period; the next "
        "period starts afresh.",
        "-- CallTally",
    ])
    return subject, body


def message_id_of(notice: BudgetNotice) -> str:
    """The notice's Message-ID, the same at every attempt (a mail sent twice shows once)."""
    return f"<budget-{notice.budget_id}-{notice.period_start:%Y%m%d}-{notice.threshold}@calltally>"


def record_notices(found: Iterable[Status]) -> int:
    """Make the notices of the thresholds each status has reached (once per budget, period and
    threshold, whatever other workers do at the same time); returns how many were made."""
    made = 0
    for status in found:
        reached = status.reached
        if not status.budget.enabled or not reached:
            continue
        known = set(BudgetNotice.objects.filter(budget=status.budget, period_start=status.first)
                    .values_list("threshold", flat=True))
        new = [t for t in reached if t not in known]
        if not new:
            continue
        to = recipients(status.budget)
        for threshold in new:
            # Thresholds passed in one step mail once: the highest says it all.
            state = NoticeState.PENDING if threshold == new[-1] else NoticeState.PASSED
            if not to and state == NoticeState.PENDING:
                state = NoticeState.NOBODY
            notice = BudgetNotice(budget=status.budget, period_start=status.first, threshold=threshold,
                                  amount=status.amount, spent=status.spent, state=state, recipients=to)
            notice.message_id = message_id_of(notice)
            try:
                with transaction.atomic():
                    notice.save()
            except IntegrityError:  # another worker made it first: it is theirs to send
                continue
            made += 1
    return made


def send_pending(worker: str | None = None) -> tuple[int, int]:
    """Send every pending notice this worker can claim; returns (sent, failed). Claims are taken
    on the real clock, whatever instant the budgets were checked for."""
    worker = worker or claims.worker_name()
    pending = BudgetNotice.objects.filter(state=NoticeState.PENDING)
    sent = failed = 0
    # A budget switched off meanwhile mails nothing more (its notice waits until it is on again).
    # The claim itself names the notice's own columns only (see claims.claim).
    for pk in list(pending.filter(budget__enabled=True).values_list("pk", flat=True)):
        if not claims.claim(pending, pk, worker):
            continue  # another worker sends it
        notice = BudgetNotice.objects.select_related("budget").get(pk=pk)
        subject, body = mail_of(notice)
        try:
            deliver(notice.recipients, subject, body, message_id=notice.message_id,
                    headers={"X-CallTally-Budget": notice.budget.name})
        except MailError as exc:
            failed += 1
            gave_up = notice.attempts + 1 >= ATTEMPTS
            log.warning("budget notice %s not sent: %s", notice, exc)
            claims.release(BudgetNotice.objects.all(), pk, worker, attempts=F("attempts") + 1, error=str(exc),
                           state=NoticeState.FAILED if gave_up else NoticeState.PENDING)
            continue
        sent += 1
        claims.release(BudgetNotice.objects.all(), pk, worker, attempts=F("attempts") + 1, error="",
                       state=NoticeState.SENT, sent_at=claims.now())
    return sent, failed


def run_due(now: dt.datetime | None = None, worker: str | None = None) -> str:
    """Check every enabled budget's current period, record the thresholds reached and mail the
    notices not sent yet (the Scheduler calls this every cycle; safe with any number of
    Schedulers). Returns a line saying what it did."""
    budgets = Budget.objects.filter(enabled=True).select_related(
        "person__manager", "person__cost_center__manager", "cost_center__manager")
    found = statuses(budgets, now)
    made = record_notices(found.values())
    sent, failed = send_pending(worker)
    line = (f"{len(found)} budget{'s' if len(found) != 1 else ''} checked, {made} threshold"
            f"{'s' if made != 1 else ''} reached, {sent} notice{'s' if sent != 1 else ''} sent"
            + (f", {failed} not sent (tried again at the next check)" if failed else ""))
    if made or sent or failed:  # a quiet check (most of them) leaves the log alone
        log.info("budgets: %s", line)
    return line
