"""The alerts' verbs: check the rules (the Scheduler, every minute), tell people, acknowledge, reset.

``run_due()`` takes each enabled rule with one ``UPDATE`` (:mod:`calltally.claims`), so that of any
number of Schedulers exactly one checks it; the check reads the calls that arrived since the rule's
watermark (``last_call_id``: call ids only grow) in a few queries for the whole batch, never one per
call, and moves the watermark in the same transaction that records the alerts — a Scheduler killed
mid-check leaves both as they were. The notifications follow, while the rule is still held: each
target an alert reached is written on the alert before the rule is given back, so a failing send is
tried again at the next check and a delivered one is never repeated.

"Trigger once until reset": while an alert of a rule and key (a site, a person, a number…) is open
or acknowledged, new matches only add to it (count, last seen, sample calls); a reset closes it,
and the next match opens — and tells — a new one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.db.models.functions import TruncDate

from calltally import claims
from calltally.accounts.scope import subtree
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.calls.choices import Category, Direction
from calltally.calls.models import Call
from calltally.rating.services import site_calendar
from calltally.sites.models import Site
from calltally.system.mail import MailError, deliver

from .choices import ARMED_OFF, Kind, Scope, State
from .models import Alert, AlertRule
from .silence import Monitoring, last_received, monitoring_of, silence

log = logging.getLogger("calltally.alerts")
UTC = dt.UTC
# Calls that started longer ago than this are history made again (a recalculation, a reprocess
# run gives calls new ids), not news: no rule raises an alert on them.
MAX_AGE = dt.timedelta(hours=48)
SAMPLE = 10  # sample calls kept on an alert
WEBHOOK_TIMEOUT = 10  # seconds
DIGEST_TIME = dt.time(7, 0)  # a daily digest leaves at the first check after this, in the rule's zone
NOTIFY_BATCH = 50  # alerts told per rule and check: a flood is told over the next minutes, not at once
BATCH = 20_000  # calls a rule reads at once
NUMBER_CHUNK = 500  # numbers per query when looking for repeated calls


class NotifyError(Exception):
    """A target could not be told; the message says why, in words."""


class ClaimLost(Exception):
    """Another worker holds the rule now (our lease ran out): the check is rolled back."""


@dataclass
class Match:
    """What one check found for one key."""

    key: str
    site_id: int | None
    first: dt.datetime
    last: dt.datetime
    count: int  # the matching calls when the alert is opened
    call_ids: list[int] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    added: int | None = None  # what to add to an alert already open (default: count)


# --- the checks ---------------------------------------------------------------------------------
def scope_q(rule: AlertRule) -> Q:
    """The calls a rule covers."""
    if rule.scope == Scope.SITE:
        return Q(site_id=rule.site_id)
    if rule.scope == Scope.COST_CENTER:
        return Q(cost_center_id__in=subtree([rule.cost_center_id]))
    if rule.scope == Scope.PERSON:
        return Q(person_id=rule.person_id)
    return Q()


def new_calls(rule: AlertRule, top: int, now: dt.datetime):
    """The calls the rule has not looked at yet (ids after its watermark, up to ``top``)."""
    return Call.objects.filter(scope_q(rule), pk__gt=rule.last_call_id, pk__lte=top, start__gte=now - MAX_AGE)


def sites_by_id(ids) -> dict[int, Site]:
    return {site.pk: site for site in Site.objects.filter(pk__in=set(ids))}


def who(row: dict) -> str:
    """The person of a call, else its site and extension."""
    return row["person__username"] or f"{row['site__code']} ext {row['extension_number'] or '?'}"


def number_of(row: dict) -> str:
    return row["e164"] or row["remote_number"] or row["dialled_number"]


CALL_FIELDS = ("pk", "site_id", "site__code", "person_id", "person__username", "extension_number", "start",
               "e164", "remote_number", "dialled_number", "cost", "currency", "talk_seconds", "category",
               "destination")


def grouped(rows: list[dict], key_of, details_of=None) -> list[Match]:
    """Matching calls grouped into one match per key (the earliest sample calls first)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    matches = []
    for key, calls in groups.items():
        calls.sort(key=lambda row: (row["start"], row["pk"]))
        details = {
            "cost": str(sum((row["cost"] for row in calls), Decimal("0")).quantize(Decimal("0.01"))),
            "currency": calls[-1]["currency"],
            "numbers": sorted({number_of(row) for row in calls if number_of(row)})[:SAMPLE],
            "who": sorted({who(row) for row in calls})[:SAMPLE],
        }
        if details_of is not None:
            details.update(details_of(calls))
        matches.append(Match(key, calls[-1]["site_id"], calls[0]["start"], calls[-1]["start"], len(calls),
                             [row["pk"] for row in calls[:SAMPLE]], details))
    return matches


def country_codes(countries: list[str]) -> dict[str, int]:
    return {country: phonenumbers.country_code_for_region(country) for country in countries
            if phonenumbers.country_code_for_region(country)}


def region_of(e164: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
    except phonenumbers.NumberParseException:
        return ""


def prefix_forms(prefix: str) -> set[str]:
    """A prefix as it may begin a number: an international one both as ``+`` and as ``00``."""
    forms = {prefix}
    if prefix.startswith("+"):
        forms.add("00" + prefix[1:])
    elif prefix.startswith("00"):
        forms.add("+" + prefix[2:])
    return forms


def destination_matches(rule: AlertRule, calls) -> list[Match]:
    """Calls to a listed prefix (as dialled, as the remote number or in E.164), a listed country of
    the called number, or a listed category."""
    prefixes = {prefix: prefix_forms(prefix) for prefix in rule.prefix_list}
    wanted = Q(pk__in=[])
    for form in set().union(*prefixes.values()):
        wanted |= Q(dialled_number__startswith=form) | Q(remote_number__startswith=form) | Q(e164__startswith=form)
    codes = country_codes(rule.country_list)
    for code in set(codes.values()):
        wanted |= Q(e164__startswith=f"+{code}")
    if rule.category_list:
        wanted |= Q(category__in=rule.category_list)
    rows = list(calls.filter(wanted, direction=Direction.OUTBOUND).values(*CALL_FIELDS).order_by())

    def reason(row: dict) -> str:
        numbers = [value for value in (row["dialled_number"], row["remote_number"], row["e164"]) if value]
        for prefix, forms in prefixes.items():
            if any(number.startswith(form) for number in numbers for form in forms):
                return f"prefix {prefix}"
        if row["category"] in rule.category_list:
            return f"category {row['category']}"
        region = region_of(row["e164"]) if row["e164"] else ""
        if region in codes:
            return f"country {region}"
        return ""  # a number of a shared country code (+1, +7…) of another country

    kept = [row for row in rows if reason(row)]
    for row in kept:
        row["reason"] = reason(row)
    return grouped(kept, lambda row: row["site__code"],
                   lambda calls: {"reasons": sorted({row["reason"] for row in calls})})


def out_of_hours_matches(rule: AlertRule, calls) -> list[Match]:
    """International calls that started outside the rule's business hours (or on a holiday), in
    their site's zone."""
    spec = rule.hours_spec()
    rows = list(calls.filter(direction=Direction.OUTBOUND, category=Category.INTERNATIONAL)
                .values(*CALL_FIELDS).order_by())
    sites = sites_by_id(row["site_id"] for row in rows)
    calendars = {pk: site_calendar(site) for pk, site in sites.items()} if rule.site_holidays else {}
    kept = []
    for row in rows:
        local = row["start"].astimezone(sites[row["site_id"]].zone)
        holiday = rule.holiday(local.date()) or (
            rule.site_holidays and bool(calendars[row["site_id"]].holiday(local.date().toordinal())))
        if holiday or not spec.contains(local):
            kept.append(row)
    return grouped(kept, lambda row: row["site__code"],
                   lambda calls: {"business_hours": rule.business_hours})


def repeated_matches(rule: AlertRule, calls, top: int) -> list[Match]:
    """Numbers called ``count`` times or more within ``minutes`` (a window that holds at least one
    of the new calls): the calls around the new ones are read in one query per 500 numbers."""
    window = dt.timedelta(minutes=rule.minutes)
    fresh = list(calls.filter(direction=Direction.OUTBOUND).exclude(e164="", remote_number="")
                 .values(*CALL_FIELDS).order_by())
    if not fresh:
        return []
    new_ids = {row["pk"] for row in fresh}
    numbers = sorted({row["e164"] or row["remote_number"] for row in fresh})
    low = min(row["start"] for row in fresh) - window
    high = max(row["start"] for row in fresh) + window
    around: dict[str, list[dict]] = defaultdict(list)
    for index in range(0, len(numbers), NUMBER_CHUNK):
        chunk = numbers[index:index + NUMBER_CHUNK]
        for row in (Call.objects.filter(scope_q(rule), Q(e164__in=chunk) | Q(e164="", remote_number__in=chunk),
                                        direction=Direction.OUTBOUND, start__gte=low, start__lte=high, pk__lte=top)
                    .values(*CALL_FIELDS).order_by()):
            around[row["e164"] or row["remote_number"]].append(row)
    matches = []
    for number, rows in around.items():
        rows.sort(key=lambda row: (row["start"], row["pk"]))
        best: list[dict] = []
        first = 0
        for last in range(len(rows)):
            while rows[last]["start"] - rows[first]["start"] > window:
                first += 1
            span = rows[first:last + 1]
            if len(span) >= rule.count and len(span) > len(best) and any(r["pk"] in new_ids for r in span):
                best = span
        if best:
            [match] = grouped(best, lambda row, key=number: key, lambda calls: {"window_minutes": rule.minutes})
            match.added = sum(1 for row in rows if row["pk"] in new_ids)
            matches.append(match)
    return matches


def cost_spike_matches(rule: AlertRule, calls) -> list[Match]:
    """People whose cost on a day (the local day of their new calls, in the site's zone) is above
    ``factor`` × their mean daily cost over the ``baseline_days`` before it (quiet days count as 0),
    and above ``floor``. The totals come from one grouped query per time zone."""
    fresh = list(calls.exclude(person_id=None).values(*CALL_FIELDS).order_by())
    if not fresh:
        return []
    sites = sites_by_id(row["site_id"] for row in fresh)
    by_zone: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in fresh:
        by_zone[sites[row["site_id"]].timezone][row["person_id"]].append(row)
    days_back = rule.baseline_days
    factor, floor = Decimal(rule.factor), Decimal(rule.floor or 0)
    matches = []
    for zone_name, people in by_zone.items():
        zone = zoneinfo.ZoneInfo(zone_name)
        days = {row["start"].astimezone(zone).date() for rows in people.values() for row in rows}
        since = dt.datetime.combine(min(days) - dt.timedelta(days=days_back), dt.time.min, tzinfo=zone)
        until = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        totals: dict[tuple[int, dt.date], Decimal] = {}
        history = Call.objects.filter(person_id__in=list(people), start__gte=since, start__lt=until)
        if rule.currency:
            history = history.filter(currency=rule.currency)
        for row in (history.annotate(day=TruncDate("start", tzinfo=zone)).values("person_id", "day")
                    .annotate(total=Sum("cost")).order_by()):
            totals[(row["person_id"], row["day"])] = row["total"] or Decimal("0")
        for person_id, rows in people.items():
            worst = None
            for day in sorted({row["start"].astimezone(zone).date() for row in rows}):
                today = totals.get((person_id, day), Decimal("0"))
                usual = sum((totals.get((person_id, day - dt.timedelta(days=n)), Decimal("0"))
                             for n in range(1, days_back + 1)), Decimal("0")) / days_back
                threshold = max(floor, factor * usual)
                if today > threshold and (worst is None or today - threshold > worst["over"]):
                    worst = {"day": day.isoformat(), "today": str(today.quantize(Decimal("0.01"))),
                             "usual": str(usual.quantize(Decimal("0.01"))),
                             "threshold": str(threshold.quantize(Decimal("0.01"))),
                             "factor": str(factor), "baseline_days": days_back, "over": today - threshold}
            if worst is not None:
                worst["over"] = str(worst["over"].quantize(Decimal("0.01")))
                [match] = grouped(rows, lambda row: row["person__username"], lambda calls, w=worst: w)
                matches.append(match)
    return matches


def call_matches(rule: AlertRule, top: int, now: dt.datetime) -> list[Match]:
    calls = new_calls(rule, top, now)
    if rule.currency and rule.kind in (Kind.CALL_COST,):
        calls = calls.filter(currency=rule.currency)
    if rule.kind == Kind.CALL_COST:
        rows = calls.filter(cost__gt=rule.cost).values(*CALL_FIELDS).order_by()
        return grouped(list(rows), who)
    if rule.kind == Kind.CALL_DURATION:
        rows = calls.filter(talk_seconds__gt=rule.duration).values(*CALL_FIELDS).order_by()
        return grouped(list(rows), who)
    if rule.kind == Kind.DESTINATION:
        return destination_matches(rule, calls)
    if rule.kind == Kind.OUT_OF_HOURS:
        return out_of_hours_matches(rule, calls)
    if rule.kind == Kind.REPEATED:
        return repeated_matches(rule, calls, top)
    if rule.kind == Kind.COST_SPIKE:
        return cost_spike_matches(rule, calls)
    return []


def silent_matches(rule: AlertRule, now: dt.datetime) -> list[Match]:
    """The sites of the rule silent for its hours (else each site's own threshold) within its
    business hours (else each site's own)."""
    sites = list(Site.objects.filter(enabled=True).filter(Q(pk=rule.site_id) if rule.scope == Scope.SITE else Q()))
    own = rule.hours_spec()
    monitoring = monitoring_of(sites)
    last = last_received(sites)
    matches = []
    for site in sites:
        config = monitoring[site.pk]
        if own is not None:
            config = Monitoring(rule.hours or config.hours, own.days, own.start, own.end)
        elif rule.hours:
            config = Monitoring(rule.hours, config.days, config.start, config.end)
        silent, hours = silence(last[site.pk], site.created, now, site.zone, config)
        if silent:
            matches.append(Match(site.code, site.pk, now, now, 1, [], {
                "silent_hours": round(hours, 1), "threshold": config.hours,
                "last_received": last[site.pk].isoformat() if last[site.pk] else None,
                "business_hours": config.text}, added=0))
    return matches


def record(rule: AlertRule, matches: list[Match], now: dt.datetime) -> list[Alert]:
    """Add the matches to the rule's armed alerts, or open new ones; the new alerts are returned."""
    if not matches:
        return []
    armed = {alert.key: alert for alert in Alert.objects.filter(rule=rule, state__in=ARMED_OFF,
                                                                key__in=[m.key for m in matches])}
    opened = []
    for match in matches:
        alert = armed.get(match.key)
        if alert is not None:
            alert.count += match.count if match.added is None else match.added
            alert.last_seen = max(alert.last_seen, match.last, now if rule.kind == Kind.SILENT_SITE else match.last)
            alert.first_seen = min(alert.first_seen, match.first)
            alert.sample_call_ids = list(dict.fromkeys([*alert.sample_call_ids, *match.call_ids]))[:SAMPLE]
            alert.details = {**alert.details, **match.details}
            alert.save(update_fields=["count", "last_seen", "first_seen", "sample_call_ids", "details"])
            continue
        opened.append(Alert.objects.create(
            rule=rule, key=match.key[:200], site_id=match.site_id, first_seen=match.first, last_seen=match.last,
            count=match.count, sample_call_ids=match.call_ids[:SAMPLE], details=match.details))
    return opened


def check_rule(rule: AlertRule, top: int, now: dt.datetime, worker: str) -> list[Alert]:
    """One check of one rule the worker holds: the alerts recorded and the watermark moved together."""
    with transaction.atomic():
        if rule.kind == Kind.SILENT_SITE:
            matches = silent_matches(rule, now)
        else:
            matches = call_matches(rule, top, now)
        opened = record(rule, matches, now)
        if not AlertRule.objects.filter(pk=rule.pk, claimed_by=worker).update(
                last_call_id=max(top, rule.last_call_id), last_checked=now):
            raise ClaimLost(rule.name)
    return opened


def batch_end(after: int, top: int) -> int:
    """The id that ends the next batch of at most BATCH calls after ``after`` (``top`` at most)."""
    ids = Call.rows.filter(pk__gt=after, pk__lte=top).order_by("pk").values_list("pk", flat=True)
    return next(iter(ids[BATCH - 1:BATCH]), None) or top


def last_call_id() -> int:
    return Call.rows.aggregate(top=Max("pk"))["top"] or 0


def run_due(now: dt.datetime | None = None, *, worker: str | None = None) -> str:
    """Check every enabled rule this worker can claim, then tell what is waiting to be told. Returns
    a line saying what was done."""
    now = now or claims.now()
    worker = worker or claims.worker_name()
    top = last_call_id()
    checked, opened, errors = 0, 0, []
    for rule in AlertRule.objects.filter(enabled=True).select_related("site", "person", "cost_center"):
        if not claims.claim(AlertRule.objects.filter(enabled=True), rule.pk, worker, at=now):
            continue  # another Scheduler checks it
        error = ""
        try:
            while True:  # in batches when far behind (a Scheduler that was down): memory stays bounded
                ceiling = batch_end(rule.last_call_id, top) if rule.watches_calls else top
                opened += len(check_rule(rule, ceiling, now, worker))
                rule.last_call_id = max(rule.last_call_id, ceiling)
                if ceiling >= top:
                    break
                claims.renew(AlertRule.objects.all(), rule.pk, worker)
            checked += 1
            notify(rule, now, worker)
        except ClaimLost:
            continue
        except Exception as exc:  # one broken rule must not stop the others
            log.exception("alert rule %s failed", rule.name)
            error = f"{type(exc).__name__}: {exc}"
            errors.append(f"{rule.name}: {error}")
        claims.release(AlertRule.objects.all(), rule.pk, worker, last_error=error[:2000])
    line = f"{checked} rule{'' if checked == 1 else 's'} checked, {opened} alert{'' if opened == 1 else 's'} raised"
    return line + (f"; failed: {'; '.join(errors)}" if errors else "")


# --- telling people ------------------------------------------------------------------------------
def zone_of(alert: Alert):
    return alert.site.zone if alert.site_id else UTC


def local(moment: dt.datetime | None, zone) -> str:
    if moment is None:
        return "—"
    value = moment.astimezone(zone)
    offset = value.strftime("%z")
    return f"{value:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def payload(alert: Alert) -> dict:
    """An alert as the webhook receives it (JSON)."""
    rule = alert.rule
    return {
        "alert": alert.pk, "rule": rule.name, "kind": rule.kind, "kind_label": Kind(rule.kind).label,
        "scope": rule.scope_text, "parameters": rule.parameters_text, "key": alert.key, "state": alert.state,
        "site": alert.site.code if alert.site_id else None,
        "first_seen": alert.first_seen.isoformat(), "last_seen": alert.last_seen.isoformat(),
        "count": alert.count, "sample_call_ids": alert.sample_call_ids, "details": alert.details,
    }


def alert_lines(alert: Alert) -> list[str]:
    zone = zone_of(alert)
    details = ", ".join(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                        for key, value in alert.details.items() if value not in (None, "", []))
    return [
        f"{alert.rule.name}: {alert.key} ({Kind(alert.rule.kind).label.lower()}; {alert.rule.parameters_text})",
        f"  first seen {local(alert.first_seen, zone)}, last seen {local(alert.last_seen, zone)}, "
        f"{alert.count} matching call{'' if alert.count == 1 else 's'}" if alert.rule.watches_calls else
        f"  since {local(alert.first_seen, zone)}",
        *([f"  {details}"] if details else []),
        *([f"  sample calls: {', '.join(f'#{pk}' for pk in alert.sample_call_ids)}"] if alert.sample_call_ids else []),
    ]


def post_json(url: str, body) -> None:
    """POST ``body`` as JSON; NotifyError in words unless the answer is 2xx."""
    request = urllib.request.Request(url, data=json.dumps(body, default=str).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "CallTally alerts"})
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310 (an admin's URL)
            response.read()
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"the webhook answered {exc.code} {exc.reason}") from None
    except OSError as exc:  # URLError, a timeout, a refused connection
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"the webhook could not be reached: {reason}") from None


def targets(rule: AlertRule) -> list[str]:
    return [*(["email"] if rule.email_list else []), *(["webhook"] if rule.webhook else [])]


def send(rule: AlertRule, target: str, alerts: list[Alert], day: dt.date | None = None) -> None:
    """Tell one target about ``alerts`` (one alert, or a day's digest)."""
    if target == "webhook":
        body = payload(alerts[0]) if day is None else {
            "digest": day.isoformat(), "rule": rule.name, "alerts": [payload(alert) for alert in alerts]}
        post_json(rule.webhook, body)
        return
    if day is None:
        alert = alerts[0]
        subject = f"CallTally alert: {rule.name} — {alert.key}"
        message_id = f"<calltally-alert-{alert.pk}@calltally.invalid>"
    else:
        subject = f"CallTally alerts of {day:%Y-%m-%d}: {rule.name} ({len(alerts)})"
        message_id = f"<calltally-digest-{rule.pk}-{day:%Y%m%d}@calltally.invalid>"
    body = [line for alert in alerts for line in [*alert_lines(alert), ""]]
    body.append("Acknowledge or reset them on the Alerts page, or with `calltally alert ack|reset ID`.")
    try:
        deliver(rule.email_list, subject, "\n".join(body), message_id=message_id,
                headers={"X-CallTally-Alert": ",".join(str(alert.pk) for alert in alerts)})
    except MailError as exc:
        raise NotifyError(f"the mail was not sent: {exc}") from None


def mark(alerts: list[Alert], target: str, now: dt.datetime, all_targets: list[str]) -> None:
    """Write on each alert that ``target`` was told (before the rule is given back)."""
    for alert in alerts:
        alert.delivered = {**alert.delivered, target: now.isoformat()}
        done = all(name in alert.delivered for name in all_targets)
        alert.notified_at = now if done else None
        alert.notify_error = ""
        Alert.objects.filter(pk=alert.pk).update(delivered=alert.delivered, notified_at=alert.notified_at,
                                                 notify_error="")


def failed(alerts: list[Alert], target: str, error: NotifyError) -> None:
    log.warning("alert notification to %s failed: %s", target, error)
    for alert in alerts:
        Alert.objects.filter(pk=alert.pk).update(notify_error=f"{target}: {error}"[:2000])


def notify(rule: AlertRule, now: dt.datetime, worker: str) -> None:
    """Tell the rule's targets what they have not been told (the worker holds the rule)."""
    wanted = targets(rule)
    if not wanted:
        return
    pending = Alert.objects.filter(rule=rule, notified_at__isnull=True).select_related("rule", "site")
    if rule.digest:
        zone = rule.site.zone if rule.site_id else UTC
        local_now = now.astimezone(zone)
        if rule.digest_sent_on == local_now.date() or local_now.time() < DIGEST_TIME:
            return
        alerts = list(pending.exclude(state=State.RESET).order_by("first_seen")[:500])
        complete = True
        for target in wanted:
            waiting = [alert for alert in alerts if target not in alert.delivered]
            if not waiting:
                continue
            try:
                send(rule, target, waiting, day=local_now.date())
            except NotifyError as exc:
                failed(waiting, target, exc)
                complete = False
                continue
            mark(waiting, target, now, wanted)
        if complete:
            AlertRule.objects.filter(pk=rule.pk, claimed_by=worker).update(digest_sent_on=local_now.date())
        return
    for alert in pending.filter(state=State.OPEN).order_by("first_seen")[:NOTIFY_BATCH]:
        Alert.objects.filter(pk=alert.pk).update(notify_attempts=alert.notify_attempts + 1)
        for target in wanted:
            if target in alert.delivered:
                continue
            try:
                send(rule, target, [alert])
            except NotifyError as exc:
                failed([alert], target, exc)
                continue
            mark([alert], target, now, wanted)
        claims.renew(AlertRule.objects.all(), rule.pk, worker)


# --- who sees what ------------------------------------------------------------------------------
def rules_in_scope(scope, queryset):
    """The rules an account sees: an administrator all; a site administrator those of one of their
    sites or of a person of one of them (a rule over every site or a cost center is an administrator's)."""
    if scope.is_administrator:
        return queryset
    if not scope.runs_sites:
        return queryset.none()
    sites = scope.site_ids or ()
    return queryset.filter(Q(scope=Scope.SITE, site_id__in=sites) | Q(scope=Scope.PERSON, person__site_id__in=sites))


def alerts_in_scope(scope, queryset):
    """The alerts an account sees: an administrator all; a site administrator those of their sites."""
    if scope.is_administrator:
        return queryset
    if not scope.runs_sites:
        return queryset.none()
    return queryset.filter(site_id__in=scope.site_ids or ())


def open_alerts(scope) -> int:
    """How many open alerts the account sees (the menu's badge): one count query."""
    if not scope.runs_sites:
        return 0
    return alerts_in_scope(scope, Alert.objects.filter(state=State.OPEN)).count()


def may_change_rule(scope, rule: AlertRule) -> bool:
    site = rule.owner_site()
    return scope.is_administrator or (site is not None and scope.may_configure(site))


def may_act_on(scope, alert: Alert) -> bool:
    """Whether the account may acknowledge or reset the alert (it runs the alert's site)."""
    return scope.is_administrator or (alert.site_id is not None and scope.may_operate(alert.site_id))


# --- what people do with alerts ------------------------------------------------------------------
class AlertRefused(Exception):
    """An acknowledgement or reset that cannot be done; the message says why."""


def acknowledge(alert: Alert, *, user=None, request=None, now: dt.datetime | None = None) -> Alert:
    """Someone looks into it: the alert stays armed (nothing is sent again) until it is reset."""
    if alert.state != State.OPEN:
        raise AlertRefused(f"alert #{alert.pk} is {alert.get_state_display().lower()}, not open")
    return _change(alert, request, user, state=State.ACKNOWLEDGED, acknowledged_at=now or claims.now(),
                   acknowledged_by=user or getattr(request, "user", None))


def reset(alert: Alert, *, user=None, request=None, now: dt.datetime | None = None) -> Alert:
    """Close the alert and re-arm its rule for the key: the next match opens and tells a new one."""
    if alert.state == State.RESET:
        raise AlertRefused(f"alert #{alert.pk} is already reset")
    return _change(alert, request, user, state=State.RESET, reset_at=now or claims.now(),
                   reset_by=user or getattr(request, "user", None))


def _change(alert: Alert, request, user, **values) -> Alert:
    before = audit.snapshot(alert)
    for name, value in values.items():
        if name.endswith("_by") and (value is None or not getattr(value, "is_authenticated", False)):
            value = None
        setattr(alert, name, value)
    alert.save(update_fields=list(values))
    audit.record(request, Action.UPDATE, obj=alert, before=before, after=audit.snapshot(alert), user=user,
                 text=f"alert #{alert.pk} {alert.state}")
    return alert


def save_rule(form, request=None) -> AlertRule:
    """Save a validated rule form from the command line, audited (the web page's edit view audits its own)."""
    created = form.instance.pk is None
    before = None if created else audit.snapshot(AlertRule.objects.get(pk=form.instance.pk))
    rule = form.save()
    audit.record(request, Action.CREATE if created else Action.UPDATE, obj=rule, before=before,
                 after=audit.snapshot(rule))
    return rule
