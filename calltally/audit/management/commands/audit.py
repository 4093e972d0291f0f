"""`calltally audit list`: the audit trail, newest first."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.cliutil import print_json

UTC = dt.UTC


def parse_since(text: str) -> dt.datetime:
    """A day (from its midnight in the server's time zone) or a moment, as ISO 8601."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since {text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Command(BaseCommand):
    help = "Read the audit trail: sign-ins, sign-outs, changes, exports (times in UTC)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="list")
        listing = sub.add_parser("list", help="list audit events, newest first")
        listing.add_argument("--json", action="store_true", help="one JSON array")
        listing.add_argument("--since", metavar="DATE", help="from this day (server time zone) or ISO moment on")
        listing.add_argument("--action", choices=Action.values, metavar="ACTION",
                             help=f"only this action: {', '.join(Action.values)}")
        listing.add_argument("--user", metavar="USERNAME", help="only this account (or name tried)")
        listing.add_argument("--limit", type=int, default=100, metavar="N",
                             help="at most N events, the newest (default 100; 0 for all)")

    def handle(self, *args, **options):
        if options["limit"] < 0:
            raise CommandError("--limit must be 0 (all) or more.")
        events = AuditEvent.objects.order_by("-when", "-id")
        if options["since"]:
            events = events.filter(when__gte=parse_since(options["since"]))
        if options["action"]:
            events = events.filter(action=options["action"])
        if options["user"]:
            events = events.filter(username=options["user"])
        if options["limit"]:
            events = events[: options["limit"]]
        rows = [
            {
                "id": event.pk,
                "when": utc(event.when),
                "username": event.username,
                "address": event.address,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "object_text": event.object_text,
                "before": event.before,
                "after": event.after,
                "details": event.details,
            }
            for event in events
        ]
        if options["json"]:
            print_json(rows, self.stdout)
            return
        if not rows:
            self.stdout.write("no audit events")
            return
        for row in rows:
            line = f"{row['when']}  {row['action']:<15} {row['username'] or '-'}  {row['address'] or '-'}"
            if row["object_type"]:
                line += f"  {row['object_type']} #{row['object_id']} {row['object_text']!r}"
            if row["details"]:
                line += "  " + " ".join(f"{key}={value}" for key, value in row["details"].items())
            self.stdout.write(line)
        self.stdout.write(f"{len(rows)} audit events")
