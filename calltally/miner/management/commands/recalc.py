"""`calltally recalc [--site CODE] [--from DATE] [--to DATE]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import parse_date, print_json
from calltally.miner.pipeline import recalculate_sites
from calltally.miner.report import summary_lines
from calltally.sites.models import Site
from calltally.sites.services import get_site


class Command(BaseCommand):
    help = (
        "Make a period's calls again from the raw spool, exactly as a fresh import would today "
        "(current extensions, people, cost centers and tariffs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", help="one site (default: every site)")
        parser.add_argument("--from", dest="first", metavar="DATE", help="first day, in the site's time zone")
        parser.add_argument("--to", dest="last", metavar="DATE", help="last day (included)")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args, **options):
        sites = [get_site(options["site"])] if options["site"] else list(Site.objects.all())
        first = parse_date(options["first"], "--from") if options["first"] else None
        last = parse_date(options["last"], "--to") if options["last"] else None
        if first and last and last < first:
            raise CommandError("--to is before --from")
        quiet = options["quiet"] or options["json"]
        summary = recalculate_sites(sites, first, last, progress=None if quiet else self.stderr.write)
        if options["json"]:
            print_json({"recalculated": summary.reprocessed, **summary.as_dict()}, self.stdout)
            return
        self.stdout.write(f"recalculated {summary.reprocessed} calls")
        for line in summary_lines(summary)[1:]:
            self.stdout.write(line)
