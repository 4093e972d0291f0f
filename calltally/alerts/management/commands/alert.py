"""`calltally alert add|list|alerts|ack|reset|remove|check`: alert rules and the alerts they raised."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from calltally.alerts import services
from calltally.alerts.choices import Kind, Scope, State
from calltally.alerts.forms import AlertRuleForm
from calltally.alerts.models import Alert, AlertRule
from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.cliutil import print_json

# Flags of `alert add` and the form field each fills in.
PARAMETERS = {"cost": "cost", "currency": "currency", "duration": "duration", "prefixes": "prefixes",
              "countries": "countries", "categories": "categories", "hours": "hours", "count": "count",
              "minutes": "minutes", "factor": "factor", "baseline_days": "baseline_days", "floor": "floor",
              "business_hours": "business_hours", "holidays": "holidays", "webhook": "webhook"}


def when(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def rule_json(rule: AlertRule) -> dict:
    return {"name": rule.name, "kind": rule.kind, "enabled": rule.enabled, "scope": rule.scope,
            "site": rule.site.code if rule.site_id else None,
            "cost_center": rule.cost_center.code if rule.cost_center_id else None,
            "person": rule.person.username if rule.person_id else None,
            "parameters": {field: str(getattr(rule, field)) if getattr(rule, field) is not None else None
                           for field in PARAMETERS if field != "webhook" and getattr(rule, field) not in (None, "")},
            "emails": rule.email_list, "webhook": rule.webhook, "digest": rule.digest,
            "last_checked": when(rule.last_checked), "last_error": rule.last_error,
            "open_alerts": rule.open_alerts}


def alert_json(alert: Alert) -> dict:
    return {"id": alert.pk, "rule": alert.rule.name, "kind": alert.rule.kind, "key": alert.key,
            "site": alert.site.code if alert.site_id else None, "state": alert.state,
            "first_seen": when(alert.first_seen), "last_seen": when(alert.last_seen), "count": alert.count,
            "sample_call_ids": alert.sample_call_ids, "details": alert.details,
            "notified_at": when(alert.notified_at), "notify_error": alert.notify_error}


class Command(BaseCommand):
    help = "Alert rules (silent sites, costly, long or premium calls, toll fraud) and the alerts they raised."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="add|list|alerts|ack|reset|remove|check")
        add = sub.add_parser("add", help="add a rule")
        add.add_argument("name")
        add.add_argument("--kind", required=True, choices=Kind.values)
        where = add.add_mutually_exclusive_group()
        where.add_argument("--site", metavar="CODE", help="only this site's calls (or this site, if silent)")
        where.add_argument("--cost-center", metavar="CODE", help="this cost center and those below it")
        where.add_argument("--person", metavar="USERNAME", help="only this person's calls")
        add.add_argument("--cost", metavar="X", help="call-cost: an alert above this amount")
        add.add_argument("--currency", metavar="CODE", help="the amounts' currency (ISO 4217)")
        add.add_argument("--duration", metavar="S", help="call-duration: seconds of talk")
        add.add_argument("--prefixes", metavar="P,P…", help="destination: e.g. 0900,00881,+88")
        add.add_argument("--countries", metavar="CC,CC…", help="destination: ISO codes, e.g. CU,SO")
        add.add_argument("--categories", metavar="C,C…", help="destination: e.g. premium,special")
        add.add_argument("--hours", metavar="N", help="silent-site: business hours without a record")
        add.add_argument("--count", metavar="N", help="repeated-number: this many calls to one number …")
        add.add_argument("--minutes", metavar="T", help="… within this many minutes")
        add.add_argument("--factor", metavar="F", help="cost-spike: today above the usual × F")
        add.add_argument("--baseline-days", metavar="K", help="cost-spike: the usual is the mean of K days")
        add.add_argument("--floor", metavar="X", help="cost-spike: never an alert below this amount")
        add.add_argument("--business-hours", metavar='"Mon-Fri 08:00-18:00"',
                         help="out-of-hours (and silent-site): the business hours, in each site's zone")
        add.add_argument("--holidays", metavar="DAY,DAY…", help="YYYY-MM-DD, or MM-DD every year")
        add.add_argument("--no-site-holidays", action="store_true",
                         help="out-of-hours: the sites' holidays are business days like any other")
        add.add_argument("--email", action="append", default=[], metavar="ADDRESS", help="tell this address")
        add.add_argument("--webhook", metavar="URL", help="POST each alert as JSON to this URL")
        add.add_argument("--digest", action="store_true", help="one mail a day, not one per alert")
        add.add_argument("--disabled", action="store_true", help="add it switched off")

        listing = sub.add_parser("list", help="the rules")
        listing.add_argument("--json", action="store_true")
        alerts = sub.add_parser("alerts", help="the alerts raised, open ones first")
        alerts.add_argument("--open", action="store_true", help="only the open and acknowledged ones")
        alerts.add_argument("--json", action="store_true")
        for verb, text in (("ack", "acknowledge an alert: it stays armed, nothing is sent again"),
                           ("reset", "close an alert: the rule fires again on the next match")):
            sub.add_parser(verb, help=text).add_argument("id", type=int)
        sub.add_parser("remove", help="delete a rule and its alerts").add_argument("name")
        sub.add_parser("check", help="check every rule now (what the Scheduler does every minute)")

    def handle(self, *args, **options):
        action = options["action"]
        handler = {"add": self.add, "list": self.rules, "alerts": self.alerts, "ack": self.change,
                   "reset": self.change, "remove": self.remove, "check": self.check_now}[action]
        handler(options)

    def add(self, options):
        scope = Scope.ALL
        for option, value in (("site", Scope.SITE), ("cost_center", Scope.COST_CENTER), ("person", Scope.PERSON)):
            if options.get(option):
                scope = value
        data = {"name": options["name"], "kind": options["kind"], "scope": scope,
                "enabled": not options["disabled"], "digest": options["digest"],
                "site_holidays": not options["no_site_holidays"],
                "site": options.get("site") or "", "cost_center": options.get("cost_center") or "",
                "person": options.get("person") or "", "emails": ", ".join(options["email"])}
        for option, field in PARAMETERS.items():
            if options.get(option) is not None:
                data[field] = options[option]
        if options["kind"] == Kind.OUT_OF_HOURS and not data.get("business_hours"):
            data["business_hours"] = "Mon-Fri 08:00-18:00"  # the usual office, said in the output
        if options["kind"] == Kind.COST_SPIKE:
            data.setdefault("factor", "3")
            data.setdefault("baseline_days", "30")
        form = AlertRuleForm(data)
        if not form.is_valid():
            raise CommandError(form.error_text())
        rule = services.save_rule(form)
        self.stdout.write(f"rule {rule.name} added: {Kind(rule.kind).label.lower()}, {rule.parameters_text}; "
                          f"{rule.scope_text}; tells {rule.notify_text}")

    def rules(self, options):
        rules = list(AlertRule.objects.select_related("site", "cost_center", "person"))
        armed = {}
        for rule_id in Alert.objects.filter(state=State.OPEN).values_list("rule_id", flat=True):
            armed[rule_id] = armed.get(rule_id, 0) + 1
        for rule in rules:
            rule.open_alerts = armed.get(rule.pk, 0)
        if options["json"]:
            print_json([rule_json(rule) for rule in rules], self.stdout)
            return
        if not rules:
            self.stdout.write("no alert rules yet; add one with `calltally alert add NAME --kind KIND`")
            return
        for rule in rules:
            state = "" if rule.enabled else " (disabled)"
            self.stdout.write(f"{rule.name}{state}: {Kind(rule.kind).label.lower()}, {rule.parameters_text}; "
                              f"{rule.scope_text}; tells {rule.notify_text}; {rule.open_alerts} open")
            if rule.last_error:
                self.stdout.write(f"  last check failed: {rule.last_error}")

    def alerts(self, options):
        alerts = Alert.objects.select_related("rule", "site")
        if options["open"]:
            alerts = alerts.exclude(state=State.RESET)
        alerts = sorted(alerts, key=lambda a: (a.state != State.OPEN, a.state == State.RESET, -a.last_seen.timestamp()))
        if options["json"]:
            print_json([alert_json(alert) for alert in alerts], self.stdout)
            return
        if not alerts:
            self.stdout.write("no alerts")
            return
        for alert in alerts:
            lines = services.alert_lines(alert)
            self.stdout.write(f"#{alert.pk} [{alert.state}] {lines[0]}")
            for line in lines[1:]:
                self.stdout.write(line)

    def change(self, options):
        alert = Alert.objects.select_related("rule", "site").filter(pk=options["id"]).first()
        if alert is None:
            raise CommandError(f"no alert #{options['id']}; `calltally alert alerts` lists them")
        verb = services.acknowledge if options["action"] == "ack" else services.reset
        try:
            verb(alert)
        except services.AlertRefused as exc:
            raise CommandError(str(exc)) from None
        done = "acknowledged" if options["action"] == "ack" else "reset: the rule fires again on the next match"
        self.stdout.write(f"alert #{alert.pk} ({alert.rule.name}: {alert.key}) {done}")

    def remove(self, options):
        rule = AlertRule.objects.filter(name=options["name"]).first()
        if rule is None:
            raise CommandError(f"no rule named {options['name']!r}; `calltally alert list` lists them")
        before = audit.snapshot(rule)
        rule.delete()
        audit.record(None, Action.DELETE, obj=rule, before=before, text=rule.name)
        self.stdout.write(f"rule {rule.name} removed, with its alerts")

    def check_now(self, options):
        self.stdout.write(services.run_due())
