"""`calltally calls export`."""

from __future__ import annotations

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from calltally.calls.services import EXPORT_COLUMNS, export_rows
from calltally.cliutil import parse_date
from calltally.sites.models import Site
from calltally.sites.services import get_site


class Command(BaseCommand):
    help = "Export calls as CSV or JSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="export")
        export = sub.add_parser("export", help="write calls as CSV or JSON")
        export.add_argument("--site", help="one site's calls (default: every site)")
        export.add_argument("--from", dest="first", metavar="DATE", help="first day, in the site's time zone")
        export.add_argument("--to", dest="last", metavar="DATE", help="last day (included)")
        export.add_argument("--format", choices=["csv", "json"], required=True)
        export.add_argument("--output", metavar="FILE", help="default: standard output")

    def handle(self, *args, **options):
        sites = [get_site(options["site"])] if options["site"] else list(Site.objects.all())
        first = parse_date(options["first"], "--from") if options["first"] else None
        last = parse_date(options["last"], "--to") if options["last"] else None
        if first and last and last < first:
            raise CommandError("--to is before --from")
        rows = export_rows(sites, first, last)
        self.stdout.ending = ""  # the writers below end their own lines
        try:
            stream = (
                open(options["output"], "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in finally
                if options["output"]
                else self.stdout
            )
        except OSError as exc:
            raise CommandError(f"cannot write {options['output']}: {exc.strerror}") from None
        count = 0
        try:
            if options["format"] == "csv":
                writer = csv.DictWriter(stream, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
                writer.writeheader()
                for row in rows:
                    writer.writerow(row)
                    count += 1
            else:
                stream.write("[")
                for row in rows:
                    stream.write(("\n" if count == 0 else ",\n") + json.dumps(row, ensure_ascii=False))
                    count += 1
                stream.write("\n]\n" if count else "]\n")
        finally:
            if stream is not self.stdout:
                stream.close()
        if options["output"]:
            self.stderr.write(f"{count} calls written to {options['output']}")
