"""`calltally reprocess [--site CODE]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from calltally.cliutil import print_json
from calltally.miner.pipeline import reprocess_sites
from calltally.miner.report import summary_lines
from calltally.sites.models import Site
from calltally.sites.services import get_site


class Command(BaseCommand):
    help = "Make discarded calls again, e.g. after adding the extensions they were missing."

    def add_arguments(self, parser):
        parser.add_argument("--site")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        sites = [get_site(options["site"])] if options["site"] else list(Site.objects.all())
        summary = reprocess_sites(sites)
        if options["json"]:
            print_json({"reprocessed": summary.reprocessed, **summary.as_dict()}, self.stdout)
            return
        self.stdout.write(f"reprocessed {summary.reprocessed} discarded calls")
        for line in summary_lines(summary)[1:]:
            self.stdout.write(line)
