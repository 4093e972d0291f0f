"""`calltally extensions undefined [--create]`: extensions calls were discarded for."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from calltally.calls.services import create_undefined_extensions, undefined_extensions
from calltally.cliutil import print_json
from calltally.miner.pipeline import reprocess_sites
from calltally.miner.report import summary_lines
from calltally.sites.services import get_site


def local(instant, zone) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M") if instant else "-"


class Command(BaseCommand):
    help = "List the undefined extensions (calls discarded as 'Extension not configured'), or create them."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="undefined")
        undefined = sub.add_parser("undefined", help="list (or --create) the extensions calls were discarded for")
        undefined.add_argument("--site", metavar="CODE")
        undefined.add_argument("--create", action="store_true",
                               help="create them (unassigned), then reprocess their discarded calls")
        undefined.add_argument("--person-from-number", action="store_true",
                               help="with --create: give each a virtual person named SITE-NUMBER")
        undefined.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        site = get_site(options["site"]) if options["site"] else None
        if options["create"]:
            return self.create(site, options)
        if options["person_from_number"]:
            self.stderr.write("--person-from-number is used with --create; listing only")
        rows = undefined_extensions(site)
        if options["json"]:
            print_json([row.as_dict() for row in rows], self.stdout)
            return
        if not rows:
            self.stdout.write("no undefined extensions: no call was discarded for an unknown extension")
            return
        zones = {s.code: s.zone for s in _sites(rows)}
        self.stdout.write(f"{'SITE':<12} {'EXTENSION':<12} {'CALLS':>7}  {'FIRST SEEN':<16}  {'LAST SEEN':<16}")
        for row in rows:
            zone = zones[row.site]
            pending = "  (configured; reprocess to make its calls)" if row.configured else ""
            self.stdout.write(f"{row.site:<12} {row.number:<12} {row.calls:>7}  {local(row.first_seen, zone):<16}  "
                              f"{local(row.last_seen, zone):<16}{pending}")
        self.stdout.write(f"{len(rows)} undefined extensions, {sum(r.calls for r in rows)} discarded calls; "
                          "create them with `calltally extensions undefined --create`")

    def create(self, site, options):
        result = create_undefined_extensions(site, person_from_number=options["person_from_number"])
        summary = reprocess_sites(result.sites) if result.sites else None
        if options["json"]:
            print_json({
                "created_extensions": result.extensions, "created_people": result.people,
                "skipped": [{"extension": label, "reason": reason} for label, reason in result.skipped],
                "reprocess": ({"reprocessed": summary.reprocessed, **summary.as_dict()} if summary else None),
            }, self.stdout)
            return
        self.stdout.write(f"created {len(result.extensions)} extensions"
                          + (f": {', '.join(result.extensions)}" if result.extensions else ""))
        if result.people:
            self.stdout.write(f"created {len(result.people)} virtual people: {', '.join(result.people)}")
        for label, reason in result.skipped:
            self.stdout.write(f"skipped {label}: {reason}")
        if summary is None:
            self.stdout.write("nothing to reprocess")
            return
        self.stdout.write(f"reprocessed {summary.reprocessed} discarded calls")
        for line in summary_lines(summary)[1:]:
            self.stdout.write(line)


def _sites(rows):
    from calltally.sites.models import Site

    return Site.objects.filter(pk__in={r.site_id for r in rows})
