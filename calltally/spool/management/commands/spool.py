"""`calltally spool show --site CODE [--date D] [--tail N] [--grep TEXT] [--json]`: the raw records as received."""

from __future__ import annotations

import itertools

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import parse_date, print_json
from calltally.sites.services import get_site
from calltally.spool.rawview import decode, records_backwards
from calltally.spool.storage import Spool


class Command(BaseCommand):
    help = "Show a site's raw records exactly as the Recorder received them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="show")
        show = sub.add_parser("show", help="the raw records of one day file, newest last")
        show.add_argument("--site", required=True)
        show.add_argument("--date", metavar="YYYY-MM-DD", help="the UTC day the records arrived (default: the newest)")
        show.add_argument("--tail", type=int, default=50, metavar="N",
                          help="the last N records (default 50; 0 for every record of the day)")
        show.add_argument("--grep", metavar="TEXT", help="only records whose text contains TEXT (any case)")
        show.add_argument("--json", action="store_true", help="a JSON list of {received, source, offset, text}")

    def handle(self, *args, **options):
        site = get_site(options["site"])
        spool = Spool(settings.SPOOL_DIR)
        days = spool.days(site.code)
        if options["date"]:
            day = parse_date(options["date"], "--date")
            if day not in days:
                known = ", ".join(d.isoformat() for d in days[-5:]) or "none"
                raise CommandError(f"site {site.code} has no records received on {day} (latest days: {known})")
        elif days:
            day = days[-1]
        else:
            raise CommandError(f"site {site.code} has received no records yet")
        if options["tail"] < 0:
            raise CommandError("--tail must be 0 or more")
        needle = (options["grep"] or "").lower()

        # Newest first from the end of the file: --tail never reads more than it shows (plus misses of --grep).
        matches = (
            record for record in records_backwards(spool, site.code, day)
            if not needle or needle in decode(record.raw).lower()
        )
        if options["tail"]:
            matches = itertools.islice(matches, options["tail"])
        records = list(matches)
        records.reverse()
        items = [{"received": record.received, "source": record.source, "offset": record.offset,
                  "text": decode(record.raw)} for record in records]
        if options["json"]:
            print_json(items, self.stdout)
            return
        for item in items:
            self.stdout.write(f"{item['received']}  {item['source']}  {item['text']}")
        if not items:
            self.stderr.write(f"no records{' matching ' + repr(options['grep']) if needle else ''} on {day}")
