"""`calltally rate`: what one call would cost, step by step (the cost simulator)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.rating.services import simulate
from calltally.sites.services import get_site
from calltally.vocabulary import DIRECTIONS


class Command(BaseCommand):
    help = ("Price one call the way the Miner would, and show every step: the number normalized, the plan and "
            "version, the matched prefix, the band, the billed seconds and the cost formula.")

    def add_arguments(self, parser):
        parser.add_argument("number", metavar="NUMBER", help="as the PBX records it, e.g. 00223456789")
        parser.add_argument("--site", required=True, metavar="CODE")
        parser.add_argument("--at", metavar="'YYYY-MM-DD HH:MM'", help="when the call starts, in the site's time "
                            "zone (default: now)")
        parser.add_argument("--talk", type=int, default=60, metavar="SECONDS", help="talk time (default 60)")
        parser.add_argument("--direction", choices=DIRECTIONS,
                            help="default: internal for an extension, otherwise outbound")
        parser.add_argument("--device", default="", help="trunk/device (dest_device of an outbound call), which "
                            "selects a route plan")
        parser.add_argument("--unanswered", action="store_true")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        site = get_site(options["site"])
        if options["talk"] < 0:
            raise CommandError("--talk cannot be negative")
        start = local_start(options["at"], site.zone)
        simulation = simulate(site, options["number"], start, options["talk"], options["direction"],
                              options["device"], answered=not options["unanswered"])
        if options["json"]:
            print_json(simulation.as_dict(), self.stdout)
            return
        for label, value in simulation.summary():
            self.stdout.write(f"{label:<8} {value}")
        self.stdout.write("steps")
        for index, step in enumerate(simulation.rating.steps or [], 1):
            self.stdout.write(f"  {index:>2}. {step}")


def local_start(text: str | None, zone) -> dt.datetime:
    """--at as an aware datetime: a local time of the site (an explicit offset is kept)."""
    if not text:
        return dt.datetime.now(zone).replace(microsecond=0)
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"--at {text!r} is not a time; use 'YYYY-MM-DD HH:MM' in the site's time zone") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value
