"""`calltally discarded list`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from calltally.calls.services import discarded
from calltally.cliutil import print_json
from calltally.sites.models import Site
from calltally.sites.services import get_site


class Command(BaseCommand):
    help = "List discarded calls with their reason and raw text."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="list")
        listing = sub.add_parser("list", help="list discarded calls")
        listing.add_argument("--site")
        listing.add_argument("--json", action="store_true")
        listing.add_argument("--limit", type=int, default=None, help="at most this many (newest kept)")

    def handle(self, *args, **options):
        sites = [get_site(options["site"])] if options["site"] else list(Site.objects.all())
        rows = discarded(sites)
        if options["limit"]:
            rows = rows.order_by("-id")[: options["limit"]]
        data = [
            {
                "id": d.pk,
                "site": d.site.code,
                "reason": d.get_reason_display(),
                "detail": d.detail,
                "extension": d.extension_number,
                "received": d.received.isoformat() if d.received else None,
                "start": d.start.astimezone(d.site.zone).isoformat() if d.start else None,
                "spool": f"{d.segment.relative_path}@{d.raw_offset}",
                "raw": d.raw_text,
            }
            for d in rows
        ]
        if options["json"]:
            print_json(data, self.stdout)
            return
        if not data:
            self.stdout.write("no discarded calls")
            return
        for row in data:
            self.stdout.write(f"#{row['id']} {row['site']} {row['reason']}: {row['detail']}")
            self.stdout.write(f"    {row['spool']}  {row['raw'][:200]}")
        self.stdout.write(f"{len(data)} discarded calls")
