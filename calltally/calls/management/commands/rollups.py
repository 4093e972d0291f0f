"""`calltally rollups rebuild`: recompute the rollups summaries are answered from."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from calltally.calls import rollups
from calltally.cliutil import parse_date
from calltally.sites.models import Site
from calltally.sites.services import get_site


class Command(BaseCommand):
    help = "Rollups: the per-day and per-month sums summaries read. `rollups rebuild` recomputes them from the calls."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="rebuild")
        rebuild = sub.add_parser(
            "rebuild", help="recompute rollups from the calls (whole months around --from/--to; all time if omitted)")
        rebuild.add_argument("--site", help="only this site (default: every site)")
        rebuild.add_argument("--from", dest="first", metavar="DATE", help="first local day, YYYY-MM-DD")
        rebuild.add_argument("--to", dest="last", metavar="DATE", help="last local day, YYYY-MM-DD")

    def handle(self, *args, **options):
        sites = [get_site(options["site"])] if options["site"] else list(Site.objects.order_by("code"))
        first = parse_date(options["first"], "--from") if options["first"] else None
        last = parse_date(options["last"], "--to") if options["last"] else None
        if first and last and first > last:
            raise CommandError("--from is after --to")
        for site in sites:
            began = time.monotonic()
            read = rollups.rebuild(site, first, last)
            self.stdout.write(f"{site.code}: rollups rebuilt from {read:,} call rows in "
                              f"{time.monotonic() - began:.1f} s")
